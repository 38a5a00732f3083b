-- Users who arrived after training: recs_topk folds in their live
-- interactions from the model's source (item_knn here; factor models fold
-- in the same way), and falls back to popularity when there are none.

CREATE TABLE fi_events (user_id int, item_id int);
INSERT INTO fi_events VALUES
	(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 4), (3, 2), (3, 3), (3, 5),
	(4, 4), (4, 5), (4, 6), (5, 1), (5, 6), (5, 7);
SELECT recs_create_model('fi_knn', 'item_knn', 'fi_events');
SELECT recs_train('fi_knn');

-- user 100 arrives after training with exactly user 1's history: the model
-- has never seen user 100, yet it gets user 1's list, marked as folded in
INSERT INTO fi_events VALUES (100, 1), (100, 2), (100, 3);
SELECT a.rank, a.item_id, a.item_id = b.item_id AS same_item,
	abs(a.score - b.score) < 1e-6 AS same_score, a.source, b.source AS trained_user_source
FROM recs_topk(100, 4, 'fi_knn') a JOIN recs_topk(1, 4, 'fi_knn') b USING (rank)
ORDER BY rank;
-- seen items are excluded for folded-in users too, unless asked
SELECT count(*) FILTER (WHERE item_id IN (1, 2, 3)) AS seen_items_returned
FROM recs_topk(100, 10, 'fi_knn');
SELECT count(*) FILTER (WHERE item_id IN (1, 2, 3)) AS seen_items_returned
FROM recs_topk(100, 10, 'fi_knn', exclude_seen => false);

-- items the model does not know are ignored; with nothing known left, the
-- popularity fallback answers
INSERT INTO fi_events VALUES (101, 999), (102, 999), (102, 7);
SELECT DISTINCT source FROM recs_topk(101, 3, 'fi_knn');
SELECT rank, item_id, source FROM recs_topk(102, 2, 'fi_knn');
-- a user with no interactions at all
SELECT DISTINCT source FROM recs_topk(555, 3, 'fi_knn');

-- ials solves the new user's least-squares step against the stored item
-- factors: the same step that produced user 1's factors, so a user with
-- user 1's history gets user 1's list
DELETE FROM fi_events WHERE user_id >= 100;
SELECT recs_create_model('fi_ials', 'ials', 'fi_events', params => '{"factors": 4, "iterations": 5}');
SET client_min_messages = warning;	-- per-iteration NOTICEs carry timings
SELECT recs_train('fi_ials');
RESET client_min_messages;
INSERT INTO fi_events VALUES (200, 1), (200, 2), (200, 3), (200, 3);	-- a repeat is summed
INSERT INTO fi_events VALUES (201, 1), (201, 2), (201, 3);
SELECT a.rank, a.item_id = b.item_id AS same_item, abs(a.score - b.score) < 1e-4 AS same_score,
	a.source
FROM recs_topk(201, 4, 'fi_ials') a JOIN recs_topk(1, 4, 'fi_ials') b USING (rank)
ORDER BY rank;
-- the repeated item weighs 2, as it would in training: a different list than user 201's
SELECT array_agg(item_id ORDER BY rank) = (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(201, 4, 'fi_ials'))
	AND array_agg(score ORDER BY rank) = (SELECT array_agg(score ORDER BY rank) FROM recs_topk(201, 4, 'fi_ials'))
	AS same_as_without_repeat
FROM recs_topk(200, 4, 'fi_ials');

-- bpr_mf folds a new user in by SGD on the user's vector alone (seeded):
-- the result is marked as such and never contains seen items
SELECT recs_create_model('fi_bpr', 'bpr_mf', 'fi_events', params => '{"factors": 4, "epochs": 30}');
SET client_min_messages = warning;
SELECT recs_train('fi_bpr');
RESET client_min_messages;
INSERT INTO fi_events VALUES (300, 1), (300, 2), (300, 3);
SELECT count(*) AS rows, min(source) AS source, count(*) FILTER (WHERE item_id IN (1, 2, 3)) AS seen
FROM recs_topk(300, 4, 'fi_bpr');
-- deterministic: the same list twice
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(300, 4, 'fi_bpr')) =
	   (SELECT array_agg(item_id ORDER BY rank) FROM recs_topk(300, 4, 'fi_bpr')) AS repeatable;
-- and the export of a bpr_mf model carries its item biases
SELECT kind, count(*), count(bias) AS biases FROM recs_export('fi_bpr') GROUP BY kind ORDER BY kind;

-- popular has nothing to fold in: unknown users get the fallback
SELECT recs_create_model('fi_pop', 'popular', 'fi_events');
DELETE FROM fi_events WHERE user_id >= 100;
SELECT recs_train('fi_pop');
INSERT INTO fi_events VALUES (100, 1);
SELECT DISTINCT source FROM recs_topk(100, 3, 'fi_pop');

SELECT recs_drop_model('fi_knn'), recs_drop_model('fi_pop'), recs_drop_model('fi_ials'),
	recs_drop_model('fi_bpr');
DROP TABLE fi_events;
