# t/020_exposure_writer.pl: the recs exposure writer's life, with
# shared_preload_libraries = 'recs':
#   - it starts with the server (backend_type "recs exposure writer") at
#     the configured nice value, and a reload with another value restarts
#     it with that one,
#   - exposures queued while it cannot run (SIGSTOP) are written when it
#     runs again,
#   - exposures of an experiment dropped while they wait are not written,
#     and the writer carries on,
#   - a written exposure holds what was served (items and scores in rank
#     order, variant, model and version, forced), and a click tracked
#     before its exposure was written is attributed when it is,
#   - pg_terminate_backend writes what is queued before it exits; the
#     writer comes back, and exposures served meanwhile are inserted
#     directly: none is lost,
#   - a fast shutdown writes what is queued too: nothing lost across a
#     restart,
#   - on a hot standby recs_topk serves through an experiment and warns
#     that it could not record the exposure; once promoted, exposures are
#     queued and written, and clicks attributed,
#   - exposures queued when recs is dropped are discarded and counted.
# SIGSTOP keeps the writer from writing, so that exposures are certainly
# queued at the moment a check needs them to be.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use POSIX ();

my $db = 'postgres';

my $node = PostgreSQL::Test::Cluster->new('writer');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'recs'
recs.worker_database = '$db'
recs.exposure_writer_nice = 7
});
$node->start;

my $writer_pid_sql =
  "SELECT pid FROM pg_stat_activity WHERE backend_type = 'recs exposure writer'";

ok( $node->poll_query_until(
		$db,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'recs exposure writer'"),
	'the writer starts with the server');
my $writer = $node->safe_psql($db, $writer_pid_sql);

# field 19 of /proc/PID/stat is the nice value
sub nice_of
{
	my ($pid) = @_;
	my $stat = slurp_file("/proc/$pid/stat");
	$stat =~ s/^.*\) //s;    # after the command name, which may hold spaces
	my @fields = split /\s+/, $stat;
	return $fields[16];
}

SKIP:
{
	skip 'no /proc to read the nice value from', 2 unless -r "/proc/$writer/stat";
	is(nice_of($writer), 7, 'at recs.exposure_writer_nice');

	my $log_offset = -s $node->logfile;
	$node->append_conf('postgresql.conf', 'recs.exposure_writer_nice = 12');
	$node->reload;
	$node->wait_for_log(qr/recs exposure writer exits to restart with database "$db" and nice value 12/,
		$log_offset);
	ok( $node->poll_query_until(
			$db, "SELECT count(*) = 1 FROM ($writer_pid_sql) w WHERE pid <> $writer"),
		'a reload with another nice value restarts the writer');
	$writer = $node->safe_psql($db, $writer_pid_sql);
	is(nice_of($writer), 12, 'which runs at the new value');
}

$node->safe_psql(
	$db, q{
CREATE EXTENSION recs;
CREATE TABLE events (user_id bigint, item_id bigint);
INSERT INTO events
SELECT u, (u * 7 + i * 13) % 50 FROM generate_series(1, 200) u, generate_series(1, 8) i;
SELECT recs_create_model('m', 'popular', 'events');
SELECT recs_train('m');
SELECT recs_create_experiment('x', '{"a": {"model": "m", "weight": 1}, "b": {"model": "m", "weight": 1}}');
SELECT recs_create_experiment('y', '{"a": {"model": "m", "weight": 1}, "b": {"model": "m", "weight": 1}}');
});
ok($node->poll_query_until($db, 'SELECT enabled FROM recs_exposure_queue_stats()'),
	'exposures of the writer\'s database are queued');

sub serve
{
	my ($experiment, $from, $to) = @_;
	$node->safe_psql($db,
		"SELECT count(*) FROM generate_series($from, $to) u, recs_topk(u, 5, experiment => '$experiment')"
	);
}

sub exposures
{
	my ($experiment) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM recs.exposures WHERE experiment = '$experiment'");
}

# ---------------------------------------------------------------------------
# Queued while the writer cannot run, written when it can; an experiment
# dropped meanwhile loses its exposures, with the experiment.

kill 'STOP', $writer;
serve('x', 1, 30);
serve('y', 1, 10);
is($node->safe_psql($db, 'SELECT pending, direct FROM recs_exposure_queue_stats()'),
	'40|0', 'with the writer stopped, 40 exposures wait in the queue');
is(exposures('x'), 0, 'none is written yet');
$node->safe_psql($db, "SELECT recs_drop_experiment('y')");
kill 'CONT', $writer;
ok($node->poll_query_until($db, "SELECT count(*) = 30 FROM recs.exposures WHERE experiment = 'x'"),
	'the writer writes them when it runs again');
ok($node->poll_query_until($db, 'SELECT pending = 0 FROM recs_exposure_queue_stats()'),
	'and the queue is empty');
is($node->safe_psql($db, "SELECT count(*) FROM recs.exposures WHERE experiment = 'y'"),
	0, 'exposures of the dropped experiment are not written');
is($node->safe_psql($db, $writer_pid_sql), $writer, 'and the writer carried on');

# ---------------------------------------------------------------------------
# What a written exposure holds; a click tracked before its exposure is
# written is attributed when it is; a forced user's exposure says so.

kill 'STOP', $writer;
my $served = $node->safe_psql($db,
	"SELECT array_agg(item_id ORDER BY rank), array_agg(score::real ORDER BY rank) FROM recs_topk(201, 4, experiment => 'x')"
);
my ($first_item) = $served =~ /^\{(\d+),/;
$node->safe_psql($db, "SELECT recs_force_variant('x', 202, 'b')");
$node->safe_psql($db, "SELECT count(*) FROM recs_topk(202, 4, experiment => 'x')");
is($node->safe_psql($db, "SELECT recs_track(201, $first_item, 'click') IS NULL"),
	't', 'a click on an exposure still queued is not attributed yet');
kill 'CONT', $writer;
ok( $node->poll_query_until(
		$db, "SELECT count(*) = 1 FROM recs.exposures WHERE experiment = 'x' AND user_id = 202"),
	'the queued exposures are written');
is( $node->safe_psql(
		$db,
		"SELECT items, scores FROM recs.exposures WHERE experiment = 'x' AND user_id = 201"),
	$served, 'an exposure holds the items and scores served, in rank order');
is( $node->safe_psql(
		$db,
		"SELECT variant = recs_variant('x', 201), model, model_version, forced, shown_at <= now() FROM recs.exposures WHERE experiment = 'x' AND user_id = 201"),
	't|m|1|f|t', 'its variant, model, version, flag and time');
is( $node->safe_psql(
		$db, "SELECT variant, forced FROM recs.exposures WHERE experiment = 'x' AND user_id = 202"),
	'b|t', 'a forced user\'s exposure is marked forced');
is( $node->safe_psql(
		$db,
		"SELECT x.user_id FROM recs.events e JOIN recs.exposures x ON x.id = e.exposure_id WHERE e.user_id = 201 AND e.item_id = $first_item"),
	'201', 'the click is attributed once its exposure is written');
$node->safe_psql($db,
	"DELETE FROM recs.events; DELETE FROM recs.exposures WHERE user_id IN (201, 202); SELECT recs_force_variant('x', 202, NULL)");

# ---------------------------------------------------------------------------
# pg_terminate_backend: what is queued is written before the writer exits;
# served while it is away, exposures are inserted directly.

kill 'STOP', $writer;
serve('x', 31, 50);
is($node->safe_psql($db, 'SELECT pending FROM recs_exposure_queue_stats()'),
	'20', '20 more exposures wait');
$node->safe_psql($db, "SELECT pg_terminate_backend($writer)");
kill 'CONT', $writer;
ok($node->poll_query_until($db, "SELECT count(*) = 50 FROM recs.exposures WHERE experiment = 'x'"),
	'pg_terminate_backend: the writer writes them before it exits');
# until the writer is back (a second), recs_topk inserts exposures itself
serve('x', 51, 60);
ok($node->poll_query_until($db, "SELECT count(*) = 60 FROM recs.exposures WHERE experiment = 'x'"),
	'exposures served around its exit are all recorded');
ok( $node->poll_query_until(
		$db, "SELECT count(*) = 1 FROM ($writer_pid_sql) w WHERE pid <> $writer"),
	'the writer comes back');
$writer = $node->safe_psql($db, $writer_pid_sql);
ok($node->poll_query_until($db, 'SELECT enabled FROM recs_exposure_queue_stats()'),
	'and exposures are queued again');

# ---------------------------------------------------------------------------
# A fast shutdown with exposures queued: the writer writes them as it stops.

kill 'STOP', $writer;
serve('x', 61, 85);
is($node->safe_psql($db, 'SELECT pending FROM recs_exposure_queue_stats()'),
	'25', '25 exposures wait at shutdown');
# the stop below waits for the writer: let it run once the SIGTERM is sent
my $child = fork();
if ($child == 0)
{
	sleep 1;
	kill 'CONT', $writer;
	# not exit: the child must not run the framework's END blocks
	POSIX::_exit(0);
}
$node->stop('fast');
waitpid($child, 0);
$node->start;
is(exposures('x'), 85, 'a fast shutdown loses no queued exposure');
unlike(slurp_file($node->logfile), qr/exposures queued but not written/,
	'and the writer reports none unwritten');

# ---------------------------------------------------------------------------
# A hot standby serves through experiments and warns instead of recording
# (its writer idles); promoted, it queues and writes exposures.

$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
ok( $standby->poll_query_until(
		$db,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'recs exposure writer'"),
	'the writer runs on the standby');
my ($ret, $out, $err) = $standby->psql($db,
	"SELECT count(*) FROM recs_topk(90, 4, experiment => 'x'); SELECT recs_experiment_unrecorded_exposures()"
);
is($out, "4\n1", 'the standby serves through the experiment and counts the exposure unrecorded');
like($err, qr/exposure of experiment "x" not recorded: the transaction is read-only/,
	'with a warning that says so');
$node->stop;
$standby->promote;
$standby->poll_query_until($db, 'SELECT NOT pg_is_in_recovery()') or die;
$standby->safe_psql($db,
	"SELECT count(*) FROM generate_series(91, 95) u, recs_topk(u, 4, experiment => 'x')");
is($standby->safe_psql($db, 'SELECT queued >= 5, direct FROM recs_exposure_queue_stats()'),
	't|0', 'promoted, it queues exposures');
ok( $standby->poll_query_until(
		$db, "SELECT count(*) = 5 FROM recs.exposures WHERE experiment = 'x' AND user_id BETWEEN 91 AND 95"),
	'and its writer writes them');
my $item91 = $standby->safe_psql($db,
	"SELECT item_id FROM recs_topk(91, 1, experiment => 'x')");
$standby->safe_psql($db, "SELECT recs_track(91, $item91, 'click')");
ok( $standby->poll_query_until(
		$db,
		"SELECT exposure_id IS NOT NULL FROM recs.events WHERE user_id = 91 AND item_id = $item91"),
	'and attributes a click tracked right after serving');

# ---------------------------------------------------------------------------
# Exposures queued when recs is dropped go with it: discarded and counted,
# never written into a later installation.

my $standby_writer = $standby->safe_psql($db, $writer_pid_sql);
$standby->poll_query_until($db, 'SELECT pending = 0 FROM recs_exposure_queue_stats()') or die;
kill 'STOP', $standby_writer;
$standby->safe_psql($db,
	"SELECT count(*) FROM generate_series(96, 99) u, recs_topk(u, 4, experiment => 'x')");
is($standby->safe_psql($db, 'SELECT pending FROM recs_exposure_queue_stats()'),
	'4', '4 exposures wait');
my $offset = -s $standby->logfile;
$standby->safe_psql($db, 'DROP EXTENSION recs CASCADE');
kill 'CONT', $standby_writer;
$standby->wait_for_log(
	qr/recs exposure writer discarded 4 exposures: extension "recs" is not installed in database "$db"/,
	$offset);
$standby->safe_psql($db, 'CREATE EXTENSION recs');
is($standby->safe_psql($db, 'SELECT pending, discarded FROM recs_exposure_queue_stats()'),
	'0|4', 'dropping recs discards the exposures queued for it, and counts them');
is($standby->safe_psql($db, 'SELECT count(*) FROM recs.exposures'), '0',
	'none is written into the new installation');

$standby->stop;
done_testing();
