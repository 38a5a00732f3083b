-- item_knn: item-based neighbourhood collaborative filtering, with
-- recs_item_similarity and recs_predict.  Every number the C code produces
-- is compared with the formula written out here in SQL, over the same
-- ratings; a few are also worked by hand in the comments.

SET extra_float_digits = 0;

-- ratings 1..5; users 6 and 7 rate only items 80 and 90, which no other
-- user touches, so those two items are unreachable from users 1-5
CREATE TABLE ik_ratings (user_id bigint, item_id bigint, rating real);
INSERT INTO ik_ratings VALUES
	(1, 10, 5), (1, 20, 3), (1, 30, 4), (1, 40, 5),
	(2, 10, 3), (2, 20, 1), (2, 30, 2), (2, 40, 2), (2, 50, 3),
	(3, 10, 4), (3, 20, 3), (3, 30, 4), (3, 40, 3), (3, 50, 4),
	(4, 10, 3), (4, 20, 3), (4, 30, 2), (4, 40, 5), (4, 50, 4),
	(5, 20, 1), (5, 30, 5), (5, 40, 5), (5, 50, 2), (5, 60, 3),
	(6, 80, 4), (6, 90, 2),
	(7, 80, 2), (7, 90, 5);

-- The reference: each similarity of every ordered pair of items that share
-- at least one user, straight from the definitions.
--   cosine:          sum r_ui r_uj / (|r_i| |r_j|), norms over all users
--   adjusted_cosine: sum (r_ui - mean_u)(r_uj - mean_u)
--                    / (sqrt(sum (r_ui - mean_u)^2) sqrt(sum (r_uj - mean_u)^2)),
--                    mean_u over all of u's items, sums over co-raters
--   pearson:         the same with r_ui - mean_i, mean_i over i's raters
--   jaccard:         |U_i and U_j| / |U_i or U_j|
-- NULL where a denominator is zero (item 60 has one rater, so pearson
-- deviations of 60 are all zero).
CREATE VIEW ik_ref AS
WITH r AS (SELECT user_id, item_id, rating::float8 AS r FROM ik_ratings),
user_mean AS (SELECT user_id, avg(r) AS m FROM r GROUP BY user_id),
item_stat AS (SELECT item_id, avg(r) AS m, sqrt(sum(r * r)) AS norm, count(*) AS n
			  FROM r GROUP BY item_id),
co AS (
	SELECT a.item_id AS i, b.item_id AS j, count(*) AS n,
		sum(a.r * b.r) AS dot,
		sum((a.r - um.m) * (b.r - um.m)) AS a_xy,
		sum((a.r - um.m) ^ 2) AS a_xx, sum((b.r - um.m) ^ 2) AS a_yy,
		sum((a.r - si.m) * (b.r - sj.m)) AS p_xy,
		sum((a.r - si.m) ^ 2) AS p_xx, sum((b.r - sj.m) ^ 2) AS p_yy
	FROM r a
	JOIN r b ON b.user_id = a.user_id AND b.item_id <> a.item_id
	JOIN user_mean um ON um.user_id = a.user_id
	JOIN item_stat si ON si.item_id = a.item_id
	JOIN item_stat sj ON sj.item_id = b.item_id
	GROUP BY a.item_id, b.item_id)
SELECT co.i, co.j, co.n, m.method, m.sim
FROM co
JOIN item_stat si ON si.item_id = co.i
JOIN item_stat sj ON sj.item_id = co.j,
LATERAL (VALUES
	('cosine', co.dot / (si.norm * sj.norm)),
	('adjusted_cosine', co.a_xy / nullif(sqrt(co.a_xx) * sqrt(co.a_yy), 0)),
	('pearson', co.p_xy / nullif(sqrt(co.p_xx) * sqrt(co.p_yy), 0)),
	('jaccard', co.n::float8 / (si.n + sj.n - co.n))) AS m(method, sim);

-- the item means the predictions centre on
CREATE VIEW ik_item_mean AS
SELECT item_id, avg(rating::float8) AS m FROM ik_ratings GROUP BY item_id;

-- the models; ik_jac ignores the ratings (implicit feedback, r = 1)
SELECT recs_create_model('ik_cos', 'item_knn', 'ik_ratings', weight_column => 'rating');
SELECT recs_create_model('ik_adj', 'item_knn', 'ik_ratings', weight_column => 'rating',
	params => '{"similarity": "adjusted_cosine", "min_overlap": 2}');
SELECT recs_create_model('ik_pearson', 'item_knn', 'ik_ratings', weight_column => 'rating',
	params => '{"similarity": "pearson"}');
SELECT recs_create_model('ik_jac', 'item_knn', 'ik_ratings',
	params => '{"similarity": "jaccard"}');
SELECT recs_create_model('ik_shrink', 'item_knn', 'ik_ratings', weight_column => 'rating',
	params => '{"similarity": "cosine", "shrinkage": 2}');
SELECT recs_create_model('ik_top1', 'item_knn', 'ik_ratings', weight_column => 'rating',
	params => '{"neighbours": 1}');
SELECT recs_create_model('ik_overlap', 'item_knn', 'ik_ratings', weight_column => 'rating',
	params => '{"min_overlap": 5}');
SELECT name, recs_train(name) AS version FROM recs.models WHERE name LIKE 'ik\_%' ORDER BY name;

-- What each model should keep: positive similarities with at least
-- min_overlap co-raters, times n / (n + shrinkage), best first (ties by
-- item id), the first "neighbours" of them.
CREATE TABLE ik_expected AS
WITH params(model, method, shrinkage, min_overlap, neighbours) AS (VALUES
	('ik_cos', 'cosine', 0, 1, 50),
	('ik_adj', 'adjusted_cosine', 0, 2, 50),
	('ik_pearson', 'pearson', 0, 1, 50),
	('ik_jac', 'jaccard', 0, 1, 50),
	('ik_shrink', 'cosine', 2, 1, 50),
	('ik_top1', 'cosine', 0, 1, 1),
	('ik_overlap', 'cosine', 0, 5, 50)),
shrunk AS (
	SELECT p.model, p.neighbours, r.i, r.j, r.sim * r.n / (r.n + p.shrinkage) AS sim
	FROM params p JOIN ik_ref r ON r.method = p.method
	WHERE r.n >= p.min_overlap),
ranked AS (
	SELECT *, row_number() OVER (PARTITION BY model, i
								 ORDER BY round(sim::numeric, 12) DESC, j) AS rank
	FROM shrunk WHERE sim > 1e-12)
SELECT model, i, j, sim, rank FROM ranked WHERE rank <= neighbours;

--
-- recs_item_similarity against the reference, every pair, every method
--
-- by hand, cosine(10, 20): item 10 by users 1..5 is (5, 3, 4, 3, 0), item 20
-- is (3, 1, 3, 3, 1): 15 + 3 + 12 + 9 = 39 / (sqrt(59) sqrt(29)) = 0.94284
SELECT round(recs_item_similarity(10, 20, 'cosine', 'ik_cos')::numeric, 5) AS cos_10_20;
-- jaccard(50, 60): U_50 = {2, 3, 4, 5}, U_60 = {5}: 1 / 4
SELECT recs_item_similarity(50, 60, 'jaccard', 'ik_cos') AS jac_50_60;
-- pearson(20, 50): mean_20 = 11/5 = 2.2, mean_50 = 13/4 = 3.25; co-raters
-- 2..5: (-1.2, 0.8, 0.8, -1.2) and (-0.25, 0.75, 0.75, -1.25):
-- (0.3 + 0.6 + 0.6 + 1.5) / (sqrt(4.16) sqrt(2.75)) = 3 / 3.38231 = 0.88697
SELECT round(recs_item_similarity(20, 50, 'pearson', 'ik_cos')::numeric, 5) AS pearson_20_50;
-- adjusted_cosine(10, 50): co-raters 2, 3, 4 with means 2.2, 3.6, 3.4:
-- (0.8, 0.4, -0.4) and (0.8, 0.4, 0.6): (0.64 + 0.16 - 0.24)
-- / (sqrt(0.96) sqrt(1.16)) = 0.56 / 1.05527 = 0.53067
SELECT round(recs_item_similarity(10, 50, 'adjusted_cosine', 'ik_cos')::numeric, 5) AS adj_10_50;
SELECT method, count(*) AS pairs,
	count(*) FILTER (WHERE sim IS NULL) AS undefined,
	count(*) FILTER (WHERE (got IS NULL AND sim IS NULL) OR abs(got - sim) < 1e-6) AS matching
FROM (SELECT method, sim, recs_item_similarity(i, j, method, 'ik_cos') AS got FROM ik_ref) s
GROUP BY method ORDER BY method;
-- symmetric; the model argument only names the training data, any model
-- will do, also a popular one
SELECT recs_create_model('ik_pop', 'popular', 'ik_ratings', weight_column => 'rating');
SELECT recs_train('ik_pop');
SELECT bool_and(recs_item_similarity(i, j, method, 'ik_cos')
				IS NOT DISTINCT FROM recs_item_similarity(j, i, method, 'ik_pop')) AS same
FROM ik_ref;
-- no co-rater, an unknown item, pearson of a single-rater item: NULL
SELECT recs_item_similarity(10, 80, 'cosine', 'ik_cos') AS disjoint,
	recs_item_similarity(10, 999, 'cosine', 'ik_cos') AS unknown,
	recs_item_similarity(999, 10, 'jaccard', 'ik_cos') AS unknown2,
	recs_item_similarity(50, 60, 'pearson', 'ik_cos') AS zero_variance;
-- an item with itself
SELECT recs_item_similarity(30, 30, 'cosine', 'ik_cos') AS cos_self,
	recs_item_similarity(30, 30, 'pearson', 'ik_cos') AS pearson_self,
	recs_item_similarity(30, 30, 'jaccard', 'ik_cos') AS jaccard_self;

--
-- the neighbour lists (recs_similar_items) of every model against
-- ik_expected: same pairs, same similarities, same order
--
CREATE TABLE ik_got AS
SELECT m.name AS model, i.item_id AS i, s.item_id AS j, s.score, s.rank, s.source
FROM recs.models m,
	(SELECT DISTINCT item_id FROM ik_ratings) i,
	LATERAL recs_similar_items(i.item_id, 100, m.name) s
WHERE m.name LIKE 'ik\_%' AND m.name <> 'ik_pop';
-- similarities are served as float4: within 1e-6 of the reference
SELECT coalesce(g.model, e.model) AS model, count(g.j) AS served, count(e.j) AS expected,
	count(*) FILTER (WHERE abs(g.score - e.sim) < 1e-6 AND g.rank = e.rank) AS matching,
	bool_and(g.source = 'item_knn') AS all_item_knn
FROM ik_got g FULL JOIN ik_expected e USING (model, i, j)
GROUP BY 1 ORDER BY 1;

-- cosine: item 60 (one rater) is a neighbour of everything it shares a user
-- with, weakly
SELECT item_id, round(score::numeric, 4) AS score, rank, source
FROM recs_similar_items(60, 10, 'ik_cos');
-- min_overlap 2 (ik_adj): 60's pairs rest on user 5 alone and are gone;
-- only positive adjusted cosines remain
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(60, 10, 'ik_adj');
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(10, 10, 'ik_adj');
-- pearson: negative correlations are never neighbours (50 ~ 30, 50 ~ 40)
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(50, 10, 'ik_pearson');
-- jaccard ties (30 and 40 at 1, 10 and 50 at 0.8) break by item id
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(20, 10, 'ik_jac');
-- shrinkage 2: cosine(10, 20) = 0.94284 over 4 co-raters becomes
-- 0.94284 * 4 / 6 = 0.62856; 60's single co-rater pairs shrink by 1/3
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(10, 10, 'ik_shrink');
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(60, 10, 'ik_shrink');
-- neighbours 1: only the best; k larger than the list does not pad it
SELECT item_id, round(score::numeric, 4) AS score, rank FROM recs_similar_items(30, 10, 'ik_top1');
-- min_overlap 5: only 20, 30 and 40 share all five of their raters
SELECT i, array_agg(j ORDER BY rank) AS neighbours FROM ik_got
WHERE model = 'ik_overlap' GROUP BY i ORDER BY i;
-- k cuts the list; an unknown item has no similar items
SELECT item_id, rank FROM recs_similar_items(40, 2, 'ik_cos');
SELECT count(*) FROM recs_similar_items(999, 5, 'ik_cos');

--
-- recs_topk: score(u, j) = sum over items i of u, j among i's neighbours,
-- of sim(i, j) * r_ui
--
-- by hand, user 1 (10: 5, 20: 3, 30: 4, 40: 5), item 50 under cosine:
-- 0.71807 * 5 + 0.80277 * 3 + 0.73960 * 4 + 0.76277 * 5 = 12.7709;
-- item 60 (no co-rater with 10): 0.18570 * 3 + 0.62017 * 4 + 0.53300 * 5
-- = 5.7028.  80 and 90 are reachable from none of user 1's items: the list
-- is filled up from popularity (2 users each, a tie broken by item id).
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(1, 5, 'ik_cos');
-- without exclude_seen, the items user 1 rated are scored too
SELECT item_id, round(score::numeric, 4) AS score, rank, source
FROM recs_topk(1, 10, 'ik_cos', exclude_seen => false);
-- every user, every model, every scored item against the reference; served
-- scores are float4, hence 1e-5
CREATE VIEW ik_expected_scores AS
SELECT e.model, r.user_id, e.j AS item_id, sum(e.sim * r.rating) AS score
FROM ik_expected e JOIN ik_ratings r ON r.item_id = e.i
GROUP BY 1, 2, 3;
SELECT coalesce(g.model, e.model) AS model, count(g.item_id) AS served, count(e.item_id) AS expected,
	count(*) FILTER (WHERE abs(g.score - e.score) < 1e-5) AS matching
FROM (SELECT m.name AS model, u.user_id, t.item_id, t.score
	  FROM recs.models m, (SELECT DISTINCT user_id FROM ik_ratings) u,
		LATERAL recs_topk(u.user_id, 100, m.name, exclude_seen => false) t
	  WHERE m.name LIKE 'ik\_%' AND m.name <> 'ik_pop' AND t.source = 'item_knn') g
FULL JOIN (SELECT * FROM ik_expected_scores WHERE model <> 'ik_jac'
		   UNION ALL
		   -- ik_jac is implicit: r = 1
		   SELECT e.model, r.user_id, e.j, sum(e.sim)
		   FROM ik_expected e JOIN ik_ratings r ON r.item_id = e.i
		   WHERE e.model = 'ik_jac' GROUP BY 1, 2, 3) e USING (model, user_id, item_id)
GROUP BY 1 ORDER BY 1;
-- ties: under jaccard user 1's items 20, 30 and 40 all score
-- 0.8 + 1 + 1 = 2.8, and come in item id order
SELECT item_id, round(score::numeric, 4) AS score, rank, source
FROM recs_topk(1, 10, 'ik_jac', exclude_seen => false);
-- neighbours 1: the best neighbours of user 5's items 20, 30, 40, 50 and 60
-- are 10, 40, 30, 20 and 30; all but 10 are seen, so one row comes from the
-- model, 0.94284 * r(5, 20) = 0.94284 * 1, and the rest from popularity
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(5, 5, 'ik_top1');
-- a user the model has never seen gets popular items (20, 30 and 40 have
-- five users each)
SELECT item_id, score, rank, source FROM recs_topk(99, 3, 'ik_cos');
-- user 6 can only be offered 80/90, which are seen: all fallback
SELECT item_id, score, rank, source FROM recs_topk(6, 3, 'ik_cos');

--
-- recs_predict(u, j) = mean_j + sum sim(i, j) (r_ui - mean_i) / sum |sim(i, j)|
-- over j's neighbours i that u rated
--
-- by hand, user 1, item 50 (mean 3.25) under cosine: 50's neighbours 10, 20,
-- 30, 40 (and 60, unrated by user 1) with user 1's deviations from the item
-- means 5 - 3.75, 3 - 2.2, 4 - 3.4, 5 - 4:
-- (0.71807 * 1.25 + 0.80277 * 0.8 + 0.73960 * 0.6 + 0.76277 * 1)
-- / (0.71807 + 0.80277 + 0.73960 + 0.76277) = 2.74634 / 3.02322 = 0.90842,
-- so 3.25 + 0.90842 = 4.15842
SELECT round(recs_predict(1, 50, 'ik_cos')::numeric, 5) AS predicted;
-- every user and item, every model, NULL included
CREATE VIEW ik_expected_predictions AS
SELECT p.model, u.user_id, it.item_id,
	(SELECT im.m + sum(e.sim * (r.rating - mi.m)) / sum(abs(e.sim))
	 FROM ik_expected e
	 JOIN ik_ratings r ON r.item_id = e.j AND r.user_id = u.user_id
	 JOIN ik_item_mean mi ON mi.item_id = e.j
	 WHERE e.model = p.model AND e.i = it.item_id
	 HAVING count(*) > 0) AS predicted
FROM (SELECT DISTINCT model FROM ik_expected WHERE model <> 'ik_jac') p,
	(SELECT DISTINCT user_id FROM ik_ratings) u,
	(SELECT DISTINCT item_id FROM ik_ratings) it
JOIN ik_item_mean im ON im.item_id = it.item_id;
SELECT model, count(*) AS pairs, count(predicted) AS predictable,
	count(*) FILTER (WHERE (got IS NULL AND predicted IS NULL)
					 OR abs(got - predicted) < 1e-6) AS matching
FROM (SELECT *, recs_predict(user_id, item_id, model) AS got FROM ik_expected_predictions) s
GROUP BY model ORDER BY model;
-- no neighbour of 10 was rated by user 6; unknown user or item: NULL
SELECT recs_predict(6, 10, 'ik_cos') AS no_neighbour, recs_predict(99, 10, 'ik_cos') AS new_user,
	recs_predict(1, 999, 'ik_cos') AS new_item;

--
-- errors
--
CREATE FUNCTION ik_sqlstate(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- bad params fail when the model is created
SELECT ik_sqlstate(format('SELECT recs_create_model(%L, %L, %L, params => %L)',
						  'ik_bad', 'item_knn', 'ik_ratings', p)) AS error, p AS params
FROM (VALUES
	('{"neighbors": 10}'),
	('{"similarity": "euclidean"}'),
	('{"similarity": 1}'),
	('{"similarity": "pearson", "shrinkage": -1}'),
	('{"shrinkage": "lots"}'),
	('{"neighbours": 0}'),
	('{"neighbours": 2.5}'),
	('{"neighbours": 1e10}'),
	('{"min_overlap": 0}'),
	('{"min_overlap": -3}'),
	('[1, 2]'),
	('{"similarity": null, "shrinkage": 0, "neighbours": 1, "min_overlap": 1}')) v(p);
-- only the last, whose JSON null means "the default", was created
SELECT count(*) FROM recs.models WHERE name = 'ik_bad';
SELECT recs_create_model('ik_bad2', 'item_knn', 'ik_ratings', params => '{"neighbors": 10}');
-- unknown methods and NULL arguments
SELECT recs_item_similarity(10, 20, 'euclidean', 'ik_cos');
SELECT recs_item_similarity(10, 20, 'COSINE', 'ik_cos');
SELECT ik_sqlstate(stmt) AS error, stmt
FROM (VALUES
	($$SELECT recs_item_similarity(NULL, 20, 'cosine', 'ik_cos')$$),
	($$SELECT recs_item_similarity(10, NULL, 'cosine', 'ik_cos')$$),
	($$SELECT recs_item_similarity(10, 20, NULL, 'ik_cos')$$),
	($$SELECT recs_item_similarity(10, 20, 'cosine', 'no_such_model')$$),
	($$SELECT recs_predict(NULL, 10, 'ik_cos')$$),
	($$SELECT recs_predict(1, NULL, 'ik_cos')$$),
	($$SELECT recs_predict(1, 10, 'no_such_model')$$),
	($$SELECT recs_predict(1, 10, 'ik_pop')$$)) v(stmt);
-- a model whose algorithm cannot predict says so
SELECT recs_predict(1, 10, 'ik_pop');
-- an untrained model
SELECT recs_create_model('ik_untrained', 'item_knn', 'ik_ratings');
SELECT recs_predict(1, 10, 'ik_untrained');
DROP FUNCTION ik_sqlstate(text);

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ik\_%' ORDER BY name;
DROP VIEW ik_expected_predictions, ik_expected_scores, ik_item_mean, ik_ref;
DROP TABLE ik_got, ik_expected, ik_ratings;
