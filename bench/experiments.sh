#!/usr/bin/env bash
# bench/experiments.sh: what serving through an experiment costs.
#
# recs_topk(u, 10, experiment => 'e') routes the user to a variant (in C,
# from a per-backend cache of the experiment) and records an exposure.  With
# recs in shared_preload_libraries (bench/run preloads it, with the worker in
# recs_bench) the exposure goes to a shared-memory queue that the worker
# writes; in another database the same call inserts it synchronously.
#
# Prints, with pgbench (2 clients, prepared, $RECS_BENCH_SECONDS s, default
# 20, median of 3 runs), for random users:
#   - recs_topk(u, 10, model), half the users on each of the two models the
#     experiment's variants serve (the baseline: the same work without the
#     experiment);
#   - recs_topk(u, 10, experiment => 'e'), exposures queued;
#   - the same in a database the worker does not serve: exposures inserted
#     synchronously (note: bench/run's cluster runs with fsync = off, which
#     flatters the synchronous path);
# all with recs.local_cache_size = 0 (every call computes its list), and the
# issue's target: queued within 10% of the baseline's latency.
#
# Uses MovieLens 100K from ../shared/data when present, else a synthetic
# dataset of the same shape.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/../shared/data/ml-100k/u.data"
db=${RECS_BENCH_DB:-recs_bench}
sync_db=${db}_sync
seconds=${RECS_BENCH_SECONDS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

psql_q() {
	psql -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"
}

# The worker starts with the server, before bench/run creates $db, and
# comes back every RECS_WORKER_RESTART_SECONDS until it can connect.
for _ in $(seq 1 90); do
	[ "$(psql_q -d "$db" -Atc 'SELECT enabled FROM recs_exposure_queue_stats()')" = t ] && break
	sleep 1
done
if [ "$(psql_q -d "$db" -Atc 'SELECT enabled FROM recs_exposure_queue_stats()')" != t ]; then
	echo "skipped: exposures are not queued in $db (needs shared_preload_libraries = 'recs' and recs.worker_database = '$db')"
	exit 0
fi

psql_q -c "DROP DATABASE IF EXISTS $sync_db" -c "CREATE DATABASE $sync_db" 2>/dev/null
psql_q -d "$sync_db" -c 'CREATE EXTENSION recs'

setup() {
	local target=$1
	psql_q -d "$target" <<SQL
DROP TABLE IF EXISTS ex_events;
CREATE TABLE ex_events (user_id int, item_id int, rating real, ts bigint);
SQL
	if [ -f "$data" ]; then
		psql_q -d "$target" -c "\\copy ex_events FROM '$data'"
	else
		psql_q -d "$target" -c "INSERT INTO ex_events SELECT u, 1 + ((u * 37 + i * i * 13) % 1682), 1, 0 FROM generate_series(1, 943) u, generate_series(1, 106) i"
	fi
	psql_q -d "$target" <<'SQL'
SET recs.validate_on_train = off;
SELECT recs_drop_model(name) FROM recs.models WHERE name IN ('ex_pop', 'ex_knn');
SELECT recs_create_model('ex_pop', 'popular', 'ex_events');
SELECT recs_create_model('ex_knn', 'item_knn', 'ex_events');
SELECT recs_train('ex_pop'), recs_train('ex_knn');
SELECT recs_drop_experiment(name) FROM recs.experiments WHERE name = 'ex';
SELECT recs_create_experiment('ex', '{"control": {"model": "ex_pop", "weight": 50},
	"treatment": {"model": "ex_knn", "weight": 50}}');
SQL
}
setup "$db" >/dev/null
setup "$sync_db" >/dev/null

# half the users on each model, as the experiment's 50/50 split, chosen in
# pgbench itself so that the baseline does nothing but serve
cat >"$tmp/baseline.sql" <<'EOF2'
\set u random(1, 943)
\if :u % 2 = 0
SELECT * FROM recs_topk(:u, 10, 'ex_pop');
\else
SELECT * FROM recs_topk(:u, 10, 'ex_knn');
\endif
EOF2
cat >"$tmp/experiment.sql" <<'EOF2'
\set u random(1, 943)
SELECT * FROM recs_topk(:u, 10, experiment => 'ex');
EOF2

# run DB SCRIPT: pgbench for $seconds s; prints "tps p50_ms"
run_pgbench() {
	local target=$1 script=$2 dir
	dir=$(mktemp -d "$tmp/run.XXXXXX")
	(cd "$dir" && PGOPTIONS='-c recs.local_cache_size=0' \
		pgbench -n -M prepared -c 2 -j 2 -T "$seconds" -l -f "$script" "$target" >"$dir/out" 2>&1) ||
		{ cat "$dir/out" >&2; return 1; }
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$dir/out" | head -n 1)
	cat "$dir"/pgbench_log.* | awk '{ print $3 }' | sort -n |
		awk -v tps="$tps" '{ v[NR] = $1 } END {
			p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1];
			printf "%s %.4f\n", tps, p50 / 1000 }'
}

declare -A tps p50

echo "serving through an experiment (pgbench: 2 clients, -M prepared, ${seconds} s per run, recs.local_cache_size = 0):"
for i in 1 2 3; do
	read -r t l < <(run_pgbench "$db" "$tmp/baseline.sql");   tps[base$i]=$t; p50[base$i]=$l
	read -r t l < <(run_pgbench "$db" "$tmp/experiment.sql"); tps[queued$i]=$t; p50[queued$i]=$l
	read -r t l < <(run_pgbench "$sync_db" "$tmp/experiment.sql"); tps[sync$i]=$t; p50[sync$i]=$l
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
base_p50=$(median "${p50[base1]}" "${p50[base2]}" "${p50[base3]}")
queued_p50=$(median "${p50[queued1]}" "${p50[queued2]}" "${p50[queued3]}")
sync_p50=$(median "${p50[sync1]}" "${p50[sync2]}" "${p50[sync3]}")
base_tps=$(median "${tps[base1]}" "${tps[base2]}" "${tps[base3]}")
queued_tps=$(median "${tps[queued1]}" "${tps[queued2]}" "${tps[queued3]}")
sync_tps=$(median "${tps[sync1]}" "${tps[sync2]}" "${tps[sync3]}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '  %-46s %10s %10s %12s\n' setup tps p50_ms "p50 vs base"
printf '  %-46s %10.0f %10.4f %12s\n' "recs_topk(u, 10, model), 50/50 models" "$base_tps" "$base_p50" 1.000
printf '  %-46s %10.0f %10.4f %12s\n' "recs_topk(u, 10, experiment => 'ex'), queued" "$queued_tps" "$queued_p50" "$(ratio "$queued_p50" "$base_p50")"
printf '  %-46s %10.0f %10.4f %12s\n' "the same, inserted synchronously" "$sync_tps" "$sync_p50" "$(ratio "$sync_p50" "$base_p50")"
echo "  (medians of 3 interleaved runs; per-run p50s: base ${p50[base1]} ${p50[base2]} ${p50[base3]}," \
	"queued ${p50[queued1]} ${p50[queued2]} ${p50[queued3]}, sync ${p50[sync1]} ${p50[sync2]} ${p50[sync3]})"

sleep 1
psql_q -d "$db" -c "SELECT pending, queued, written, direct FROM recs_exposure_queue_stats()"
echo "exposures in recs.exposures: $(psql_q -d "$db" -Atc "SELECT count(*) FROM recs.exposures WHERE experiment = 'ex'")"

within=$(awk -v a="$queued_p50" -v b="$base_p50" 'BEGIN { print (a <= 1.10 * b) ? "met" : "NOT met" }')
echo
echo "target: serving through an experiment within 10% of serving without: p50 $(ratio "$queued_p50" "$base_p50")x -> $within"
