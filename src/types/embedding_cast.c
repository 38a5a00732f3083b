/*
 * embedding_cast.c
 *		Casts between embedding and one-dimensional arrays of integer, real,
 *		double precision and numeric.
 *
 * Arrays to embedding: the array must be one-dimensional, non-empty, free of
 * NULLs and hold finite values that fit float4.  Embedding to arrays is exact
 * except to integer[], which rounds like real -> integer and fails when a
 * value does not fit.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "types/embedding.h"

PG_FUNCTION_INFO_V1(array_to_embedding);
PG_FUNCTION_INFO_V1(embedding_to_float4_array);
PG_FUNCTION_INFO_V1(embedding_to_float8_array);
PG_FUNCTION_INFO_V1(embedding_to_numeric_array);
PG_FUNCTION_INFO_V1(embedding_to_int4_array);

/*
 * numeric -> element.  numeric_float8 would report a huge value with its
 * full decimal expansion (hundreds of digits) and as double precision; we
 * say what the user needs to know in the terms of our type.
 */
static float4
NumericToEmbeddingElement(Numeric num)
{
	float8		value;

	if (numeric_is_nan(num))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in embedding")));
	if (numeric_is_inf(num))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in embedding")));

	/* an out-of-range value becomes +-HUGE_VAL here, and fails below */
	value = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											   NumericGetDatum(num)));
	if (isinf(value) || isinf((float4) value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("numeric value is out of range for type real"),
				 errdetail("Embedding elements are real (float4), at most about 3.4e38 in magnitude.")));
	return (float4) value;
}

/*
 * array_to_embedding(anyarray, typmod, explicit): one function for every
 * supported element type, dispatched on the array's element type.
 */
Datum
array_to_embedding(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Embedding  *result;

	if (elemtype != INT4OID && elemtype != FLOAT4OID &&
		elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot cast an array of %s to embedding",
						format_type_be(elemtype)),
				 errhint("Use an array of integer, real, double precision or numeric.")));

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be one-dimensional to cast to embedding"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(array))));

	CheckEmbeddingDim(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);

	for (int i = 0; i < nelems; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls to cast to embedding"),
					 errdetail("Element %d is NULL.", i + 1)));

	CheckEmbeddingTypmod(typmod, nelems);

	result = InitEmbedding(nelems);
	for (int i = 0; i < nelems; i++)
	{
		switch (elemtype)
		{
			case INT4OID:
				/* every int4 is finite; float4 rounds beyond 2^24 */
				result->x[i] = (float4) DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				result->x[i] = DatumGetFloat4(elems[i]);
				CheckEmbeddingElement(result->x[i]);
				break;
			case FLOAT8OID:
				result->x[i] = Float8ToEmbeddingElement(DatumGetFloat8(elems[i]));
				break;
			case NUMERICOID:
				result->x[i] = NumericToEmbeddingElement(DatumGetNumeric(elems[i]));
				break;
		}
	}

	pfree(elems);
	pfree(nulls);
	PG_FREE_IF_COPY(array, 0);
	PG_RETURN_EMBEDDING_P(result);
}

/* Build a one-dimensional array of datums from an embedding's elements. */
static ArrayType *
EmbeddingToArray(const Embedding *e, Oid elemtype, Datum (*convert) (float4))
{
	Datum	   *datums = palloc(sizeof(Datum) * e->dim);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < e->dim; i++)
		datums[i] = convert(e->x[i]);

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_array(datums, e->dim, elemtype, typlen, typbyval, typalign);
}

static Datum
ElementToFloat4(float4 value)
{
	return Float4GetDatum(value);
}

static Datum
ElementToFloat8(float4 value)
{
	return Float8GetDatum((float8) value);
}

/* Through float4's text form, so 0.1 becomes 0.1 and not 0.100000001490116 */
static Datum
ElementToNumeric(float4 value)
{
	return DirectFunctionCall1(float4_numeric, Float4GetDatum(value));
}

static Datum
ElementToInt4(float4 value)
{
	float4		rounded = rint(value);

	/* the same test float4 -> int4 uses: -2^31 <= x < 2^31 */
	if (!FLOAT4_FITS_IN_INT32(rounded))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range"),
				 errdetail("Embedding element %g does not fit in integer.",
						   (double) value)));
	return Int32GetDatum((int32) rounded);
}

Datum
embedding_to_float4_array(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(EmbeddingToArray(PG_GETARG_EMBEDDING_P(0),
										   FLOAT4OID, ElementToFloat4));
}

Datum
embedding_to_float8_array(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(EmbeddingToArray(PG_GETARG_EMBEDDING_P(0),
										   FLOAT8OID, ElementToFloat8));
}

Datum
embedding_to_numeric_array(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(EmbeddingToArray(PG_GETARG_EMBEDDING_P(0),
										   NUMERICOID, ElementToNumeric));
}

Datum
embedding_to_int4_array(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(EmbeddingToArray(PG_GETARG_EMBEDDING_P(0),
										   INT4OID, ElementToInt4));
}
