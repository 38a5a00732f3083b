-- bench/filter.sql: what a business-rule filter costs recs_topk.
--
-- recs_topk(..., filter => {...}) keeps the items whose row in the model's
-- item features table contains the filter (src/serve/rules.c).  Columns of
-- common types (text, varchar, boolean, integers, numeric, text[]) are
-- matched natively; any other type through jsonb containment of the
-- column's value.  The same catalogue holds the genre twice, as text and as
-- name (a type matched through jsonb), so that the two ways are timed on
-- the same rows.  Each figure is one query of 200 recs_topk calls (a
-- popular model: the list itself costs microseconds, the filter is nearly
-- everything); ms/call is its median over 7 runs divided by 200.
--
-- Synthetic data of MovieLens 100K's shape: 1,682 items, 943 users.

\echo 'filter: recs_topk(u, 10, model, filter => ...) on 1,682 items, ms per call (median of 7 runs of 200 calls)'

CREATE TABLE bench_filter_items AS
SELECT i AS item_id,
	(ARRAY['comedy', 'drama', 'action', 'horror'])[1 + i % 4] AS genre,
	(ARRAY['comedy', 'drama', 'action', 'horror'])[1 + i % 4]::name AS genre_name,
	ARRAY['t' || (i % 7), 'new'] AS tags,
	(i % 50)::numeric AS price,
	i % 3 <> 0 AS in_stock,
	repeat('lorem ipsum ', 20) AS description
FROM generate_series(1, 1682) i;
CREATE TABLE bench_filter_events AS
SELECT u AS user_id, 1 + (u * 7 + n * 13) % 1682 AS item_id
FROM generate_series(1, 943) u, generate_series(1, 100) n;
VACUUM ANALYZE bench_filter_items, bench_filter_events;

SELECT recs_create_model('bench_filter', 'popular', 'bench_filter_events') AS created;
SELECT recs_train('bench_filter') AS version;
SELECT recs_set_item_features('bench_filter', 'bench_filter_items') AS features;

CREATE TEMP TABLE filter_result (filter text, matched_as text, ms_per_call numeric);
DO $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM (VALUES
			('none', '', NULL::jsonb),
			('{"genre": "comedy"}', 'native', '{"genre": "comedy"}'),
			('{"genre_name": "comedy"}', 'jsonb', '{"genre_name": "comedy"}'),
			('{"genre": "comedy", "in_stock": true}', 'native', '{"genre": "comedy", "in_stock": true}'),
			('{"genre_name": "comedy", "in_stock": true}', 'jsonb + native', '{"genre_name": "comedy", "in_stock": true}'),
			('{"tags": ["new", "t3"]}', 'native', '{"tags": ["new", "t3"]}'),
			('{"price": 7}', 'native', '{"price": 7}')) AS v(label, how, pattern)
	LOOP
		INSERT INTO filter_result
		SELECT f.label, f.how, round(t.median_ms / 200, 3)
		FROM bench.time_query(format(
			'SELECT r.* FROM generate_series(1, 200) u, recs_topk(u, 10, %L, filter => %L::jsonb) r',
			'bench_filter', f.pattern)) t;
	END LOOP;
END
$$;
SELECT filter, matched_as, ms_per_call FROM filter_result;
SELECT round(max(ms_per_call) FILTER (WHERE filter = '{"genre_name": "comedy"}') /
			 max(ms_per_call) FILTER (WHERE filter = '{"genre": "comedy"}'), 1)
	AS "jsonb / native, same rows"
FROM filter_result;

SELECT recs_drop_model('bench_filter') AS dropped;
DROP TABLE bench_filter_items, bench_filter_events;
