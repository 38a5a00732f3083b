-- Business rules in recs_topk: exclude, candidates, filter on item
-- features, diversity.  Rules apply before top-k selection, to the model's
-- rows and the popularity fallback alike.

-- two genres of 10 items; users 1-20 use mostly "drama" (1-10), users
-- 21-40 mostly "comedy" (11-20); item 21 is a "comedy" nobody used yet
CREATE TABLE br_items AS
SELECT i AS item_id, CASE WHEN i <= 10 THEN 'drama' ELSE 'comedy' END AS genre,
	CASE WHEN i % 2 = 0 THEN ARRAY['new'] ELSE ARRAY['classic'] END AS tags
FROM generate_series(1, 21) i;
CREATE TABLE br_events AS
SELECT u AS user_id, CASE WHEN u <= 20 THEN 1 ELSE 11 END + (u * 3 + n) % 10 AS item_id
FROM generate_series(1, 40) u, generate_series(1, 4) n;
INSERT INTO br_events VALUES (1, 15);	-- one cross-genre interaction
SELECT recs_create_model('br_knn', 'item_knn', 'br_events');
SELECT recs_train('br_knn');
SELECT recs_create_model('br_pop', 'popular', 'br_events');
SELECT recs_train('br_pop');

-- plain: user 1 gets dramas (plus the comedy neighbour of item 15)
SELECT array_agg(item_id ORDER BY rank) AS plain FROM recs_topk(1, 5, 'br_knn');
-- exclude: those items never come back, and still 5 rows
SELECT array_agg(item_id ORDER BY rank) AS excluded,
	bool_and(item_id NOT IN (2, 3)) AS none_excluded_returned
FROM recs_topk(1, 5, 'br_knn', exclude => ARRAY[2, 3, 999]);
-- candidates: only these are ranked (fewer than k qualify: fewer rows)
SELECT array_agg(item_id ORDER BY rank) AS among_candidates
FROM recs_topk(1, 5, 'br_knn', candidates => ARRAY[12, 14, 4, 1000]);
-- exclude wins over candidates
SELECT array_agg(item_id ORDER BY rank) AS both
FROM recs_topk(1, 5, 'br_knn', candidates => ARRAY[12, 14, 4], exclude => ARRAY[14]);

-- filter on item features, matched by jsonb containment against each row
SELECT recs_set_item_features('br_knn', 'br_items');
SELECT recs_set_item_features('br_pop', 'br_items');
SELECT array_agg(item_id ORDER BY rank) AS comedies, count(*) AS n
FROM recs_topk(1, 5, 'br_knn', filter => '{"genre": "comedy"}');
SELECT bool_and(i.genre = 'comedy' AND 'new' = ANY (i.tags)) AS all_new_comedies, count(*) AS n
FROM recs_topk(1, 20, 'br_knn', filter => '{"genre": "comedy", "tags": ["new"]}') r
JOIN br_items i ON i.item_id = r.item_id;
-- the fallback (an unknown user) is filtered too
SELECT bool_and(i.genre = 'drama') AS all_dramas, count(*) AS n, min(source) AS source
FROM recs_topk(777, 5, 'br_pop', filter => '{"genre": "drama"}') r JOIN br_items i USING (item_id);
-- a filter nothing matches: no rows, not an error
SELECT count(*) FROM recs_topk(1, 5, 'br_knn', filter => '{"genre": "horror"}');

-- common column types are matched natively (text, varchar, boolean,
-- integers and numeric, text[]), others as jsonb: either way a filter keeps
-- exactly the rows whose to_jsonb() contains it
CREATE TABLE br_typed AS
SELECT i AS item_id, (ARRAY['a', 'b'])[1 + i % 2] AS t, (ARRAY['a', 'b'])[1 + i % 3]::varchar(5) AS v,
	i % 4 = 0 AS b, i % 5 AS i, (i % 3) / 2.0 AS n, (i % 2) / 2.0::float8 AS f,
	CASE WHEN i % 3 = 0 THEN ARRAY['x', 'y'] WHEN i % 3 = 1 THEN ARRAY['x'] END AS tags,
	ARRAY[i % 2] AS ints, jsonb_build_object('k', i % 2) AS js,
	CASE WHEN i % 2 = 0 THEN 'z' END AS nul
FROM generate_series(1, 20) i;
CREATE TABLE br_typed_events AS SELECT i AS user_id, i AS item_id FROM generate_series(1, 20) i;
SELECT recs_create_model('br_typed_pop', 'popular', 'br_typed_events');
SELECT recs_train('br_typed_pop');
SELECT recs_set_item_features('br_typed_pop', 'br_typed');
SELECT pat AS filter,
	(SELECT count(*) FROM recs_topk(777, 100, 'br_typed_pop', filter => pat)) AS kept,
	(SELECT array_agg(item_id ORDER BY item_id) FROM recs_topk(777, 100, 'br_typed_pop', filter => pat))
	IS NOT DISTINCT FROM
	(SELECT array_agg(item_id::bigint ORDER BY item_id) FROM br_typed x WHERE to_jsonb(x) @> pat) AS as_jsonb
FROM unnest(ARRAY['{"t": "a"}', '{"v": "b"}', '{"b": true}', '{"i": 3}', '{"i": 3.5}',
				  '{"n": 0.50}', '{"f": 0.5}', '{"tags": ["y"]}', '{"tags": ["y", "x"]}',
				  '{"tags": []}', '{"ints": [1]}', '{"js": {"k": 1}}', '{"nul": null}',
				  '{"t": 1}', '{"b": "true"}', '{"tags": "x"}', '{"t": "a", "b": true, "i": 4}']::jsonb[]) pat;
SELECT recs_drop_model('br_typed_pop');
DROP TABLE br_typed, br_typed_events;

-- diversity: maximal marginal relevance over item similarity spreads the
-- list over both genres
SELECT count(DISTINCT i.genre) AS genres_plain
FROM recs_topk(5, 6, 'br_knn') r JOIN br_items i USING (item_id);
SELECT count(DISTINCT i.genre) AS genres_diverse, count(*) AS n
FROM recs_topk(5, 6, 'br_knn', diversity => 0.9) r JOIN br_items i USING (item_id);
-- the first row is always the most relevant; diversity 0 changes nothing
SELECT (SELECT item_id FROM recs_topk(5, 6, 'br_knn', diversity => 0.9) WHERE rank = 1) =
	   (SELECT item_id FROM recs_topk(5, 6, 'br_knn') WHERE rank = 1) AS same_first,
	   (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(5, 6, 'br_knn', diversity => 0)) =
	   (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(5, 6, 'br_knn')) AS zero_is_plain;

-- errors
SELECT * FROM recs_topk(1, 5, 'br_knn', diversity => 1.5);
SELECT * FROM recs_topk(1, 5, 'br_knn', diversity => -0.1);
SELECT * FROM recs_topk(1, 5, 'br_pop', diversity => 0.5);
SELECT * FROM recs_topk(1, 5, 'br_knn', exclude => ARRAY[1, NULL]);
SELECT * FROM recs_topk(1, 5, 'br_knn', candidates => ARRAY[[1, 2], [3, 4]]);
SELECT * FROM recs_topk(1, 5, 'br_knn', filter => '"comedy"');
SELECT * FROM recs_topk(1, 5, 'br_knn', filter => '[1]');
SELECT * FROM recs_topk(1, 5, 'br_knn', filter => '{"colour": "red"}');
SELECT recs_set_item_features('br_knn', NULL);
SELECT * FROM recs_topk(1, 5, 'br_knn', filter => '{"genre": "comedy"}');
SELECT recs_set_item_features('br_knn', 'br_items', 'nope');
SELECT recs_set_item_features('br_knn', 'br_items', 'genre');
SELECT recs_set_item_features('nope', 'br_items');
DROP TABLE br_items;
SELECT * FROM recs_topk(1, 5, 'br_pop', filter => '{"genre": "comedy"}');

SELECT recs_drop_model('br_knn'), recs_drop_model('br_pop');
DROP TABLE br_events;
