-- Distance operators, similarity functions, arithmetic and comparison.

-- distances and similarities on small exact cases
SELECT '[0,0]'::embedding <-> '[3,4]' AS l2,
       '[1,2,3]'::embedding <#> '[4,5,6]' AS neg_ip,
       '[1,0]'::embedding <=> '[0,1]' AS cos_orthogonal,
       '[1,1]'::embedding <=> '[2,2]' AS cos_parallel,
       '[1,1]'::embedding <=> '[-1,-1]' AS cos_opposite;
SELECT recs_l2_distance('[1,1,1,1]', '[2,2,2,2]') AS l2,
       recs_dot('[1,2,3]', '[4,5,6]') AS dot,
       round(recs_cosine_similarity('[1,2,3]', '[4,5,6]')::numeric, 6) AS cos,
       recs_cosine_similarity('[1,2]', '[-1,-2]') AS cos_opposite,
       recs_norm('[3,4]') AS norm,
       recs_normalize('[3,4]') AS unit,
       recs_dims('[1,2,3,4,5]') AS dims;
-- operators and functions agree, whatever the argument order
SELECT ('[1,2,3]'::embedding <-> '[3,1,2]') = recs_l2_distance('[3,1,2]', '[1,2,3]') AS l2_sym,
       ('[1,2,3]'::embedding <#> '[3,1,2]') = -recs_dot('[3,1,2]', '[1,2,3]') AS ip_sym,
       ('[1,2,3]'::embedding <=> '[3,1,2]') = 1 - recs_cosine_similarity('[3,1,2]', '[1,2,3]') AS cos_sym;

-- zero vectors: cosine similarity 0 (distance 1), normalize leaves them alone
SELECT recs_cosine_similarity('[0,0]', '[1,2]') AS sim,
       '[0,0]'::embedding <=> '[1,2]' AS dist,
       '[0,0]'::embedding <=> '[0,0]' AS dist_both,
       recs_normalize('[0,0,0]') AS normalized,
       recs_norm('[0,0]') AS norm;
-- cosine stays within [-1, 1] despite rounding
SELECT recs_cosine_similarity('[0.1,0.2,0.3]', '[0.1,0.2,0.3]') <= 1 AS clamped,
       '[0.3,0.1]'::embedding <=> '[0.3,0.1]' >= 0 AS nonnegative;
-- a normalized vector has norm 1
SELECT abs(recs_norm(recs_normalize('[1,2,3,4,5,6,7]')) - 1) < 1e-6 AS unit_norm;
-- large norms do not overflow in float8
SELECT recs_norm('[3e38,3e38]') > 4e38 AS big_norm;

-- arithmetic
SELECT '[1,2,3]'::embedding + '[4,5,6]' AS sum,
       '[1,2,3]'::embedding - '[4,5,6]' AS diff,
       '[1,2,3]'::embedding * '[4,5,6]' AS prod;
SELECT '[3e38]'::embedding + '[3e38]';
SELECT '[-3e38]'::embedding - '[3e38]';
SELECT '[1e20,1]'::embedding * '[1e20,1]';
SELECT '[1e-30]'::embedding * '[1e-30]' AS underflow_to_zero;

-- dimension mismatch, for every binary operator and function
SELECT '[1,2]'::embedding <-> '[1,2,3]';
SELECT '[1,2]'::embedding <#> '[1,2,3]';
SELECT '[1,2]'::embedding <=> '[1,2,3]';
SELECT '[1,2]'::embedding + '[1,2,3]';
SELECT '[1,2]'::embedding - '[1,2,3]';
SELECT '[1,2]'::embedding * '[1,2,3]';
SELECT recs_dot('[1,2]', '[1,2,3]');
SELECT recs_l2_distance('[1,2]', '[1,2,3]');
SELECT recs_cosine_similarity('[1,2]', '[1,2,3]');

-- NULL in, NULL out
SELECT NULL::embedding <-> '[1]' IS NULL AS null_l2, recs_norm(NULL) IS NULL AS null_norm;

-- comparison: element by element, then shorter first; -0 equals 0
SELECT '[1,2]'::embedding < '[1,3]' AS lt, '[1,2]'::embedding < '[1,2,0]' AS shorter_first,
       '[2]'::embedding > '[1,9]' AS gt, '[1,2]'::embedding <= '[1,2]' AS le,
       '[1,2]'::embedding >= '[1,2]' AS ge, '[0,-0]'::embedding = '[-0,0]' AS zeros_equal,
       '[1,2]'::embedding <> '[1,2]' AS ne, '[1,2]'::embedding = '[1,2,3]' AS eq_diff_dims;
SELECT embedding_cmp('[1,2]', '[1,3]'), embedding_cmp('[1,3]', '[1,2]'), embedding_cmp('[1,2]', '[1,2]');
SELECT embedding_hash('[0,1]') = embedding_hash('[-0,1]') AS hash_ignores_zero_sign,
       embedding_hash('[1,2]') <> embedding_hash('[2,1]') AS hash_sees_order;

-- DISTINCT, GROUP BY, ORDER BY and UNIQUE, by sorting and by hashing
CREATE TABLE cmp_t (id int, e embedding);
INSERT INTO cmp_t VALUES (1, '[1,2]'), (2, '[1,2]'), (3, '[0,5]'), (4, '[1,2,0]'),
	(5, '[-0,5]'), (6, '[3]'), (7, '[1,2]');
SET enable_hashagg = off;
SELECT e, count(*) FROM cmp_t GROUP BY e ORDER BY e;
SELECT DISTINCT e FROM cmp_t ORDER BY e DESC;
RESET enable_hashagg;
SET enable_sort = off;
SELECT e, count(*) FROM cmp_t GROUP BY e ORDER BY count(*) DESC, min(id);
RESET enable_sort;
EXPLAIN (COSTS OFF) SELECT e, count(*) FROM cmp_t GROUP BY e;
-- hash join on embedding equality
SET enable_mergejoin = off;
SET enable_nestloop = off;
SELECT a.id, b.id FROM cmp_t a JOIN cmp_t b ON a.e = b.e WHERE a.id < b.id ORDER BY 1, 2;
RESET enable_mergejoin;
RESET enable_nestloop;
CREATE UNIQUE INDEX cmp_t_e ON cmp_t (e);
DELETE FROM cmp_t WHERE id IN (2, 5, 7);
CREATE UNIQUE INDEX cmp_t_e ON cmp_t (e);
INSERT INTO cmp_t VALUES (8, '[0,5]');
INSERT INTO cmp_t VALUES (9, '[0,-5]');
DROP TABLE cmp_t;

-- nearest neighbours in SQL
CREATE TABLE nn (id int, e embedding(2));
INSERT INTO nn VALUES (1, '[0,0]'), (2, '[1,1]'), (3, '[5,5]'), (4, '[-1,0.5]'), (5, '[10,-10]');
SELECT id, round((e <-> '[1,0]')::numeric, 4) AS dist FROM nn ORDER BY e <-> '[1,0]', id LIMIT 3;
SELECT id FROM nn ORDER BY e <#> '[1,0]', id LIMIT 3;
SELECT id FROM nn ORDER BY e <=> '[1,0]', id LIMIT 3;
DROP TABLE nn;

-- the kernels handle every length, including loop tails: compare with a
-- float8 computation in SQL for dims 1..67 and a long vector
CREATE TEMP TABLE pairs AS
SELECT d, array_agg(sin(i * 1.3 + d))::real[] AS a, array_agg(cos(i * 0.7 - d))::real[] AS b
FROM generate_series(1, 67) d, generate_series(1, d) i GROUP BY d
UNION ALL
SELECT 16000, array_agg(sin(i * 1.3))::real[], array_agg(cos(i * 0.7))::real[]
FROM generate_series(1, 16000) i;
CREATE TEMP VIEW reference AS
SELECT d, a::embedding AS ea, b::embedding AS eb,
	(SELECT sum(x::float8 * y::float8) FROM unnest(a, b) u(x, y)) AS dot,
	(SELECT sqrt(sum((x::float8 - y::float8) ^ 2)) FROM unnest(a, b) u(x, y)) AS l2,
	(SELECT sum(x::float8 * y::float8) / sqrt(sum(x::float8 ^ 2) * sum(y::float8 ^ 2)) FROM unnest(a, b) u(x, y)) AS cos
FROM pairs;
-- each kernel build this CPU supports must agree with the reference
DO $$
DECLARE
	kernel text;
	bad int;
BEGIN
	FOREACH kernel IN ARRAY ARRAY['portable', 'avx2', 'avx512', 'auto'] LOOP
		BEGIN
			PERFORM set_config('recs.vector_kernels', kernel, true);
		EXCEPTION WHEN feature_not_supported THEN
			CONTINUE;
		END;
		SELECT count(*) INTO bad FROM reference
		WHERE abs(recs_dot(ea, eb) - dot) > 1e-4 * greatest(1, abs(dot))
		   OR abs((ea <-> eb) - l2) > 1e-4 * greatest(1, l2)
		   OR abs(recs_cosine_similarity(ea, eb) - cos) > 1e-4;
		IF bad > 0 THEN
			RAISE EXCEPTION 'kernel % disagrees with the reference on % pairs', kernel, bad;
		END IF;
	END LOOP;
END
$$;
SELECT count(*) AS pairs_checked FROM reference;

-- the kernel setting: shown, settable, validated
SET recs.vector_kernels = 'portable';
SHOW recs.vector_kernels;
SELECT '[1,2,3]'::embedding <-> '[4,6,8]' AS l2_portable;
RESET recs.vector_kernels;
SELECT current_setting('recs.vector_kernels') LIKE 'auto (%)' AS auto_shows_choice;
SET recs.vector_kernels = 'sse9';
