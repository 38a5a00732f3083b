/*
 * embedding.c
 *		The embedding type's storage helpers, validators, text and binary I/O
 *		and typmod support.
 *
 * Every path that creates an embedding from outside data (text input, binary
 * receive, casts, typmod coercion) goes through the Check* validators below,
 * so the invariants hold for every stored value: 1 <= dim <= 16000, the
 * reserved field is zero, and no element is NaN or infinite.  Operators and
 * kernels rely on those invariants and do not re-check them.
 *
 * Input functions report bad input with ereturn() so that, on servers with
 * soft errors (16+), pg_input_is_valid() works without a subtransaction.
 */
#include "postgres.h"

#include <math.h>

#include "compat.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "types/embedding.h"

PG_FUNCTION_INFO_V1(embedding_in);
PG_FUNCTION_INFO_V1(embedding_out);
PG_FUNCTION_INFO_V1(embedding_recv);
PG_FUNCTION_INFO_V1(embedding_send);
PG_FUNCTION_INFO_V1(embedding_typmod_in);
PG_FUNCTION_INFO_V1(embedding_typmod_out);
PG_FUNCTION_INFO_V1(embedding_coerce);

/*
 * Allocate a zeroed embedding of dim elements.  The caller has validated dim.
 */
Embedding *
InitEmbedding(int dim)
{
	Size		size = RECS_EMBEDDING_SIZE(dim);
	Embedding  *result = (Embedding *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

void
CheckEmbeddingDim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("embedding must have at least 1 dimension")));
	if (dim > RECS_EMBEDDING_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("embedding cannot have more than %d dimensions",
						RECS_EMBEDDING_MAX_DIM)));
}

void
CheckEmbeddingElement(float4 value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in embedding")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in embedding")));
}

void
CheckEmbeddingDimsMatch(const Embedding *a, const Embedding *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different embedding dimensions %d and %d",
						a->dim, b->dim)));
}

void
CheckEmbeddingTypmod(int typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/*
 * Narrow a float8 to an element, rejecting values float4 cannot hold.
 * Values below float4's range round towards zero, as float8 -> real does.
 */
float4
Float8ToEmbeddingElement(float8 value)
{
	float4		result;

	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in embedding")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in embedding")));
	result = (float4) value;
	if (isinf(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %g is out of range for type real", value)));
	return result;
}

static inline bool
IsEmbeddingSpace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		ch == '\v' || ch == '\f';
}

/*
 * Text input: '[1, 2.5, -3e-2]'.  White space is allowed around brackets,
 * commas and numbers.  Numbers are parsed with strtof, so exponents work and
 * locale does not matter (the backend runs with LC_NUMERIC=C).
 */
Datum
embedding_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	Node	   *escontext = RECS_ESCONTEXT(fcinfo);
	float4	   *values;
	int			capacity = 16;
	int			dim = 0;
	char	   *pt = lit;
	Embedding  *result;

	while (IsEmbeddingSpace(*pt))
		pt++;

	if (*pt != '[')
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type embedding: \"%s\"", lit),
				 errdetail("Embedding contents must start with \"[\".")));
	pt++;

	while (IsEmbeddingSpace(*pt))
		pt++;

	if (*pt == ']')
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("embedding must have at least 1 dimension")));

	values = palloc(sizeof(float4) * capacity);
	for (;;)
	{
		float4		val;
		char	   *end;

		if (dim == RECS_EMBEDDING_MAX_DIM)
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("embedding cannot have more than %d dimensions",
							RECS_EMBEDDING_MAX_DIM)));

		while (IsEmbeddingSpace(*pt))
			pt++;

		/* strtof would skip leading spaces itself and accept an empty string */
		if (*pt == '\0' || *pt == ',' || *pt == ']')
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type embedding: \"%s\"", lit),
					 errdetail("Expected a number at position %d.",
							   (int) (pt - lit) + 1)));

		errno = 0;
		val = strtof(pt, &end);
		if (end == pt)
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type embedding: \"%s\"", lit),
					 errdetail("Expected a number at position %d.",
							   (int) (pt - lit) + 1)));

		if (isnan(val))
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN not allowed in embedding")));

		/* strtof sets ERANGE and returns HUGE_VALF on overflow */
		if (isinf(val) && errno == ERANGE)
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type real",
							(int) (end - pt), pt)));

		if (isinf(val))
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("infinite value not allowed in embedding")));

		if (dim == capacity)
		{
			capacity *= 2;
			values = repalloc(values, sizeof(float4) * capacity);
		}
		values[dim++] = val;

		pt = end;
		while (IsEmbeddingSpace(*pt))
			pt++;

		if (*pt == ',')
		{
			pt++;
			continue;
		}
		if (*pt == ']')
		{
			pt++;
			break;
		}
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type embedding: \"%s\"", lit),
				 errdetail("Expected \",\" or \"]\" at position %d.",
						   (int) (pt - lit) + 1)));
	}

	while (IsEmbeddingSpace(*pt))
		pt++;

	if (*pt != '\0')
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type embedding: \"%s\"", lit),
				 errdetail("Junk after closing right bracket.")));

	if (typmod != -1 && typmod != dim)
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));

	result = InitEmbedding(dim);
	memcpy(result->x, values, sizeof(float4) * dim);
	pfree(values);

	PG_RETURN_EMBEDDING_P(result);
}

/*
 * Text output, each element in the shortest form that reads back exactly
 * (what float4out prints with the default extra_float_digits).
 */
Datum
embedding_out(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	StringInfoData buf;

	/* "[", up to FLOAT_SHORTEST_DECIMAL_LEN + "," per element, "]" */
	initStringInfo(&buf);
	enlargeStringInfo(&buf, 2 + e->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1));

	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < e->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		buf.len += float_to_shortest_decimal_bufn(e->x[i], buf.data + buf.len);
	}
	appendStringInfoChar(&buf, ']');
	buf.data[buf.len] = '\0';

	PG_FREE_IF_COPY(e, 0);
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Binary input: int16 dim, int16 reserved (must be 0), dim float4 values.
 * Nothing in the message is trusted: a dimension count larger than the
 * payload fails in pq_getmsgfloat4, and trailing bytes are rejected by the
 * caller (record_recv / COPY check that the whole message was consumed).
 */
Datum
embedding_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim;
	int16		unused;
	Embedding  *result;

	if (buf->len - buf->cursor < 2 * (int) sizeof(int16))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type embedding"),
				 errdetail("The value is %d bytes long; its header alone needs 4.",
						   buf->len - buf->cursor)));

	dim = pq_getmsgint(buf, sizeof(int16));
	unused = pq_getmsgint(buf, sizeof(int16));

	CheckEmbeddingDim(dim);
	CheckEmbeddingTypmod(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type embedding"),
				 errdetail("Reserved field is %d; it must be 0.", unused)));

	/* A lying dim must not make us allocate more than the message holds. */
	if ((Size) dim * sizeof(float4) > (Size) (buf->len - buf->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type embedding"),
				 errdetail("Header announces %d dimensions but only %d bytes follow.",
						   dim, buf->len - buf->cursor)));

	result = InitEmbedding(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		CheckEmbeddingElement(result->x[i]);
	}

	PG_RETURN_EMBEDDING_P(result);
}

Datum
embedding_send(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, e->dim);
	pq_sendint16(&buf, e->unused);
	for (int i = 0; i < e->dim; i++)
		pq_sendfloat4(&buf, e->x[i]);

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * embedding(n): exactly one modifier, the dimension count.
 */
Datum
embedding_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);

	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("The embedding type takes exactly one modifier, its dimension count.")));
	if (*tl < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type embedding must be at least 1")));
	if (*tl > RECS_EMBEDDING_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type embedding cannot exceed %d",
						RECS_EMBEDDING_MAX_DIM)));

	PG_RETURN_INT32(*tl);
}

Datum
embedding_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

/*
 * Length coercion, embedding -> embedding(n): used for casts and assignment
 * into typed columns.
 */
Datum
embedding_coerce(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	CheckEmbeddingTypmod(typmod, e->dim);
	PG_RETURN_EMBEDDING_P(e);
}
