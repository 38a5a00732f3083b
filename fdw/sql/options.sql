--
-- options: every option of servers, user mappings, foreign tables and
-- columns, and its errors.  Secrets never appear in messages.
--
\set VERBOSITY default

-- unknown options, with a "did you mean" hint when one is close
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (hots 'localhost');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (server_selection_timeout '10');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (nonsense 'x');
ALTER FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (ADD host 'x');

-- options on the wrong kind of object
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (password 'secret');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (collection 'c');
CREATE USER MAPPING FOR public SERVER mongo OPTIONS (host 'x');

-- values
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (port '0');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (port '70000');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (port 'x27017');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (server_selection_timeout_ms '-5');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (connect_timeout_ms '0');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (socket_timeout_ms 'soon');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (tls 'maybe');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (tls_allow_invalid_certificates 'yes please');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (auth_mechanism 'MONGODB-CR');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (host '');

-- uri: parsed, never with credentials (and never echoed)
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (uri 'mongodb://alice:s3cret@localhost/');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (uri 'http://localhost/');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (uri 'mongodb://localhost', host 'localhost');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (uri 'mongodb://localhost', port '27017');
CREATE SERVER bad1 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (uri 'mongodb://localhost', replica_set 'rs0');

-- every valid server option
CREATE SERVER good1 FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (host 'db.example.com', port '27018', replica_set 'rs0', database 'app',
           auth_source 'admin', auth_mechanism 'SCRAM-SHA-256',
           server_selection_timeout_ms '1500', connect_timeout_ms '1000',
           socket_timeout_ms '60000', tls 'true', tls_allow_invalid_certificates 'false',
           tls_allow_invalid_hostnames 'false');
CREATE SERVER good2 FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (uri 'mongodb://a.example.com:27017,b.example.com:27017/app?replicaSet=rs0');
ALTER SERVER good1 OPTIONS (SET port '27019', DROP replica_set);
ALTER SERVER good2 OPTIONS (ADD host 'x');

-- user mappings: username and password only; password needs username
CREATE USER MAPPING FOR public SERVER good1 OPTIONS (password 'hunter2');
CREATE USER MAPPING FOR public SERVER good1 OPTIONS (user 'alice');
CREATE USER MAPPING FOR public SERVER good1 OPTIONS (username 'alice', password 'hunter2');

-- a non-superuser sees neither the password nor anyone else's mapping
CREATE ROLE regress_mongo_user;
GRANT USAGE ON FOREIGN DATA WRAPPER recs_mongo_fdw TO regress_mongo_user;
GRANT USAGE ON FOREIGN SERVER good1 TO regress_mongo_user;
SET ROLE regress_mongo_user;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'good1';
-- nor may it point the server at files
CREATE SERVER bad2 FOREIGN DATA WRAPPER recs_mongo_fdw OPTIONS (tls_ca_file '/etc/ssl/ca.pem');
RESET ROLE;
CREATE SERVER good3 FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (tls 'true', tls_ca_file '/etc/ssl/ca.pem', tls_certificate_key_file '/etc/ssl/client.pem');

-- foreign tables
CREATE FOREIGN TABLE bad_t (a int) SERVER mongo OPTIONS (colection 'x');
CREATE FOREIGN TABLE bad_t (a int) SERVER mongo OPTIONS (batch_size '0');
CREATE FOREIGN TABLE bad_t (a int) SERVER mongo OPTIONS (batch_size 'many');
CREATE FOREIGN TABLE bad_t (a int) SERVER mongo OPTIONS (username 'alice');
CREATE FOREIGN TABLE good_t (a int) SERVER mongo
  OPTIONS (database 'other', collection 'things', batch_size '500');
ALTER FOREIGN TABLE good_t OPTIONS (SET batch_size '50');

-- columns
CREATE FOREIGN TABLE bad_t (a int OPTIONS (feild 'x')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a int OPTIONS (field '')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a int OPTIONS (field 'a..b')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a int OPTIONS (field '$where')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a int OPTIONS (field 'a.$b')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a int OPTIONS (on_mismatch 'ignore')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a jsonb OPTIONS (whole_document 'sure')) SERVER mongo;
CREATE FOREIGN TABLE bad_t (a jsonb OPTIONS (whole_document 'true', field 'a')) SERVER mongo;
CREATE FOREIGN TABLE good_c (
  a int OPTIONS (field 'event.item_id', on_mismatch 'null'),
  b jsonb OPTIONS (whole_document 'true'),
  c text OPTIONS (on_mismatch 'error')
) SERVER mongo;
ALTER FOREIGN TABLE good_c ALTER COLUMN a OPTIONS (SET field 'event.item');
ALTER FOREIGN TABLE good_c ALTER COLUMN c OPTIONS (ADD fild 'x');

-- checked when the table is used: a whole-document column must be jsonb,
-- and a column name is a field path too
CREATE FOREIGN TABLE bad_doc (d text OPTIONS (whole_document 'true')) SERVER mongo OPTIONS (collection 'people');
SELECT * FROM bad_doc;
CREATE FOREIGN TABLE bad_name ("$weird" int) SERVER mongo OPTIONS (collection 'people');
SELECT * FROM bad_name;

-- the cached connection follows changes to its server and user mapping
SELECT count(*) > 0 AS connected FROM mongo_profile;
SELECT server_name, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
ALTER SERVER mongo OPTIONS (SET socket_timeout_ms '30000');
SELECT server_name, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
SELECT count(*) > 0 AS connected FROM mongo_profile;
SELECT server_name, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
ALTER USER MAPPING FOR CURRENT_USER SERVER mongo OPTIONS (ADD username 'nobody');
SELECT server_name, valid FROM recs_mongo_fdw_get_connections() WHERE server_name = 'mongo';
ALTER USER MAPPING FOR CURRENT_USER SERVER mongo OPTIONS (DROP username);
SELECT count(*) > 0 AS connected FROM mongo_profile;
SELECT recs_mongo_fdw_disconnect_all();
SELECT count(*) FROM recs_mongo_fdw_get_connections();
SELECT recs_mongo_fdw_disconnect_all();

DROP FOREIGN TABLE good_t, good_c, bad_doc, bad_name;
DROP USER MAPPING FOR public SERVER good1;
REVOKE USAGE ON FOREIGN SERVER good1 FROM regress_mongo_user;
REVOKE USAGE ON FOREIGN DATA WRAPPER recs_mongo_fdw FROM regress_mongo_user;
DROP ROLE regress_mongo_user;
DROP SERVER good1, good2, good3;
