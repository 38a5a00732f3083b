-- bench/operators.sql: the distance operators in SQL, per build of the
-- vector kernels.
--
-- recs.vector_kernels selects the portable, AVX2 or AVX-512 build of the
-- distance loops (src/types/embedding_kernels.c); bench/kernels.c times the
-- loops alone, this file what a query sees.  For each build this CPU runs,
-- each distance operator is evaluated on every pair of 1,000 vectors
-- (1,000,000 pairs), at 128 and 1024 dimensions.
--
-- The vectors are rebuilt in memory by a MATERIALIZED CTE, so that no pair
-- pays for reading or detoasting them (1024-dim values live in TOAST).  The
-- baseline runs the same join with a trivial function, recs_dims(a.e), in
-- place of the distance: "ns/pair" is what the distance adds to it, the
-- kernel's own cost plus one function call.

\set n 1000

\echo 'operators: sum(a.e OP b.e) over' :n 'x' :n 'in-memory vector pairs, per build of the distance kernels'

SELECT setseed(0.2323) AS seeded \gset
CREATE TABLE bench_operators_128 AS
	SELECT i AS id, bench.random_vector(128)::embedding AS e
	FROM generate_series(1, :n) AS i;
CREATE TABLE bench_operators_1024 AS
	SELECT i AS id, bench.random_vector(1024)::embedding AS e
	FROM generate_series(1, :n) AS i;
VACUUM (FREEZE, ANALYZE) bench_operators_128, bench_operators_1024;

CREATE TEMP TABLE operators_result (
	dims int, kernels text, op text, median_ms numeric, ns_per_pair numeric
);

DO $$
DECLARE
	dims int;
	pairs bigint;
	kernel text;
	op text;
	query text;
	baseline numeric;
	r record;
BEGIN
	FOREACH dims IN ARRAY ARRAY[128, 1024] LOOP
		-- %1$s is the expression summed over all pairs
		query := format('WITH v AS MATERIALIZED (SELECT (e::real[])::embedding AS e FROM %I) '
			'SELECT sum(%%1$s) FROM v AS a CROSS JOIN v AS b', 'bench_operators_' || dims);
		EXECUTE format('SELECT count(*) ^ 2 FROM %I', 'bench_operators_' || dims) INTO pairs;

		SELECT * INTO r FROM bench.time_query(format(query, 'recs_dims(a.e)'));
		baseline := r.median_ms;
		INSERT INTO operators_result VALUES (dims, '-', 'baseline: recs_dims(a.e)', r.median_ms, NULL);

		FOREACH kernel IN ARRAY ARRAY['portable', 'avx2', 'avx512'] LOOP
			BEGIN
				PERFORM set_config('recs.vector_kernels', kernel, false);
			EXCEPTION WHEN feature_not_supported THEN
				INSERT INTO operators_result VALUES (dims, kernel, '(not supported by this CPU)', NULL, NULL);
				CONTINUE;
			END;
			FOREACH op IN ARRAY ARRAY['<->', '<#>', '<=>'] LOOP
				SELECT * INTO r FROM bench.time_query(format(query, 'a.e ' || op || ' b.e'));
				INSERT INTO operators_result VALUES (dims, kernel, op, r.median_ms,
					round((r.median_ms - baseline) * 1000000 / pairs, 1));
			END LOOP;
		END LOOP;
		PERFORM set_config('recs.vector_kernels', 'auto', false);
	END LOOP;
END
$$;

SELECT dims, kernels, op, median_ms, ns_per_pair FROM operators_result;

DROP TABLE bench_operators_128, bench_operators_1024;
