-- hybrid: the popularity prior ("popularity": h joins the model's fallback
-- popularity with weight 2^(-n / h), n the user's interactions) and items
-- nobody has used (collaborative members leave them unscored).

SET extra_float_digits = 0;
SET recs.validate_on_train = off;

CREATE TABLE hp_events (user_id bigint, item_id bigint);
INSERT INTO hp_events VALUES
	(1, 10), (1, 20), (1, 30),
	(2, 10), (2, 20), (2, 40),
	(3, 20), (3, 30), (3, 50),
	(4, 10), (4, 40), (4, 50), (4, 60),
	(5, 30), (5, 60),
	(6, 10), (6, 20), (6, 30), (6, 40);
-- item 70 is in the catalogue but nobody has used it
CREATE TABLE hp_items (item_id bigint PRIMARY KEY, kind text);
INSERT INTO hp_items SELECT i, CASE WHEN i % 20 = 0 THEN 'even' ELSE 'odd' END
FROM unnest(ARRAY[10, 20, 30, 40, 50, 60, 70]) i;

SELECT recs_create_model('hp_knn', 'item_knn', 'hp_events');
SELECT recs_set_item_features('hp_knn', 'hp_items');
SELECT recs_train('hp_knn');
SELECT recs_create_model('hp_plain', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "normalize": "zscore"}');
SELECT recs_create_model('hp_prior', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "normalize": "zscore", "popularity": 2}');
SELECT recs_train('hp_plain'), recs_train('hp_prior');
-- the hybrids inherit hp_knn's catalogue
SELECT model, n_items FROM recs.model_versions WHERE model LIKE 'hp\_%' ORDER BY model;

-- the prior adds 2^(-n_u / 2) * zscore(popularity) to every item the
-- member scores (n_u from 2 to 4 here, so the check covers the fading) (popularity: distinct users per item, 0 for item 70,
-- normalised over all seven items)
CREATE VIEW hp_pop_z AS
WITH pop AS (SELECT i.item_id, count(DISTINCT e.user_id)::float8 AS n
			 FROM hp_items i LEFT JOIN hp_events e USING (item_id) GROUP BY i.item_id)
SELECT item_id, (n - avg(n) OVER ()) / stddev_pop(n) OVER () AS z FROM pop;
SELECT count(*) AS compared,
	count(*) FILTER (WHERE abs((p.score - q.score) - power(2.0, -n.n / 2.0) * z.z) < 1e-4) AS as_expected
FROM (SELECT user_id, count(*) AS n FROM hp_events GROUP BY user_id) n,
	 LATERAL recs_topk(n.user_id, 10, 'hp_prior', exclude_seen => false) p
	 JOIN LATERAL recs_topk(n.user_id, 10, 'hp_plain', exclude_seen => false) q USING (item_id)
	 JOIN hp_pop_z z USING (item_id)
WHERE p.source NOT LIKE 'popular%' AND q.source NOT LIKE 'popular%';

-- item 70: the member leaves it unscored, so without the prior only the
-- fallback lists it, and with the prior the source says so
SELECT DISTINCT source FROM recs_topk(1, 10, 'hp_plain', exclude_seen => false) WHERE item_id = 70;
SELECT DISTINCT source FROM recs_topk(1, 10, 'hp_prior', exclude_seen => false) WHERE item_id = 70;

SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "popularity": 0}');
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "popularity": "lots"}');

-- switching by history size ("interactions"): hp_knn serves users with at
-- most 3 interactions, a popular member those with 4 or more
SELECT recs_create_model('hp_pop', 'popular', 'hp_events');
SELECT recs_train('hp_pop');
SELECT recs_create_model('hp_switch', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1, "hp_pop": 1},
				"interactions": {"hp_knn": [0, 3], "hp_pop": [4, null]}}');
SELECT recs_train('hp_switch');
SELECT n.user_id, n.n, string_agg(DISTINCT t.source, ', ') AS sources
FROM (SELECT user_id, count(*) AS n FROM hp_events GROUP BY user_id) n,
	 LATERAL recs_topk(n.user_id, 3, 'hp_switch') t
GROUP BY n.user_id, n.n ORDER BY n.user_id;
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "interactions": {"hp_pop": [0, 3]}}');
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "interactions": {"hp_knn": [5, 3]}}');
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "interactions": {"hp_knn": 3}}');
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "interactions": {"hp_knn": [-1, 3]}}');
SELECT recs_create_model('hp_bad', 'hybrid', 'hp_events',
	params => '{"members": {"hp_knn": 1}, "popularity_weight": 2}');

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'hp\_%' ORDER BY algorithm = 'hybrid' DESC, name;
DROP VIEW hp_pop_z;
DROP TABLE hp_events, hp_items;
