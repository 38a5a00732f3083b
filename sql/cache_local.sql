-- The in-memory first cache layer of recs_topk (src/cache/local_cache.c):
-- a repeated call is a hit with the same rows, a new version is never
-- served from the old one's lists, and the layer can be turned off.

CREATE TABLE lc_events (user_id int, item_id int);
INSERT INTO lc_events SELECT u, (u * 7 + i * 3) % 20 FROM generate_series(1, 30) u, generate_series(1, 5) i;
SELECT recs_create_model('lc_knn', 'item_knn', 'lc_events');
SELECT recs_train('lc_knn');

-- the reference: every user's list with the layer off
SET recs.local_cache_size = 0;
CREATE TEMP TABLE lc_off AS SELECT u, t.* FROM generate_series(1, 30) u, recs_topk(u, 5, 'lc_knn') t;
SELECT local_hits, local_misses, local_entries FROM recs_cache_stats();
RESET recs.local_cache_size;

-- first pass: 30 misses, stored; second pass: 30 hits; the same rows throughout
CREATE TEMP TABLE lc_cold AS SELECT u, t.* FROM generate_series(1, 30) u, recs_topk(u, 5, 'lc_knn') t;
SELECT local_hits, local_misses, local_entries FROM recs_cache_stats();
CREATE TEMP TABLE lc_warm AS SELECT u, t.* FROM generate_series(1, 30) u, recs_topk(u, 5, 'lc_knn') t;
SELECT local_hits, local_misses, local_entries FROM recs_cache_stats();
SELECT (SELECT count(*) FROM lc_off) AS rows,
	(SELECT count(*) FROM (TABLE lc_off EXCEPT TABLE lc_cold) a) +
	(SELECT count(*) FROM (TABLE lc_cold EXCEPT TABLE lc_off) b) AS cold_differences,
	(SELECT count(*) FROM (TABLE lc_off EXCEPT TABLE lc_warm) a) +
	(SELECT count(*) FROM (TABLE lc_warm EXCEPT TABLE lc_off) b) AS warm_differences;

-- other k, exclude_seen => false and the business-rule arguments are not
-- served from the cached default lists
SELECT count(*) FROM recs_topk(1, 3, 'lc_knn');
SELECT count(*) FROM recs_topk(1, 5, 'lc_knn', exclude_seen => false);
SELECT count(*) FROM recs_topk(1, 5, 'lc_knn', exclude => ARRAY[1, 2]);
SELECT local_hits, local_misses FROM recs_cache_stats();

-- a new version: user 1 loses an item; the old version's list is not served
DELETE FROM lc_events WHERE user_id = 1 AND item_id = (SELECT min(item_id) FROM lc_events WHERE user_id = 1);
SELECT recs_train('lc_knn', activate => true);
SET recs.local_cache_size = 0;
CREATE TEMP TABLE lc_v2 AS SELECT * FROM recs_topk(1, 5, 'lc_knn');
RESET recs.local_cache_size;
-- (version 2's list for user 1 does differ from version 1's)
SELECT count(*) > 0 AS v2_differs FROM (SELECT * FROM lc_v2 EXCEPT
	SELECT item_id, score, rank, source FROM lc_off WHERE u = 1) d;
SELECT count(*) AS differences FROM (
	(SELECT * FROM recs_topk(1, 5, 'lc_knn') EXCEPT SELECT * FROM lc_v2)
	UNION ALL
	(SELECT * FROM lc_v2 EXCEPT SELECT * FROM recs_topk(1, 5, 'lc_knn'))) d;
-- rolling back serves version 1's cached list again, as computed then
SELECT recs_rollback('lc_knn');
SELECT count(*) AS differences FROM (
	(SELECT item_id, score, rank, source FROM lc_off WHERE u = 1
	 EXCEPT SELECT * FROM recs_topk(1, 5, 'lc_knn'))) d;

-- a full table is emptied and refilled, never grown
SET recs.local_cache_size = 10;
SELECT count(*) FROM generate_series(1, 30) u, recs_topk(u, 4, 'lc_knn') t;
SELECT local_entries <= 10 AS bounded FROM recs_cache_stats();
SET recs.local_cache_size = -1;
