-- recs install script, assembled by the Makefile from one piece per
-- subsystem: this file first, then one .sql file per area under src/.
--
-- User-facing functions, types and operators are created in the schema the
-- extension is installed into (public by default), so that recs_* calls
-- work unqualified with the default search_path.  Internal tables live in
-- the schema "recs", created here and owned by the extension.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION recs" to load this file. \quit

CREATE SCHEMA recs;
COMMENT ON SCHEMA recs IS 'internal tables of the recs extension (models, versions, logs)';
