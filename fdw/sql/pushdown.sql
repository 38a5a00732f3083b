--
-- pushdown: which quals MongoDB evaluates, shown by EXPLAIN (VERBOSE) and
-- checked in the filters the server received; everything else is
-- evaluated locally with the same results.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE FOREIGN TABLE people (
  _id int,
  name text,
  age int,
  score double precision,
  active boolean,
  joined timestamptz,
  tags text[],
  city varchar(10) OPTIONS (field 'address.city'),
  zip text OPTIONS (field 'address.zip'),
  score4 real OPTIONS (field 'score'),
  scoren numeric OPTIONS (field 'score')
) SERVER mongo OPTIONS (collection 'people');

-- comparisons on each family of types
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM people WHERE age = 26;
SELECT name FROM people WHERE age = 26;
SELECT filter, projection FROM last_find('people');
SELECT name FROM people WHERE age <> 26 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age < 26 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age <= 26 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age > 40 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age >= 41 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE 30 > age ORDER BY _id;          -- commuted
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age = 26::bigint;               -- cross-type
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age < 5000000000 AND age > 40::smallint ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE score >= 8.0 ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE name = 'bob';
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE name <> 'bob' ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE city = 'nice' ORDER BY _id;     -- varchar, dot path
SELECT filter FROM last_find('people');
SELECT _id FROM people WHERE name = '65a00000000000000000000b';  -- an ObjectId's hex
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE active ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE NOT active ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE active = false ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE joined >= '2023-09-01' ORDER BY _id;
SELECT filter FROM last_find('people');
-- MongoDB dates have milliseconds: microseconds are rounded the right way
SELECT name FROM people WHERE joined <= '2023-02-15 08:00:00.0005+00' ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE joined = '2023-02-15 08:00:00.0005+00';
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE joined > '2023-10-15 08:00:00.0005+00';
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE joined < 'infinity' AND joined > '-infinity' AND _id = 1;
SELECT filter FROM last_find('people');

-- IN, = ANY, NOT IN, <> ALL
SELECT name FROM people WHERE age IN (20, 23, 99) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age IN (20, NULL) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age NOT IN (20, 23, 26, 29, 35, 38) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age NOT IN (20, NULL);
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE name = ANY (ARRAY['ada', 'cy']) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age = ANY ('{}'::int[]);
SELECT filter FROM last_find('people');
SELECT count(*) FROM people WHERE age <> ALL ('{}'::int[]);
SELECT filter FROM last_find('people');

-- IS [NOT] NULL: a missing field and an explicit null are both NULL
SELECT name FROM people WHERE age IS NULL;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE score IS NULL;
SELECT count(*) FROM people WHERE score IS NOT NULL;
SELECT filter FROM last_find('people');

-- AND, OR, NOT, with SQL's three-valued logic: NOT (age > 30) is not true
-- where age is NULL (eve), so the filter excludes missing and null ages
SELECT name FROM people WHERE age > 30 AND active ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE age < 23 OR name = 'jo' ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE NOT (age > 30) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE NOT (age > 30 OR name = 'bob') ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE NOT (age IN (20, 23) AND active) ORDER BY _id;
SELECT filter FROM last_find('people');
SELECT name FROM people WHERE NOT (age IS NULL) AND NOT (city <> 'lyon') ORDER BY _id;
SELECT filter FROM last_find('people');

-- parameters: PREPARE with a generic plan shows placeholders, the server
-- gets the values
SET plan_cache_mode = force_generic_plan;
PREPARE older(int, text[]) AS
  SELECT name FROM people WHERE age > $1 AND name <> ALL ($2) ORDER BY _id;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE older(35, '{gus}');
EXECUTE older(35, '{gus}');
SELECT filter FROM last_find('people');
EXECUTE older(NULL, '{}');
SELECT filter FROM last_find('people');
DEALLOCATE older;
RESET plan_cache_mode;
-- a correlated subquery passes values at run time
SELECT i, (SELECT name FROM people WHERE age = i) FROM unnest(ARRAY[23, 41, 50]) i;
SELECT filter FROM last_find('people');

-- evaluated locally, with the same results as a local table
CREATE TABLE people_local AS
  SELECT _id, name, age, score, active, joined, tags, city, zip, score4, scoren FROM people;
CREATE FUNCTION same(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  remote text;
  local text;
BEGIN
  EXECUTE format('SELECT string_agg(_id::text, '','' ORDER BY _id) FROM people WHERE %s', q)
    INTO remote;
  EXECUTE format('SELECT string_agg(_id::text, '','' ORDER BY _id) FROM people_local WHERE %s', q)
    INTO local;
  RETURN remote IS NOT DISTINCT FROM local;
END
$$;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE name < 'c';
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE lower(name) = 'bob' AND age > 20;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE score4 > 4;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE scoren > 4;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE 'all' = ANY (tags);
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE age = _id * 10;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE age > 20 OR lower(name) = 'eve';
CREATE FUNCTION int_eq(int, int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
  AS 'BEGIN RETURN $1 = $2; END';
CREATE OPERATOR public.= (LEFTARG = int, RIGHTARG = int, FUNCTION = int_eq);
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM people WHERE age OPERATOR(public.=) 23;
SELECT q, same(q) FROM unnest(ARRAY[
  'name < ''c''', 'lower(name) = ''bob'' AND age > 20', 'score4 > 4', 'scoren > 4',
  '''all'' = ANY (tags)', 'age = _id * 10 - 7', 'age > 20 OR lower(name) = ''eve''',
  'age OPERATOR(public.=) 23', 'age <> 26', 'NOT (age > 30)', 'NOT (age IN (20, 23) AND active)',
  'age NOT IN (20, NULL)', 'score IS NULL', 'NOT (score IS NOT NULL OR age > 40)',
  'joined <= ''2023-02-15 08:00:00.0005+00''', 'NOT (joined > ''2023-05-01'')',
  'city = ''lyon'' OR zip = ''75002''', 'NOT active OR age IS NULL']) q;

-- columns reading mismatches as NULL: pushed down and checked again here
CREATE FOREIGN TABLE mismatch_p (_id text OPTIONS (on_mismatch 'null'),
  n integer OPTIONS (on_mismatch 'null')) SERVER mongo OPTIONS (collection 'mismatch');
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM mismatch_p WHERE n > 3;
SELECT _id, n FROM mismatch_p WHERE n > 3;
EXPLAIN (VERBOSE, COSTS OFF) SELECT _id FROM mismatch_p WHERE n IS NULL;
SELECT _id, n FROM mismatch_p WHERE n IS NULL ORDER BY _id;
SELECT _id, n FROM mismatch_p WHERE n <> 5 ORDER BY _id;

-- LIMIT goes to MongoDB when every qual did and nothing sits in between
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM people WHERE age > 20 LIMIT 2;
SELECT name FROM people WHERE age > 20 LIMIT 2;
SELECT lim FROM last_find('people');
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM people LIMIT 2 OFFSET 3;
SELECT name FROM people LIMIT 2 OFFSET 3;
SELECT lim FROM last_find('people');
SELECT name FROM people LIMIT 0;
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM people WHERE lower(name) > 'b' LIMIT 2;
SELECT name FROM people WHERE lower(name) > 'b' LIMIT 2;
SELECT lim FROM last_find('people');
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM people ORDER BY age LIMIT 2;
EXPLAIN (VERBOSE, COSTS OFF) SELECT DISTINCT city FROM people LIMIT 2;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM people LIMIT 2;
EXPLAIN (VERBOSE, COSTS OFF) SELECT p.name FROM people p JOIN people_local l USING (_id) LIMIT 2;
SET plan_cache_mode = force_generic_plan;
PREPARE firsts(bigint) AS SELECT name FROM people LIMIT $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE firsts(3);
EXECUTE firsts(3);
SELECT lim FROM last_find('people');
DEALLOCATE firsts;
RESET plan_cache_mode;

-- EXPLAIN ANALYZE shows what was sent
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT name FROM people WHERE age BETWEEN 25 AND 30;
