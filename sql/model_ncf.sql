-- The ncf algorithm (neural collaborative filtering: GMF, MLP, NeuMF) on a
-- planted structure: three groups of users, each using most items of its
-- own block of 10.  Every user misses 2 items of its block, which the model
-- must rank first; the biggest group's block is the most popular, so
-- popularity alone gets the other groups wrong.

-- training reports each epoch's loss and time in a NOTICE, which vary
SET client_min_messages = warning;

CREATE TABLE ncf_data (user_id int, item_id int);
-- users 1-14 are group 0 (items 1-10), 15-24 group 1 (11-20), 25-32 group 2
-- (21-30); user u lacks items u % 10 + 1 and (u + 4) % 10 + 1 of its block,
-- and every user of group g also has item g + 3 of the next block
CREATE TEMP VIEW ncf_users AS
SELECT u, CASE WHEN u <= 14 THEN 0 WHEN u <= 24 THEN 1 ELSE 2 END AS g
FROM generate_series(1, 32) u;
INSERT INTO ncf_data
SELECT u, 10 * g + k FROM ncf_users, generate_series(1, 10) k
WHERE k NOT IN (u % 10 + 1, (u + 4) % 10 + 1)
UNION ALL
SELECT u, 10 * ((g + 1) % 3) + g + 3 FROM ncf_users;
-- user 40 has every item, so no negative can be sampled for it
INSERT INTO ncf_data SELECT 40, i FROM generate_series(1, 30) i;
SELECT count(*) AS interactions, count(DISTINCT user_id) AS users,
	count(DISTINCT item_id) AS items FROM ncf_data;

-- a small NeuMF (GMF of 8, MLP embeddings of 8 + 8 into a hidden layer of 8)
-- with the BPR loss; a larger learning rate and smaller batches than the
-- defaults suit this tiny data set
SELECT recs_create_model('ncf_m', 'ncf', 'ncf_data',
	params => '{"factors": 8, "layers": [16, 8], "learning_rate": 0.01, "batch_size": 32}');
SELECT recs_train('ncf_m');
SELECT recs_create_model('ncf_pop', 'popular', 'ncf_data');
SELECT recs_train('ncf_pop');

-- user 15 lacks 16 and 20: ncf ranks them first, popular does not
SELECT array_agg(item_id ORDER BY item_id) AS ncf_top2 FROM recs_topk(15, 2, 'ncf_m');
SELECT array_agg(item_id ORDER BY item_id) AS popular_top2 FROM recs_topk(15, 2, 'ncf_pop');

-- (nearly) every user's top 2 are exactly the 2 items of its block it lacks
SELECT count(*) AS users,
	count(*) FILTER (WHERE top2 = missing) >= 29 AS top2_are_the_missing_items
FROM (SELECT u,
		(SELECT array_agg(item_id ORDER BY item_id) FROM recs_topk(u, 2, 'ncf_m')) AS top2,
		ARRAY[10 * g + least(u % 10, (u + 4) % 10) + 1,
			  10 * g + greatest(u % 10, (u + 4) % 10) + 1]::bigint[] AS missing
	  FROM ncf_users) t;

-- scores are logits (not squashed into 0..1); every unseen item is a
-- candidate, none comes from the fallback; seen items only when asked
SELECT count(*) AS n, bool_and(source = 'ncf') AS all_ncf,
	max(score) - min(score) > 1 AS logits
FROM recs_topk(1, 30, 'ncf_m');
SELECT count(*) AS n FROM recs_topk(1, 30, 'ncf_m', exclude_seen => false);
-- user 40 has seen everything; a user the model has never seen gets the
-- popularity fallback
SELECT count(*) AS n FROM recs_topk(40, 5, 'ncf_m');
SELECT DISTINCT source FROM recs_topk(999, 3, 'ncf_m');

-- similar items: cosine of the GMF item embeddings; the item's own block,
-- and the item every user of the group also has, come first
SELECT count(*) FILTER (WHERE item_id BETWEEN 1 AND 10 OR item_id = 13) AS block_or_group_item,
	count(*) AS n
FROM recs_similar_items(1, 5, 'ncf_m');
SELECT count(*) FILTER (WHERE item_id BETWEEN 21 AND 30 OR item_id = 5) AS block_or_group_item,
	count(*) AS n
FROM recs_similar_items(25, 5, 'ncf_m');
SELECT bool_and(score BETWEEN -1.0001 AND 1.0001) AS cosines, count(*) AS n,
	bool_and(source = 'ncf') AS all_ncf
FROM recs_similar_items(25, 100, 'ncf_m');

-- held-out evaluation: each user's held-out item (seeded) is found in the
-- top 3 far more often than by popularity
SELECT n.users_evaluated, n.hit_rate_at_k > 0.85 AS ncf_high,
	p.hit_rate_at_k < 0.6 AS popular_low,
	n.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS ncf_clearly_better
FROM recs_evaluate('ncf_m', 3) n, recs_evaluate('ncf_pop', 3) p;

-- training makes progress (the loss falls): one epoch is far from enough
SELECT recs_create_model('ncf_epoch1', 'ncf', 'ncf_data',
	params => '{"factors": 8, "layers": [16, 8], "learning_rate": 0.01, "batch_size": 32,
				"epochs": 1}');
SELECT one.hit_rate_at_k < 0.5 AS one_epoch_low,
	twenty.hit_rate_at_k > one.hit_rate_at_k + 0.3 AS twenty_epochs_better
FROM recs_evaluate('ncf_epoch1', 3) one, recs_evaluate('ncf_m', 3) twenty;

-- the variants and the log loss; each beats popularity clearly (the MLP
-- alone learns slowest, as in the paper, so it gets one more layer)
SELECT recs_create_model('ncf_gmf', 'ncf', 'ncf_data',
	params => '{"variant": "gmf", "factors": 8, "learning_rate": 0.01, "batch_size": 32}');
SELECT recs_create_model('ncf_mlp', 'ncf', 'ncf_data',
	params => '{"variant": "mlp", "layers": [32, 16, 8], "learning_rate": 0.01, "batch_size": 32}');
SELECT recs_create_model('ncf_logloss', 'ncf', 'ncf_data',
	params => '{"loss": "logloss", "negatives": 3, "factors": 8, "layers": [16, 12, 6],
				"learning_rate": 0.01, "batch_size": 32, "regularization": 0.0001}');
SELECT m.model, m.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS clearly_better
FROM (SELECT 'ncf_gmf' AS model, * FROM recs_evaluate('ncf_gmf', 3)
	  UNION ALL
	  SELECT 'ncf_mlp', * FROM recs_evaluate('ncf_mlp', 3)
	  UNION ALL
	  SELECT 'ncf_logloss', * FROM recs_evaluate('ncf_logloss', 3)) m,
	recs_evaluate('ncf_pop', 3) p
ORDER BY m.model;
-- variant mlp has no GMF embedding: similar items come from its MLP one
SELECT recs_train('ncf_mlp');
SELECT count(*) AS n, bool_and(score BETWEEN -1.0001 AND 1.0001) AS cosines
FROM recs_similar_items(25, 100, 'ncf_mlp');

-- determinism: the same seed trains the same artifact, another seed another
SELECT recs_create_model('ncf_same', 'ncf', 'ncf_data',
	params => '{"factors": 8, "layers": [16, 8], "learning_rate": 0.01, "batch_size": 32}');
SELECT recs_train('ncf_same');
SELECT recs_train('ncf_same');
SELECT recs_create_model('ncf_seed7', 'ncf', 'ncf_data',
	params => '{"factors": 8, "layers": [16, 8], "learning_rate": 0.01, "batch_size": 32,
				"seed": 7}');
SELECT recs_train('ncf_seed7');
SELECT b.model, b.version, a.artifact = b.artifact AS same_artifact
FROM recs.model_versions a JOIN recs.model_versions b
	ON a.model = 'ncf_m' AND b.model IN ('ncf_same', 'ncf_seed7')
ORDER BY b.model, b.version;
-- ... and another seed still finds the structure
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(15, 2, 'ncf_seed7');

-- bad params fail when the model is created; the detail, if any, follows
CREATE FUNCTION ncf_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(nullif(' / ' || detail, ' / '), '');
END
$$;
SELECT ncf_error(format('SELECT recs_create_model(%L, %L, %L, params => %L)',
						'ncf_bad', 'ncf', 'ncf_data', p)) AS error, p AS params
FROM (VALUES
	('{"layer": [64]}'),
	('{"variant": "deep"}'),
	('{"variant": 3}'),
	('{"loss": "hinge"}'),
	('{"factors": -8}'),
	('{"factors": 0}'),
	('{"factors": "many"}'),
	('{"layers": []}'),
	('{"layers": 64}'),
	('{"layers": "[64, 32]"}'),
	('{"layers": {"first": 64}}'),
	('{"layers": [64, 0]}'),
	('{"layers": [64, -32]}'),
	('{"layers": [64, 31.5]}'),
	('{"layers": [64, "32"]}'),
	('{"layers": [64, null]}'),
	('{"layers": [63, 32]}'),
	('{"layers": [64, 5000]}'),
	('{"layers": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]}'),
	('{"learning_rate": 0}'),
	('{"learning_rate": -1}'),
	('{"regularization": -0.5}'),
	('{"epochs": 0}'),
	('{"batch_size": 0}'),
	('{"batch_size": 100000}'),
	('{"negatives": 0}'),
	('{"batch_size": 65536, "negatives": 100}'),
	('{"seed": 0.5}'),
	('{"layers": null, "variant": null, "loss": "logloss"}')) v(p);
-- only the last, whose JSON nulls mean "the default", was created
SELECT count(*) AS models FROM recs.models WHERE name = 'ncf_bad';

-- NeuMF initialised from trained GMF and MLP models (the paper's
-- pretraining): with a learning rate too small to move anything, the NeuMF
-- model keeps the GMF model's item embeddings, so its similar items (the
-- cosine of GMF item embeddings) are the GMF model's
SELECT recs_create_model('ncf_pre_gmf', 'ncf', 'ncf_data',
	params => '{"variant": "gmf", "factors": 8, "learning_rate": 0.01, "batch_size": 32}');
SELECT recs_create_model('ncf_pre_mlp', 'ncf', 'ncf_data',
	params => '{"variant": "mlp", "layers": [16, 8], "learning_rate": 0.01, "batch_size": 32, "epochs": 40}');
SELECT recs_train('ncf_pre_gmf'), recs_train('ncf_pre_mlp');
SELECT recs_create_model('ncf_pre', 'ncf', 'ncf_data',
	params => '{"factors": 8, "layers": [16, 8], "epochs": 1, "learning_rate": 1e-12,
	            "pretrain_gmf": "ncf_pre_gmf", "pretrain_mlp": "ncf_pre_mlp"}');
SELECT recs_train('ncf_pre');
SELECT bool_and(a.item_id = b.item_id AND abs(a.score - b.score) < 1e-4) AS same_similar_items
FROM generate_series(1, 30) i,
	LATERAL recs_similar_items(i, 5, 'ncf_pre') a JOIN LATERAL recs_similar_items(i, 5, 'ncf_pre_gmf') b USING (rank);
-- and, trained further, it ranks the planted items like the others
UPDATE recs.models SET params = params || '{"epochs": 10, "learning_rate": 0.001}' WHERE name = 'ncf_pre';
SELECT recs_train('ncf_pre', activate => true);
SELECT hit_rate_at_k > 0.9 AS pretrained_neumf_finds_planted
FROM recs_evaluate('ncf_pre', 3, 'leave_one_out');
-- pretraining errors: at creation, and at training when the models are wrong
SELECT recs_create_model('ncf_pre_bad', 'ncf', 'ncf_data', params => '{"pretrain_gmf": "ncf_pre_gmf"}');
SELECT recs_create_model('ncf_pre_bad', 'ncf', 'ncf_data',
	params => '{"variant": "gmf", "pretrain_gmf": "ncf_pre_gmf", "pretrain_mlp": "ncf_pre_mlp"}');
SELECT recs_create_model('ncf_pre_bad', 'ncf', 'ncf_data',
	params => '{"pretrain_gmf": "a", "pretrain_mlp": "b", "pretrain_alpha": 2}');
SELECT recs_create_model('ncf_pre_bad', 'ncf', 'ncf_data',
	params => '{"factors": 4, "layers": [16, 8], "pretrain_gmf": "ncf_pre_gmf", "pretrain_mlp": "ncf_pre_mlp"}');
SELECT recs_train('ncf_pre_bad');
UPDATE recs.models SET params = '{"factors": 8, "layers": [16, 4], "pretrain_gmf": "ncf_pre_gmf", "pretrain_mlp": "ncf_pre_mlp"}' WHERE name = 'ncf_pre_bad';
SELECT recs_train('ncf_pre_bad');
UPDATE recs.models SET params = '{"factors": 8, "layers": [16, 8], "pretrain_gmf": "ncf_pre_mlp", "pretrain_mlp": "ncf_pre_mlp"}' WHERE name = 'ncf_pre_bad';
SELECT recs_train('ncf_pre_bad');
UPDATE recs.models SET params = '{"factors": 8, "layers": [16, 8], "pretrain_gmf": "ncf_pop", "pretrain_mlp": "ncf_pre_mlp"}' WHERE name = 'ncf_pre_bad';
SELECT recs_train('ncf_pre_bad');
UPDATE recs.models SET params = '{"factors": 8, "layers": [16, 8], "pretrain_gmf": "nope", "pretrain_mlp": "ncf_pre_mlp"}' WHERE name = 'ncf_pre_bad';
SELECT recs_train('ncf_pre_bad');

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ncf\_%' ORDER BY name;
DROP FUNCTION ncf_error(text);
DROP TABLE ncf_data;
RESET client_min_messages;
