-- Soft input errors: pg_input_is_valid() and pg_input_error_info() exist
-- from PostgreSQL 16.  On 15 they do not (expected/embedding_soft_errors_1.out).

SELECT pg_input_is_valid('[1,2,3]', 'embedding');
SELECT pg_input_is_valid('[1,2', 'embedding');
SELECT pg_input_is_valid('[]', 'embedding');
SELECT pg_input_is_valid('[NaN]', 'embedding');
SELECT pg_input_is_valid('[1e39]', 'embedding');
SELECT pg_input_is_valid('[1,2]', 'embedding(3)');
SELECT pg_input_is_valid('[1,2,3]', 'embedding(3)');
SELECT * FROM pg_input_error_info('[1,x]', 'embedding');
SELECT * FROM pg_input_error_info('[inf]', 'embedding');
SELECT * FROM pg_input_error_info('[1,2]', 'embedding(3)');
