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
