-- Text input and output of embedding, and the embedding(n) type modifier.

-- accepted forms: spaces anywhere between tokens, exponents, signs
SELECT '[1,2,3]'::embedding;
SELECT ' [ 1 , 2.5 ,-3 ] '::embedding;
SELECT E'[\t1,\n2]'::embedding;
SELECT '[1e3, -2.5E-2, +4, .5, 5.]'::embedding;
SELECT '[0, -0]'::embedding;
-- output is the shortest text that reads back to the same float4
SELECT '[0.1, 3.4028235e38, -1.17549435e-38, 1.4e-45]'::embedding;
SELECT '[0.1]'::embedding::text::embedding = '[0.1]'::embedding AS round_trips;
-- values below float4's range flush towards zero, as real does
SELECT '[1e-50]'::embedding;

-- malformed text
SELECT ''::embedding;
SELECT '1,2,3'::embedding;
SELECT '[1,2,3'::embedding;
SELECT '[1,2,3]]'::embedding;
SELECT '[1,2,3] x'::embedding;
SELECT '[1,,2]'::embedding;
SELECT '[1,2,]'::embedding;
SELECT '[,1]'::embedding;
SELECT '[1 2]'::embedding;
SELECT '[a]'::embedding;
SELECT '[1,b]'::embedding;
SELECT '[1e]'::embedding;
SELECT '{1,2}'::embedding;
SELECT '['::embedding;

-- empty, non-finite and overflowing values
SELECT '[]'::embedding;
SELECT '[ ]'::embedding;
SELECT '[NaN]'::embedding;
SELECT '[1,nan]'::embedding;
SELECT '[Infinity]'::embedding;
SELECT '[-inf]'::embedding;
SELECT '[1e39]'::embedding;
SELECT '[-4e38]'::embedding;

-- dimension limits: 16000 is the most, 16001 is refused
SELECT recs_dims(('[' || repeat('1,', 15999) || '1]')::embedding);
SELECT ('[' || repeat('1,', 16000) || '1]')::embedding;

-- type modifier
CREATE TABLE emb3 (id int, e embedding(3));
INSERT INTO emb3 VALUES (1, '[1,2,3]');
INSERT INTO emb3 VALUES (2, '[1,2]');
INSERT INTO emb3 VALUES (3, '[1,2,3,4]');
SELECT '[1,2]'::embedding(2);
SELECT '[1,2]'::embedding(3);
SELECT '[1,2]'::embedding::embedding(3);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'emb3'::regclass AND attname = 'e';
-- assignment through UPDATE is checked too
UPDATE emb3 SET e = '[1,2]' WHERE id = 1;
SELECT * FROM emb3;

-- bad type modifiers
SELECT '[1]'::embedding(0);
SELECT '[1]'::embedding(-1);
SELECT '[1]'::embedding(16001);
SELECT '[1]'::embedding(2, 3);
SELECT '[1]'::embedding('a');
CREATE TABLE emb_bad (e embedding(16000));
DROP TABLE emb_bad;

DROP TABLE emb3;
