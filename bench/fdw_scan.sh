#!/usr/bin/env bash
# bench/fdw_scan.sh: recs_mongo_fdw on a large collection.
#
# Starts the MongoDB wire-protocol test server (test/mongo/server.py) and has
# it generate $RECS_BENCH_FDW_DOCS synthetic interaction documents (default
# 1,000,000: {_id, user_id, item_id, weight, ts}), produced on the fly by the
# server rather than stored.  Then prints, in one backend:
#   - scan throughput (documents/s, median of 3) reading 2 and 5 fields,
#     beside a local heap table holding the same rows;
#   - the test server's own delivery rate to a raw-BSON pymongo client (no
#     decoding), the ceiling any client can reach here;
#   - the backend's peak resident memory (VmHWM) before and after the large
#     scans, and its palloc'd memory afterwards: the scan streams batches of
#     batch_size documents, so the growth must stay at a few MB;
#   - recs_train of the "popular" model from the foreign table and from the
#     local table.
set -euo pipefail

RECS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECS_SCRIPT=bench/fdw_scan.sh
# shellcheck source=scripts/lib/common.sh
. "$RECS_ROOT/scripts/lib/common.sh"

db=${RECS_BENCH_DB:-recs_bench}
docs=${RECS_BENCH_FDW_DOCS:-1000000}

psql_q() {
	psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d "$db" "$@"
}

recs_start_mongo

echo "test server: $docs generated documents in recs_bench.interactions"
"$RECS_PYTHON" - "$RECS_TEST_MONGO_URI" "$docs" <<'PY'
import sys

import pymongo

db = pymongo.MongoClient(sys.argv[1]).recs_bench
db.command('recsTestGenerate', 'interactions', n=int(sys.argv[2]))
db.command('recsTestGenerate', 'warmup', n=1000)
PY

psql_q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS recs_mongo_fdw;
DROP SERVER IF EXISTS bench_mongo CASCADE;
CREATE SERVER bench_mongo FOREIGN DATA WRAPPER recs_mongo_fdw
  OPTIONS (uri '$RECS_TEST_MONGO_URI', database 'recs_bench');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_mongo;
CREATE FOREIGN TABLE fdw_interactions (_id bigint, user_id bigint, item_id bigint,
  weight double precision, ts timestamptz)
  SERVER bench_mongo OPTIONS (collection 'interactions', batch_size '1000');
CREATE FOREIGN TABLE fdw_warmup (_id bigint, user_id bigint, item_id bigint)
  SERVER bench_mongo OPTIONS (collection 'warmup');
SQL

psql_q <<'SQL'
\pset footer off
-- one backend throughout: its memory is what is measured
CREATE TEMP TABLE mem (at text, vm_hwm_kb bigint, vm_rss_kb bigint, palloc_kb bigint);
CREATE FUNCTION pg_temp.snapshot(at text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO mem
  SELECT at,
         substring(s FROM 'VmHWM:\s+(\d+)')::bigint,
         substring(s FROM 'VmRSS:\s+(\d+)')::bigint,
         (SELECT sum(total_bytes) / 1024 FROM pg_backend_memory_contexts)
  FROM pg_read_file('/proc/self/status') s
$$;
CREATE FUNCTION pg_temp.cpu_s() RETURNS float8 LANGUAGE sql AS $$
  -- utime + stime of this backend, in clock ticks of 1/100 s
  SELECT (f[12]::bigint + f[13]::bigint) / 100.0
  FROM (SELECT string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') f) s
$$;
SELECT count(*) FROM fdw_warmup \g /dev/null
SELECT pg_temp.snapshot('after connecting (1,000 documents read)') \g /dev/null

CREATE TEMP TABLE runs (what text, seconds float8, cpu_seconds float8, docs bigint);
DO $$
DECLARE
  started timestamptz;
  cpu float8;
  n bigint;
  s1 numeric;
  s2 numeric;
  s3 float8;
  t timestamptz;
BEGIN
  FOR i IN 1 .. 3 LOOP
    started := clock_timestamp();
    cpu := pg_temp.cpu_s();
    SELECT count(*), sum(user_id), sum(item_id) INTO n, s1, s2 FROM fdw_interactions;
    INSERT INTO runs VALUES ('foreign table, 2 fields',
      extract(epoch FROM clock_timestamp() - started), pg_temp.cpu_s() - cpu, n);
    started := clock_timestamp();
    cpu := pg_temp.cpu_s();
    SELECT count(_id), sum(user_id), sum(item_id), sum(weight), max(ts)
      INTO n, s1, s2, s3, t FROM fdw_interactions;
    INSERT INTO runs VALUES ('foreign table, 5 fields',
      extract(epoch FROM clock_timestamp() - started), pg_temp.cpu_s() - cpu, n);
  END LOOP;
END
$$;
SELECT pg_temp.snapshot('after 6 scans of the whole collection') \g /dev/null

CREATE TEMP TABLE local_interactions AS SELECT * FROM fdw_interactions;
DO $$
DECLARE
  started timestamptz;
  cpu float8;
  n bigint;
  s1 numeric;
  s2 numeric;
BEGIN
  PERFORM count(*) FROM local_interactions;
  FOR i IN 1 .. 3 LOOP
    started := clock_timestamp();
    cpu := pg_temp.cpu_s();
    SELECT count(*), sum(user_id), sum(item_id) INTO n, s1, s2 FROM local_interactions;
    INSERT INTO runs VALUES ('local heap table, 2 columns',
      extract(epoch FROM clock_timestamp() - started), pg_temp.cpu_s() - cpu, n);
  END LOOP;
END
$$;

\echo
\echo 'scan throughput (server side, median of 3):'
SELECT what, max(docs) AS documents,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric, 3) AS median_s,
       round(max(docs) / percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)) AS documents_per_s,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_seconds))::numeric, 2) AS backend_cpu_s,
       round(max(docs) / nullif(percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_seconds), 0))
         AS documents_per_backend_cpu_s
FROM runs GROUP BY what ORDER BY documents_per_s;

\echo 'backend memory (VmHWM: peak resident set; palloc: memory contexts):'
SELECT at, round(vm_hwm_kb / 1024.0, 1) AS vm_hwm_mb, round(vm_rss_kb / 1024.0, 1) AS vm_rss_mb,
       round(palloc_kb / 1024.0, 1) AS palloc_mb
FROM mem;
SELECT round((max(vm_hwm_kb) - min(vm_hwm_kb)) / 1024.0, 1) AS peak_growth_mb_during_scans,
       CASE WHEN max(vm_hwm_kb) - min(vm_hwm_kb) <= 8 * 1024
            THEN 'met (<= 8 MB)' ELSE 'NOT met (> 8 MB)' END AS bounded_memory_target
FROM mem;

\echo 'training the popular model (recs_train, server side):'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'recs') THEN
    RAISE NOTICE 'recs is not installed in this database: training skipped';
    RETURN;
  END IF;
  PERFORM recs_drop_model(name) FROM recs.models WHERE name IN ('bench_fdw_pop', 'bench_local_pop');
  CREATE TABLE IF NOT EXISTS bench_local_interactions AS SELECT * FROM fdw_interactions;
  PERFORM recs_create_model('bench_fdw_pop', 'popular', 'fdw_interactions');
  PERFORM recs_create_model('bench_local_pop', 'popular', 'bench_local_interactions');
END
$$;
CREATE TEMP TABLE train_times (source text, seconds float8);
DO $$
DECLARE
  started timestamptz;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'recs') THEN
    RETURN;
  END IF;
  started := clock_timestamp();
  PERFORM recs_train('bench_fdw_pop');
  INSERT INTO train_times VALUES ('foreign table', extract(epoch FROM clock_timestamp() - started));
  started := clock_timestamp();
  PERFORM recs_train('bench_local_pop');
  INSERT INTO train_times VALUES ('local table', extract(epoch FROM clock_timestamp() - started));
  PERFORM recs_drop_model('bench_fdw_pop');
  PERFORM recs_drop_model('bench_local_pop');
  DROP TABLE bench_local_interactions;
END
$$;
SELECT source, round(seconds::numeric, 3) AS seconds FROM train_times;
SQL

psql_q -c 'SET client_min_messages = warning' -c 'DROP SERVER bench_mongo CASCADE'
recs_stop_mongo
