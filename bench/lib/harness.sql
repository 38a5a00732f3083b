-- bench/lib/harness.sql: helpers shared by the benchmarks in bench/*.sql.
-- bench/run loads it once into the benchmark database before running them.
--
-- Timing is taken on the server with clock_timestamp() around each
-- execution of the query inside PL/pgSQL.  That leaves out the client round
-- trip (on this kind of machine single-client latency is dominated by
-- cross-CPU wake-ups) and, unlike EXPLAIN ANALYZE, adds no per-row
-- instrumentation to either side of a comparison.  The query is wrapped in
-- count(bench_q.*) so that every row it produces is computed but none is
-- sent; the whole-row reference matters: with a plain count(*) the planner
-- drops output columns nobody reads, and with them the work being timed.

CREATE SCHEMA bench;
COMMENT ON SCHEMA bench IS 'benchmark helpers (bench/lib/harness.sql)';

-- Run query warmup times untimed, then runs times timed; report the median,
-- fastest and slowest execution in milliseconds.
CREATE FUNCTION bench.time_query(query text, runs int DEFAULT 7, warmup int DEFAULT 1)
RETURNS TABLE (runs_done int, median_ms numeric, min_ms numeric, max_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
	started timestamptz;
	times float8[] := '{}';
	n bigint;
BEGIN
	FOR i IN 1 .. warmup + runs LOOP
		started := clock_timestamp();
		EXECUTE 'SELECT count(bench_q.*) FROM (' || query || ') AS bench_q' INTO n;
		IF i > warmup THEN
			times := times || 1000 * extract(epoch FROM clock_timestamp() - started)::float8;
		END IF;
	END LOOP;
	RETURN QUERY
		SELECT runs,
		       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t))::numeric, 2),
		       round(min(t)::numeric, 2),
		       round(max(t)::numeric, 2)
		FROM unnest(times) AS t;
END
$$;
COMMENT ON FUNCTION bench.time_query(text, int, int) IS
	'median, min and max server-side execution time of a query, in ms';

-- The ids a query returns (its column "id"), in the order it returns them.
CREATE FUNCTION bench.ids(query text) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
	result bigint[] := '{}';
	r record;
BEGIN
	FOR r IN EXECUTE query LOOP
		result := result || r.id::bigint;
	END LOOP;
	RETURN result;
END
$$;
COMMENT ON FUNCTION bench.ids(text) IS 'ids returned by a query, in order';

-- A deterministic pseudo-random vector of dims elements in [0, 1), as real[].
-- setseed() makes random() repeatable within the session; callers seed once.
CREATE FUNCTION bench.random_vector(dims int) RETURNS real[]
LANGUAGE sql VOLATILE AS $$
	SELECT array_agg(random()::real) FROM generate_series(1, dims)
$$;
COMMENT ON FUNCTION bench.random_vector(int) IS 'random real[] of the given length';
