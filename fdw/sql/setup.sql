--
-- setup: the server every other test uses, from the environment.
--
-- scripts/test starts the MongoDB wire-protocol test server (or uses
-- MONGO_URI), loads test/mongo/fixtures.py into the database recs_fdw_test
-- and exports its address as RECS_TEST_MONGO_URI; psql reads it here.
--
\getenv mongo_uri RECS_TEST_MONGO_URI
SELECT :'mongo_uri' ~ '^mongodb://[^@]+$' AS uri_is_set;

CREATE SERVER mongo FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (uri :'mongo_uri', database 'recs_fdw_test',
           server_selection_timeout_ms '5000', connect_timeout_ms '5000',
           socket_timeout_ms '20000');
CREATE USER MAPPING FOR CURRENT_USER SERVER mongo;

-- The profiler: every command the server received (op, ns, command), so
-- that tests can check what was pushed down.  Run against a real mongod,
-- the fixtures turn profiling on for recs_fdw_test.
CREATE FOREIGN TABLE mongo_profile (
  op text,
  ns text,
  filter jsonb OPTIONS (field 'command.filter'),
  projection jsonb OPTIONS (field 'command.projection'),
  lim bigint OPTIONS (field 'command.limit'),
  batch integer OPTIONS (field 'command.batchSize')
) SERVER mongo OPTIONS (collection 'system.profile');

-- The last find sent for a collection of recs_fdw_test.
CREATE FUNCTION last_find(coll text, OUT filter jsonb, OUT projection jsonb, OUT lim bigint)
LANGUAGE sql AS $$
  SELECT filter, projection, lim
  FROM (SELECT filter, projection, lim, row_number() OVER () AS n
        FROM mongo_profile
        WHERE op = 'query' AND ns = 'recs_fdw_test.' || coll) s
  ORDER BY n DESC LIMIT 1
$$;

-- Nothing is connected until the first query; then one cached connection.
SELECT count(*) FROM recs_mongo_fdw_get_connections();
SELECT count(*) >= 0 AS reachable FROM mongo_profile;
SELECT server_name, user_name = current_user AS own_mapping, valid, in_use
FROM recs_mongo_fdw_get_connections();
