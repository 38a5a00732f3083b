--
-- scan: streaming scans in batches, rescans with parameters, several
-- cursors open on one connection, projection of the needed fields.
--
CREATE FOREIGN TABLE big (_id int, n int, g int)
  SERVER mongo OPTIONS (collection 'big', batch_size '100');

-- 2500 documents in batches of 100: one find, then getMore after getMore
SELECT count(*) AS finds0 FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'query' \gset
SELECT count(*) AS getmores0 FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'getmore' \gset
SELECT count(*), sum(n), min(n), max(n), count(DISTINCT g) FROM big;
SELECT count(*) - :finds0 AS finds FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'query';
SELECT count(*) - :getmores0 >= 24 AS getmores, max(batch) AS batch_size FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'getmore';
-- only the fields the query needs travel (_id always, for messages)
SELECT * FROM last_find('big');
SELECT sum(g) FROM big;
SELECT projection FROM last_find('big');

-- the default batch size is 1000
ALTER FOREIGN TABLE big OPTIONS (DROP batch_size);
SELECT count(*) FROM big;
SELECT count(*) AS finds1 FROM mongo_profile
  WHERE ns = 'recs_fdw_test.big' AND op = 'query' \gset
SELECT max(batch) FROM mongo_profile WHERE ns = 'recs_fdw_test.big' AND op = 'getmore';
ALTER FOREIGN TABLE big OPTIONS (ADD batch_size '100');

-- a rescan for every outer row, each with its own filter
SELECT i, (SELECT n * 10 FROM big WHERE _id = i) FROM generate_series(1, 4) i;
SELECT filter FROM (SELECT filter, row_number() OVER () AS k FROM mongo_profile
                    WHERE ns = 'recs_fdw_test.big' AND op = 'query') s
ORDER BY k DESC LIMIT 4;

-- nested loops keep the outer cursor open while inner ones come and go
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT a._id, b.n FROM big a JOIN big b ON b._id = a._id + 2000 WHERE a._id <= 3;
SELECT a._id, b.n FROM big a JOIN big b ON b._id = a._id + 2000 WHERE a._id <= 3;
SELECT count(*) FROM big a, big b WHERE a._id <= 150 AND b._id <= 20 AND a.g = b.g;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- a collection that exists but holds nothing
CREATE FOREIGN TABLE empty (_id int, x text) SERVER mongo;
SELECT count(*) FROM empty;
SELECT * FROM empty;

-- the same collection through two tables, and a view
CREATE VIEW big_small AS SELECT _id, n FROM big WHERE n <= 5;
SELECT * FROM big_small ORDER BY _id;
SELECT b._id, s.n FROM big b JOIN big_small s USING (_id) ORDER BY 1;

-- a cursor abandoned early (LIMIT above a local filter) is closed
SELECT n FROM big WHERE n % 700 = 0 LIMIT 2;
SELECT count(*) FROM big;
