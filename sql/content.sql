-- The content algorithm: item features of every type, TF-IDF checked by
-- hand, profiles, time decay, catalogue items nobody has used, cold users
-- from user features, explanations, evaluation, and bad params.

-- ---------------------------------------------------------------------
-- TF-IDF on a corpus small enough to check by hand (config "simple": no
-- stemming, no stop words).  Doc 5 is an empty text, which counts in N;
-- doc 6 has no text, which does not: N = 5.  Document frequencies: apple
-- 3, banana 2, cherry 2, durian 1.  tfidf = tf * ln(N / df):
--   doc 1 "apple apple banana":   apple 2 ln(5/3), banana ln(5/2)
--   doc 2 "apple cherry":         apple ln(5/3),   cherry ln(5/2)
--   doc 3 "banana cherry cherry": banana ln(5/2),  cherry 2 ln(5/2)
--   doc 4 "apple durian":         apple ln(5/3),   durian ln(5)
-- so, for instance, cos(doc 1, doc 2) = 2 ln(5/3)^2 /
--   (sqrt(4 ln(5/3)^2 + ln(5/2)^2) sqrt(ln(5/3)^2 + ln(5/2)^2)) = 0.362500.
CREATE TABLE ct_docs (item_id int, body text);
INSERT INTO ct_docs VALUES
	(1, 'apple apple banana'), (2, 'apple cherry'), (3, 'banana cherry cherry'),
	(4, 'apple durian'), (5, ''), (6, NULL);
CREATE TABLE ct_doc_events (user_id int, item_id int);
INSERT INTO ct_doc_events VALUES (1, 1), (2, 2), (2, 3);
SELECT recs_create_model('ct_tfidf', 'content', 'ct_doc_events',
	params => '{"item_table": "public.ct_docs",
				"features": {"body": {"type": "text", "config": "simple"}}}');
SELECT recs_train('ct_tfidf');

-- the hand-computed vectors and their cosines
CREATE TEMP TABLE ct_hand (item_id int, lexeme text, tfidf float8);
INSERT INTO ct_hand VALUES
	(1, 'apple', 2 * ln(5 / 3.0)), (1, 'banana', ln(5 / 2.0)),
	(2, 'apple', ln(5 / 3.0)), (2, 'cherry', ln(5 / 2.0)),
	(3, 'banana', ln(5 / 2.0)), (3, 'cherry', 2 * ln(5 / 2.0)),
	(4, 'apple', ln(5 / 3.0)), (4, 'durian', ln(5.0));
CREATE TEMP VIEW ct_hand_cos AS
WITH norms AS (SELECT item_id, sqrt(sum(tfidf * tfidf)) AS norm FROM ct_hand GROUP BY item_id)
SELECT a.item_id AS i, b.item_id AS j,
	sum(a.tfidf * b.tfidf) / (na.norm * nb.norm) AS cos
FROM ct_hand a JOIN ct_hand b ON a.lexeme = b.lexeme AND a.item_id <> b.item_id
JOIN norms na ON na.item_id = a.item_id JOIN norms nb ON nb.item_id = b.item_id
GROUP BY a.item_id, b.item_id, na.norm, nb.norm;
SELECT round(cos::numeric, 6) AS hand_cos_1_2 FROM ct_hand_cos WHERE i = 1 AND j = 2;

-- similar items of doc 1: exactly the hand values (docs sharing nothing
-- score 0; docs 5 and 6 have no vector and are not similar to anything)
SELECT s.item_id, round(s.score::numeric, 6) AS score,
	round(coalesce(h.cos, 0)::numeric, 6) AS by_hand
FROM recs_similar_items(1, 10, 'ct_tfidf') s
LEFT JOIN ct_hand_cos h ON h.i = 1 AND h.j = s.item_id ORDER BY s.rank;
-- every pair agrees with the hand computation
SELECT count(*) AS pairs, bool_and(abs(s.score - coalesce(h.cos, 0)) < 1e-6) AS all_match
FROM generate_series(1, 4) g(n) CROSS JOIN LATERAL recs_similar_items(g.n, 10, 'ct_tfidf') s
LEFT JOIN ct_hand_cos h ON h.i = g.n AND h.j = s.item_id;
-- an item without a vector has no similar items
SELECT count(*) FROM recs_similar_items(5, 10, 'ct_tfidf');

-- user 1's profile is doc 1: scores are the same cosines; docs without a
-- vector come from the popularity fallback
SELECT item_id, round(score::numeric, 6) AS score, rank, source FROM recs_topk(1, 10, 'ct_tfidf');
-- user 2's profile is the mean of docs 2 and 3; explain lists the shared
-- lexemes, which add up to the score
SELECT reason, evidence_item, round(weight::numeric, 6) AS weight FROM recs_explain(2, 1, 'ct_tfidf');
SELECT abs((SELECT sum(weight) FROM recs_explain(2, 1, 'ct_tfidf')) -
	(SELECT score FROM recs_topk(2, 10, 'ct_tfidf') WHERE item_id = 1)) < 1e-6 AS terms_sum_to_score;
-- a live history of a user the model does not know: the same profile
INSERT INTO ct_doc_events VALUES (9, 4);
SELECT item_id, round(score::numeric, 6) AS score, source FROM recs_topk(9, 2, 'ct_tfidf');

-- ---------------------------------------------------------------------
-- Every feature type on a small movies table whose id column is "movie".
-- Movie 5 has only NULLs; movie 6 has no interactions (catalogue only);
-- movie 7 is used but has no row.
CREATE TABLE ct_movies (movie int PRIMARY KEY, genre text, tags text[], plot text,
						year int, emb embedding);
INSERT INTO ct_movies VALUES
	(1, 'comedy', '{family,dog}', 'A dog runs', 1990, '[1, 0, 0]'),
	(2, 'comedy', '{family}', 'Dogs running home', 1995, '[1, 0.1, 0]'),
	(3, 'horror', '{gore}', 'A ghost haunts the house', 2010, '[0, 1, 0]'),
	(4, 'horror', '{gore,ghost}', 'Ghosts in the house', 2012, '[0, 1, 0.2]'),
	(5, NULL, NULL, NULL, NULL, NULL),
	(6, 'comedy', '{dog,dog}', 'dogs', 2020, '[0.9, 0, 0.1]');
CREATE TABLE ct_events (user_id int, item_id int, w real, at timestamptz);
INSERT INTO ct_events VALUES
	(1, 1, 1, '2024-01-01'), (1, 2, 1, '2024-01-02'),
	(2, 3, 1, '2024-01-01'), (2, 4, 1, '2024-01-02'),
	(3, 1, 1, '2024-01-01'), (3, 3, 1, '2024-03-01'),
	(4, 7, 1, '2024-01-01');

-- one model per feature type
SELECT recs_create_model('ct_' || t, 'content', 'ct_events',
	params => jsonb_build_object('item_table', 'public.ct_movies', 'item_id', 'movie',
								 'features', jsonb_build_object(c, t)))
FROM (VALUES ('categorical', 'genre'), ('tags', 'tags'), ('text', 'plot'),
			 ('numeric', 'year'), ('embedding', 'emb')) v(t, c);
SET client_min_messages = warning;
SELECT recs_train('ct_' || t)
FROM unnest(ARRAY['categorical', 'tags', 'text', 'numeric', 'embedding']) t;
RESET client_min_messages;

-- similar items of movie 1 under each; movie 6 (no interactions) is among them
SELECT t AS feature, string_agg(s.item_id || ':' || round(s.score::numeric, 4), ' '
	ORDER BY s.rank) AS similar_to_1
FROM unnest(ARRAY['categorical', 'tags', 'text', 'numeric', 'embedding']) t,
	recs_similar_items(1, 10, 'ct_' || t) s
GROUP BY t ORDER BY t;
-- categorical: one dim per value (comedy 1, 2, 6 alike);
-- tags: {family, dog} vs {family} or {dog, dog} (a tag counts once):
--   1 / sqrt(2) = 0.7071;
-- text (english, stemmed): "A dog runs" vs "Dogs running home" share dog and
--   run: with N = 5, df(dog) = 3, df(run) = 2, df(home) = 1, cos =
--   (ln(5/3)^2 + ln(5/2)^2) / (sqrt(ln(5/3)^2 + ln(5/2)^2)
--   sqrt(ln(5/3)^2 + ln(5/2)^2 + ln(5)^2))
SELECT round(((ln(5 / 3.0) ^ 2 + ln(2.5) ^ 2) /
	(sqrt(ln(5 / 3.0) ^ 2 + ln(2.5) ^ 2) * sqrt(ln(5 / 3.0) ^ 2 + ln(2.5) ^ 2 + ln(5.0) ^ 2)))::numeric, 4)
	AS text_cos_1_2_by_hand;
-- numeric: a single z-scored dim, so alone its cosine is only its sign
--   (years below the mean 2005.4 against those above); it is meant to be
--   combined with other features;
-- embedding: cos([1,0,0], [1,0.1,0]) = 1 / sqrt(1.01) = 0.9950.

-- all types together, weighted: genre counts double, year half
SELECT recs_create_model('ct_all', 'content', 'ct_events', weight_column => 'w',
	params => '{"item_table": "public.ct_movies", "item_id": "movie",
				"features": {"genre": {"type": "categorical", "weight": 2},
							 "tags": "tags", "plot": {"type": "text"},
							 "year": {"type": "numeric", "weight": 0.5},
							 "emb": {"type": "embedding", "weight": 1}}}');
SELECT recs_train('ct_all');
SELECT item_id, round(score::numeric, 4) AS score FROM recs_similar_items(1, 10, 'ct_all');
-- user 1 (comedies 1 and 2): movie 6, which nobody has used, comes first;
-- movie 5 and 7 have no features and come from the fallback
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(1, 10, 'ct_all');
-- user 2 (horror 3 and 4)
SELECT item_id, round(score::numeric, 4) AS score, source FROM recs_topk(2, 3, 'ct_all');
-- user 4 used only movie 7, which has no features: popularity alone
SELECT DISTINCT source FROM recs_topk(4, 3, 'ct_all');
-- why movie 6 for user 1: the shared features, heaviest first
SELECT reason, evidence_item, round(weight::numeric, 4) AS weight FROM recs_explain(1, 6, 'ct_all');
-- (the reasons are the positive terms of the cosine; here the years pull
-- the other way a little, so they add up to a bit more than the score)
SELECT round((SELECT sum(weight) FROM recs_explain(1, 6, 'ct_all'))::numeric, 4) AS reasons,
	round((SELECT score FROM recs_topk(1, 10, 'ct_all') WHERE item_id = 6)::numeric, 4) AS score;
-- nothing shared: the popularity explanation
SELECT reason FROM recs_explain(4, 6, 'ct_all');
SELECT count(*) AS rows, bool_and(users_evaluated > 0) AS evaluated,
	bool_and(hit_rate_at_k BETWEEN 0 AND 1) AS sane
FROM recs_evaluate('ct_all', 3);

-- ---------------------------------------------------------------------
-- Time decay: user 3 saw comedy 1 in January and horror 3 in March; with
-- a half-life of one day the profile is all horror
SELECT recs_create_model('ct_decay', 'content', 'ct_events', time_column => 'at',
	params => '{"item_table": "public.ct_movies", "item_id": "movie",
				"features": {"genre": "categorical"}, "half_life_days": 1}');
SELECT recs_train('ct_decay');
SELECT item_id, round(score::numeric, 4) AS score FROM recs_topk(3, 3, 'ct_decay');
-- without decay both genres weigh the same
SELECT item_id, round(score::numeric, 4) AS score FROM recs_topk(3, 3, 'ct_categorical');

-- ---------------------------------------------------------------------
-- Users with no interactions, from user features.  Ages 25, 60, 40: mean
-- 41.67; user 100 (26, fr) is nearest to user 1 (25, fr), whose profile
-- is comedy; user 101's row shares nothing with anyone; user 102 has no
-- row.
CREATE TABLE ct_users (user_id int, age int, country text);
INSERT INTO ct_users VALUES (1, 25, 'fr'), (2, 60, 'us'), (3, 40, 'fr'),
	(100, 26, 'fr'), (101, NULL, 'jp');
SELECT recs_create_model('ct_cold', 'content', 'ct_events',
	params => '{"item_table": "public.ct_movies", "item_id": "movie",
				"features": {"genre": "categorical", "tags": "tags"},
				"user_table": "public.ct_users",
				"user_features": {"age": "numeric", "country": {"type": "categorical"}},
				"user_neighbours": 1}');
SELECT recs_train('ct_cold');
-- (expected/content_1.out is this file's output where recs_topk does not yet
-- run the "user_features" step of the cold-start chain: delete it then)
SELECT item_id, round(score::numeric, 4) AS score, rank, source FROM recs_topk(100, 4, 'ct_cold');
SELECT DISTINCT source FROM recs_topk(101, 3, 'ct_cold');
SELECT DISTINCT source FROM recs_topk(102, 3, 'ct_cold');
-- a user the model knows is served from their own profile as usual
SELECT DISTINCT source FROM recs_topk(1, 2, 'ct_cold');

-- Table names in params are looked up with the caller's search_path and
-- stored schema-qualified, so training (here, and in the worker) finds the
-- same table whatever its own search_path.
CREATE SCHEMA ct_hidden;
CREATE TABLE ct_hidden.ct_hidden_movies AS SELECT * FROM ct_movies;
SET search_path = ct_hidden, public;
SELECT recs_create_model('ct_path', 'content', 'ct_events',
	params => '{"item_table": "ct_hidden_movies", "item_id": "movie", "features": {"genre": "categorical"}}');
RESET search_path;
SELECT params->>'item_table' AS item_table, item_features::text AS catalogue
FROM recs.models WHERE name = 'ct_path';
SELECT recs_train('ct_path') > 0 AS trained;
SELECT recs_drop_model('ct_path');

-- ---------------------------------------------------------------------
-- Bad params: each with its SQLSTATE, message and hint.
CREATE FUNCTION ct_try(p jsonb, time_col name DEFAULT NULL)
	RETURNS TABLE (state text, message text, hint text)
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM recs_create_model('ct_bad', 'content', 'ct_events', time_column => time_col,
							  params => p);
	PERFORM recs_drop_model('ct_bad');
	RETURN QUERY SELECT 'ok', NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END
$$;
\pset format unaligned
SELECT label, t.* FROM (VALUES
	('no item_table', '{"features": {"genre": "categorical"}}'),
	('no features', '{"item_table": "public.ct_movies", "item_id": "movie"}'),
	('features not an object', '{"item_table": "public.ct_movies", "item_id": "movie", "features": ["genre"]}'),
	('no feature', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {}}'),
	('no such table', '{"item_table": "public.ct_nope", "features": {"genre": "categorical"}}'),
	('table not on search_path', '{"item_table": "ct_hidden_movies", "features": {"genre": "categorical"}}'),
	('id column of type text', '{"item_table": "public.ct_movies", "item_id": "genre", "features": {"tags": "tags"}}'),
	('no such id column', '{"item_table": "public.ct_movies", "features": {"genre": "categorical"}}'),
	('no such feature column', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genres": "categorical"}}'),
	('unknown type', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "category"}}'),
	('no type', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"weight": 1}}}'),
	('feature a number', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": 1}}'),
	('unknown feature key', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"type": "categorical", "wieght": 1}}}'),
	('tags on text', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "tags"}}'),
	('text on int', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"year": "text"}}'),
	('numeric on text', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "numeric"}}'),
	('embedding on text', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"plot": "embedding"}}'),
	('categorical on array', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"tags": "categorical"}}'),
	('negative weight', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"type": "categorical", "weight": -1}}}'),
	('weight not a number', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"type": "categorical", "weight": "2"}}}'),
	('all weights zero', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"type": "categorical", "weight": 0}, "year": {"type": "numeric", "weight": 0}}}'),
	('unknown config', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"plot": {"type": "text", "config": "klingon"}}}'),
	('config on categorical', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": {"type": "categorical", "config": "simple"}}}'),
	('half_life_days without time', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "half_life_days": 7}'),
	('unknown param', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "neighbours": 5}'),
	('user_table alone', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users"}'),
	('user_features alone', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_features": {"age": "numeric"}}'),
	('user_neighbours alone', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_neighbours": 5}'),
	('no such user table', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_nope", "user_features": {"age": "numeric"}}'),
	('no such user column', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users", "user_features": {"height": "numeric"}}'),
	('user feature of type text', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users", "user_features": {"country": "text"}}'),
	('user numeric on text', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users", "user_features": {"country": "numeric"}}'),
	('user weights zero', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users", "user_features": {"age": {"type": "numeric", "weight": 0}}}'),
	('user_neighbours zero', '{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "user_table": "public.ct_users", "user_features": {"age": "numeric"}, "user_neighbours": 0}')
	) v(label, p), ct_try(v.p::jsonb) t;
SELECT 'half_life_days <= 0' AS label, t.* FROM ct_try('{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "half_life_days": 0}', 'at') t;
SELECT 'half_life_days with time' AS label, t.* FROM ct_try('{"item_table": "public.ct_movies", "item_id": "movie", "features": {"genre": "categorical"}, "half_life_days": 7}', 'at') t;
\pset format aligned

-- embeddings of different dimensions fail at training, not silently
CREATE TABLE ct_bad_emb (item_id int, e embedding);
INSERT INTO ct_bad_emb VALUES (1, '[1, 2]'), (2, '[1, 2, 3]');
SELECT recs_create_model('ct_bad_emb', 'content', 'ct_doc_events',
	params => '{"item_table": "public.ct_bad_emb", "features": {"e": "embedding"}}');
SELECT recs_train('ct_bad_emb');
-- the item table dropped after creation: a clear error at training
CREATE TABLE ct_gone (item_id int, g text);
SELECT recs_create_model('ct_gone', 'content', 'ct_doc_events',
	params => '{"item_table": "public.ct_gone", "features": {"g": "categorical"}}');
DROP TABLE ct_gone;
SELECT recs_train('ct_gone');

SELECT recs_drop_model(name) FROM recs.models WHERE name LIKE 'ct\_%' ORDER BY name;
DROP TABLE ct_docs, ct_doc_events, ct_movies, ct_events, ct_users, ct_bad_emb;
DROP SCHEMA ct_hidden CASCADE;
DROP FUNCTION ct_try(jsonb, name);
