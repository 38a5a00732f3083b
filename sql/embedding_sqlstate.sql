-- Every class of bad input fails with the SQLSTATE an application can
-- branch on (the messages themselves are checked in the other files).

CREATE FUNCTION sqlstate_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;

SELECT sqlstate_of(stmt) AS sqlstate, stmt
FROM (VALUES
	-- accepted, as a control
	($$SELECT '[1,2]'::embedding$$),
	-- 22P02 invalid_text_representation
	($$SELECT '[1,x]'::embedding$$),
	($$SELECT '1,2'::embedding$$),
	($$SELECT '[1,2'::embedding$$),
	-- 22000 data_exception: empty, non-finite, dimension mismatches
	($$SELECT '[]'::embedding$$),
	($$SELECT '[NaN]'::embedding$$),
	($$SELECT '[inf]'::embedding$$),
	($$SELECT ARRAY['NaN']::float8[]::embedding$$),
	($$SELECT ARRAY[[1],[2]]::embedding$$),
	($$SELECT '[1,2]'::embedding(3)$$),
	($$SELECT '[1]'::embedding <-> '[1,2]'$$),
	($$SELECT sum(e) FROM (VALUES ('[1]'::embedding), ('[1,2]')) v(e)$$),
	-- 22003 numeric_value_out_of_range
	($$SELECT '[1e39]'::embedding$$),
	($$SELECT ARRAY[1e39]::float8[]::embedding$$),
	($$SELECT ARRAY[1e400]::numeric[]::embedding$$),
	($$SELECT '[3e38]'::embedding + '[3e38]'$$),
	($$SELECT '[3e9]'::embedding::int[]$$),
	-- 22004 null_value_not_allowed
	($$SELECT ARRAY[1,NULL]::embedding$$),
	-- 54000 program_limit_exceeded
	($$SELECT array_fill(1, ARRAY[16001])::embedding$$),
	($$SELECT ('[' || repeat('0,', 16000) || '0]')::embedding$$),
	-- 22023 invalid_parameter_value (type modifier)
	($$SELECT '[1]'::embedding(0)$$),
	($$SELECT '[1]'::embedding(1, 2)$$)
) v(stmt);

-- binary input failures are 22P03 invalid_binary_representation
CREATE TABLE bin (e embedding);
CREATE FUNCTION copy_file_with_field(field bytea) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo oid;
BEGIN
	lo := lo_from_bytea(0, '\x5047434f50590aff0d0a000000000000000000'::bytea
		|| '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea);
	PERFORM lo_export(lo, 'recs_embedding_sqlstate.copy');
	PERFORM lo_unlink(lo);
END
$$;
SELECT field, sqlstate_of($$COPY bin FROM 'recs_embedding_sqlstate.copy' (FORMAT binary)$$) AS sqlstate
FROM (VALUES ('\x00'::bytea), ('\x000100013f800000'), ('\x000300003f800000'), ('\x000100003f80000000')) v(field),
LATERAL copy_file_with_field(field);

DROP TABLE bin;
DROP FUNCTION copy_file_with_field(bytea);
DROP FUNCTION sqlstate_of(text);
