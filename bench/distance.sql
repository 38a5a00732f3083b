-- bench/distance.sql: exact top-10 nearest neighbours by L2 distance.
--
-- 100,000 random 128-dimension vectors, stored both as embedding and as
-- real[] in the same table; the same query is timed with the embedding <->
-- operator and with plain SQL arithmetic over real[], on a sequential scan
-- of the same rows.  Both must return the same ids.

\set rows 100000
\set dims 128

\echo 'distance: ORDER BY <L2 distance> LIMIT 10 over' :rows 'rows of' :dims 'dimensions (sequential scan)'

SELECT setseed(0.4242) AS seeded \gset
CREATE TABLE bench_distance AS
	SELECT i AS id, v::embedding(:dims) AS e, v AS arr
	FROM (SELECT i, bench.random_vector(:dims) AS v
	      FROM generate_series(1, :rows) AS i) AS s;
-- Set hint bits and statistics now, not during the first timed scan.
VACUUM (FREEZE, ANALYZE) bench_distance;

SELECT setseed(0.1717) AS seeded \gset
SELECT bench.random_vector(:dims)::text AS q \gset

\set q_embedding 'SELECT id FROM bench_distance ORDER BY e <-> ' :'q' '::real[]::embedding LIMIT 10'
\set q_sql 'SELECT id FROM bench_distance ORDER BY (SELECT sqrt(sum((u.a - u.b) ^ 2)) FROM unnest(arr, ' :'q' '::real[]) AS u(a, b)) LIMIT 10'

CREATE TEMP TABLE distance_result AS
	SELECT 'embedding <->'::text AS query, t.*
	FROM bench.time_query(:'q_embedding') AS t
	UNION ALL
	SELECT 'real[] arithmetic in SQL', t.*
	FROM bench.time_query(:'q_sql') AS t;

SELECT query, runs_done AS runs, median_ms, min_ms, max_ms FROM distance_result;

SELECT round((SELECT median_ms FROM distance_result WHERE query LIKE 'real%')
             / nullif((SELECT median_ms FROM distance_result WHERE query LIKE 'embedding%'), 0), 1)
         AS "ratio sql/embedding (median)",
       bench.ids(:'q_embedding') = bench.ids(:'q_sql') AS "same 10 ids, same order",
       bench.ids(:'q_embedding') AS "top-10 ids (embedding)";

DROP TABLE bench_distance;
