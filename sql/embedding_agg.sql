-- sum(embedding) and avg(embedding), serial and parallel.

CREATE TABLE agg_t (g int, e embedding);
INSERT INTO agg_t VALUES (1, '[1,2,3]'), (1, '[3,4,5]'), (1, NULL), (2, '[0.5,0.5,0.5]'), (3, NULL);

SELECT g, sum(e), avg(e), count(e) FROM agg_t GROUP BY g ORDER BY g;
SELECT sum(e), avg(e) FROM agg_t;
-- no rows, or only NULLs: NULL, like sum and avg of numbers
SELECT sum(e), avg(e) FROM agg_t WHERE false;
SELECT sum(e) IS NULL AS sum_null, avg(e) IS NULL AS avg_null FROM agg_t WHERE g = 3;

-- float8 accumulation: 100,000 additions of 0.1 still average to 0.1
SELECT avg(e) FROM (SELECT '[0.1,1e-7]'::embedding AS e FROM generate_series(1, 100000)) s;

-- dimension mismatch
INSERT INTO agg_t VALUES (4, '[1,2]');
SELECT sum(e) FROM agg_t;
SELECT avg(e) FROM agg_t;
DELETE FROM agg_t WHERE g = 4;

-- a sum beyond real's range is an error, the average of the same values is not
SELECT sum(e) FROM (VALUES ('[3e38]'::embedding), ('[3e38]')) v(e);
SELECT avg(e) FROM (VALUES ('[3e38]'::embedding), ('[3e38]')) v(e);

-- parallel aggregation gives the same answer as serial
CREATE TABLE agg_big AS
SELECT i % 7 AS g, ARRAY[i % 13, (i % 5) * 0.5, 1]::real[]::embedding AS e
FROM generate_series(1, 20000) i;
ANALYZE agg_big;
CREATE TEMP TABLE serial_result AS SELECT g, sum(e) AS s, avg(e) AS a FROM agg_big GROUP BY g;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(e), avg(e) FROM agg_big;
SELECT sum(e), avg(e) FROM agg_big;
EXPLAIN (COSTS OFF) SELECT g, sum(e), avg(e) FROM agg_big GROUP BY g;
SELECT count(*) AS groups_differing FROM (
	SELECT g, sum(e) AS s, avg(e) AS a FROM agg_big GROUP BY g
) p JOIN serial_result s USING (g)
WHERE p.s <> s.s OR p.a <-> s.a > 1e-6;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

DROP TABLE agg_t, agg_big;
