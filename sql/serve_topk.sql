-- recs_topk and recs_similar_items with the popular algorithm: ranking,
-- ties, exclude_seen, cold start, k limits and NULL arguments.

CREATE TABLE clicks (user_id bigint, item_id bigint, w real, at timestamptz);
-- item popularity (distinct users): 10 -> 4, 20 -> 3, 30 -> 3, 40 -> 1, 50 -> 1
INSERT INTO clicks VALUES
	(1, 10, 1, '2024-03-01'), (2, 10, 1, '2024-03-01'), (3, 10, 1, '2024-03-01'),
	(4, 10, 1, '2024-03-01'), (1, 20, 1, '2024-03-02'), (2, 20, 1, '2024-03-02'),
	(5, 20, 1, '2024-03-02'), (3, 30, 1, '2024-03-10'), (4, 30, 1, '2024-03-10'),
	(5, 30, 1, '2024-03-10'), (5, 40, 9, '2024-03-10'), (1, 50, 1, '2024-03-10'),
	(1, 10, 1, '2024-03-11');		-- user 1 clicked 10 twice: still one user
SELECT recs_create_model('serve_pop', 'popular', 'clicks');
SELECT recs_train('serve_pop');

-- ties (20 and 30; 40 and 50) break by item id, ascending
SELECT * FROM recs_topk(6, 10, 'serve_pop');
-- known users do not get what they have already seen, unless asked
SELECT * FROM recs_topk(1, 10, 'serve_pop');
SELECT * FROM recs_topk(1, 10, 'serve_pop', exclude_seen => false);
SELECT * FROM recs_topk(1, 1, 'serve_pop');
-- a user who has seen everything gets nothing rather than seen items
INSERT INTO clicks SELECT 7, i, 1, '2024-03-12' FROM unnest(ARRAY[10, 20, 30, 40, 50]) i;
SELECT recs_train('serve_pop') AS version;
-- only the first version is active, and user 7 is unknown to it: the
-- fallback, without the items user 7 has used since (all five)
SELECT count(*), min(source) FROM recs_topk(7, 10, 'serve_pop');
SELECT count(*), min(source) FROM recs_topk(7, 10, 'serve_pop', exclude_seen => false);
SELECT recs_create_model('serve_pop2', 'popular', 'clicks');
SELECT recs_train('serve_pop2');
SELECT count(*) FROM recs_topk(7, 10, 'serve_pop2');
SELECT count(*) FROM recs_topk(7, 10, 'serve_pop2', exclude_seen => false);

-- weighted popularity with a half-life: 40 (weight 9, recent) comes first
SELECT recs_create_model('serve_pop_w', 'popular', 'clicks', weight_column => 'w',
	time_column => 'at', params => '{"weighting": "weight", "half_life_days": 7}');
SELECT recs_train('serve_pop_w');
-- each (user, item) pair counts with its summed weight, decayed by the age of
-- its latest click relative to the newest click in the data (2024-03-12)
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(99, 5, 'serve_pop_w');
SELECT item_id, round(sum(w * 0.5 ^ (extract(epoch FROM (SELECT max(at) FROM clicks) - at) / 86400 / 7))::numeric, 4) AS expected
FROM (SELECT user_id, item_id, sum(w) AS w, max(at) AS at FROM clicks GROUP BY 1, 2) pairs
GROUP BY item_id ORDER BY 2 DESC, 1;

-- recs_topk works in a lateral join, one list per user
SELECT u, array_agg(item_id ORDER BY rank) AS items
FROM generate_series(1, 3) u, LATERAL recs_topk(u, 2, 'serve_pop') GROUP BY u ORDER BY u;

-- k and NULL arguments
SELECT * FROM recs_topk(1, 0, 'serve_pop');
SELECT * FROM recs_topk(1, -5, 'serve_pop');
SELECT * FROM recs_topk(1, 10001, 'serve_pop');
SELECT count(*) FROM recs_topk(1, 10000, 'serve_pop');
SELECT * FROM recs_topk(NULL, 3, 'serve_pop');
SELECT * FROM recs_topk(1, NULL, 'serve_pop');
SELECT * FROM recs_topk(1, 3, 'no_such_model');

-- popular has no item-item similarity
SELECT * FROM recs_similar_items(10, 3, 'serve_pop');
SELECT * FROM recs_similar_items(10, 0, 'serve_pop');

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'serve%' ORDER BY name;
DROP TABLE clicks;
