-- demo/demo.sql: a first look at recs, run by scripts/demo.
--
-- A dozen films with hand-made 4-dimension embeddings (how much action,
-- romance, comedy and science fiction each has), then nearest neighbours
-- and the vector functions.  Distances are rounded for reading.

\pset footer off

\echo
\echo '== Install the extension'
CREATE EXTENSION recs;

\echo
\echo '== A small catalogue: one embedding per film (action, romance, comedy, sci-fi)'
CREATE TABLE films (
	id int PRIMARY KEY,
	title text NOT NULL,
	genre text NOT NULL,
	e embedding(4) NOT NULL
);
INSERT INTO films VALUES
	( 1, 'Starfall Protocol',     'sci-fi',  '[0.8, 0.1, 0.1, 0.9]'),
	( 2, 'Orbit of Silence',      'sci-fi',  '[0.3, 0.2, 0.0, 1.0]'),
	( 3, 'The Last Colony',       'sci-fi',  '[0.6, 0.3, 0.1, 0.8]'),
	( 4, 'Midnight Pursuit',      'action',  '[1.0, 0.1, 0.2, 0.1]'),
	( 5, 'Iron Harbour',          'action',  '[0.9, 0.2, 0.1, 0.3]'),
	( 6, 'Bulletproof Summer',    'action',  '[0.8, 0.3, 0.5, 0.0]'),
	( 7, 'Letters to Lisbon',     'romance', '[0.0, 1.0, 0.2, 0.0]'),
	( 8, 'A Winter in Kyoto',     'romance', '[0.1, 0.9, 0.1, 0.1]'),
	( 9, 'Second Spring',         'romance', '[0.1, 0.8, 0.5, 0.0]'),
	(10, 'The Accidental Chef',   'comedy',  '[0.1, 0.3, 1.0, 0.0]'),
	(11, 'Robots Ate My Homework','comedy',  '[0.3, 0.0, 0.9, 0.7]'),
	(12, 'Wedding Crashers Club', 'comedy',  '[0.2, 0.6, 0.9, 0.0]');
SELECT id, title, genre, e FROM films ORDER BY id;

\echo
\echo '== Nearest neighbours of "Starfall Protocol" by L2 distance (<->)'
SELECT f.title, round((f.e <-> s.e)::numeric, 3) AS l2_distance
FROM films f, films s
WHERE s.title = 'Starfall Protocol' AND f.id <> s.id
ORDER BY f.e <-> s.e
LIMIT 4;

\echo
\echo '== ... and by cosine distance (<=>), which ignores vector length'
SELECT f.title, round((f.e <=> s.e)::numeric, 3) AS cosine_distance
FROM films f, films s
WHERE s.title = 'Starfall Protocol' AND f.id <> s.id
ORDER BY f.e <=> s.e
LIMIT 4;

\echo
\echo '== Cosine similarity, norm, unit vector and dimension count'
SELECT recs_cosine_similarity(a.e, b.e)::numeric(6, 3) AS "similarity: Letters to Lisbon vs A Winter in Kyoto"
FROM films a, films b
WHERE a.id = 7 AND b.id = 8;
SELECT title, recs_norm(e)::numeric(6, 3) AS norm, recs_normalize(e) AS unit_vector, recs_dims(e) AS dims
FROM films
WHERE id IN (4, 7, 11)
ORDER BY id;

\echo
\echo '== The average embedding of each genre: avg(e)'
SELECT genre, count(*) AS films, avg(e) AS centroid
FROM films
GROUP BY genre
ORDER BY genre;

\echo
\echo '== Which film is closest to the centre of its own genre?'
SELECT DISTINCT ON (f.genre) f.genre, f.title, round((f.e <-> c.centroid)::numeric, 3) AS distance_to_centroid
FROM films f
JOIN (SELECT genre, avg(e) AS centroid FROM films GROUP BY genre) c USING (genre)
ORDER BY f.genre, f.e <-> c.centroid;

\echo
\echo '== Arithmetic: element-wise sum'
SELECT '[1,2,3]'::embedding + '[1,1,1]' AS sum;

\echo
\echo '================================================================'
\echo '== The recommendation loop: load, train, recommend, evaluate'
\echo '================================================================'

\echo
\echo '== Load: a synthetic shop (generated here, deterministic) of 300 users and'
\echo '== 120 products in 6 categories; each user mostly buys in 1 or 2 favourite'
\echo '== categories, and some products are much more popular than others'
SELECT setseed(0.2024);
CREATE TABLE products AS
SELECT p AS product_id, (ARRAY['books', 'games', 'garden', 'kitchen', 'music', 'sport'])[1 + (p - 1) / 20] AS category,
	'product ' || p AS title
FROM generate_series(1, 120) p;
CREATE TABLE purchases (customer_id bigint, product_id bigint, bought_at timestamptz);
INSERT INTO purchases
SELECT DISTINCT ON (c, product) c, product, timestamptz '2024-01-01' + (n || ' hours')::interval
FROM (
	SELECT c, n,
		-- 85%: a favourite category; within it, low numbers are more popular
		CASE WHEN random() < 0.85
			THEN (CASE WHEN random() < 0.6 THEN fav1 ELSE fav2 END) * 20 + 1 + floor(20 * random() ^ 2)::int
			ELSE 1 + floor(120 * random())::int END AS product
	FROM (SELECT c, floor(6 * random())::int AS fav1, floor(6 * random())::int AS fav2,
			5 + floor(20 * random())::int AS n_buys
		  FROM generate_series(1, 300) c) users,
		generate_series(1, 25) n
	WHERE n <= n_buys
) picks
ORDER BY c, product, n;
SELECT count(*) AS purchases, count(DISTINCT customer_id) AS customers,
	count(DISTINCT product_id) AS products FROM purchases;

\echo
\echo '== Define three models over the same table'
SELECT recs_create_model('shop_popular', 'popular', 'purchases',
	user_column => 'customer_id', item_column => 'product_id', time_column => 'bought_at');
SELECT recs_create_model('shop_item_knn', 'item_knn', 'purchases',
	user_column => 'customer_id', item_column => 'product_id', time_column => 'bought_at',
	params => '{"similarity": "cosine", "neighbours": 30}');
SELECT recs_create_model('shop_user_knn', 'user_knn', 'purchases',
	user_column => 'customer_id', item_column => 'product_id', time_column => 'bought_at',
	params => '{"similarity": "cosine", "neighbours": 30}');

\echo
\echo '== Train: each call stores a new version of the model'
SELECT recs_train('shop_popular') AS popular_version,
	recs_train('shop_item_knn') AS item_knn_version,
	recs_train('shop_user_knn') AS user_knn_version;
SELECT model, version, n_users, n_items, n_interactions, round(train_seconds::numeric, 3) AS train_seconds
FROM recs.model_versions ORDER BY model;

\echo
\echo '== Recommend: customer 7 bought mostly in these categories ...'
SELECT p.category, count(*) AS bought FROM purchases b JOIN products p USING (product_id)
WHERE customer_id = 7 GROUP BY p.category ORDER BY bought DESC, category;

\echo '== ... and item_knn recommends (already bought products excluded):'
SELECT r.rank, r.item_id AS product_id, p.category, round(r.score::numeric, 3) AS score, r.source
FROM recs_topk(7, 5, 'shop_item_knn') r JOIN products p ON p.product_id = r.item_id
ORDER BY r.rank;

\echo '== popular recommends the best sellers, whatever the customer likes:'
SELECT r.rank, r.item_id AS product_id, p.category, r.score, r.source
FROM recs_topk(7, 5, 'shop_popular') r JOIN products p ON p.product_id = r.item_id
ORDER BY r.rank;

\echo '== A customer never seen before gets the popularity fallback, never an empty list:'
SELECT rank, item_id AS product_id, source FROM recs_topk(100000, 3, 'shop_item_knn');

\echo '== Products similar to product 21 (a games product):'
SELECT r.rank, r.item_id AS product_id, p.category, round(r.score::numeric, 3) AS similarity
FROM recs_similar_items(21, 5, 'shop_item_knn') r JOIN products p ON p.product_id = r.item_id
ORDER BY r.rank;

\echo
\echo '== Evaluate: hold out each customer''s latest purchase, train on the rest,'
\echo '== and see where the held-out product lands in the top 10'
SELECT model, users_evaluated AS customers, round(hit_rate_at_k::numeric, 3) AS "HR@10",
	round(ndcg_at_k::numeric, 3) AS "NDCG@10", round(mrr_at_k::numeric, 3) AS "MRR@10",
	round(coverage::numeric, 3) AS coverage
FROM unnest(ARRAY['shop_popular', 'shop_item_knn', 'shop_user_knn']) model,
	LATERAL recs_evaluate(model, 10, 'leave_one_out');

\echo '== ... and on a random 80/20 split of each customer''s purchases'
SELECT model, round(precision_at_k::numeric, 3) AS "P@10", round(recall_at_k::numeric, 3) AS "R@10",
	round(ndcg_at_k::numeric, 3) AS "NDCG@10", round(map_at_k::numeric, 3) AS "MAP@10"
FROM unnest(ARRAY['shop_popular', 'shop_item_knn', 'shop_user_knn']) model,
	LATERAL recs_evaluate(model, 10, 'random', test_fraction => 0.2);
