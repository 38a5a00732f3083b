-- user_knn: user-based neighbourhood collaborative filtering, with
-- recs_similarity and recs_predict.  Every number the C code produces is
-- compared with the formula written out here in SQL, over the same ratings;
-- a few are also worked by hand in the comments.

SET extra_float_digits = 0;

-- ratings 1..5; users 6 and 7 rate only 80 and 90; user 8 links them to
-- the others through one item each (10 and 80)
CREATE TABLE uk_ratings (user_id bigint, item_id bigint, rating real);
INSERT INTO uk_ratings VALUES
	(1, 10, 5), (1, 20, 3), (1, 30, 4), (1, 40, 5),
	(2, 10, 3), (2, 20, 1), (2, 30, 2), (2, 40, 2), (2, 50, 3),
	(3, 10, 4), (3, 20, 3), (3, 30, 4), (3, 40, 3), (3, 50, 4),
	(4, 10, 3), (4, 20, 3), (4, 30, 2), (4, 40, 5), (4, 50, 4),
	(5, 20, 1), (5, 30, 5), (5, 40, 5), (5, 50, 2), (5, 60, 3),
	(6, 80, 4), (6, 90, 2),
	(7, 80, 2), (7, 90, 5),
	(8, 10, 4), (8, 80, 5);

-- The reference, for every ordered pair of users with an item in common:
--   pearson(u, v) = sum_{i in I_uv} (r_ui - mean_u)(r_vi - mean_v)
--     / (sqrt(sum_{i in I_uv} (r_ui - mean_u)^2) * sqrt(sum_{i in I_uv} (r_vi - mean_v)^2))
--   with mean_u the mean of ALL of u's ratings (not only the co-rated);
--   cosine(u, v) = sum r_ui r_vi / (|r_u| |r_v|), norms over all items.
-- NULL where a denominator is zero.
CREATE VIEW uk_user_stat AS
SELECT user_id, avg(rating::float8) AS mean, sqrt(sum(rating::float8 ^ 2)) AS norm
FROM uk_ratings GROUP BY user_id;
CREATE VIEW uk_ref AS
WITH co AS (
	SELECT a.user_id AS u, b.user_id AS v, count(*) AS n,
		sum((a.rating - su.mean) * (b.rating - sv.mean)) AS xy,
		sum((a.rating - su.mean) ^ 2) AS xx,
		sum((b.rating - sv.mean) ^ 2) AS yy,
		sum(a.rating::float8 * b.rating) AS dot
	FROM uk_ratings a
	JOIN uk_ratings b ON b.item_id = a.item_id AND b.user_id <> a.user_id
	JOIN uk_user_stat su ON su.user_id = a.user_id
	JOIN uk_user_stat sv ON sv.user_id = b.user_id
	GROUP BY a.user_id, b.user_id)
SELECT co.u, co.v, co.n, m.method, m.sim
FROM co
JOIN uk_user_stat su ON su.user_id = co.u
JOIN uk_user_stat sv ON sv.user_id = co.v,
LATERAL (VALUES
	('pearson', co.xy / nullif(sqrt(co.xx) * sqrt(co.yy), 0)),
	('cosine', co.dot / (su.norm * sv.norm))) AS m(method, sim);

--
-- recs_similarity against the reference
--
SELECT recs_create_model('uk_pearson', 'user_knn', 'uk_ratings', weight_column => 'rating');
SELECT recs_train('uk_pearson');
-- by hand, pearson(1, 2): mean_1 = 17/4 = 4.25, mean_2 = 11/5 = 2.2 (all
-- five of user 2's ratings, 50 included); co-rated 10, 20, 30, 40:
-- x = (0.75, -1.25, -0.25, 0.75), y = (0.8, -1.2, -0.2, -0.2);
-- sum xy = 0.6 + 1.5 + 0.05 - 0.15 = 2, sum x^2 = 2.75, sum y^2 = 2.16:
-- 2 / (sqrt(2.75) sqrt(2.16)) = 2 / 2.43721 = 0.82061.  (With user 2's mean
-- over the co-rated items only, 2.0, it would be 2 / sqrt(2.75 * 2) = 0.85280.)
SELECT round(recs_similarity(1, 2, 'pearson', 'uk_pearson')::numeric, 5) AS pearson_1_2;
-- cosine(1, 2): (15 + 3 + 8 + 10) / (sqrt(75) sqrt(27)) = 36 / 45 = 0.8
SELECT recs_similarity(1, 2, 'cosine', 'uk_pearson') AS cosine_1_2;
SELECT method, count(*) AS pairs, count(sim) AS defined,
	count(*) FILTER (WHERE (got IS NULL AND sim IS NULL) OR abs(got - sim) < 1e-6) AS matching
FROM (SELECT method, sim, recs_similarity(u, v, method, 'uk_pearson') AS got FROM uk_ref) s
GROUP BY method ORDER BY method;
-- symmetric
SELECT bool_and(recs_similarity(u, v, method, 'uk_pearson')
				IS NOT DISTINCT FROM recs_similarity(v, u, method, 'uk_pearson')) AS symmetric
FROM uk_ref;
-- no item in common, an unknown user: NULL; a user with himself: 1
SELECT recs_similarity(1, 6, 'pearson', 'uk_pearson') AS disjoint,
	recs_similarity(1, 99, 'cosine', 'uk_pearson') AS unknown,
	recs_similarity(99, 1, 'pearson', 'uk_pearson') AS unknown2,
	recs_similarity(3, 3, 'pearson', 'uk_pearson') AS self;
-- over a single co-rated item pearson is always +1 or -1: user 8 (mean 4.5)
-- rated 10 a 4 (-0.5); user 4 (mean 3.4) a 3 (-0.4), user 3 (mean 3.6) a 4
-- (+0.4)
SELECT recs_similarity(8, 4, 'pearson', 'uk_pearson') AS same_side,
	recs_similarity(8, 3, 'pearson', 'uk_pearson') AS opposite;

--
-- the models, and what each should keep: positive similarities with at
-- least min_overlap co-rated items, times min(n, significance) /
-- significance, best first, the first "neighbours" of them
--
SELECT recs_create_model('uk_cos', 'user_knn', 'uk_ratings', weight_column => 'rating',
	params => '{"similarity": "cosine"}');
SELECT recs_create_model('uk_overlap1', 'user_knn', 'uk_ratings', weight_column => 'rating',
	params => '{"similarity": "pearson", "min_overlap": 1}');
SELECT recs_create_model('uk_overlap5', 'user_knn', 'uk_ratings', weight_column => 'rating',
	params => '{"min_overlap": 5}');
SELECT recs_create_model('uk_sig', 'user_knn', 'uk_ratings', weight_column => 'rating',
	params => '{"significance": 5}');
SELECT recs_create_model('uk_top2', 'user_knn', 'uk_ratings', weight_column => 'rating',
	params => '{"neighbours": 2}');
SELECT recs_create_model('uk_implicit', 'user_knn', 'uk_ratings',
	params => '{"similarity": "cosine"}');
SELECT name, recs_train(name) AS version FROM recs.models
WHERE name LIKE 'uk\_%' AND name <> 'uk_pearson' ORDER BY name;

CREATE TABLE uk_expected AS
WITH params(model, method, min_overlap, significance, neighbours) AS (VALUES
	('uk_pearson', 'pearson', 2, 0, 50),	-- pearson's default min_overlap is 2
	('uk_cos', 'cosine', 1, 0, 50),			-- cosine's is 1
	('uk_overlap1', 'pearson', 1, 0, 50),
	('uk_overlap5', 'pearson', 5, 0, 50),
	('uk_sig', 'pearson', 2, 5, 50),
	('uk_top2', 'pearson', 2, 0, 2)),
weighted AS (
	SELECT p.model, p.neighbours, r.u, r.v,
		CASE WHEN p.significance > 0
			 THEN r.sim * least(r.n, p.significance) / p.significance
			 ELSE r.sim END AS sim
	FROM params p JOIN uk_ref r ON r.method = p.method
	WHERE r.n >= p.min_overlap),
ranked AS (
	SELECT *, row_number() OVER (PARTITION BY model, u
								 ORDER BY round(sim::numeric, 12) DESC, v) AS rank
	FROM weighted WHERE sim > 1e-12)
SELECT model, u, v, sim, rank FROM ranked WHERE rank <= neighbours;
-- the neighbourhoods, as the reference has them
SELECT model, u, array_agg(v ORDER BY rank) AS neighbours,
	array_agg(round(sim::numeric, 4) ORDER BY rank) AS sims
FROM uk_expected WHERE u IN (1, 6, 8) GROUP BY model, u ORDER BY model, u;

--
-- recs_topk: score(u, j) = sum over u's neighbours v that rated j of
-- sim(u, v) * r_vj
--
-- by hand, user 1 under uk_top2 (neighbours 2: user 2 at 0.82061, user 5
-- at 0.73349): 50 is rated 3 by user 2 and 2 by user 5:
-- 0.82061 * 3 + 0.73349 * 2 = 3.92881; 60 only by user 5, 3: 2.20048.
-- Nothing else is unseen and scored: 80 and 90 come from popularity.
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(1, 5, 'uk_top2');
-- with all of user 1's neighbours, and without exclude_seen
SELECT item_id, round(score::numeric, 4) AS score, rank, source
FROM recs_topk(1, 10, 'uk_pearson', exclude_seen => false);
-- every user, every model, every scored item against the reference
-- (served scores are float4, hence 1e-5)
SELECT coalesce(g.model, e.model) AS model, count(g.item_id) AS served,
	count(e.item_id) AS expected,
	count(*) FILTER (WHERE abs(g.score - e.score) < 1e-5) AS matching
FROM (SELECT m.name AS model, u.user_id, t.item_id, t.score
	  FROM recs.models m, (SELECT DISTINCT user_id FROM uk_ratings) u,
		LATERAL recs_topk(u.user_id, 100, m.name, exclude_seen => false) t
	  WHERE m.name LIKE 'uk\_%' AND m.name <> 'uk_implicit' AND t.source = 'user_knn') g
FULL JOIN (SELECT e.model, e.u AS user_id, r.item_id, sum(e.sim * r.rating) AS score
		   FROM uk_expected e JOIN uk_ratings r ON r.user_id = e.v
		   GROUP BY 1, 2, 3) e USING (model, user_id, item_id)
GROUP BY 1 ORDER BY 1;
-- significance 5: user 1's pairs rest on 4 (users 2, 3, 4) or 3 (user 5)
-- co-rated items, so their similarities are scaled by 4/5 and 3/5
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(1, 2, 'uk_pearson');
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(1, 2, 'uk_sig');
-- min_overlap: under pearson's default of 2, user 6 has no neighbour
-- (user 7 correlates -1, user 8 shares one item), so even a known user gets
-- only popular items; with min_overlap 1 user 8 (+1 over item 80) lends
-- item 10
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(6, 3, 'uk_pearson');
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(6, 3, 'uk_overlap1');
-- ties: in implicit data, users 2, 3, 4 and 5 rated all of 20, 30, 40 and
-- 50, so for user 1 those four score the same and come in item id order
SELECT item_id, round(score::numeric, 4) AS score, rank, source
FROM recs_topk(1, 10, 'uk_implicit', exclude_seen => false);
-- a user the model has never seen gets popular items
SELECT item_id, score, rank, source FROM recs_topk(99, 3, 'uk_pearson');

--
-- recs_predict(u, j) = mean_u + sum sim(u, v) (r_vj - mean_v) / sum |sim(u, v)|
-- over u's neighbours v that rated j
--
-- by hand, user 1 (mean 4.25), item 50 under uk_pearson: users 2, 3, 4, 5
-- (sims 0.82061, 0.29566, 0.47968, 0.73349) rated it 3, 4, 4, 2 against
-- means 2.2, 3.6, 3.4, 3.2:
-- (0.82061 * 0.8 + 0.29566 * 0.4 + 0.47968 * 0.6 - 0.73349 * 1.2)
-- / (0.82061 + 0.29566 + 0.47968 + 0.73349) = 0.18237 / 2.32944 = 0.07829,
-- so 4.25 + 0.07829 = 4.32829
SELECT round(recs_predict(1, 50, 'uk_pearson')::numeric, 5) AS predicted;
SELECT model, count(*) AS pairs, count(predicted) AS predictable,
	count(*) FILTER (WHERE (got IS NULL AND predicted IS NULL)
					 OR abs(got - predicted) < 1e-6) AS matching
FROM (SELECT p.model, u.user_id, it.item_id,
		recs_predict(u.user_id, it.item_id, p.model) AS got,
		(SELECT su.mean + sum(e.sim * (r.rating - sv.mean)) / sum(abs(e.sim))
		 FROM uk_expected e
		 JOIN uk_ratings r ON r.user_id = e.v AND r.item_id = it.item_id
		 JOIN uk_user_stat sv ON sv.user_id = e.v
		 WHERE e.model = p.model AND e.u = u.user_id
		 HAVING count(*) > 0) AS predicted
	  FROM (SELECT DISTINCT model FROM uk_expected) p,
		(SELECT DISTINCT item_id FROM uk_ratings) it,
		(SELECT DISTINCT user_id FROM uk_ratings) u
	  JOIN uk_user_stat su ON su.user_id = u.user_id) s
GROUP BY model ORDER BY model;
-- no neighbour of user 6 (under pearson), an unknown user or item: NULL
SELECT recs_predict(6, 10, 'uk_pearson') AS no_neighbour,
	recs_predict(99, 10, 'uk_pearson') AS new_user,
	recs_predict(1, 999, 'uk_pearson') AS new_item;

-- the default model and the default method (pearson)
SELECT recs_set_default_model('uk_pearson');
SELECT round(recs_similarity(1, 2)::numeric, 5) AS pearson_1_2,
	round(recs_predict(1, 50)::numeric, 5) AS predicted;

--
-- errors
--
CREATE FUNCTION uk_sqlstate(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- bad params fail when the model is created
SELECT uk_sqlstate(format('SELECT recs_create_model(%L, %L, %L, params => %L)',
						  'uk_bad', 'user_knn', 'uk_ratings', p)) AS error, p AS params
FROM (VALUES
	('{"shrinkage": 10}'),
	('{"similarity": "jaccard"}'),
	('{"similarity": "adjusted_cosine"}'),
	('{"similarity": ["pearson"]}'),
	('{"significance": -1}'),
	('{"significance": "50"}'),
	('{"neighbours": 0}'),
	('{"neighbours": 1.5}'),
	('{"min_overlap": 0}'),
	('{"min_overlap": 2.5}'),
	('"pearson"')) v(p);
SELECT count(*) FROM recs.models WHERE name = 'uk_bad';
SELECT recs_create_model('uk_bad', 'user_knn', 'uk_ratings', params => '{"similarity": "jaccard"}');
SELECT recs_create_model('uk_bad', 'user_knn', 'uk_ratings', params => '{"shrinkage": 10}');
-- user similarity methods are pearson and cosine
SELECT recs_similarity(1, 2, 'jaccard', 'uk_pearson');
SELECT recs_similarity(1, 2, 'spearman', 'uk_pearson');
SELECT uk_sqlstate(stmt) AS error, stmt
FROM (VALUES
	($$SELECT recs_similarity(1, 2, 'adjusted_cosine', 'uk_pearson')$$),
	($$SELECT recs_similarity(NULL, 2, 'pearson', 'uk_pearson')$$),
	($$SELECT recs_similarity(1, NULL, 'pearson', 'uk_pearson')$$),
	($$SELECT recs_similarity(1, 2, NULL, 'uk_pearson')$$),
	($$SELECT recs_similarity(1, 2, 'pearson', 'no_such_model')$$),
	($$SELECT * FROM recs_similar_items(10, 5, 'uk_pearson')$$)) v(stmt);
-- user_knn has no item-item similarity
SELECT * FROM recs_similar_items(10, 5, 'uk_pearson');
DROP FUNCTION uk_sqlstate(text);

-- dropping the default model clears it
SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'uk\_%' ORDER BY name;
SELECT count(*) FROM recs.config WHERE key = 'default_model';
DROP VIEW uk_ref, uk_user_stat;
DROP TABLE uk_expected, uk_ratings;
