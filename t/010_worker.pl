# t/010_worker.pl: the recs background worker's life, with
# shared_preload_libraries = 'recs':
#   - it starts (pg_stat_activity shows backend_type "recs worker") and
#     recs_worker_status() says so,
#   - it retrains a scheduled model, and with activate = if_better leaves a
#     worse version inactive and activates one that is not worse,
#   - it warms the cache: lists in recs.precomputed and, when redis-server is
#     on PATH, in a redis-server this test starts on a free port (keys
#     checked with redis-cli and read back through the cache),
#   - the cache survives Redis being killed and restarted,
#   - recs_topk reads through the cache: the same rows with the cache off,
#     cold and warm, and with Redis killed,
#   - online updates: a new interaction changes the user's list at once, and
#     the worker drops the user's cached lists within seconds,
#   - it reloads its configuration on SIGHUP (a changed naptime takes effect),
#   - it comes back after pg_terminate_backend,
#   - it stays idle, without errors, on a hot standby.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $db = 'postgres';

# ---------------------------------------------------------------------------
# Redis, when available: our own server on a free port, stopped at the end.

my $have_redis =
  system('command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1') == 0;
my $redis_dir  = PostgreSQL::Test::Utils::tempdir('redis');
my $redis_port = $have_redis ? PostgreSQL::Test::Cluster::get_free_port() : 0;
my $redis_running = 0;

sub redis_cli
{
	my @args = @_;
	my $out = `redis-cli -h 127.0.0.1 -p $redis_port @args 2>/dev/null`;
	chomp $out;
	return $out;
}

sub start_redis
{
	system('redis-server', '--port', $redis_port, '--bind', '127.0.0.1',
		'--save', '', '--appendonly', 'no', '--daemonize', 'yes',
		'--dir', $redis_dir, '--pidfile', "$redis_dir/redis.pid",
		'--logfile', "$redis_dir/redis.log") == 0
	  or die "could not start redis-server";
	for (1 .. 100)
	{
		if (redis_cli('ping') eq 'PONG')
		{
			$redis_running = 1;
			return;
		}
		usleep(100_000);
	}
	die "redis-server did not answer on port $redis_port";
}

sub stop_redis
{
	return unless $redis_running;
	my $pid = slurp_file("$redis_dir/redis.pid");
	chomp $pid;
	kill 'KILL', $pid;
	for (1 .. 100)
	{
		last unless kill 0, $pid;
		usleep(100_000);
	}
	unlink "$redis_dir/redis.pid";
	$redis_running = 0;
}

END { stop_redis(); }

if ($have_redis)
{
	start_redis();
}
else
{
	diag('redis-server or redis-cli is not on PATH: the Redis checks are skipped');
}

# ---------------------------------------------------------------------------
# The primary, with the worker.

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'recs'
recs.worker_database = '$db'
recs.worker_naptime = 1
recs.redis_timeout_ms = 1000
recs.cache_breaker_seconds = 1
# the in-memory first layer would hide Redis from these checks
recs.local_cache_size = 0
});
$node->append_conf('postgresql.conf', "recs.redis_url = 'redis://127.0.0.1:$redis_port'")
  if $have_redis;
$node->start;

my $worker_pid_sql =
  "SELECT pid FROM pg_stat_activity WHERE backend_type = 'recs worker'";

ok( $node->poll_query_until(
		$db, "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'recs worker'"),
	'the worker starts with the server');

$node->safe_psql($db, 'CREATE EXTENSION recs');
ok( $node->poll_query_until($db, 'SELECT running FROM recs_worker_status()'),
	'recs_worker_status() says the worker runs');
like($node->safe_psql($db, 'SELECT message FROM recs_worker_status()'),
	qr/running in database "$db"/, 'and where');

# 60 users with 8 items each out of 50: popular trains in milliseconds
$node->safe_psql(
	$db, q{
CREATE TABLE events (user_id bigint, item_id bigint);
INSERT INTO events
SELECT u, (u * 7 + i * 13) % 50 FROM generate_series(1, 60) u, generate_series(1, 8) i;
SELECT recs_create_model('m', 'popular', 'events');
SELECT recs_schedule('m', '1 second');
});

# ---------------------------------------------------------------------------
# Scheduled retraining

ok( $node->poll_query_until(
		$db, "SELECT active_version = 1 FROM recs.models WHERE name = 'm'"),
	'the worker trains a scheduled model and activates its first version');
is( $node->safe_psql(
		$db, "SELECT outcome, version FROM recs.worker_jobs WHERE job = 'retrain' ORDER BY id LIMIT 1"),
	'ok|1',
	'the retraining is logged');

# From now on, retrain only when the test says so.
$node->safe_psql($db,
	"SELECT recs_schedule('m', '1 hour'); UPDATE recs.schedules SET next_run = 'infinity'");

# Retrain now and wait for the job; returns the version it trained.
sub retrain_now
{
	my $last = $node->safe_psql($db,
		"SELECT coalesce(max(id), 0) FROM recs.worker_jobs WHERE job = 'retrain'");
	$node->safe_psql($db, 'UPDATE recs.schedules SET next_run = now()');
	$node->poll_query_until($db,
		"SELECT count(*) > 0 FROM recs.worker_jobs WHERE job = 'retrain' AND id > $last")
	  or die 'the worker did not retrain';
	$node->safe_psql($db, "UPDATE recs.schedules SET next_run = 'infinity'");
	return $node->safe_psql($db,
		"SELECT version FROM recs.worker_jobs WHERE job = 'retrain' AND id > $last ORDER BY id LIMIT 1");
}

# The active version claims a validation ndcg@10 nothing can beat.
my $active = $node->safe_psql($db, "SELECT active_version FROM recs.models WHERE name = 'm'");
$node->safe_psql($db,
	"UPDATE recs.model_versions SET metrics = jsonb_set(metrics, '{ndcg\@10}', '1') WHERE model = 'm' AND version = $active"
);
my $worse = retrain_now();
ok($worse > $active, "the worker trains version $worse");
is($node->safe_psql($db, "SELECT active_version FROM recs.models WHERE name = 'm'"),
	$active, 'if_better: a worse version is not activated');
like(
	$node->safe_psql($db, "SELECT detail FROM recs.worker_jobs WHERE version = $worse AND job = 'retrain'"),
	qr/not activated: ndcg\@10 .* is worse/,
	'the job log says why');

# Now the active version is the worst possible: the next one is better.
$node->safe_psql($db,
	"UPDATE recs.model_versions SET metrics = jsonb_set(metrics, '{ndcg\@10}', '-1') WHERE model = 'm' AND version = $active"
);
my $better = retrain_now();
ok($better > $worse, "the worker trains version $better");
is($node->safe_psql($db, "SELECT active_version FROM recs.models WHERE name = 'm'"),
	$better, 'if_better: a better version is activated');
like(
	$node->safe_psql($db, "SELECT detail FROM recs.worker_jobs WHERE version = $better AND job = 'retrain'"),
	qr/trained and activated: ndcg\@10/,
	'the job log says so');

# ---------------------------------------------------------------------------
# Cache warming

my $version_id = $node->safe_psql($db,
	"SELECT v.id FROM recs.models m JOIN recs.model_versions v ON v.model = m.name AND v.version = m.active_version WHERE m.name = 'm'"
);
ok( $node->poll_query_until(
		$db,
		"SELECT count(*) = 60 FROM recs.precomputed WHERE model = 'm' AND version = $better"),
	'the worker precomputes the lists of the active version');
ok( $node->poll_query_until(
		$db,
		"SELECT count(*) > 0 FROM recs.worker_jobs WHERE job = 'warm' AND version = $better AND outcome = 'ok'"),
	'the warming is logged');

# what recs_topk returns for user 1, as text
my $topk = $node->safe_psql($db, "SELECT item_id, score, rank, source FROM recs_topk(1, 10, 'm')");
is( $node->safe_psql($db,
		"SELECT array_to_string(items, ',') FROM recs.precomputed WHERE model = 'm' AND user_id = 1"),
	join(',', map { (split /\|/)[0] } split /\n/, $topk),
	'a precomputed list is the one recs_topk returns');

SKIP:
{
	skip 'redis-server is not available', 17 unless $have_redis;

	my $pattern = "recs:*:m:$version_id:*";
	ok( $node->poll_query_until(
			$db,
			"SELECT cached = 60 FROM (SELECT (regexp_match(detail, '([0-9]+) cached'))[1]::int AS cached FROM recs.worker_jobs WHERE job = 'warm' AND version = $better ORDER BY id DESC LIMIT 1) j"
		),
		'the worker reports 60 lists cached in Redis');
	my $keys = redis_cli('--scan', '--pattern', "'$pattern'");
	is(scalar(grep { /\S/ } split /\n/, $keys), 60, 'Redis holds the 60 warmed lists, keyed by version');
	is( $node->safe_psql($db, "SELECT item_id, score, rank, source FROM recs.cache_lookup(1, 10, 'm', true)"),
		$topk, 'the cached list reads back as recs_topk\'s rows');
	my $ttl = redis_cli('ttl', "recs:" . $node->safe_psql($db, "SELECT oid FROM pg_database WHERE datname = '$db'")
		  . ":m:$version_id:1");
	ok($ttl > 0 && $ttl <= 3600, "cached lists expire (ttl $ttl)");

	# Redis killed: no error, no wait, counted; back when Redis is
	stop_redis();
	my ($ret, $out, $err) = $node->psql($db,
		"SELECT count(*) FROM recs.cache_lookup(1, 10, 'm', true); SELECT errors > 0, breaker FROM recs_cache_stats()");
	is("$ret|$out", "0|0\nt|open", 'with Redis down a lookup misses, counts an error and opens the breaker');
	start_redis();
	($ret, $out, $err) = $node->psql($db,
		"SELECT users, cached FROM recs_precompute('m', 10); SELECT count(*) FROM recs.cache_lookup(1, 10, 'm', true)");
	is("$ret|$out", "0|60|60\n10", 'with Redis back the lists are cached and read again');
	is(redis_cli('dbsize'), '60', 'Redis holds them');

	# garbage under a key: a miss and an error, never a wrong answer
	my $key = "recs:" . $node->safe_psql($db, "SELECT oid FROM pg_database WHERE datname = '$db'")
	  . ":m:$version_id:1";
	redis_cli('hset', $key, '10:e', 'RCL1garbage');
	is( $node->safe_psql($db,
			"SELECT count(*) FROM recs.cache_lookup(1, 10, 'm', true); SELECT errors, misses, hits FROM recs_cache_stats()"),
		"0\n1|1|0", 'a value that is not a list is a miss and counts as an error');

	# a stalled Redis: the lookup gives up after recs.redis_timeout_ms (1 s)
	# (SIGSTOP: Redis accepts connections in the kernel but never answers)
	my $redis_pid = slurp_file("$redis_dir/redis.pid");
	chomp $redis_pid;
	kill 'STOP', $redis_pid;
	my $t0 = time;
	($ret, $out, $err) = $node->psql($db,
		"SELECT count(*) FROM recs.cache_lookup(2, 10, 'm', true); SELECT errors, breaker FROM recs_cache_stats()");
	my $took = time - $t0;
	is("$ret|$out", "0|0\n1|open", 'a stalled Redis is a miss, an error and opens the breaker');
	kill 'CONT', $redis_pid;
	ok($took < 4, "without waiting for Redis ($took s)");
	sleep 2;	# the breaker (recs.cache_breaker_seconds = 1) closes again

	# Read-through in recs_topk: the same rows with the cache off, cold
	# (every user a miss, then stored) and warm (every user a hit).
	$node->safe_psql($db, q{
INSERT INTO events SELECT u, (u * 11 + i * 3) % 50 FROM generate_series(1, 60) u, generate_series(1, 3) i;
SELECT recs_create_model('k', 'item_knn', 'events');
SELECT recs_train('k');
});
	my $lists = "SELECT u, t.* FROM generate_series(1, 60) u, recs_topk(u, 10, 'k') t";
	is( $node->safe_psql($db, qq{
SET recs.redis_url = '';
CREATE TEMP TABLE off AS $lists;
RESET recs.redis_url;
CREATE TEMP TABLE cold AS $lists;
SELECT hits, misses, puts FROM recs_cache_stats();
CREATE TEMP TABLE warm AS $lists;
SELECT hits, misses, puts FROM recs_cache_stats();
SELECT (SELECT count(*) FROM off),
	   (SELECT count(*) FROM (TABLE off EXCEPT TABLE cold) a) + (SELECT count(*) FROM (TABLE cold EXCEPT TABLE off) b),
	   (SELECT count(*) FROM (TABLE off EXCEPT TABLE warm) a) + (SELECT count(*) FROM (TABLE warm EXCEPT TABLE off) b);
}),
		"0|60|60\n60|60|60\n600|0|0",
		'recs_topk reads through the cache: 60 misses then 60 hits, the same 600 rows as without it');

	# Redis killed mid-test: recs_topk still answers, with the same rows
	stop_redis();
	is( $node->safe_psql($db, qq{
CREATE TEMP TABLE off AS $lists;
SET recs.redis_url = '';
SELECT count(*) FROM (($lists) EXCEPT (SELECT * FROM off)) d;
}),
		'0', 'with Redis killed recs_topk answers from the model, the same rows');
	start_redis();
	sleep 2;

	# Online updates: user 5's new interaction changes their list at once and
	# the worker drops their cached lists within a round (naptime 1 s).
	$node->safe_psql($db, "SELECT recs_enable_online_updates('k')");
	my $kvid = $node->safe_psql($db,
		"SELECT v.id FROM recs.models m JOIN recs.model_versions v ON v.model = m.name AND v.version = m.active_version WHERE m.name = 'k'");
	my $ukey = "recs:" . $node->safe_psql($db, "SELECT oid FROM pg_database WHERE datname = '$db'")
	  . ":k:$kvid:5";
	my $before = $node->safe_psql($db,
		"SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(5, 10, 'k'); SELECT count(*) FROM recs_topk(5, 10, 'k')");
	is(redis_cli('exists', $ukey), '1', "user 5's list is cached under $ukey");
	my $first = (split /\n/, $before)[0];
	$first =~ s/[{}]//g;
	my $new_item = (split /,/, $first)[0];
	$node->safe_psql($db, "INSERT INTO events VALUES (5, $new_item)");
	is( $node->safe_psql($db,
			"SELECT bool_and(item_id <> $new_item), min(source) FROM recs_topk(5, 10, 'k')"),
		't|item_knn_online',
		'a new interaction changes the user\'s list at once (its item is now excluded)');
	my $dropped = 0;
	for (1 .. 50)
	{
		if (redis_cli('exists', $ukey) eq '0') { $dropped = 1; last; }
		select(undef, undef, undef, 0.2);
	}
	ok($dropped, 'the worker drops the user\'s cached lists within seconds');
	like($node->safe_psql($db,
			"SELECT detail FROM recs.worker_jobs WHERE job = 'invalidate' ORDER BY id DESC LIMIT 1"),
		qr/1 users with new interactions: cached lists of 1 dropped/, 'the invalidation is logged');
}

# ---------------------------------------------------------------------------
# SIGHUP: a longer naptime stops the rounds, a shorter one resumes them.

$node->safe_psql($db, "ALTER SYSTEM SET recs.worker_naptime = '1h'");
my $log_offset = -s $node->logfile;
$node->reload;
ok($node->wait_for_log(qr/recs worker reloaded its configuration: naptime 3600 s/, $log_offset),
	'the worker reloads its configuration on SIGHUP');
my $jobs = $node->safe_psql($db, "SELECT count(*) FROM recs.worker_jobs WHERE job = 'retrain'");
$node->safe_psql($db, 'UPDATE recs.schedules SET next_run = now()');
sleep 3;
is($node->safe_psql($db, "SELECT count(*) FROM recs.worker_jobs WHERE job = 'retrain'"),
	$jobs, 'with naptime 1h no job runs within 3 s');
$node->safe_psql($db, 'ALTER SYSTEM SET recs.worker_naptime = 1');
$node->reload;
ok( $node->poll_query_until(
		$db, "SELECT count(*) > $jobs FROM recs.worker_jobs WHERE job = 'retrain'"),
	'back to naptime 1 s, the due job runs');
$node->safe_psql($db, "UPDATE recs.schedules SET next_run = 'infinity'");

# ---------------------------------------------------------------------------
# pg_terminate_backend: the postmaster restarts the worker.

my $pid = $node->safe_psql($db, $worker_pid_sql);
ok($pid =~ /^\d+$/, 'the worker has a pid');
$node->safe_psql($db, "SELECT pg_terminate_backend($pid)");
ok( $node->poll_query_until(
		$db,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'recs worker' AND pid <> $pid"),
	'the worker comes back after pg_terminate_backend');
$jobs = $node->safe_psql($db, "SELECT count(*) FROM recs.worker_jobs WHERE job = 'retrain'");
$node->safe_psql($db, 'UPDATE recs.schedules SET next_run = now()');
ok( $node->poll_query_until(
		$db, "SELECT count(*) > $jobs FROM recs.worker_jobs WHERE job = 'retrain'"),
	'and runs jobs again');
$node->safe_psql($db, "UPDATE recs.schedules SET next_run = 'infinity'");

# ---------------------------------------------------------------------------
# Exposures of recs_topk(..., experiment => ...) go through the shared-memory
# queue and the exposure writer writes them (its life: t/020_exposure_writer.pl);
# events are attributed to them.

$node->safe_psql($db, q{
SELECT recs_create_experiment('x', '{"a": {"model": "m", "weight": 1}, "b": {"model": "m", "weight": 1}}');
});
is($node->safe_psql($db, 'SELECT enabled FROM recs_exposure_queue_stats()'),
	't', 'with preloading and the writer running, exposures are queued');
$node->safe_psql($db,
	"SELECT count(*) FROM generate_series(1, 40) u, recs_topk(u, 5, experiment => 'x')");
is($node->safe_psql($db, 'SELECT queued >= 40, direct FROM recs_exposure_queue_stats()'),
	't|0', 'the 40 lists are queued, none inserted directly');
ok( $node->poll_query_until(
		$db, "SELECT count(*) = 40 FROM recs.exposures WHERE experiment = 'x'"),
	'the writer writes them to recs.exposures');
is( $node->safe_psql($db,
		"SELECT count(DISTINCT user_id), bool_and(cardinality(items) = 5), bool_and(variant = recs_variant('x', user_id)) FROM recs.exposures WHERE experiment = 'x'"),
	'40|t|t', 'one exposure per user, with its items and its variant');
# a click right after serving, whether or not its exposure is written yet
my $item = $node->safe_psql($db, "SELECT item_id FROM recs_topk(41, 1, experiment => 'x')");
$node->safe_psql($db, "SELECT recs_track(41, $item, 'click')");
ok( $node->poll_query_until(
		$db,
		"SELECT exposure_id IS NOT NULL FROM recs.events WHERE user_id = 41 AND item_id = $item"),
	'a click tracked right after serving is attributed to its exposure');

# ---------------------------------------------------------------------------
# A hot standby runs the worker, which stays idle.

$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
$standby->start;

# A due job, which the primary's worker (now sleeping for an hour) leaves
# alone: the standby sees it, and its worker must not run it.
$node->safe_psql($db, "ALTER SYSTEM SET recs.worker_naptime = '1h'");
$log_offset = -s $node->logfile;
$node->reload;
$node->wait_for_log(qr/recs worker reloaded its configuration: naptime 3600 s/, $log_offset);
$node->safe_psql($db, "UPDATE recs.schedules SET next_run = now() - interval '1 day'");
$node->wait_for_catchup($standby);
$node->stop;
is($standby->safe_psql($db, 'SELECT count(*) FROM recs.schedules WHERE next_run < now()'),
	'1', 'the standby has a due job');
$standby->poll_query_until($db, 'SELECT pg_is_in_recovery()') or die;
ok( $standby->poll_query_until(
		$db, "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'recs worker'"),
	'the worker runs on the standby');
my $standby_pid = $standby->safe_psql($db, $worker_pid_sql);
$jobs = $standby->safe_psql($db, 'SELECT count(*) FROM recs.worker_jobs');
sleep 3;
is($standby->safe_psql($db, $worker_pid_sql), $standby_pid,
	'it stays up on the standby (no failure and restart)');
is($standby->safe_psql($db, 'SELECT count(*) FROM recs.worker_jobs'), $jobs,
	'no job rows appear on the standby');
my $standby_log = slurp_file($standby->logfile);
unlike($standby_log, qr/(ERROR|FATAL):.*(read-only|recovery)/,
	'the standby log has no errors from the worker touching tables');

$standby->stop;
done_testing();
