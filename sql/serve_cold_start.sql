-- The cold-start chain, the recent-popularity fallback, the exploration
-- slot, context re-ranking, online updates and recs_topk's experiment
-- argument (src/serve/serve.c).

CREATE TABLE cs_events (user_id int, item_id int, at timestamptz);
-- items 1..4 are used early, items 5 and 6 only in the last two days
INSERT INTO cs_events VALUES
	(1, 1, '2024-01-01'), (1, 2, '2024-01-01'), (1, 3, '2024-01-02'),
	(2, 1, '2024-01-01'), (2, 2, '2024-01-02'), (2, 4, '2024-01-02'),
	(3, 1, '2024-01-01'), (3, 3, '2024-01-03'), (3, 5, '2024-03-09'),
	(4, 5, '2024-03-09'), (4, 6, '2024-03-10'), (5, 6, '2024-03-10');
CREATE TABLE cs_items (item_id int PRIMARY KEY, genre text, daypart text[]);
INSERT INTO cs_items VALUES
	(1, 'drama', '{evening}'), (2, 'comedy', '{morning}'), (3, 'drama', '{morning}'),
	(4, 'comedy', '{evening}'), (5, 'news', '{morning,evening}'), (6, 'news', '{morning}'),
	(7, 'drama', '{evening}'), (8, 'comedy', '{morning}');	-- 7, 8: nobody used them yet

-- the default chain: a new user with interactions is folded in, one with
-- nothing gets the all-time popularity
SELECT recs_create_model('cs_knn', 'item_knn', 'cs_events', time_column => 'at');
SELECT recs_train('cs_knn');
INSERT INTO cs_events VALUES (100, 1, '2024-03-11');
SELECT DISTINCT source FROM recs_topk(100, 2, 'cs_knn');
SELECT rank, item_id, score, source FROM recs_topk(999, 3, 'cs_knn');

-- "fallback": popularity over the last 3 days of the data only
SELECT recs_create_model('cs_recent', 'item_knn', 'cs_events', time_column => 'at',
	params => '{"fallback": {"window_days": 3}}');
SELECT recs_train('cs_recent');
SELECT rank, item_id, score, source FROM recs_topk(999, 3, 'cs_recent');

-- a chain without fold_in: user 100's interaction is ignored, popularity answers
SELECT recs_create_model('cs_nofold', 'item_knn', 'cs_events', params => '{"cold_start": ["popular"]}');
SELECT recs_train('cs_nofold');
SELECT DISTINCT source FROM recs_topk(100, 2, 'cs_nofold');
-- bad chains
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"cold_start": "popular"}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"cold_start": ["popular", "fold_in"]}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"cold_start": ["psychic"]}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"cold_start": ["fold_in", "fold_in"]}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"fallback": {"window_days": 3}}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"fallback": 3}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"context_boost": -1}');

-- exploration: with an item catalogue, items 7 and 8 (no interactions)
-- exist for the model; every 3rd position goes to a fresh item
SELECT recs_create_model('cs_explore', 'item_knn', 'cs_events',
	params => '{"exploration": {"every": 3}}');
SELECT recs_set_item_features('cs_explore', 'cs_items');
SELECT recs_train('cs_explore');
SELECT n_items FROM recs.model_versions WHERE model = 'cs_explore';
SELECT rank, item_id IN (7, 8) AS fresh, source FROM recs_topk(1, 4, 'cs_explore') ORDER BY rank;
-- stable for a user, and the fresh pick depends on the user
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(1, 6, 'cs_explore')) =
	   (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(1, 6, 'cs_explore')) AS stable;
SELECT count(DISTINCT (SELECT item_id FROM recs_topk(u, 3, 'cs_explore') WHERE rank = 3)) > 1
	AS varies_by_user
FROM generate_series(1, 5) u;
-- "max_interactions": 1 also counts items with one user (4 here) as fresh
SELECT recs_create_model('cs_explore1', 'item_knn', 'cs_events',
	params => '{"exploration": {"every": 2, "max_interactions": 1}}');
SELECT recs_train('cs_explore1');
SELECT rank, item_id, source FROM recs_topk(5, 4, 'cs_explore1') ORDER BY rank;
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"exploration": {"every": 1}}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"exploration": {}}');
SELECT recs_create_model('cs_bad', 'item_knn', 'cs_events', params => '{"exploration": {"every": 5, "fresh": 1}}');

-- context: {"daypart": "evening"} lifts evening items; keys that are not
-- feature columns are ignored; context must be an object
SELECT rank, item_id, source FROM recs_topk(4, 4, 'cs_explore', context => '{"daypart": ["evening"]}');
SELECT rank, item_id FROM recs_topk(4, 4, 'cs_explore');
SELECT rank, item_id FROM recs_topk(4, 4, 'cs_explore', context => '{"device": "mobile"}');
SELECT * FROM recs_topk(4, 4, 'cs_explore', context => '"evening"');
SELECT * FROM recs_topk(4, 4, 'cs_knn', context => '{"daypart": ["evening"]}');

-- online updates: user 1's new interaction changes their list at once
SELECT recs_enable_online_updates('cs_knn');
SELECT array_agg(item_id ORDER BY rank) AS before FROM recs_topk(1, 3, 'cs_knn');
INSERT INTO cs_events VALUES (1, 5, '2024-03-11');
SELECT user_id FROM recs.user_updates WHERE model = 'cs_knn' ORDER BY 1;
SELECT array_agg(item_id ORDER BY rank) AS after, min(source) AS source
FROM recs_topk(1, 3, 'cs_knn');
-- user 2 is untouched and served from the model as trained
SELECT DISTINCT source FROM recs_topk(2, 3, 'cs_knn');
-- a new version covers the update: the model is current again
SELECT recs_train('cs_knn', activate => true);
SELECT DISTINCT source FROM recs_topk(1, 3, 'cs_knn');
SELECT recs_disable_online_updates('cs_knn');
SELECT count(*) FROM recs.user_updates WHERE model = 'cs_knn';
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cs_events'::regclass;
CREATE VIEW cs_view AS SELECT * FROM cs_events;
SELECT recs_create_model('cs_on_view', 'popular', 'cs_view');
-- enabling twice keeps one set of triggers
SELECT recs_enable_online_updates('cs_knn');
SELECT recs_enable_online_updates('cs_knn');	-- twice is fine
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cs_events'::regclass;
SELECT recs_disable_online_updates('cs_knn');
SELECT recs_enable_online_updates('cs_on_view');
SELECT recs_enable_online_updates('cs_nope');

-- experiments through recs_topk: rows tagged with the variant, exposure recorded
SELECT recs_create_experiment('cs_exp', '{"control": {"model": "cs_knn", "weight": 1},
	"treatment": {"model": "cs_recent", "weight": 1}}');
SELECT count(*) AS rows, min(split_part(source, ':', 1)) = recs_variant('cs_exp', 3) AS tagged
FROM recs_topk(3, 3, experiment => 'cs_exp');
SELECT variant = recs_variant('cs_exp', 3) AS variant_recorded, user_id, cardinality(items)
FROM recs.exposures WHERE experiment = 'cs_exp';
SELECT * FROM recs_topk(3, 3, 'cs_knn', experiment => 'cs_exp');
SELECT * FROM recs_topk(3, 3, experiment => 'cs_none');
