-- recs_evaluate on a hand-made dataset whose metrics are worked out below.

CREATE TABLE ev (user_id int, item_id int, at timestamptz);
INSERT INTO ev VALUES
	(1, 10, '2024-01-01'), (1, 20, '2024-01-02'), (1, 30, '2024-01-05'),
	(2, 10, '2024-01-01'), (2, 30, '2024-01-02'), (2, 20, '2024-01-06'),
	(3, 20, '2024-01-01'), (3, 40, '2024-01-03'), (3, 10, '2024-01-04'),
	(4, 40, '2024-01-01'), (4, 50, '2024-01-02'),
	(5, 10, '2024-01-01');
SELECT recs_create_model('ev_pop', 'popular', 'ev', time_column => 'at');

-- leave_one_out holds out each user's latest item: u1 30, u2 20, u3 10, u4 50
-- (u5 has one interaction and is not evaluated).  Train popularity:
-- 10 -> 3 (u1 u2 u5), 20 -> 2 (u1 u3), 40 -> 2 (u3 u4), 30 -> 1 (u2); 50 is
-- not in the training catalogue.  Top 2 without seen items:
--   u1 (saw 10 20): 40, 30   hit at rank 2
--   u2 (saw 10 30): 20, 40   hit at rank 1 (20 and 40 tie; lower id first)
--   u3 (saw 20 40): 10, 30   hit at rank 1
--   u4 (saw 40):    10, 20   miss (50 cannot be recommended)
-- precision = (1/2 + 1/2 + 1/2 + 0) / 4 = 0.375; recall = hit rate = 3/4;
-- MRR = MAP = (1/2 + 1 + 1 + 0) / 4 = 0.625;
-- NDCG = (1/log2(3) + 1 + 1 + 0) / 4 = 0.657732; coverage = {10,20,30,40} / 4 = 1
SELECT protocol, k, negatives, users_evaluated,
	round(precision_at_k::numeric, 6) AS precision, round(recall_at_k::numeric, 6) AS recall,
	round(ndcg_at_k::numeric, 6) AS ndcg, round(hit_rate_at_k::numeric, 6) AS hit_rate,
	round(mrr_at_k::numeric, 6) AS mrr, round(map_at_k::numeric, 6) AS map,
	round(coverage::numeric, 6) AS coverage, train_interactions, test_interactions
FROM recs_evaluate('ev_pop', 2);
SELECT round(((1 / log(2, 3) + 1 + 1 + 0) / 4)::numeric, 6) AS ndcg_by_hand;

-- with sampled negatives every user's free items here number at most 3, so
-- all are taken: u1 ranks {30, 40}, u2 {20, 40}, u3 {10, 30}, u4 {10, 20, 30}:
-- the same hits as above
SELECT users_evaluated, round(precision_at_k::numeric, 6) AS precision,
	round(ndcg_at_k::numeric, 6) AS ndcg, round(mrr_at_k::numeric, 6) AS mrr
FROM recs_evaluate('ev_pop', 2, negatives => 100);

-- temporal: interactions on or after 2024-01-05 are the test part (u1 30,
-- u2 20).  Train popularity: 10 -> 4, 20 -> 2, 40 -> 2, 30 -> 1, 50 -> 1.
--   u1 (saw 10 20): 40, 30   hit at rank 2 (30 and 50 tie; lower id first)
--   u2 (saw 10 30): 20, 40   hit at rank 1
-- precision 0.5, recall 1, MRR = MAP = 0.75, NDCG = (1/log2(3) + 1) / 2 = 0.815465,
-- coverage = {20,30,40} / 5 = 0.6
SELECT protocol, users_evaluated, round(precision_at_k::numeric, 6) AS precision,
	round(recall_at_k::numeric, 6) AS recall, round(ndcg_at_k::numeric, 6) AS ndcg,
	round(mrr_at_k::numeric, 6) AS mrr, round(map_at_k::numeric, 6) AS map,
	round(coverage::numeric, 6) AS coverage, train_interactions, test_interactions
FROM recs_evaluate('ev_pop', 2, 'temporal', cutoff => '2024-01-05');
-- without a cutoff, the latest test_fraction of interactions: 12 * 0.2 -> the
-- 3 newest (from the 10th smallest time on, 2024-01-04)
SELECT users_evaluated, test_interactions FROM recs_evaluate('ev_pop', 2, 'temporal');

-- random: users with n >= 2 hold out rint(0.5 * n), at least 1, at most n - 1:
-- u1 2, u2 2, u3 2, u4 1 -> 7 test, 5 train; the same seed gives the same split
SELECT users_evaluated, train_interactions, test_interactions
FROM recs_evaluate('ev_pop', 2, 'random', test_fraction => 0.5);
CREATE TEMP VIEW ev_random AS
SELECT seed, row(precision_at_k, recall_at_k, ndcg_at_k, mrr_at_k, map_at_k, coverage)::text AS metrics
FROM generate_series(1, 20) seed, LATERAL recs_evaluate('ev_pop', 3, 'random', 0.5, seed => seed);
SELECT count(*) AS seeds, count(DISTINCT metrics) > 1 AS seeds_differ FROM ev_random;
SELECT bool_and(a.metrics = b.metrics) AS same_seed_same_result
FROM ev_random a JOIN ev_random b USING (seed);

-- without a time column leave_one_out holds out a random item per user, seeded
SELECT recs_create_model('ev_pop_untimed', 'popular', 'ev');
SELECT users_evaluated, test_interactions FROM recs_evaluate('ev_pop_untimed', 2, seed => 1);

-- an externally given split: the model's source is the training part
CREATE TABLE ev_train (user_id int, item_id int);
INSERT INTO ev_train VALUES (1, 10), (1, 20), (2, 10), (2, 30), (3, 20), (3, 40), (4, 40), (5, 10);
CREATE TABLE ev_test (user_id int, item_id int);
INSERT INTO ev_test VALUES (1, 30), (2, 20), (3, 10), (4, 50);
SELECT recs_create_model('ev_given', 'popular', 'ev_train');
-- the same training and test pairs as leave_one_out above: the same metrics
SELECT protocol, k, users_evaluated, round(precision_at_k::numeric, 6) AS precision,
	round(ndcg_at_k::numeric, 6) AS ndcg, round(mrr_at_k::numeric, 6) AS mrr,
	round(coverage::numeric, 6) AS coverage, train_interactions, test_interactions
FROM recs_evaluate_split('ev_given', 'ev_test', k => 2);
-- with candidates each user ranks only its test items and its candidates:
-- u1 {30, 20} -> 20 first (miss at k = 1), u2 {20, 40} -> 20 (hit, tie by id),
-- u3 {10, 30} -> 10 (hit), u4 has no candidates and its item 50 is unknown ->
-- nothing ranked (miss); hit rate 2/4, coverage {10, 20} / 4
CREATE TABLE ev_candidates (user_id int, item_id int);
INSERT INTO ev_candidates VALUES (1, 20), (2, 40), (3, 30);
SELECT protocol, negatives, users_evaluated, round(hit_rate_at_k::numeric, 6) AS hit_rate,
	round(coverage::numeric, 6) AS coverage
FROM recs_evaluate_split('ev_given', 'ev_test', 'ev_candidates', 1);
CREATE TABLE ev_wrong (customer int, item_id int);
SELECT * FROM recs_evaluate_split('ev_given', 'ev_wrong');
SELECT * FROM recs_evaluate_split('ev_given', 'ev_test', 'ev_wrong');
SELECT * FROM recs_evaluate_split('ev_given', 'ev_test', k => 0);
SELECT * FROM recs_evaluate_split('ev_given', NULL);
TRUNCATE ev_test;
SELECT * FROM recs_evaluate_split('ev_given', 'ev_test');
DROP TABLE ev_train, ev_test, ev_candidates, ev_wrong;

-- errors
SELECT * FROM recs_evaluate('no_such_model');
SELECT * FROM recs_evaluate('ev_pop', 0);
SELECT * FROM recs_evaluate('ev_pop', 10001);
SELECT * FROM recs_evaluate('ev_pop', 10, 'k_fold');
SELECT * FROM recs_evaluate('ev_pop', 10, 'random', test_fraction => 0);
SELECT * FROM recs_evaluate('ev_pop', 10, 'random', test_fraction => 1);
SELECT * FROM recs_evaluate('ev_pop', 10, negatives => -1);
SELECT * FROM recs_evaluate('ev_pop', 10, cutoff => '2024-01-05');
SELECT * FROM recs_evaluate('ev_pop_untimed', 10, 'temporal');
SELECT * FROM recs_evaluate('ev_pop', NULL);
SELECT * FROM recs_evaluate('ev_pop', 2, 'temporal', cutoff => '2030-01-01');
CREATE TABLE ev_single (user_id int, item_id int);
INSERT INTO ev_single VALUES (1, 1), (2, 2);
SELECT recs_create_model('ev_single', 'popular', 'ev_single');
SELECT * FROM recs_evaluate('ev_single');

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ev\_%' ORDER BY name;
DROP TABLE ev, ev_single;
