-- recs_export and recs_import: factor matrices out of and into recs.

-- planted structure: users 1-6 like items 1-4, users 7-12 items 5-8
CREATE TABLE ie_events AS
SELECT u AS user_id, i AS item_id
FROM generate_series(1, 12) u, generate_series(1, 8) i
WHERE (u <= 6) = (i <= 4) AND (u + i) % 4 <> 0;
SELECT recs_create_model('ie_ials', 'ials', 'ie_events', params => '{"factors": 3, "iterations": 8}');
SET client_min_messages = warning;	-- per-iteration NOTICEs carry timings
SELECT recs_train('ie_ials');
RESET client_min_messages;

-- export: one row per user and item of the version, with its vector
CREATE TABLE ie_out AS SELECT * FROM recs_export('ie_ials');
SELECT kind, count(*), min(recs_dims(factors)) AS dims, count(bias) AS biases
FROM ie_out GROUP BY kind ORDER BY kind;
SELECT count(*) AS same_as_version_1
FROM recs_export('ie_ials', 1) e JOIN ie_out o USING (kind, id) WHERE e.factors = o.factors;

-- import the same vectors into a "factors" model over the same source:
-- it serves exactly what the ials model serves
CREATE TABLE ie_users AS SELECT id, factors FROM ie_out WHERE kind = 'user';
CREATE TABLE ie_items AS SELECT id, factors FROM ie_out WHERE kind = 'item';
SELECT recs_create_model('ie_imported', 'factors', 'ie_events');
SELECT recs_import('ie_imported', 'ie_users', 'ie_items') AS version;
SELECT bool_and(a.item_id = b.item_id AND abs(a.score - b.score) < 1e-5) AS same_lists,
	min(a.source) AS source
FROM generate_series(1, 12) u,
	LATERAL recs_topk(u, 3, 'ie_imported') a
	JOIN LATERAL recs_topk(u, 3, 'ie_ials') b USING (rank);
SELECT bool_and(a.item_id = b.item_id) AS same_similar_items
FROM recs_similar_items(1, 3, 'ie_imported') a JOIN recs_similar_items(1, 3, 'ie_ials') b USING (rank);
SELECT version, metrics FROM recs_models() WHERE model = 'ie_imported';
-- and it evaluates as it is, on a given split
CREATE TABLE ie_test (user_id int, item_id int);
INSERT INTO ie_test VALUES (1, 4), (7, 8);
SELECT users_evaluated, train_interactions FROM recs_evaluate_split('ie_imported', 'ie_test', k => 3);

-- item biases (optional column) add to every score: a huge one wins
CREATE TABLE ie_items_biased AS SELECT id, factors::real[] AS factors,
	CASE WHEN id = 8 THEN 100 ELSE 0 END AS bias FROM ie_items;
SELECT recs_import('ie_imported', 'ie_users', 'ie_items_biased') AS version;
SELECT item_id, round(score::numeric) >= 100 AS biased FROM recs_topk(1, 1, 'ie_imported');
SELECT count(bias) AS biases, max(bias) FROM recs_export('ie_imported') WHERE kind = 'item';

-- vectors for ids outside the source are ignored; source users without a
-- vector get the popularity fallback
CREATE TABLE ie_users_partial AS SELECT id, factors FROM ie_users WHERE id <> 3
	UNION ALL SELECT 999, '[1,1,1]'::embedding;
SELECT recs_import('ie_imported', 'ie_users_partial', 'ie_items') AS version;
SELECT DISTINCT source FROM recs_topk(3, 3, 'ie_imported');
SELECT DISTINCT source FROM recs_topk(4, 3, 'ie_imported');
-- activate => false stores without serving it
SELECT recs_import('ie_imported', 'ie_users', 'ie_items', activate => false) AS version;
SELECT version FROM recs_models() WHERE model = 'ie_imported' AND active;

-- errors
SELECT * FROM recs_export('ie_imported', 99);
SELECT * FROM recs_export('nope');
SELECT recs_create_model('ie_pop', 'popular', 'ie_events');
SELECT * FROM recs_export('ie_pop');
SELECT recs_train('ie_pop');
SELECT * FROM recs_export('ie_pop');
SELECT recs_import('ie_pop', 'ie_users', 'ie_items');
SELECT recs_train('ie_imported');
CREATE TABLE ie_bad (id int, vec real[]);
SELECT recs_import('ie_imported', 'ie_bad', 'ie_items');
CREATE TABLE ie_dims AS SELECT id, CASE WHEN id = 2 THEN '[1,2]'::embedding ELSE factors END AS factors FROM ie_users;
SELECT recs_import('ie_imported', 'ie_dims', 'ie_items');
CREATE TABLE ie_dup AS SELECT id, factors FROM ie_users UNION ALL SELECT 1, factors FROM ie_users WHERE id = 2;
SELECT recs_import('ie_imported', 'ie_dup', 'ie_items');
CREATE TABLE ie_empty (id int, factors embedding);
SELECT recs_import('ie_imported', 'ie_users', 'ie_empty');
CREATE TABLE ie_nan (id int, factors real[]);
INSERT INTO ie_nan VALUES (1, ARRAY['NaN', 1, 1]::real[]);
SELECT recs_import('ie_imported', 'ie_nan', 'ie_items');
CREATE TABLE ie_narrow AS SELECT id, (factors::real[])[1:2]::embedding AS factors FROM ie_items;
SELECT recs_import('ie_imported', 'ie_users', 'ie_narrow');
SELECT recs_import('ie_imported', NULL, 'ie_items');

SELECT recs_drop_model(m) FROM unnest(ARRAY['ie_ials', 'ie_imported', 'ie_pop']) m;
DROP TABLE ie_events, ie_out, ie_users, ie_items, ie_test, ie_items_biased, ie_users_partial,
	ie_bad, ie_dims, ie_dup, ie_empty, ie_nan, ie_narrow;
