--
-- The embedding type: a dense float4 vector (1 to 16000 dimensions).
--

CREATE TYPE embedding;

CREATE FUNCTION embedding_in(cstring, oid, integer) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_out(embedding) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_recv(internal, oid, integer) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_send(embedding) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_typmod_out(integer) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE embedding (
	INPUT = embedding_in,
	OUTPUT = embedding_out,
	RECEIVE = embedding_recv,
	SEND = embedding_send,
	TYPMOD_IN = embedding_typmod_in,
	TYPMOD_OUT = embedding_typmod_out,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	-- float payloads do not compress; keep them out of line uncompressed
	STORAGE = external
);
COMMENT ON TYPE embedding IS 'dense vector of float4, up to 16000 dimensions; embedding(n) fixes the dimension count';

COMMENT ON FUNCTION embedding_in(cstring, oid, integer) IS 'text input for embedding: ''[1, 2.5, -3e-2]''';
COMMENT ON FUNCTION embedding_out(embedding) IS 'text output for embedding';
COMMENT ON FUNCTION embedding_recv(internal, oid, integer) IS 'binary input for embedding';
COMMENT ON FUNCTION embedding_send(embedding) IS 'binary output for embedding';
COMMENT ON FUNCTION embedding_typmod_in(cstring[]) IS 'type modifier input for embedding(n)';
COMMENT ON FUNCTION embedding_typmod_out(integer) IS 'type modifier output for embedding(n)';

-- length coercion to embedding(n), named after the type as PostgreSQL does
CREATE FUNCTION embedding(embedding, integer, boolean) RETURNS embedding
	AS 'MODULE_PATHNAME', 'embedding_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION embedding(embedding, integer, boolean) IS 'check an embedding against the dimension count of embedding(n)';
CREATE CAST (embedding AS embedding)
	WITH FUNCTION embedding(embedding, integer, boolean) AS IMPLICIT;
COMMENT ON CAST (embedding AS embedding) IS 'enforces the dimension count of embedding(n)';

-- Casts from and to arrays

CREATE FUNCTION array_to_embedding(integer[], integer, boolean) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_embedding(real[], integer, boolean) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_embedding(double precision[], integer, boolean) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_embedding(numeric[], integer, boolean) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION array_to_embedding(integer[], integer, boolean) IS 'cast integer[] to embedding';
COMMENT ON FUNCTION array_to_embedding(real[], integer, boolean) IS 'cast real[] to embedding';
COMMENT ON FUNCTION array_to_embedding(double precision[], integer, boolean) IS 'cast double precision[] to embedding';
COMMENT ON FUNCTION array_to_embedding(numeric[], integer, boolean) IS 'cast numeric[] to embedding';

CREATE FUNCTION embedding_to_float4_array(embedding) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_to_float8_array(embedding) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_to_numeric_array(embedding) RETURNS numeric[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_to_int4_array(embedding) RETURNS integer[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION embedding_to_float4_array(embedding) IS 'cast embedding to real[] (exact)';
COMMENT ON FUNCTION embedding_to_float8_array(embedding) IS 'cast embedding to double precision[] (exact)';
COMMENT ON FUNCTION embedding_to_numeric_array(embedding) IS 'cast embedding to numeric[] (shortest exact decimal of each element)';
COMMENT ON FUNCTION embedding_to_int4_array(embedding) IS 'cast embedding to integer[] (rounds; fails when out of range)';

-- Arrays convert on assignment, so INSERT ... VALUES (ARRAY[...]) works.
CREATE CAST (integer[] AS embedding)
	WITH FUNCTION array_to_embedding(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS embedding)
	WITH FUNCTION array_to_embedding(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS embedding)
	WITH FUNCTION array_to_embedding(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS embedding)
	WITH FUNCTION array_to_embedding(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (embedding AS real[])
	WITH FUNCTION embedding_to_float4_array(embedding) AS ASSIGNMENT;
CREATE CAST (embedding AS double precision[])
	WITH FUNCTION embedding_to_float8_array(embedding) AS ASSIGNMENT;
-- lossy or costly conversions only when asked for
CREATE CAST (embedding AS numeric[])
	WITH FUNCTION embedding_to_numeric_array(embedding);
CREATE CAST (embedding AS integer[])
	WITH FUNCTION embedding_to_int4_array(embedding);
COMMENT ON CAST (integer[] AS embedding) IS 'one-dimensional, non-empty, no NULLs';
COMMENT ON CAST (real[] AS embedding) IS 'one-dimensional, non-empty, no NULLs, finite values';
COMMENT ON CAST (double precision[] AS embedding) IS 'one-dimensional, non-empty, no NULLs, finite values within real''s range';
COMMENT ON CAST (numeric[] AS embedding) IS 'one-dimensional, non-empty, no NULLs, finite values within real''s range';
COMMENT ON CAST (embedding AS real[]) IS 'exact';
COMMENT ON CAST (embedding AS double precision[]) IS 'exact';
COMMENT ON CAST (embedding AS numeric[]) IS 'shortest decimal that reads back as the same real';
COMMENT ON CAST (embedding AS integer[]) IS 'rounds to nearest; fails when a value does not fit';

-- Functions

CREATE FUNCTION recs_dims(embedding) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recs_norm(embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recs_normalize(embedding) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recs_dot(embedding, embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recs_l2_distance(embedding, embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recs_cosine_similarity(embedding, embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_dims(embedding) IS 'number of dimensions';
COMMENT ON FUNCTION recs_norm(embedding) IS 'Euclidean (L2) norm';
COMMENT ON FUNCTION recs_normalize(embedding) IS 'scaled to unit L2 norm (a zero vector stays zero)';
COMMENT ON FUNCTION recs_dot(embedding, embedding) IS 'inner product';
COMMENT ON FUNCTION recs_l2_distance(embedding, embedding) IS 'Euclidean (L2) distance';
COMMENT ON FUNCTION recs_cosine_similarity(embedding, embedding) IS 'cosine similarity in [-1, 1]; 0 when either vector is zero';

CREATE FUNCTION embedding_negative_inner_product(embedding, embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_cosine_distance(embedding, embedding) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_add(embedding, embedding) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_sub(embedding, embedding) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_mul(embedding, embedding) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION embedding_negative_inner_product(embedding, embedding) IS 'negative inner product (operator <#>)';
COMMENT ON FUNCTION embedding_cosine_distance(embedding, embedding) IS 'cosine distance, 1 - cosine similarity (operator <=>)';
COMMENT ON FUNCTION embedding_add(embedding, embedding) IS 'element-wise sum (operator +)';
COMMENT ON FUNCTION embedding_sub(embedding, embedding) IS 'element-wise difference (operator -)';
COMMENT ON FUNCTION embedding_mul(embedding, embedding) IS 'element-wise product (operator *)';

-- Distance and arithmetic operators

CREATE OPERATOR <-> (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = recs_l2_distance,
	COMMUTATOR = '<->'
);
CREATE OPERATOR <#> (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_negative_inner_product,
	COMMUTATOR = '<#>'
);
CREATE OPERATOR <=> (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_cosine_distance,
	COMMUTATOR = '<=>'
);
CREATE OPERATOR + (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_add,
	COMMUTATOR = +
);
CREATE OPERATOR - (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_sub
);
CREATE OPERATOR * (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_mul,
	COMMUTATOR = *
);
COMMENT ON OPERATOR <->(embedding, embedding) IS 'L2 distance';
COMMENT ON OPERATOR <#>(embedding, embedding) IS 'negative inner product (smaller is more similar)';
COMMENT ON OPERATOR <=>(embedding, embedding) IS 'cosine distance';
COMMENT ON OPERATOR +(embedding, embedding) IS 'element-wise sum';
COMMENT ON OPERATOR -(embedding, embedding) IS 'element-wise difference';
COMMENT ON OPERATOR *(embedding, embedding) IS 'element-wise product';

-- Comparison, for DISTINCT, GROUP BY, ORDER BY, UNIQUE and hash joins

CREATE FUNCTION embedding_lt(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_le(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_eq(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_ne(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_ge(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_gt(embedding, embedding) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_cmp(embedding, embedding) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_hash(embedding) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION embedding_lt(embedding, embedding) IS 'less than, element by element (operator <)';
COMMENT ON FUNCTION embedding_le(embedding, embedding) IS 'less than or equal (operator <=)';
COMMENT ON FUNCTION embedding_eq(embedding, embedding) IS 'equal, element by element (operator =)';
COMMENT ON FUNCTION embedding_ne(embedding, embedding) IS 'not equal (operator <>)';
COMMENT ON FUNCTION embedding_ge(embedding, embedding) IS 'greater than or equal (operator >=)';
COMMENT ON FUNCTION embedding_gt(embedding, embedding) IS 'greater than (operator >)';
COMMENT ON FUNCTION embedding_cmp(embedding, embedding) IS 'btree comparison: element by element, then shorter first';
COMMENT ON FUNCTION embedding_hash(embedding) IS 'hash consistent with =';

CREATE OPERATOR < (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_lt,
	COMMUTATOR = >, NEGATOR = >=,
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_le,
	COMMUTATOR = >=, NEGATOR = >,
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR = (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_eq,
	COMMUTATOR = =, NEGATOR = <>,
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_ne,
	COMMUTATOR = <>, NEGATOR = =,
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR >= (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_ge,
	COMMUTATOR = <=, NEGATOR = <,
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);
CREATE OPERATOR > (
	LEFTARG = embedding, RIGHTARG = embedding, FUNCTION = embedding_gt,
	COMMUTATOR = <, NEGATOR = <=,
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
COMMENT ON OPERATOR <(embedding, embedding) IS 'less than';
COMMENT ON OPERATOR <=(embedding, embedding) IS 'less than or equal';
COMMENT ON OPERATOR =(embedding, embedding) IS 'equal';
COMMENT ON OPERATOR <>(embedding, embedding) IS 'not equal';
COMMENT ON OPERATOR >=(embedding, embedding) IS 'greater than or equal';
COMMENT ON OPERATOR >(embedding, embedding) IS 'greater than';

CREATE OPERATOR CLASS embedding_ops
	DEFAULT FOR TYPE embedding USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 embedding_cmp(embedding, embedding);
COMMENT ON OPERATOR CLASS embedding_ops USING btree IS 'total order on embeddings, for sorting and uniqueness';
COMMENT ON OPERATOR FAMILY embedding_ops USING btree IS 'total order on embeddings';

CREATE OPERATOR CLASS embedding_ops
	DEFAULT FOR TYPE embedding USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 embedding_hash(embedding);
COMMENT ON OPERATOR CLASS embedding_ops USING hash IS 'hashing for hash aggregation and hash joins';
COMMENT ON OPERATOR FAMILY embedding_ops USING hash IS 'hashing consistent with embedding equality';

-- Aggregates

CREATE FUNCTION embedding_accum(internal, embedding) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION embedding_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION embedding_agg_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_agg_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embedding_sum_final(internal) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION embedding_avg_final(internal) RETURNS embedding
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION embedding_accum(internal, embedding) IS 'transition function of sum(embedding) and avg(embedding)';
COMMENT ON FUNCTION embedding_combine(internal, internal) IS 'combine function of sum(embedding) and avg(embedding)';
COMMENT ON FUNCTION embedding_agg_serialize(internal) IS 'serialize function of sum(embedding) and avg(embedding)';
COMMENT ON FUNCTION embedding_agg_deserialize(bytea, internal) IS 'deserialize function of sum(embedding) and avg(embedding)';
COMMENT ON FUNCTION embedding_sum_final(internal) IS 'final function of sum(embedding)';
COMMENT ON FUNCTION embedding_avg_final(internal) IS 'final function of avg(embedding)';

CREATE AGGREGATE sum(embedding) (
	SFUNC = embedding_accum,
	STYPE = internal,
	FINALFUNC = embedding_sum_final,
	COMBINEFUNC = embedding_combine,
	SERIALFUNC = embedding_agg_serialize,
	DESERIALFUNC = embedding_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE avg(embedding) (
	SFUNC = embedding_accum,
	STYPE = internal,
	FINALFUNC = embedding_avg_final,
	COMBINEFUNC = embedding_combine,
	SERIALFUNC = embedding_agg_serialize,
	DESERIALFUNC = embedding_agg_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE sum(embedding) IS 'element-wise sum (float8 accumulation)';
COMMENT ON AGGREGATE avg(embedding) IS 'element-wise mean (float8 accumulation)';
