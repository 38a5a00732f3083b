# scripts/lib/common.sh: helpers shared by scripts/test, scripts/demo and
# bench/run.  Source it from a bash script after setting RECS_ROOT (the
# repository root) and RECS_SCRIPT (the script's path relative to it, used
# to re-run it under sudo).
#
# What it provides:
#   recs_need_root "$@"    re-run the calling script as root (through sudo)
#   recs_install_deps      install the Debian packages the project needs
#   recs_build_install     build with -Werror and install into PostgreSQL 15
#   recs_start_pg [conf]   start a throw-away PostgreSQL 15 cluster, export PG*
#   recs_stop_pg           stop it and delete its directory
#   recs_start_redis       start a throw-away redis-server, export
#                          RECS_TEST_REDIS_URL
#   recs_stop_redis        stop it and delete its directory
#   recs_start_mongo       start the MongoDB wire-protocol test server
#                          (test/mongo/server.py), export RECS_TEST_MONGO_URI
#                          and RECS_TEST_MONGO_PORT
#   recs_stop_mongo        stop it and delete its directory
#   recs_mktemp_dir VAR NAME   a temporary directory removed at exit
#
# Every service started here is stopped by an EXIT trap, so a script that
# fails, is interrupted with Ctrl-C or simply ends leaves nothing running.
# Processes are stopped by the pid they were started with, never by name.
#
# PostgreSQL refuses to run as root, so servers run as the `postgres` user
# that the Debian packages create; the scripts themselves run as root (they
# install packages and write into PostgreSQL's installation directories).

# shellcheck shell=bash
set -euo pipefail

if [ -z "${RECS_ROOT:-}" ]; then
	echo "common.sh: set RECS_ROOT before sourcing this file" >&2
	exit 2
fi

# Other PostgreSQL versions may be installed: always use 15's tools, for
# the build (PG_CONFIG) and for psql, initdb and pg_ctl (PATH), rather than
# Debian's version-guessing wrappers in /usr/bin.  RECS_PG_BINDIR may name
# another (relocated) PostgreSQL 15 installation, for parallel work.
RECS_PG_BINDIR=${RECS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
export PG_CONFIG="$RECS_PG_BINDIR/pg_config"
export PATH="$RECS_PG_BINDIR:$PATH"

RECS_DEB_PACKAGES=(
	build-essential
	pkg-config
	postgresql-15
	postgresql-server-dev-15
	libopenblas-dev
	libhiredis-dev
	libmongoc-dev
	libbson-dev
	redis-server
	libipc-run-perl
	python3-mockupdb
	python3-mongomock
	python3-pymongo
)

# State of the services this shell started (empty when not running).
RECS_PG_DIR=""
RECS_REDIS_DIR=""
RECS_REDIS_PID=""
RECS_MONGO_DIR=""
RECS_MONGO_PID=""
RECS_TMP_DIRS=()

# The test server needs Debian's Python modules (python3-mockupdb,
# python3-mongomock, python3-pymongo): use Debian's interpreter, not
# whichever python3 comes first in PATH.
RECS_PYTHON=/usr/bin/python3

recs_log() {
	printf '==> %s\n' "$*"
}

recs_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Re-execute the calling script as root.  Call it as `recs_need_root "$@"`
# before anything else; it returns only when already root.
recs_need_root() {
	if [ "$(id -u)" -eq 0 ]; then
		return 0
	fi
	if ! command -v sudo >/dev/null 2>&1; then
		recs_die "${RECS_SCRIPT:-$(basename "$0")} must run as root (it installs packages and runs PostgreSQL as the postgres user), and sudo is not installed; run it as root"
	fi
	recs_log "not root: re-running ${RECS_SCRIPT:-$0} with sudo"
	exec sudo -- bash "$RECS_ROOT/${RECS_SCRIPT:?RECS_SCRIPT must name the calling script relative to RECS_ROOT}" "$@"
}

# Install whatever is missing from RECS_DEB_PACKAGES.  When everything is
# already installed, apt is not touched at all.
recs_install_deps() {
	local pkg status
	local missing=()

	for pkg in "${RECS_DEB_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [ "$status" != installed ]; then
			missing+=("$pkg")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		recs_log "Debian packages: all ${#RECS_DEB_PACKAGES[@]} present"
		return 0
	fi
	recs_log "installing Debian packages: ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# Build with warnings as errors (as CI does) and install into PostgreSQL 15.
recs_build_install() {
	recs_log "building (COPT=-Werror) and installing with $PG_CONFIG"
	make -C "$RECS_ROOT" -j2 COPT='-Werror' PG_CONFIG="$PG_CONFIG"
	make -C "$RECS_ROOT" install PG_CONFIG="$PG_CONFIG"
}

# Run a command as the postgres user.  The working directory is / because
# the caller's may be a root-only directory the postgres user cannot enter.
recs_as_postgres() {
	(cd / && runuser -u postgres -- "$@")
}

# recs_mktemp_dir VAR NAME [OWNER]: make a temporary directory under /tmp
# (not $TMPDIR, which may be private to root), owned by OWNER (default
# root), store its path in VAR and remove it when the script exits.  It sets
# a variable instead of printing so that the directory is registered in this
# shell, not in a $(...) subshell.
recs_mktemp_dir() {
	local -n recs__var=$1
	local name=$2 owner=${3:-root}
	recs__var=$(mktemp -d "/tmp/recs-$name.XXXXXX")
	chown "$owner:" "$recs__var"
	RECS_TMP_DIRS+=("$recs__var")
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
recs__port_in_use() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Print a TCP port on 127.0.0.1 that nothing listens on, starting the search
# at a random port in 20000-59999 so that parallel runs rarely collide.
recs_free_port() {
	local port i
	port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	for ((i = 0; i < 200; i++)); do
		if ! recs__port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
		port=$((port + 1))
		if [ "$port" -ge 60000 ]; then
			port=20000
		fi
	done
	recs_die "no free TCP port found on 127.0.0.1"
}

# Start a throw-away PostgreSQL 15 cluster as the postgres user and export
# PGHOST, PGPORT, PGUSER and PGDATABASE so that psql and pg_regress, run by
# root, connect to it.  Each argument is an extra postgresql.conf line.
# shellcheck disable=SC2120 # the arguments are optional
recs_start_pg() {
	local dir conf line attempt port

	[ -z "$RECS_PG_DIR" ] || recs_die "recs_start_pg: a cluster is already running in $RECS_PG_DIR"
	dir=$(mktemp -d /tmp/recs-pg.XXXXXX)
	chown postgres: "$dir"
	RECS_PG_DIR=$dir

	recs_log "initdb in $dir"
	if ! recs_as_postgres "$RECS_PG_BINDIR/initdb" -D "$dir/data" \
		--auth=trust --no-sync --username=postgres \
		--encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		recs_die "initdb failed"
	fi

	# Settings live in an included file so that a retry can rewrite the port.
	conf="$dir/data/recs_test.conf"
	printf "include 'recs_test.conf'\n" >>"$dir/data/postgresql.conf"

	# Another process may take the port between the probe and the start:
	# try a few ports before giving up.
	for attempt in 1 2 3; do
		port=$(recs_free_port)
		{
			echo "# written by scripts/lib/common.sh"
			echo "port = $port"
			echo "listen_addresses = '127.0.0.1'"
			echo "unix_socket_directories = '$dir'"
			echo "fsync = off"
			for line in "$@"; do
				echo "$line"
			done
		} >"$conf"
		chown postgres: "$conf"
		if recs_as_postgres "$RECS_PG_BINDIR/pg_ctl" -D "$dir/data" \
			-l "$dir/postgresql.log" -w -t 120 start >/dev/null; then
			export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
			recs_log "PostgreSQL 15 running on 127.0.0.1:$port (socket in $dir, log $dir/postgresql.log)"
			return 0
		fi
		recs_log "PostgreSQL did not start on port $port (attempt $attempt); server log:"
		tail -n 20 "$dir/postgresql.log" >&2 || true
	done
	recs_die "could not start PostgreSQL"
}

# Stop the cluster started by recs_start_pg (if any) and delete it.
recs_stop_pg() {
	local dir=$RECS_PG_DIR
	[ -n "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		if ! recs_as_postgres "$RECS_PG_BINDIR/pg_ctl" -D "$dir/data" \
			-m fast -w -t 60 stop >/dev/null; then
			recs_as_postgres "$RECS_PG_BINDIR/pg_ctl" -D "$dir/data" \
				-m immediate -w -t 60 stop >/dev/null || true
		fi
	fi
	rm -rf "$dir"
	RECS_PG_DIR=""
	unset PGHOST PGPORT PGUSER PGDATABASE
	recs_log "PostgreSQL stopped"
}

# Start a throw-away redis-server on a free port of 127.0.0.1, with no
# persistence, and export RECS_TEST_REDIS_URL.
recs_start_redis() {
	local dir port attempt i

	[ -z "$RECS_REDIS_DIR" ] || recs_die "recs_start_redis: redis is already running in $RECS_REDIS_DIR"
	dir=$(mktemp -d /tmp/recs-redis.XXXXXX)
	RECS_REDIS_DIR=$dir

	for attempt in 1 2 3; do
		port=$(recs_free_port)
		rm -f "$dir/redis.pid"
		redis-server --port "$port" --bind 127.0.0.1 \
			--save '' --appendonly no --daemonize yes \
			--dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
		for ((i = 0; i < 100; i++)); do
			# The daemon writes its pid file a little after it forks.
			if [ -z "$RECS_REDIS_PID" ] && [ -s "$dir/redis.pid" ]; then
				RECS_REDIS_PID=$(cat "$dir/redis.pid")
			fi
			if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
				# Ask the server that answered for its pid rather than trust
				# a pid file that may not be written yet.
				RECS_REDIS_PID=$(redis-cli -h 127.0.0.1 -p "$port" info server |
					sed -n 's/^process_id:\([0-9]*\).*/\1/p')
				[ -n "$RECS_REDIS_PID" ] || recs_die "redis on port $port did not report its pid"
				export RECS_TEST_REDIS_URL="redis://127.0.0.1:$port"
				recs_log "redis running at $RECS_TEST_REDIS_URL (pid $RECS_REDIS_PID)"
				return 0
			fi
			if [ -n "$RECS_REDIS_PID" ] && ! recs__alive "$RECS_REDIS_PID"; then
				break # it exited, most likely because the port was taken
			fi
			sleep 0.1
		done
		recs_log "redis did not answer on port $port (attempt $attempt); log:"
		tail -n 20 "$dir/redis.log" >&2 || true
		recs__kill_redis
	done
	recs_die "could not start redis-server"
}

# True while process PID exists and has not exited (a zombie waiting to be
# reaped by init counts as exited).
recs__alive() {
	local state
	state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Stop the redis-server whose pid we recorded, waiting for it to exit.
recs__kill_redis() {
	local pid=$RECS_REDIS_PID i
	RECS_REDIS_PID=""
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		recs__alive "$pid" || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

recs_stop_redis() {
	[ -n "$RECS_REDIS_DIR" ] || return 0
	recs__kill_redis
	rm -rf "$RECS_REDIS_DIR"
	RECS_REDIS_DIR=""
	unset RECS_TEST_REDIS_URL
	recs_log "redis stopped"
}

# Start the MongoDB wire-protocol test server (test/mongo/server.py) on a
# free port of 127.0.0.1 and export RECS_TEST_MONGO_URI and
# RECS_TEST_MONGO_PORT.  It writes a ready file once it listens, and logs
# every command it receives to $RECS_MONGO_DIR/commands.log.
recs_start_mongo() {
	local dir port attempt i

	[ -z "$RECS_MONGO_DIR" ] || recs_die "recs_start_mongo: the test server is already running in $RECS_MONGO_DIR"
	dir=$(mktemp -d /tmp/recs-mongo.XXXXXX)
	RECS_MONGO_DIR=$dir

	for attempt in 1 2 3; do
		port=$(recs_free_port)
		rm -f "$dir/ready"
		"$RECS_PYTHON" "$RECS_ROOT/test/mongo/server.py" --port "$port" \
			--ready-file "$dir/ready" --log "$dir/commands.log" \
			>"$dir/server.log" 2>&1 &
		RECS_MONGO_PID=$!
		for ((i = 0; i < 100; i++)); do
			if [ -s "$dir/ready" ]; then
				export RECS_TEST_MONGO_URI="mongodb://127.0.0.1:$port/"
				export RECS_TEST_MONGO_PORT=$port
				recs_log "MongoDB test server at $RECS_TEST_MONGO_URI (pid $RECS_MONGO_PID, log $dir/server.log)"
				return 0
			fi
			if ! recs__alive "$RECS_MONGO_PID"; then
				break # it exited, most likely because the port was taken
			fi
			sleep 0.1
		done
		recs_log "MongoDB test server did not start on port $port (attempt $attempt); log:"
		tail -n 20 "$dir/server.log" >&2 || true
		recs__kill_mongo
	done
	recs_die "could not start the MongoDB test server (test/mongo/server.py)"
}

# Stop the test server whose pid we recorded, waiting for it to exit.
recs__kill_mongo() {
	local pid=$RECS_MONGO_PID i
	RECS_MONGO_PID=""
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		recs__alive "$pid" || break
		sleep 0.1
	done
	if recs__alive "$pid"; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

recs_stop_mongo() {
	[ -n "$RECS_MONGO_DIR" ] || return 0
	recs__kill_mongo
	rm -rf "$RECS_MONGO_DIR"
	RECS_MONGO_DIR=""
	unset RECS_TEST_MONGO_URI RECS_TEST_MONGO_PORT
	recs_log "MongoDB test server stopped"
}

# Stop any PostgreSQL server still running from a data directory under DIR
# (the TAP framework's nodes, should prove die without tearing them down).
# Each is stopped through its own postmaster.pid, with pg_ctl.
recs__stop_clusters_in() {
	local pidfile
	while IFS= read -r -d '' pidfile; do
		recs_as_postgres "$RECS_PG_BINDIR/pg_ctl" -D "$(dirname "$pidfile")" \
			-m immediate -w -t 30 stop >/dev/null 2>&1 || true
	done < <(find "$1" -name postmaster.pid -print0 2>/dev/null)
}

# EXIT trap: stop whatever is still running and remove temporary
# directories.  On failure, show the end of the server log first.
recs__cleanup() {
	local status=$? dir
	set +e
	trap - INT TERM
	if [ "$status" -ne 0 ] && [ -n "$RECS_PG_DIR" ] && [ -f "$RECS_PG_DIR/postgresql.log" ]; then
		echo "---- last lines of the PostgreSQL server log ----" >&2
		tail -n 40 "$RECS_PG_DIR/postgresql.log" >&2
	fi
	recs_stop_redis
	recs_stop_mongo
	recs_stop_pg
	for dir in "${RECS_TMP_DIRS[@]}"; do
		recs__stop_clusters_in "$dir"
		rm -rf "$dir"
	done
	RECS_TMP_DIRS=()
	exit "$status"
}

trap recs__cleanup EXIT
# Turn signals into an ordinary exit so that the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM HUP
