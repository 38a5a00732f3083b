-- The bpr_mf algorithm (matrix factorisation on the BPR loss) on a planted
-- structure: three groups of users, each using most items of its own block
-- of 10.  Every user misses 2 items of its block, which the model must rank
-- first; the biggest group's block is the most popular, so popularity alone
-- gets the other groups wrong.

-- training reports each epoch's loss and time in a NOTICE, which vary
SET client_min_messages = warning;

CREATE TABLE bpr_data (user_id int, item_id int);
-- users 1-14 are group 0 (items 1-10), 15-24 group 1 (11-20), 25-32 group 2
-- (21-30); user u lacks items u % 10 + 1 and (u + 4) % 10 + 1 of its block,
-- and every user of group g also has item g + 3 of the next block
CREATE TEMP VIEW bpr_users AS
SELECT u, CASE WHEN u <= 14 THEN 0 WHEN u <= 24 THEN 1 ELSE 2 END AS g
FROM generate_series(1, 32) u;
INSERT INTO bpr_data
SELECT u, 10 * g + k FROM bpr_users, generate_series(1, 10) k
WHERE k NOT IN (u % 10 + 1, (u + 4) % 10 + 1)
UNION ALL
SELECT u, 10 * ((g + 1) % 3) + g + 3 FROM bpr_users;
-- two users outside the groups: 40 has every item, so no negative exists for
-- it; 41 has 20 of the 30, more than half, so its negatives are drawn by rank
INSERT INTO bpr_data
SELECT 40, i FROM generate_series(1, 30) i
UNION ALL
SELECT 41, i FROM generate_series(1, 30) i WHERE i % 3 <> 0;
SELECT count(*) AS interactions, count(DISTINCT user_id) AS users,
	count(DISTINCT item_id) AS items FROM bpr_data;

SELECT recs_create_model('bpr_m', 'bpr_mf', 'bpr_data');
SELECT recs_train('bpr_m');
SELECT recs_create_model('bpr_pop', 'popular', 'bpr_data');
SELECT recs_train('bpr_pop');

-- user 15 lacks 16 and 20: bpr_mf ranks them first, popular does not
SELECT array_agg(item_id ORDER BY item_id) AS bpr_top2 FROM recs_topk(15, 2, 'bpr_m');
SELECT array_agg(item_id ORDER BY item_id) AS popular_top2 FROM recs_topk(15, 2, 'bpr_pop');

-- every user's top 2 are exactly the 2 items of its block it lacks
SELECT count(*) AS users,
	count(*) FILTER (WHERE top2 = missing) AS top2_are_the_missing_items
FROM (SELECT u,
		(SELECT array_agg(item_id ORDER BY item_id) FROM recs_topk(u, 2, 'bpr_m')) AS top2,
		ARRAY[10 * g + least(u % 10, (u + 4) % 10) + 1,
			  10 * g + greatest(u % 10, (u + 4) % 10) + 1]::bigint[] AS missing
	  FROM bpr_users) t;

-- every unseen item is a candidate (scores are finite), none comes from the
-- fallback; seen items only when asked
SELECT count(*) AS n, bool_and(source = 'bpr_mf') AS all_bpr_mf FROM recs_topk(1, 30, 'bpr_m');
SELECT count(*) AS n FROM recs_topk(1, 30, 'bpr_m', exclude_seen => false);
-- user 40 has seen everything; a user the model has never seen gets the
-- popularity fallback
SELECT count(*) AS n FROM recs_topk(40, 5, 'bpr_m');
SELECT DISTINCT source FROM recs_topk(999, 3, 'bpr_m');

-- similar items: cosine of item factors; the item's own block, and the item
-- every user of the group also has, come first
SELECT count(*) FILTER (WHERE item_id BETWEEN 1 AND 10 OR item_id = 13) AS block_or_group_item,
	count(*) AS n
FROM recs_similar_items(1, 5, 'bpr_m');
SELECT count(*) FILTER (WHERE item_id BETWEEN 21 AND 30 OR item_id = 5) AS block_or_group_item,
	count(*) AS n
FROM recs_similar_items(25, 5, 'bpr_m');
SELECT bool_and(score BETWEEN -1.0001 AND 1.0001) AS cosines, count(*) AS n,
	bool_and(source = 'bpr_mf') AS all_bpr_mf
FROM recs_similar_items(25, 100, 'bpr_m');
SELECT count(*) AS n FROM recs_similar_items(999, 5, 'bpr_m');

-- held-out evaluation: each user's held-out item (seeded) is found in the
-- top 3 far more often than by popularity
SELECT b.users_evaluated, b.hit_rate_at_k > 0.9 AS bpr_high,
	p.hit_rate_at_k < 0.6 AS popular_low,
	b.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS bpr_clearly_better
FROM recs_evaluate('bpr_m', 3) b, recs_evaluate('bpr_pop', 3) p;

-- training makes progress (the loss falls): one epoch is far from enough
SELECT recs_create_model('bpr_epoch1', 'bpr_mf', 'bpr_data', params => '{"epochs": 1}');
SELECT one.hit_rate_at_k < 0.5 AS one_epoch_low,
	twenty.hit_rate_at_k > one.hit_rate_at_k + 0.3 AS twenty_epochs_better
FROM recs_evaluate('bpr_epoch1', 3) one, recs_evaluate('bpr_m', 3) twenty;

-- determinism: the same seed trains the same artifact, another seed another
SELECT recs_create_model('bpr_same', 'bpr_mf', 'bpr_data');
SELECT recs_train('bpr_same');
SELECT recs_train('bpr_same');
SELECT recs_create_model('bpr_seed7', 'bpr_mf', 'bpr_data', params => '{"seed": 7}');
SELECT recs_train('bpr_seed7');
SELECT b.model, b.version, a.artifact = b.artifact AS same_artifact
FROM recs.model_versions a JOIN recs.model_versions b
	ON a.model = 'bpr_m' AND b.model IN ('bpr_same', 'bpr_seed7')
ORDER BY b.model, b.version;
-- ... and another seed still finds the structure
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(15, 2, 'bpr_seed7');

-- the other params: a factor count that is not a multiple of the vectorised
-- block of 8, no regularisation; Adam with two negatives per pair
SELECT recs_create_model('bpr_params', 'bpr_mf', 'bpr_data',
	params => '{"factors": 12, "regularization": 0, "learning_rate": 0.03, "epochs": 30}');
SELECT recs_create_model('bpr_adam', 'bpr_mf', 'bpr_data',
	params => '{"optimizer": "adam", "learning_rate": 0.01, "negatives": 2, "factors": 12,
				"epochs": 30, "seed": -3}');
SELECT recs_train('bpr_adam');
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(15, 2, 'bpr_adam');
SELECT m.model, m.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS clearly_better
FROM (SELECT 'bpr_params' AS model, * FROM recs_evaluate('bpr_params', 3)
	  UNION ALL
	  SELECT 'bpr_adam', * FROM recs_evaluate('bpr_adam', 3)) m,
	recs_evaluate('bpr_pop', 3) p
ORDER BY m.model;

-- bad params fail when the model is created
CREATE FUNCTION bpr_error(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT bpr_error(format('SELECT recs_create_model(%L, %L, %L, params => %L)',
						'bpr_bad', 'bpr_mf', 'bpr_data', p)) AS error, p AS params
FROM (VALUES
	('{"factor": 8}'),
	('{"factors": -3}'),
	('{"factors": 0}'),
	('{"factors": 1025}'),
	('{"factors": 2.5}'),
	('{"factors": "ten"}'),
	('{"learning_rate": 0}'),
	('{"learning_rate": -0.1}'),
	('{"learning_rate": "fast"}'),
	('{"regularization": -1}'),
	('{"epochs": 0}'),
	('{"epochs": 10001}'),
	('{"negatives": 0}'),
	('{"optimizer": "rmsprop"}'),
	('{"optimizer": 1}'),
	('{"seed": 1.5}'),
	('{"seed": 3000000000}'),
	('[64]'),
	('{"factors": null, "learning_rate": null, "epochs": null}')) v(p);
-- only the last, whose JSON nulls mean "the default", was created
SELECT count(*) AS models FROM recs.models WHERE name = 'bpr_bad';

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'bpr\_%' ORDER BY name;
DROP FUNCTION bpr_error(text);
DROP TABLE bpr_data;
RESET client_min_messages;
