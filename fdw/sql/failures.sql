--
-- failures: what happens when the server is unreachable, refuses the
-- credentials, lacks the collection, fails a command, drops the connection
-- in the middle of a scan, or when statement_timeout cancels a long scan.
-- Each is an error of the FDW class (HV...) raised within the configured
-- timeout, and leaves no cursor or connection reference behind.
--
-- This test needs the project's test server (test/mongo/server.py): it
-- closes the connection on a getMore of collection "hangup", sleeps before
-- each getMore of collections "slow" (200 ms) and "stall" (30 s), fails
-- finds on "error*" collections and checks credentials against the user
-- recs_test.
--
\getenv mongo_uri RECS_TEST_MONGO_URI

-- nothing listens on port 1: an error within server_selection_timeout_ms
CREATE SERVER dead FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (host '127.0.0.1', port '1', server_selection_timeout_ms '1500',
           connect_timeout_ms '1000');
CREATE USER MAPPING FOR CURRENT_USER SERVER dead;
CREATE FOREIGN TABLE dead_t (_id int) SERVER dead OPTIONS (collection 'people');
SELECT * FROM dead_t;
\echo :LAST_ERROR_SQLSTATE
DO $$
DECLARE
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM * FROM dead_t;
EXCEPTION WHEN fdw_unable_to_establish_connection THEN
  RAISE NOTICE 'failed within 3 s: %', clock_timestamp() - started < interval '3 s';
END
$$;
-- (libmongoc waits a few seconds before trying a failed server again, so
-- the detail of the next errors depends on timing: only their messages)
\set VERBOSITY terse
INSERT INTO dead_t VALUES (1);
\echo :LAST_ERROR_SQLSTATE
IMPORT FOREIGN SCHEMA recs_fdw_test FROM SERVER dead INTO public;
\set VERBOSITY default

-- authentication: a wrong password is refused (and never printed); the
-- right one, set on the mapping, is used by the next query
CREATE SERVER mongo_auth FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (uri :'mongo_uri', database 'recs_fdw_test', server_selection_timeout_ms '3000');
CREATE USER MAPPING FOR CURRENT_USER SERVER mongo_auth
  OPTIONS (username 'recs_test', password 'wrong-password');
CREATE FOREIGN TABLE auth_t (_id int, name text) SERVER mongo_auth OPTIONS (collection 'people');
SELECT name FROM auth_t WHERE _id = 1;
\echo :LAST_ERROR_SQLSTATE
ALTER USER MAPPING FOR CURRENT_USER SERVER mongo_auth OPTIONS (SET username 'nobody');
SELECT name FROM auth_t WHERE _id = 1;
ALTER USER MAPPING FOR CURRENT_USER SERVER mongo_auth
  OPTIONS (SET username 'recs_test', SET password 'recs_secret');
SELECT name FROM auth_t WHERE _id = 1;
ALTER USER MAPPING FOR CURRENT_USER SERVER mongo_auth
  OPTIONS (ADD auth_mechanism 'SCRAM-SHA-1');
ALTER SERVER mongo_auth OPTIONS (ADD auth_mechanism 'SCRAM-SHA-1');
SELECT name FROM auth_t WHERE _id = 2;
SELECT server_name, user_name = current_user AS own_mapping, valid, in_use
FROM recs_mongo_fdw_get_connections() ORDER BY server_name;

-- a collection or database that does not exist
CREATE FOREIGN TABLE nowhere (_id int) SERVER mongo OPTIONS (collection 'no_such_collection');
SELECT * FROM nowhere;
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN TABLE nowhere_db (_id int) SERVER mongo
  OPTIONS (database 'no_such_database', collection 'people');
SELECT count(*) FROM nowhere_db;
-- but an existing collection with no match is just empty
SELECT * FROM mongo_profile WHERE op = 'no such op';

-- the server fails a command
CREATE FOREIGN TABLE error_t (_id int) SERVER mongo OPTIONS (collection 'error_injected');
SELECT * FROM error_t;
\echo :LAST_ERROR_SQLSTATE

-- the server drops the connection in the middle of a scan (after the first
-- batch); the next query reconnects
CREATE FOREIGN TABLE hangup (_id int, n int) SERVER mongo OPTIONS (batch_size '100');
SELECT count(*) FROM hangup;
\echo :LAST_ERROR_SQLSTATE
SELECT in_use FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
SELECT count(*) FROM hangup WHERE n <= 50;
SELECT name FROM auth_t WHERE _id = 3;

-- statement_timeout stops a long scan (a getMore takes 200 ms, 50 of them
-- would take 10 s) without waiting for the current batch
CREATE FOREIGN TABLE slow (_id int, n int) SERVER mongo OPTIONS (batch_size '100');
SET statement_timeout = '700ms';
SELECT count(*) FROM slow;
\echo :LAST_ERROR_SQLSTATE
SET statement_timeout = '500ms';
DO $$
DECLARE
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM count(*) FROM slow;
EXCEPTION WHEN query_canceled THEN
  RAISE NOTICE 'canceled within 1.5 s: %', clock_timestamp() - started < interval '1.5 s';
END
$$;
RESET statement_timeout;
SELECT in_use, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
SELECT count(*) FROM slow WHERE n <= 100;

-- a server that stops answering (a getMore of "stall" takes 30 s): the
-- cancel does not wait for the reply; the connection is dropped and the
-- next query makes a new one
CREATE FOREIGN TABLE stall (_id int, n int) SERVER mongo OPTIONS (batch_size '100');
SET statement_timeout = '500ms';
DO $$
DECLARE
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM count(*) FROM stall;
EXCEPTION WHEN query_canceled THEN
  RAISE NOTICE 'canceled within 1.5 s: %', clock_timestamp() - started < interval '1.5 s';
END
$$;
RESET statement_timeout;
SELECT in_use, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
SELECT count(*) FROM stall WHERE n <= 50;

-- an ERROR raised here mid-scan (not while waiting for the server) closes
-- the cursor on the server with killCursors
CREATE FOREIGN TABLE big_f (_id int, n int) SERVER mongo OPTIONS (collection 'big', batch_size '100');
SELECT count(*) AS kills1 FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'killcursors' \gset
SELECT sum(1 / (n - 150)) FROM big_f;
SELECT count(*) - :kills1 AS killed_cursors FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'killcursors';
-- and so does a subtransaction rolled back around an open cursor
BEGIN;
DECLARE c CURSOR FOR SELECT n FROM big_f;
FETCH 2 FROM c;
SAVEPOINT s;
FETCH 200 FROM c \g /dev/null
SELECT 1 / 0;
ROLLBACK TO s;
FETCH 1 FROM c;
SELECT in_use FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
COMMIT;
SELECT in_use FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';

DROP FOREIGN TABLE dead_t, auth_t;
DROP USER MAPPING FOR CURRENT_USER SERVER dead;
DROP USER MAPPING FOR CURRENT_USER SERVER mongo_auth;
DROP SERVER dead, mongo_auth;
