--
-- analyze: ANALYZE uses MongoDB's document count and a $sample of the
-- collection, so the planner knows the collection's size and values.
--
CREATE FOREIGN TABLE big_a (_id int, n int, g int) SERVER mongo OPTIONS (collection 'big');
SELECT reltuples FROM pg_class WHERE oid = 'big_a'::regclass;
EXPLAIN SELECT * FROM big_a WHERE g = 3;
ANALYZE big_a;
SELECT reltuples FROM pg_class WHERE oid = 'big_a'::regclass;
SELECT attname, null_frac, n_distinct FROM pg_stats
WHERE tablename = 'big_a' ORDER BY attname;
-- the estimates follow
EXPLAIN SELECT * FROM big_a WHERE g = 3;
-- the sample was asked of the server
SELECT count(*) > 0 AS sampled FROM mongo_profile WHERE ns = 'recs_fdw_test.big' AND op = 'command';

-- nulls and missing fields count as NULL
CREATE FOREIGN TABLE people_a (_id int, age int, score float8, name text)
  SERVER mongo OPTIONS (collection 'people');
ANALYZE people_a;
SELECT attname, round(null_frac::numeric, 3) AS null_frac FROM pg_stats
WHERE tablename = 'people_a' ORDER BY attname;

-- a value that does not fit stops ANALYZE, unless it reads as NULL
-- ($sample picks documents at random: only the SQLSTATE is stable)
CREATE FOREIGN TABLE mismatch_a (_id text, n integer) SERVER mongo OPTIONS (collection 'mismatch');
\set VERBOSITY sqlstate
ANALYZE mismatch_a;
\set VERBOSITY default
ALTER FOREIGN TABLE mismatch_a ALTER COLUMN _id OPTIONS (ADD on_mismatch 'null'),
  ALTER COLUMN n OPTIONS (ADD on_mismatch 'null');
ANALYZE mismatch_a;
SELECT reltuples FROM pg_class WHERE oid = 'mismatch_a'::regclass;

-- a missing collection is an error, not an empty table
CREATE FOREIGN TABLE nowhere_a (_id int) SERVER mongo OPTIONS (collection 'no_such_collection');
ANALYZE nowhere_a;
-- database-wide ANALYZE goes through foreign tables too, quietly
ANALYZE big_a, people_a;
