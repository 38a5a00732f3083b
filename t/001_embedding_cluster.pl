# t/001_embedding_cluster.pl: the embedding type across cluster boundaries,
# where pg_regress cannot reach:
#   - binary COPY out of one cluster and into another (send/recv and typmod),
#   - crash recovery after an immediate shutdown (rows, including values
#     stored out of line in TOAST, are rebuilt from WAL),
#   - dropping and re-creating the extension, with objects depending on it.
#
# Expected values are written out literally: comparing a node with itself
# would not notice a broken output function.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'postgres';

# Rows of items(id, e embedding(3)) as text input and the text output
# expected back (float4 shortest form, as float4out prints it).
my @rows = (
	[ 1, '[1,2,3]',                     '[1,2,3]' ],
	[ 2, '[-1.5, 0, 2e3]',              '[-1.5,0,2000]' ],
	[ 3, '[0.1,0.2,0.3]',               '[0.1,0.2,0.3]' ],
	[ 4, '[ 1e20 , -3.25e-10 , 123456.79 ]', '[1e+20,-3.25e-10,123456.79]' ],
	[ 5, '[3.4028235e38,-3.4028235e38,1.17549435e-38]',
		'[3.4028235e+38,-3.4028235e+38,1.1754944e-38]' ],
	[ 6, '[-0,7,-7]',                   '[-0,7,-7]' ],);

my $expected_items = join("\n", map { "$_->[0]|$_->[2]" } @rows);

# A wide embedding is stored out of line (STORAGE external); this builds one
# with 1000 dimensions from an integer seed, identically on any node.
sub wide_value_sql
{
	my ($seed) = @_;
	return "(SELECT ('[' || string_agg(((d * $seed) % 1000 - 500)::text || '.25', ',' ORDER BY d) || ']')::embedding "
	  . "FROM generate_series(1, 1000) AS d)";
}

# ---------------------------------------------------------------------------
# Set up the first node.

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

$node->safe_psql($db, 'CREATE EXTENSION recs');
$node->safe_psql($db, 'CREATE TABLE items (id int PRIMARY KEY, e embedding(3))');
$node->safe_psql($db,
	'INSERT INTO items VALUES '
	  . join(', ', map { "($_->[0], '$_->[1]')" } @rows));
$node->safe_psql($db, 'CREATE TABLE wide (id int PRIMARY KEY, e embedding)');
$node->safe_psql($db,
	'INSERT INTO wide SELECT s, ' . wide_value_sql('s') . ' FROM generate_series(1, 5) AS s');

is($node->safe_psql($db, 'SELECT id, e FROM items ORDER BY id'),
	$expected_items, 'text input and output of the test rows');

# The wide values really live in TOAST, so the checks below cover it.
cmp_ok(
	$node->safe_psql($db,
		"SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'wide'"),
	'>', 0, 'wide embeddings are stored out of line');

# A fingerprint of the wide table: its text output, hashed.
my $wide_md5_sql =
  "SELECT md5(string_agg(id || ':' || e::text, ';' ORDER BY id)) FROM wide";
my $wide_md5 = $node->safe_psql($db, $wide_md5_sql);
is( $node->safe_psql($db,
		'SELECT count(*) FROM wide w WHERE w.e = ' . wide_value_sql('w.id')
		  . ' AND recs_dims(w.e) = 1000'),
	'5',
	'wide embeddings read back equal to the values inserted');

# ---------------------------------------------------------------------------
# (a) Binary COPY from this cluster into a second one.

my $copy_dir = PostgreSQL::Test::Utils::tempdir;
my $items_file = "$copy_dir/items.bin";
my $wide_file = "$copy_dir/wide.bin";

$node->safe_psql($db, "COPY items TO '$items_file' (FORMAT binary)");
$node->safe_psql($db, "COPY wide TO '$wide_file' (FORMAT binary)");

# The file is binary COPY (signature), not text that happens to parse.
open(my $fh, '<:raw', $items_file) or die "cannot open $items_file: $!";
read($fh, my $signature, 11);
close($fh);
is($signature, "PGCOPY\n\377\r\n\0", 'COPY wrote the binary format');

my $node2 = PostgreSQL::Test::Cluster->new('second');
$node2->init;
$node2->start;
$node2->safe_psql($db, 'CREATE EXTENSION recs');
$node2->safe_psql($db, 'CREATE TABLE items (id int PRIMARY KEY, e embedding(3))');
$node2->safe_psql($db, 'CREATE TABLE wide (id int PRIMARY KEY, e embedding)');
$node2->safe_psql($db, 'CREATE TABLE items4 (id int, e embedding(4))');

my ($rc, $stdout, $stderr) =
  $node2->psql($db, "COPY items FROM '$items_file' (FORMAT binary)");
is($rc, 0, 'binary COPY FROM into the second cluster succeeds')
  or diag($stderr);
($rc, $stdout, $stderr) =
  $node2->psql($db, "COPY wide FROM '$wide_file' (FORMAT binary)");
is($rc, 0, 'binary COPY FROM of wide embeddings succeeds') or diag($stderr);

is($node2->safe_psql($db, 'SELECT id, e FROM items ORDER BY id'),
	$expected_items, 'rows copied in binary match the originals as text');
is($node2->safe_psql($db, $wide_md5_sql),
	$wide_md5, 'wide embeddings copied in binary match the originals');
is( $node2->safe_psql($db,
		"SELECT count(*) FROM items WHERE e = '[-1.5,0,2000]' "
		  . "AND e <-> '[1.5,4,2000]' = 5"),
	'1',
	'a copied value compares equal and has the expected distance');

# embedding_recv enforces the column's dimension count.
($rc, $stdout, $stderr) =
  $node2->psql($db, "COPY items4 FROM '$items_file' (FORMAT binary)");
isnt($rc, 0, 'binary COPY FROM into embedding(4) fails for 3-dim values');
like($stderr, qr/expected 4 dimensions, not 3/, 'the failure is about dimensions');
is($node2->safe_psql($db, 'SELECT count(*) FROM items4'),
	'0', 'nothing was loaded into embedding(4)');

$node2->stop;

# ---------------------------------------------------------------------------
# (b) Crash recovery: rows written after the last checkpoint exist only in
# shared buffers and WAL when the server is stopped in immediate mode.

$node->safe_psql($db, 'CHECKPOINT');
$node->safe_psql($db,
	    "INSERT INTO items SELECT 100 + i, ARRAY[i, -i, i * 0.5]::real[] "
	  . 'FROM generate_series(1, 1000) AS i');
$node->safe_psql($db,
	'INSERT INTO wide SELECT s, ' . wide_value_sql('s') . ' FROM generate_series(6, 20) AS s');
$node->safe_psql($db, "UPDATE items SET e = '[9,8,7]' WHERE id = 1");
$node->safe_psql($db, 'DELETE FROM items WHERE id = 2');

my $items_md5_sql =
  "SELECT md5(string_agg(id || ':' || e::text, ';' ORDER BY id)) FROM items";
my $items_md5 = $node->safe_psql($db, $items_md5_sql);
$wide_md5 = $node->safe_psql($db, $wide_md5_sql);

my $log_offset = -s $node->logfile;
$node->stop('immediate');
$node->start;

ok($node->log_contains(qr/redo starts at/, $log_offset),
	'the restart replayed WAL (crash recovery happened)');
is($node->safe_psql($db, 'SELECT count(*) FROM items'),
	'1005', 'all committed items survived the crash');
is($node->safe_psql($db, 'SELECT e FROM items WHERE id IN (1, 2, 600) ORDER BY id'),
	"[9,8,7]\n[500,-500,250]",
	'updated, deleted and inserted rows are as committed');
is($node->safe_psql($db, $items_md5_sql),
	$items_md5, 'items contents are identical after recovery');
is($node->safe_psql($db, 'SELECT count(*) FROM wide'),
	'20', 'all wide rows survived the crash');
is($node->safe_psql($db, $wide_md5_sql),
	$wide_md5, 'wide (TOASTed) contents are identical after recovery');
is( $node->safe_psql($db,
		'SELECT id FROM items ORDER BY e <-> \'[500,-500,250]\', id LIMIT 2'),
	"600\n599",
	'distance queries work on recovered data');

# ---------------------------------------------------------------------------
# (c) DROP EXTENSION and CREATE EXTENSION, in a database of its own.

$node->safe_psql($db, 'CREATE DATABASE cycle');
$node->safe_psql('cycle', 'CREATE EXTENSION recs');
$node->safe_psql('cycle', "CREATE TABLE t AS SELECT '[1,2]'::embedding AS e");

($rc, $stdout, $stderr) = $node->psql('cycle', 'DROP EXTENSION recs');
isnt($rc, 0, 'DROP EXTENSION is refused while a table uses embedding');
like($stderr, qr/depend/, 'the refusal names the dependency');

$node->safe_psql('cycle', 'DROP EXTENSION recs CASCADE');
is( $node->safe_psql('cycle',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'recs'")
	  . $node->safe_psql('cycle',
		"SELECT count(*) FROM pg_type WHERE typname = 'embedding'"),
	'00',
	'DROP EXTENSION CASCADE removes the recs schema and the type');

($rc, $stdout, $stderr) = $node->psql('cycle', 'CREATE EXTENSION recs');
is($rc, 0, 'CREATE EXTENSION works again after DROP') or diag($stderr);
is( $node->safe_psql('cycle',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'recs'"),
	'1',
	'the recs schema exists again');
is( $node->safe_psql('cycle',
		"SELECT '[1,2,3]'::embedding <-> '[1,2,5]', recs_dims('[1,2,3]'::embedding(3))"),
	'2|3',
	'the re-created extension works');

# Plain DROP and CREATE with nothing depending on the extension.
($rc, $stdout, $stderr) = $node->psql('cycle', 'DROP EXTENSION recs; CREATE EXTENSION recs;');
is($rc, 0, 'DROP EXTENSION recs; CREATE EXTENSION recs; succeeds') or diag($stderr);
is( $node->safe_psql('cycle',
		"SELECT n.nspname FROM pg_namespace n JOIN pg_depend d ON d.objid = n.oid "
		  . "AND d.classid = 'pg_namespace'::regclass AND d.deptype = 'e' "
		  . "JOIN pg_extension x ON x.oid = d.refobjid WHERE x.extname = 'recs'"),
	'recs',
	'the recs schema exists and belongs to the extension');

$node->stop;

done_testing();
