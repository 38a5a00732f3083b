-- recs_explain: why a model recommends an item to a user.

CREATE TABLE ex_events (user_id int, item_id int);
INSERT INTO ex_events VALUES
	(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 4), (3, 2), (3, 3), (3, 5),
	(4, 4), (4, 5), (4, 6), (5, 1), (5, 6), (5, 7), (6, 3), (6, 4), (6, 7);
SELECT recs_create_model('ex_knn', 'item_knn', 'ex_events');
SELECT recs_create_model('ex_uknn', 'user_knn', 'ex_events', params => '{"similarity": "cosine"}');
SELECT recs_create_model('ex_ials', 'ials', 'ex_events', params => '{"factors": 4, "iterations": 5}');
SELECT recs_create_model('ex_pop', 'popular', 'ex_events');
SET client_min_messages = warning;
SELECT recs_train(m) FROM unnest(ARRAY['ex_knn', 'ex_uknn', 'ex_ials', 'ex_pop']) m;
RESET client_min_messages;

-- item_knn: the user's items that contributed, sim(i, j) * r_ui; they are
-- the terms of the score, so they add up to it
SELECT reason, evidence_item, round(weight::numeric, 6) AS weight
FROM recs_explain(1, 4, 'ex_knn');
SELECT abs((SELECT sum(weight) FROM recs_explain(1, 4, 'ex_knn')) -
	(SELECT score FROM recs_topk(1, 10, 'ex_knn') WHERE item_id = 4)) < 1e-5 AS terms_sum_to_score,
	(SELECT bool_and(evidence_item IN (1, 2, 3)) FROM recs_explain(1, 4, 'ex_knn')) AS from_own_history;

-- user_knn: the neighbours who interacted with the item, sim(u, v) * r_vj
SELECT reason, evidence_item, round(weight::numeric, 6) AS weight
FROM recs_explain(1, 4, 'ex_uknn');
SELECT abs((SELECT sum(weight) FROM recs_explain(1, 4, 'ex_uknn')) -
	(SELECT score FROM recs_topk(1, 10, 'ex_uknn') WHERE item_id = 4)) < 1e-5 AS terms_sum_to_score;

-- ials: the user's items closest to the recommended one in factor space
SELECT count(*) BETWEEN 1 AND 3 AS some_items, bool_and(evidence_item IN (1, 2, 3)) AS own_items,
	bool_and(weight > 0) AS positive, min(reason) AS reason
FROM recs_explain(1, 4, 'ex_ials');

-- popular, and users the model has nothing on: popularity
SELECT * FROM recs_explain(1, 4, 'ex_pop');
SELECT * FROM recs_explain(999, 4, 'ex_knn');
-- an item the model has never seen: no reason
SELECT count(*) FROM recs_explain(1, 999, 'ex_knn');
-- at most 5 reasons, heaviest first
SELECT count(*) <= 5 AS at_most_five,
	bool_and(weight <= coalesce(prev, weight)) AS heaviest_first
FROM (SELECT weight, lag(weight) OVER () AS prev FROM recs_explain(6, 1, 'ex_knn')) s;

-- errors
SELECT * FROM recs_explain(NULL, 1, 'ex_knn');
SELECT * FROM recs_explain(1, 1, 'nope');

SELECT recs_drop_model(m) FROM unnest(ARRAY['ex_knn', 'ex_uknn', 'ex_ials', 'ex_pop']) m;
DROP TABLE ex_events;
