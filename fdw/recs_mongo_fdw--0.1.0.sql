-- recs_mongo_fdw install script: a foreign data wrapper reading and writing
-- MongoDB collections through libmongoc, so that recs can train on
-- interaction logs kept in MongoDB without copying them first.
--
-- Every object is created in the extension's schema; the wrapper itself is
-- database-wide.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION recs_mongo_fdw" to load this file. \quit

CREATE FUNCTION recs_mongo_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;
COMMENT ON FUNCTION recs_mongo_fdw_handler() IS 'handler of the recs_mongo_fdw foreign data wrapper';

CREATE FUNCTION recs_mongo_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;
COMMENT ON FUNCTION recs_mongo_fdw_validator(text[], oid) IS 'checks the options of recs_mongo_fdw servers, user mappings, foreign tables and columns';

CREATE FOREIGN DATA WRAPPER recs_mongo_fdw
  HANDLER recs_mongo_fdw_handler
  VALIDATOR recs_mongo_fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER recs_mongo_fdw IS 'MongoDB collections as foreign tables (libmongoc)';

CREATE FUNCTION recs_mongo_fdw_get_connections(
    OUT server_name text, OUT user_name text, OUT valid boolean, OUT in_use integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_mongo_fdw_get_connections() IS 'the MongoDB connections this session keeps open, one per user mapping (user_name is public for a PUBLIC mapping, NULL without a mapping); valid is false once the server or mapping changed';

CREATE FUNCTION recs_mongo_fdw_disconnect_all()
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_mongo_fdw_disconnect_all() IS 'closes every cached MongoDB connection of this session that no scan is using; true if any was closed';
