-- The ease algorithm (EASE^R) on a planted structure: three groups of users,
-- each using most items of its own block of 10.  Every user misses 2 items
-- of its block, which the model must rank first; the biggest group's block
-- is the most popular, so popularity alone gets the others wrong.

-- training reports its time in a NOTICE
SET client_min_messages = warning;

CREATE TABLE ease_data (user_id int, item_id int);
-- users 1-8 are group 0 (items 101-110), 9-18 group 1 (201-210), 19-34
-- group 2 (301-310); user u lacks items u % 10 + 1 and (u + 5) % 10 + 1 of
-- its block, and every user of group g also has item g + 2 of the next
-- block (202, 303, 104), which ties the blocks together
CREATE TEMP VIEW ease_users AS
SELECT u, CASE WHEN u <= 8 THEN 0 WHEN u <= 18 THEN 1 ELSE 2 END AS g
FROM generate_series(1, 34) u;
INSERT INTO ease_data
SELECT u, 100 * (g + 1) + k FROM ease_users, generate_series(1, 10) k
WHERE k NOT IN (u % 10 + 1, (u + 5) % 10 + 1)
UNION ALL
SELECT u, 100 * ((g + 1) % 3 + 1) + g + 2 FROM ease_users;

SELECT recs_create_model('ease_m', 'ease', 'ease_data');
SELECT recs_train('ease_m');
SELECT recs_create_model('ease_pop', 'popular', 'ease_data');
SELECT recs_train('ease_pop');

-- user 1 lacks 102 and 107: ease ranks them first, popular does not
SELECT array_agg(item_id ORDER BY item_id) AS ease_top2 FROM recs_topk(1, 2, 'ease_m');
SELECT array_agg(item_id ORDER BY item_id) AS popular_top2 FROM recs_topk(1, 2, 'ease_pop');
SELECT DISTINCT source FROM recs_topk(1, 2, 'ease_m');

-- every user's top 2 are exactly the 2 items of its block it lacks
SELECT count(*) AS users,
	count(*) FILTER (WHERE top2 = missing) AS top2_are_the_missing_items
FROM (SELECT u,
		(SELECT array_agg(item_id ORDER BY item_id) FROM recs_topk(u, 2, 'ease_m')) AS top2,
		ARRAY[100 * (g + 1) + least(u % 10, (u + 5) % 10) + 1,
			  100 * (g + 1) + greatest(u % 10, (u + 5) % 10) + 1]::bigint[] AS missing
	  FROM ease_users) t;

-- every unseen item is a candidate; unknown users get the fallback
SELECT count(*) AS n, bool_and(source = 'ease') AS all_ease FROM recs_topk(1, 30, 'ease_m');
SELECT count(*) AS n FROM recs_topk(1, 30, 'ease_m', exclude_seen => false);
SELECT DISTINCT source FROM recs_topk(999, 3, 'ease_m');

-- similar items are a row of B: the other 9 items of the block, and the
-- item every user of the group also has, come first
SELECT count(*) FILTER (WHERE item_id BETWEEN 101 AND 110) AS same_block,
	count(*) FILTER (WHERE item_id = 202) AS group_item, count(*) AS n
FROM recs_similar_items(101, 10, 'ease_m');
SELECT count(*) FILTER (WHERE item_id BETWEEN 301 AND 310) AS same_block,
	count(*) FILTER (WHERE item_id = 104) AS group_item, count(*) AS n
FROM recs_similar_items(305, 10, 'ease_m');
-- B has a zero diagonal: an item is never similar to itself
SELECT count(*) AS n, bool_or(item_id = 305) AS includes_itself
FROM recs_similar_items(305, 100, 'ease_m');

-- held-out evaluation: each user's held-out item (seeded) is found in the
-- top 3, far more often than by popularity
SELECT e.users_evaluated, e.hit_rate_at_k > 0.9 AS ease_high,
	p.hit_rate_at_k < 0.6 AS popular_low,
	e.hit_rate_at_k > p.hit_rate_at_k + 0.3 AS ease_clearly_better
FROM recs_evaluate('ease_m', 3) e, recs_evaluate('ease_pop', 3) p;
SELECT (metrics->>'hit_rate@10')::float8 > 0.9 AS validated
FROM recs.model_versions WHERE model = 'ease_m';

-- a closed form: retraining gives the same artifact; lambda changes it
SELECT recs_train('ease_m');
SELECT recs_create_model('ease_l10', 'ease', 'ease_data', params => '{"lambda": 10}');
SELECT recs_train('ease_l10');
SELECT b.model, b.version, a.artifact = b.artifact AS same_artifact
FROM recs.model_versions a JOIN recs.model_versions b
	ON a.model = 'ease_m' AND a.version = 1 AND b.model IN ('ease_m', 'ease_l10')
ORDER BY b.model, b.version;
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(1, 2, 'ease_l10');

-- weights: x_ui is the summed weight; negative weights train and serve
CREATE TABLE ease_weighted AS
SELECT user_id, item_id, CASE WHEN item_id / 100 = 1 + (user_id > 8)::int + (user_id > 18)::int
	THEN 2.0 ELSE -0.5 END AS w
FROM ease_data;
SELECT recs_create_model('ease_w', 'ease', 'ease_weighted', weight_column => 'w');
SELECT recs_train('ease_w');
SELECT array_agg(item_id ORDER BY item_id) AS top2 FROM recs_topk(1, 2, 'ease_w');

-- bad params fail at creation
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '{"lamda": 100}');
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '{"lambda": 0}');
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '{"lambda": -5}');
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '{"lambda": 1e40}');
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '{"lambda": "big"}');
SELECT recs_create_model('ease_bad', 'ease', 'ease_data', params => '"lambda"');

-- a catalogue whose item-item matrix cannot be stored is refused before
-- anything is allocated: 20,000 items would need a 1.5 GB matrix
CREATE TABLE ease_wide AS SELECT i % 1000 AS user_id, i AS item_id FROM generate_series(1, 20000) i;
SELECT recs_create_model('ease_wide', 'ease', 'ease_wide');
SELECT recs_train('ease_wide');
DO $$
BEGIN
	PERFORM recs_train('ease_wide');
EXCEPTION WHEN program_limit_exceeded THEN
	RAISE WARNING 'SQLSTATE %', SQLSTATE;
END
$$;
SELECT count(*) AS versions FROM recs.model_versions WHERE model = 'ease_wide';

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ease\_%' ORDER BY name;
DROP TABLE ease_data, ease_weighted, ease_wide;
RESET client_min_messages;
