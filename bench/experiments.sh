#!/usr/bin/env bash
# bench/experiments.sh: what serving through an experiment costs.
#
# recs_topk(u, 10, experiment => 'e') routes the user to a variant (in C,
# from a per-backend cache of the experiment) and records an exposure.  With
# recs in shared_preload_libraries (bench/run preloads it, with
# recs.worker_database = recs_bench) the exposure goes to a shared-memory
# queue that the recs exposure writer process writes; in another database
# the same call inserts it synchronously.
#
# The baseline serves the same two models without the experiment: half the
# users on each, chosen in pgbench itself.  Every call computes its list
# (recs.local_cache_size = 0) unless said otherwise.  Three measurements,
# each the median of 3 interleaved pgbench runs of $RECS_BENCH_SECONDS s
# (default 20), prepared:
#
#   1. latency: one client, with serving (the client and its backend) on
#      CPU 0 and the exposure writer on CPU 1 (taskset): what a request
#      costs when the machine is not saturated and the writer's background
#      work has a core; also with the default list cache (every list
#      cached after its first call).  The issue's target: within 10% of the
#      baseline's latency (mean latency = 1/tps with one client, and p50).
#      Needs 2 CPUs and taskset; skipped otherwise.
#   2. capacity: 2 clients on 2 CPUs, saturated, nothing pinned: the
#      writer's work now competes with serving for the CPU, so throughput
#      shows the whole cost of an exposure.  Also the writer's CPU time per
#      exposure (/proc/PID/stat).
#   3. the same load with exposures inserted synchronously (a database the
#      writer does not serve).  bench/run's cluster runs with fsync = off,
#      which flatters the synchronous path.
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

# half the users on each model, as the experiment's 50/50 split
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

# run DB SCRIPT CLIENTS [taskset cpu list [recs.local_cache_size]]: pgbench
# for $seconds s; prints "tps p50_ms p99_ms"
run_pgbench() {
	local target=$1 script=$2 clients=$3 cpus=${4:-} cache=${5:-0} dir pin=()
	dir=$(mktemp -d "$tmp/run.XXXXXX")
	[ -z "$cpus" ] || pin=(taskset -c "$cpus")
	(cd "$dir" && PGOPTIONS="-c recs.local_cache_size=$cache" "${pin[@]}" \
		pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" -l -f "$script" "$target" \
		>"$dir/out" 2>&1) || { cat "$dir/out" >&2; return 1; }
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$dir/out" | head -n 1)
	cat "$dir"/pgbench_log.* | awk '{ print $3 }' | sort -n |
		awk -v tps="$tps" '{ v[NR] = $1 } END {
			p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1];
			p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1];
			printf "%s %.4f %.4f\n", tps, p50 / 1000, p99 / 1000 }'
}

median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

writer_pid() {
	psql_q -d "$db" -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'recs exposure writer'"
}
# utime + stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
written() { psql_q -d "$db" -Atc 'SELECT written FROM recs_exposure_queue_stats()'; }

declare -A tps p50 p99

# --- 1. latency, serving on CPU 0 and the writer on CPU 1 -------------------
postmaster=$(head -n 1 "$(psql_q -Atc 'SHOW data_directory')/postmaster.pid")
pin_server() {	# CPU list for the postmaster and every process it has started
	local p
	for p in "$postmaster" $(pgrep -P "$postmaster"); do
		taskset -pc "$1" "$p" >/dev/null
	done
}
latency_met=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_server 0
	taskset -pc 1 "$(writer_pid)" >/dev/null
	for i in 1 2 3; do
		read -r t l q < <(run_pgbench "$db" "$tmp/baseline.sql" 1 0); tps[pbase$i]=$t; p50[pbase$i]=$l; p99[pbase$i]=$q
		read -r t l q < <(run_pgbench "$db" "$tmp/experiment.sql" 1 0); tps[pqueued$i]=$t; p50[pqueued$i]=$l; p99[pqueued$i]=$q
		read -r t l q < <(run_pgbench "$db" "$tmp/baseline.sql" 1 0 10000); tps[cbase$i]=$t; p50[cbase$i]=$l; p99[cbase$i]=$q
		read -r t l q < <(run_pgbench "$db" "$tmp/experiment.sql" 1 0 10000); tps[cqueued$i]=$t; p50[cqueued$i]=$l; p99[cqueued$i]=$q
	done
	pin_server "0-$(($(nproc) - 1))"
	for k in pbase pqueued cbase cqueued; do
		tps[$k]=$(median "${tps[${k}1]}" "${tps[${k}2]}" "${tps[${k}3]}")
		p50[$k]=$(median "${p50[${k}1]}" "${p50[${k}2]}" "${p50[${k}3]}")
		p99[$k]=$(median "${p99[${k}1]}" "${p99[${k}2]}" "${p99[${k}3]}")
	done
	echo "1. latency: 1 client, serving on CPU 0, the exposure writer on CPU 1 (${seconds} s per run, medians of 3 interleaved runs):"
	printf '  %-46s %9s %9s %9s %12s %12s\n' setup tps p50_ms p99_ms "p50 vs base" "tps vs base"
	printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "recs_topk(u, 10, model), 50/50 models" "${tps[pbase]}" "${p50[pbase]}" "${p99[pbase]}" 1.000 1.000
	printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "recs_topk(u, 10, experiment => 'ex'), queued" "${tps[pqueued]}" "${p50[pqueued]}" "${p99[pqueued]}" \
		"$(ratio "${p50[pqueued]}" "${p50[pbase]}")" "$(ratio "${tps[pqueued]}" "${tps[pbase]}")"
	printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "the baseline, lists cached (default cache)" "${tps[cbase]}" "${p50[cbase]}" "${p99[cbase]}" 1.000 1.000
	printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "through the experiment, lists cached" "${tps[cqueued]}" "${p50[cqueued]}" "${p99[cqueued]}" \
		"$(ratio "${p50[cqueued]}" "${p50[cbase]}")" "$(ratio "${tps[cqueued]}" "${tps[cbase]}")"
	echo "  (per-run p50s: base ${p50[pbase1]} ${p50[pbase2]} ${p50[pbase3]}, queued ${p50[pqueued1]} ${p50[pqueued2]} ${p50[pqueued3]};" \
		"tps: base ${tps[pbase1]} ${tps[pbase2]} ${tps[pbase3]}, queued ${tps[pqueued1]} ${tps[pqueued2]} ${tps[pqueued3]};" \
		"cached tps: base ${tps[cbase1]} ${tps[cbase2]} ${tps[cbase3]}, queued ${tps[cqueued1]} ${tps[cqueued2]} ${tps[cqueued3]})"
	echo "  (one client waits for each reply: 1/tps is the mean latency, finer than the p50s' microsecond steps)"
	# mean latencies (1/tps) of both pairs, computed and cached lists
	latency_met=$(awk -v a="${tps[pqueued]}" -v b="${tps[pbase]}" -v c="${tps[cqueued]}" -v d="${tps[cbase]}" \
		'BEGIN { print (b / a <= 1.10 && d / c <= 1.10) ? "met" : "NOT met" }')
	echo
else
	echo "1. latency: skipped (needs 2 CPUs and taskset)"
fi

# --- 2. capacity, and 3. synchronous inserts: 2 clients, saturated -----------
pid=$(writer_pid)
for i in 1 2 3; do
	read -r t l q < <(run_pgbench "$db" "$tmp/baseline.sql" 2); tps[base$i]=$t; p50[base$i]=$l; p99[base$i]=$q
	w0=$(written); c0=$(cpu_ticks "$pid")
	read -r t l q < <(run_pgbench "$db" "$tmp/experiment.sql" 2); tps[queued$i]=$t; p50[queued$i]=$l; p99[queued$i]=$q
	sleep 1
	w1=$(written); c1=$(cpu_ticks "$pid")
	per_exposure[$i]=$(awk -v c=$((c1 - c0)) -v n=$((w1 - w0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.2f", (n > 0 ? c / hz / n * 1e6 : 0) }')
	read -r t l q < <(run_pgbench "$sync_db" "$tmp/experiment.sql" 2); tps[sync$i]=$t; p50[sync$i]=$l; p99[sync$i]=$q
done
for k in base queued sync; do
	tps[$k]=$(median "${tps[${k}1]}" "${tps[${k}2]}" "${tps[${k}3]}")
	p50[$k]=$(median "${p50[${k}1]}" "${p50[${k}2]}" "${p50[${k}3]}")
	p99[$k]=$(median "${p99[${k}1]}" "${p99[${k}2]}" "${p99[${k}3]}")
done
writer_us=$(median "${per_exposure[1]}" "${per_exposure[2]}" "${per_exposure[3]}")

echo "2. capacity: 2 clients on 2 CPUs, saturated, nothing pinned, and 3. synchronous inserts (${seconds} s per run, medians of 3 interleaved runs):"
printf '  %-46s %9s %9s %9s %12s %12s\n' setup tps p50_ms p99_ms "p50 vs base" "tps vs base"
printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "recs_topk(u, 10, model), 50/50 models" "${tps[base]}" "${p50[base]}" "${p99[base]}" 1.000 1.000
printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "recs_topk(u, 10, experiment => 'ex'), queued" "${tps[queued]}" "${p50[queued]}" "${p99[queued]}" \
	"$(ratio "${p50[queued]}" "${p50[base]}")" "$(ratio "${tps[queued]}" "${tps[base]}")"
printf '  %-46s %9.0f %9.4f %9.4f %12s %12s\n' "the same, inserted synchronously" "${tps[sync]}" "${p50[sync]}" "${p99[sync]}" \
	"$(ratio "${p50[sync]}" "${p50[base]}")" "$(ratio "${tps[sync]}" "${tps[base]}")"
echo "  (per-run p50s: base ${p50[base1]} ${p50[base2]} ${p50[base3]}, queued ${p50[queued1]} ${p50[queued2]} ${p50[queued3]}, sync ${p50[sync1]} ${p50[sync2]} ${p50[sync3]})"
echo "  exposure writer: ${writer_us} us of CPU per exposure written (per run: ${per_exposure[1]} ${per_exposure[2]} ${per_exposure[3]})"

sleep 1
psql_q -d "$db" -c "SELECT pending, queued, written, direct FROM recs_exposure_queue_stats()"
echo "exposures in recs.exposures: $(psql_q -d "$db" -Atc "SELECT count(*) FROM recs.exposures WHERE experiment = 'ex'")"

echo
if [ -n "$latency_met" ]; then
	echo "target: serving through an experiment within 10% of serving without (latency, 1.): mean latency" \
		"$(ratio "${tps[pbase]}" "${tps[pqueued]}")x computed, $(ratio "${tps[cbase]}" "${tps[cqueued]}")x cached;" \
		"p50 $(ratio "${p50[pqueued]}" "${p50[pbase]}")x, $(ratio "${p50[cqueued]}" "${p50[cbase]}")x -> $latency_met"
else
	echo "target: serving through an experiment within 10% of serving without (latency, 1.): not measured"
fi
echo "saturated (2.): throughput $(ratio "${tps[queued]}" "${tps[base]}")x of the baseline, p50 $(ratio "${p50[queued]}" "${p50[base]}")x"
