-- The ials algorithm (implicit ALS) on a planted structure: three groups of
-- users, each using most items of its own block of 10.  Every user misses 2
-- items of its block, which the model must rank first; the biggest group's
-- block is the most popular, so popularity alone gets the others wrong.

-- training reports each iteration's time in a NOTICE
SET client_min_messages = warning;

CREATE TABLE ials_data (user_id int, item_id int);
-- users 1-8 are group 0 (items 101-110), 9-18 group 1 (201-210), 19-34
-- group 2 (301-310); user u lacks items u % 10 + 1 and (u + 5) % 10 + 1 of
-- its block, and every user of group g also has item g + 2 of the next
-- block (202, 303, 104), which ties the blocks together
CREATE TEMP VIEW ials_users AS
SELECT u, CASE WHEN u <= 8 THEN 0 WHEN u <= 18 THEN 1 ELSE 2 END AS g
FROM generate_series(1, 34) u;
INSERT INTO ials_data
SELECT u, 100 * (g + 1) + k FROM ials_users, generate_series(1, 10) k
WHERE k NOT IN (u % 10 + 1, (u + 5) % 10 + 1)
UNION ALL
SELECT u, 100 * ((g + 1) % 3 + 1) + g + 2 FROM ials_users;
SELECT count(*) AS interactions, count(DISTINCT user_id) AS users,
	count(DISTINCT item_id) AS items FROM ials_data;

SELECT recs_create_model('ials_m', 'ials', 'ials_data');
SELECT recs_train('ials_m');
SELECT recs_create_model('ials_pop', 'popular', 'ials_data');
SELECT recs_train('ials_pop');

-- user 1 lacks 102 and 107: ials ranks them first, popular does not
SELECT array_agg(item_id ORDER BY item_id) AS ials_top2 FROM recs_topk(1, 2, 'ials_m');
SELECT array_agg(item_id ORDER BY item_id) AS popular_top2 FROM recs_topk(1, 2, 'ials_pop');
SELECT DISTINCT source FROM recs_topk(1, 2, 'ials_m');

-- every user's top 2 are exactly the 2 items of its block it lacks
SELECT count(*) AS users,
	count(*) FILTER (WHERE top2 = missing) AS top2_are_the_missing_items
FROM (SELECT u,
		(SELECT array_agg(item_id ORDER BY item_id) FROM recs_topk(u, 2, 'ials_m')) AS top2,
		ARRAY[100 * (g + 1) + least(u % 10, (u + 5) % 10) + 1,
			  100 * (g + 1) + greatest(u % 10, (u + 5) % 10) + 1]::bigint[] AS missing
	  FROM ials_users) t;

-- seen items are excluded unless asked; all scores are candidates, no fallback
SELECT count(*) AS n, bool_and(source = 'ials') AS all_ials FROM recs_topk(1, 30, 'ials_m');
SELECT count(*) AS n FROM recs_topk(1, 30, 'ials_m', exclude_seen => false);
-- a user the model has never seen gets the popularity fallback
SELECT DISTINCT source FROM recs_topk(999, 3, 'ials_m');

-- similar items: cosine of item factors; the other 9 items of the block,
-- and the item every user of the group also has, come first
SELECT count(*) FILTER (WHERE item_id BETWEEN 101 AND 110) AS same_block,
	count(*) FILTER (WHERE item_id = 202) AS group_item, count(*) AS n
FROM recs_similar_items(101, 10, 'ials_m');
SELECT count(*) FILTER (WHERE item_id BETWEEN 301 AND 310) AS same_block,
	count(*) FILTER (WHERE item_id = 104) AS group_item, count(*) AS n
FROM recs_similar_items(305, 10, 'ials_m');
SELECT bool_and(score BETWEEN -1.0001 AND 1.0001) AS cosines, count(*) AS n
FROM recs_similar_items(305, 100, 'ials_m');

-- held-out evaluation: each user's held-out item (seeded) is found in the
-- top 3, far more often than by popularity
SELECT i.users_evaluated, i.hit_rate_at_k > 0.9 AS ials_high,
	p.hit_rate_at_k < 0.6 AS popular_low,
	i.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS ials_clearly_better
FROM recs_evaluate('ials_m', 3) i, recs_evaluate('ials_pop', 3) p;
-- validation metrics were stored with the version
SELECT (metrics->>'hit_rate@10')::float8 > 0.9 AS validated
FROM recs.model_versions WHERE model = 'ials_m';

-- determinism: the same seed trains the same artifact, another seed another
SELECT recs_create_model('ials_same', 'ials', 'ials_data');
SELECT recs_train('ials_same');
SELECT recs_train('ials_same');
SELECT recs_create_model('ials_seed7', 'ials', 'ials_data', params => '{"seed": 7}');
SELECT recs_train('ials_seed7');
SELECT b.model, b.version, a.artifact = b.artifact AS same_artifact
FROM recs.model_versions a JOIN recs.model_versions b
	ON a.model = 'ials_m' AND b.model IN ('ials_same', 'ials_seed7')
ORDER BY b.model, b.version;
-- ... and another seed still finds the structure
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(1, 2, 'ials_seed7');

-- every param set: a small model, a weight column (confidence 1 + alpha *
-- weight; the pairs of weight <= 0, here all those outside the user's block,
-- count as unobserved; in the block even items weigh 3, odd ones 0.5) and
-- little weight on unobserved pairs
CREATE TABLE ials_weighted AS
SELECT user_id, item_id,
	CASE WHEN item_id / 100 <> 1 + (user_id > 8)::int + (user_id > 18)::int THEN -1.0
		 WHEN item_id % 2 = 0 THEN 3.0 ELSE 0.5 END AS w
FROM ials_data;
SELECT recs_create_model('ials_params', 'ials', 'ials_weighted', weight_column => 'w',
	params => '{"factors": 4, "iterations": 5, "regularization": 0.5, "alpha": 10,
				"unobserved_weight": 0.05, "seed": -3}');
INSERT INTO ials_weighted VALUES (99, 101, -1), (99, 205, 0);
SELECT recs_train('ials_params');
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(1, 2, 'ials_params');
-- user 99 has no positive weight, hence no factors: the fallback serves it
SELECT DISTINCT source FROM recs_topk(99, 3, 'ials_params');
-- unobserved pairs weighing more than some observed ones (c = 2 < w0 = 3
-- for weight 0.5, c = 7 for weight 3)
SELECT recs_create_model('ials_heavy', 'ials', 'ials_weighted', weight_column => 'w',
	params => '{"alpha": 2, "unobserved_weight": 3}');
SELECT recs_train('ials_heavy');
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(1, 2, 'ials_heavy');

-- bad params fail at creation
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factor": 8}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factors": -3}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factors": 0}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factors": 1025}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factors": 2.5}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"factors": "ten"}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"iterations": 0}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"iterations": 1001}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"regularization": 0}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"regularization": -1}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"regularization": 1e31}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"alpha": -0.5}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"alpha": true}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"unobserved_weight": 0}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"seed": 1.5}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '{"seed": 3000000000}');
SELECT recs_create_model('ials_bad', 'ials', 'ials_data', params => '[64]');
-- null means the default
SELECT recs_create_model('ials_null', 'ials', 'ials_data', params => '{"factors": null}');
SELECT count(*) AS models FROM recs.models WHERE name LIKE 'ials\_%';

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ials\_%' ORDER BY name;
DROP TABLE ials_data, ials_weighted;
RESET client_min_messages;
