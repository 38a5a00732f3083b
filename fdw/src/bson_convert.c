/*
 * bson_convert.c
 *		BSON values to PostgreSQL Datums, and Datums to BSON.
 *
 * Reading follows one rule per target type, strict rather than clever:
 *	smallint/integer/bigint		int32, int64, and double or decimal128 values
 *								that are whole numbers in range
 *	real/double precision		int32, int64, double, decimal128
 *	numeric						int32, int64, double (shortest exact decimal),
 *								decimal128
 *	boolean						bool
 *	text						string, symbol, JavaScript code, ObjectId (hex)
 *	timestamptz/timestamp/date	date (a timestamp without time zone holds the
 *								UTC wall clock; a date the UTC day)
 *	jsonb/json					anything: documents, arrays, scalars, as
 *								MongoDB relaxed Extended JSON with exact
 *								numbers
 *	uuid						binary of subtype 4 (or the legacy 3), or a
 *								string
 *	bytea						binary
 *	arrays						a BSON array, element by element
 *	any other type (varchar, char, name, enums, inet, domains' bases ...)
 *								a string, through the type's input function
 * A BSON null, undefined or a missing field reads as NULL.  Any other value
 * that does not fit is a mismatch: an error naming the field, the
 * document's _id and both types (ERRCODE_FDW_INVALID_DATA_TYPE), or NULL
 * when the column's on_mismatch option is 'null'.  Errors raised inside a
 * conversion (an input function, an encoding check) carry a context line
 * naming the same things.
 *
 * Strings are converted between UTF-8 (BSON's encoding) and the database
 * encoding, and validated on the way in.
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "recs_mongo_fdw.h"

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define EPOCH_OFFSET_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

static void AppendJson(StringInfo buf, const bson_iter_t *iter);

/* MongoDB's own names for BSON types, as $type spells them. */
const char *
MongoBsonTypeName(bson_type_t type)
{
	switch (type)
	{
		case BSON_TYPE_DOUBLE:
			return "double";
		case BSON_TYPE_UTF8:
			return "string";
		case BSON_TYPE_DOCUMENT:
			return "object";
		case BSON_TYPE_ARRAY:
			return "array";
		case BSON_TYPE_BINARY:
			return "binData";
		case BSON_TYPE_UNDEFINED:
			return "undefined";
		case BSON_TYPE_OID:
			return "objectId";
		case BSON_TYPE_BOOL:
			return "bool";
		case BSON_TYPE_DATE_TIME:
			return "date";
		case BSON_TYPE_NULL:
			return "null";
		case BSON_TYPE_REGEX:
			return "regex";
		case BSON_TYPE_DBPOINTER:
			return "dbPointer";
		case BSON_TYPE_CODE:
			return "javascript";
		case BSON_TYPE_SYMBOL:
			return "symbol";
		case BSON_TYPE_CODEWSCOPE:
			return "javascriptWithScope";
		case BSON_TYPE_INT32:
			return "int";
		case BSON_TYPE_TIMESTAMP:
			return "timestamp";
		case BSON_TYPE_INT64:
			return "long";
		case BSON_TYPE_DECIMAL128:
			return "decimal";
		case BSON_TYPE_MAXKEY:
			return "maxKey";
		case BSON_TYPE_MINKEY:
			return "minKey";
		default:
			return "unknown";
	}
}

/* ---- small helpers ------------------------------------------------------ */

/* A UTF-8 string from BSON, in the database encoding, NUL-terminated. */
static char *
ServerString(const char *utf8, uint32_t len, bool *has_nul)
{
	char	   *s = pg_any_to_server(utf8, len, PG_UTF8);

	*has_nul = strlen(s) != len && memchr(utf8, '\0', len) != NULL;
	if (s == utf8)
		s = pnstrdup(utf8, len);
	return s;
}

/* The text a string-like BSON value reads as, or NULL if it is not one. */
static char *
StringLike(const bson_iter_t *iter, bool *has_nul)
{
	uint32_t	len;
	const char *s;

	*has_nul = false;
	switch (bson_iter_type(iter))
	{
		case BSON_TYPE_UTF8:
			s = bson_iter_utf8(iter, &len);
			return ServerString(s, len, has_nul);
		case BSON_TYPE_SYMBOL:
			s = bson_iter_symbol(iter, &len);
			return ServerString(s, len, has_nul);
		case BSON_TYPE_CODE:
			s = bson_iter_code(iter, &len);
			return ServerString(s, len, has_nul);
		case BSON_TYPE_OID:
			{
				char	   *hex = palloc(25);

				bson_oid_to_string(bson_iter_oid(iter), hex);
				return hex;
			}
		default:
			return NULL;
	}
}

static Datum
NumericFromCString(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static Datum
NumericFromDouble(double d)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (isnan(d))
		return NumericFromCString("NaN");
	if (isinf(d))
		return NumericFromCString(d > 0 ? "Infinity" : "-Infinity");
	double_to_shortest_decimal_buf(d, buf);
	return NumericFromCString(buf);
}

static Datum
NumericFromDecimal128(const bson_iter_t *iter)
{
	bson_decimal128_t dec;
	char		buf[BSON_DECIMAL128_STRING];

	bson_iter_decimal128(iter, &dec);
	bson_decimal128_to_string(&dec, buf);
	return NumericFromCString(buf);
}

static bool
NumericIsInt64(Datum num, int64 *v)
{
	Numeric		n = DatumGetNumeric(num);

	if (numeric_is_nan(n) || numeric_is_inf(n))
		return false;
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num,
										  DirectFunctionCall2(numeric_trunc, num, Int32GetDatum(0)))))
		return false;
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(int64_to_numeric(PG_INT64_MIN)))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))) > 0)
		return false;
	*v = DatumGetInt64(DirectFunctionCall1(numeric_int8, num));
	return true;
}

/* A whole number in int64's range, from any numeric BSON value. */
static bool
IntegerValue(const bson_iter_t *iter, int64 *v)
{
	switch (bson_iter_type(iter))
	{
		case BSON_TYPE_INT32:
			*v = bson_iter_int32(iter);
			return true;
		case BSON_TYPE_INT64:
			*v = bson_iter_int64(iter);
			return true;
		case BSON_TYPE_DOUBLE:
			{
				double		d = bson_iter_double(iter);

				if (!isfinite(d) || d != floor(d) ||
					d < -9223372036854775808.0 || d >= 9223372036854775808.0)
					return false;
				*v = (int64) d;
				return true;
			}
		case BSON_TYPE_DECIMAL128:
			return NumericIsInt64(NumericFromDecimal128(iter), v);
		default:
			return false;
	}
}

static bool
DoubleValue(const bson_iter_t *iter, double *d)
{
	switch (bson_iter_type(iter))
	{
		case BSON_TYPE_INT32:
			*d = bson_iter_int32(iter);
			return true;
		case BSON_TYPE_INT64:
			*d = (double) bson_iter_int64(iter);
			return true;
		case BSON_TYPE_DOUBLE:
			*d = bson_iter_double(iter);
			return true;
		case BSON_TYPE_DECIMAL128:
			{
				bson_decimal128_t dec;
				char		buf[BSON_DECIMAL128_STRING];

				bson_iter_decimal128(iter, &dec);
				bson_decimal128_to_string(&dec, buf);
				errno = 0;
				*d = strtod(buf, NULL);
				return errno != ERANGE;
			}
		default:
			return false;
	}
}

/* BSON date (milliseconds since 1970) to a PostgreSQL timestamp. */
static bool
TimestampFromMillis(int64 ms, Timestamp *ts)
{
	int64		us;

	if (pg_mul_s64_overflow(ms, 1000, &us) ||
		pg_sub_s64_overflow(us, EPOCH_OFFSET_USECS, ts))
		return false;
	return IS_VALID_TIMESTAMP(*ts);
}

/*
 * A timestamp as BSON milliseconds, rounded down; *exact tells whether
 * nothing was lost.  Infinities map to the extreme int64 values and are
 * not exact (the caller decides what they mean).
 */
int64
MongoTimestampToMillis(int64 timestamp, bool *exact)
{
	int64		us;

	*exact = true;
	if (TIMESTAMP_NOT_FINITE(timestamp))
		*exact = false;
	if (TIMESTAMP_IS_NOBEGIN(timestamp))
		return PG_INT64_MIN;
	if (TIMESTAMP_IS_NOEND(timestamp))
		return PG_INT64_MAX;
	us = timestamp + EPOCH_OFFSET_USECS;	/* cannot overflow: valid range */
	if (us % 1000 != 0)
		*exact = false;
	return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

/* ---- BSON to Datum ------------------------------------------------------ */

typedef struct Conversion
{
	const char *why;			/* set on mismatch: the reason */
} Conversion;

static bool ConvertValue(const bson_iter_t *iter, Oid typid, int32 typmod,
						 Datum *result, bool *isnull, Conversion *cv);

static bool
ConvertArray(const bson_iter_t *iter, Oid typid, int32 typmod, Datum *result,
			 Conversion *cv)
{
	Oid			elemtype = get_element_type(typid);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	bson_iter_t child;
	int			n = 0;
	int			cap = 16;
	Datum	   *values;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};

	if (bson_iter_type(iter) != BSON_TYPE_ARRAY || !bson_iter_recurse(iter, &child))
		return false;
	values = palloc(sizeof(Datum) * cap);
	nulls = palloc(sizeof(bool) * cap);
	while (bson_iter_next(&child))
	{
		if (n == cap)
		{
			cap *= 2;
			values = repalloc(values, sizeof(Datum) * cap);
			nulls = repalloc(nulls, sizeof(bool) * cap);
		}
		if (!ConvertValue(&child, elemtype, typmod, &values[n], &nulls[n], cv))
		{
			cv->why = psprintf("Element %d is a BSON %s%s%s.", n,
							   MongoBsonTypeName(bson_iter_type(&child)),
							   cv->why ? ": " : "", cv->why ? cv->why : "");
			return false;
		}
		n++;
	}
	get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
	dims[0] = n;
	*result = PointerGetDatum(construct_md_array(values, nulls, n > 0 ? 1 : 0, dims, lbs,
												 elemtype, elmlen, elmbyval, elmalign));
	return true;
}

/*
 * Convert the value at iter to typid.  Returns false on a mismatch, with
 * cv->why possibly set to a sentence saying why.
 */
static bool
ConvertValue(const bson_iter_t *iter, Oid typid, int32 typmod,
			 Datum *result, bool *isnull, Conversion *cv)
{
	bson_type_t type = bson_iter_type(iter);
	bool		has_nul;
	char	   *s;

	*isnull = false;
	if (type == BSON_TYPE_NULL || type == BSON_TYPE_UNDEFINED)
	{
		*isnull = true;
		return true;
	}

	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			{
				int64		v;

				if (!IntegerValue(iter, &v))
				{
					if (type == BSON_TYPE_DOUBLE || type == BSON_TYPE_DECIMAL128)
						cv->why = "The value is not a whole number within bigint's range.";
					return false;
				}
				if ((typid == INT2OID && (v < PG_INT16_MIN || v > PG_INT16_MAX)) ||
					(typid == INT4OID && (v < PG_INT32_MIN || v > PG_INT32_MAX)))
				{
					cv->why = psprintf("The value " INT64_FORMAT " is out of range.", v);
					return false;
				}
				*result = typid == INT2OID ? Int16GetDatum((int16) v) :
					typid == INT4OID ? Int32GetDatum((int32) v) : Int64GetDatum(v);
				return true;
			}
		case FLOAT4OID:
		case FLOAT8OID:
			{
				double		d;

				if (!DoubleValue(iter, &d))
					return false;
				if (typid == FLOAT4OID)
				{
					float		f = (float) d;

					if ((isinf(f) && !isinf(d)) || (f == 0.0f && d != 0.0))
					{
						cv->why = "The value is out of range for type real.";
						return false;
					}
					*result = Float4GetDatum(f);
				}
				else
					*result = Float8GetDatum(d);
				return true;
			}
		case NUMERICOID:
			switch (type)
			{
				case BSON_TYPE_INT32:
					*result = NumericGetDatum(int64_to_numeric(bson_iter_int32(iter)));
					break;
				case BSON_TYPE_INT64:
					*result = NumericGetDatum(int64_to_numeric(bson_iter_int64(iter)));
					break;
				case BSON_TYPE_DOUBLE:
					*result = NumericFromDouble(bson_iter_double(iter));
					break;
				case BSON_TYPE_DECIMAL128:
					*result = NumericFromDecimal128(iter);
					break;
				default:
					return false;
			}
			if (typmod >= 0)
				*result = DirectFunctionCall2(numeric, *result, Int32GetDatum(typmod));
			return true;
		case BOOLOID:
			if (type != BSON_TYPE_BOOL)
				return false;
			*result = BoolGetDatum(bson_iter_bool(iter));
			return true;
		case TEXTOID:
			s = StringLike(iter, &has_nul);
			if (s == NULL)
				return false;
			if (has_nul)
			{
				cv->why = "The string contains a NUL character.";
				return false;
			}
			*result = PointerGetDatum(cstring_to_text(s));
			return true;
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
			{
				Timestamp	ts;

				if (type != BSON_TYPE_DATE_TIME)
					return false;
				if (!TimestampFromMillis(bson_iter_date_time(iter), &ts))
				{
					cv->why = "The date is out of PostgreSQL's range.";
					return false;
				}
				if (typid == DATEOID)
				{
					int64		days = ts / USECS_PER_DAY;

					if (ts < 0 && ts % USECS_PER_DAY != 0)
						days--;
					if (!IS_VALID_DATE(days))
					{
						cv->why = "The date is out of PostgreSQL's range.";
						return false;
					}
					*result = DateADTGetDatum((DateADT) days);
				}
				else
					*result = TimestampGetDatum(ts);
				return true;
			}
		case JSONBOID:
		case JSONOID:
			{
				StringInfoData buf;

				initStringInfo(&buf);
				AppendJson(&buf, iter);
				*result = typid == JSONBOID ?
					DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)) :
					PointerGetDatum(cstring_to_text(buf.data));
				return true;
			}
		case UUIDOID:
			if (type == BSON_TYPE_BINARY)
			{
				bson_subtype_t subtype;
				uint32_t	len;
				const uint8_t *data;
				pg_uuid_t  *uuid;

				bson_iter_binary(iter, &subtype, &len, &data);
				if (subtype != BSON_SUBTYPE_UUID && subtype != BSON_SUBTYPE_UUID_DEPRECATED)
				{
					cv->why = psprintf("The binary value has subtype %d, not 4 (UUID).", (int) subtype);
					return false;
				}
				if (len != UUID_LEN)
				{
					cv->why = psprintf("The binary value has %u bytes, not %d.", len, UUID_LEN);
					return false;
				}
				uuid = palloc(sizeof(pg_uuid_t));
				memcpy(uuid->data, data, UUID_LEN);
				*result = UUIDPGetDatum(uuid);
				return true;
			}
			break;				/* strings: the input function below */
		case BYTEAOID:
			if (type == BSON_TYPE_BINARY)
			{
				bson_subtype_t subtype;
				uint32_t	len;
				const uint8_t *data;
				bytea	   *b;

				bson_iter_binary(iter, &subtype, &len, &data);
				b = palloc(VARHDRSZ + len);
				SET_VARSIZE(b, VARHDRSZ + len);
				memcpy(VARDATA(b), data, len);
				*result = PointerGetDatum(b);
				return true;
			}
			return false;
		default:
			break;
	}

	if (type_is_array(typid))
		return ConvertArray(iter, typid, typmod, result, cv);

	/* Domains: convert to the base type, then apply the constraints. */
	if (get_typtype(typid) == TYPTYPE_DOMAIN)
	{
		int32		basetypmod = typmod;
		Oid			basetype = getBaseTypeAndTypmod(typid, &basetypmod);

		if (!ConvertValue(iter, basetype, basetypmod, result, isnull, cv))
			return false;
		domain_check(*result, *isnull, typid, NULL, NULL);
		return true;
	}

	/* Any other type: from a string, through the type's input function. */
	s = StringLike(iter, &has_nul);
	if (s == NULL)
		return false;
	if (has_nul)
	{
		cv->why = "The string contains a NUL character.";
		return false;
	}
	{
		Oid			typinput;
		Oid			typioparam;

		getTypeInputInfo(typid, &typinput, &typioparam);
		*result = OidInputFunctionCall(typinput, s, typioparam, typmod);
	}
	return true;
}

/* "_id ObjectId(\"...\")", "_id 42": how error messages name a document. */
char *
MongoDescribeId(const bson_t *doc)
{
	bson_iter_t iter;
	char		hex[25];

	if (doc == NULL || !bson_iter_init_find(&iter, doc, "_id"))
		return pstrdup("without _id");
	switch (bson_iter_type(&iter))
	{
		case BSON_TYPE_OID:
			bson_oid_to_string(bson_iter_oid(&iter), hex);
			return psprintf("_id ObjectId(\"%s\")", hex);
		case BSON_TYPE_INT32:
			return psprintf("_id %d", bson_iter_int32(&iter));
		case BSON_TYPE_INT64:
			return psprintf("_id " INT64_FORMAT, (int64) bson_iter_int64(&iter));
		default:
			{
				char	   *json = MongoBsonValueToJson(&iter);

				if (strlen(json) > 80)
					strcpy(json + 77, "...");
				return psprintf("_id %s", json);
			}
	}
}

static void pg_attribute_noreturn()
ReportMismatch(const bson_iter_t *iter, MongoColumn *column, const bson_t *doc,
			   const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("field \"%s\" of MongoDB document %s holds a BSON %s, which does not fit column \"%s\" of type %s",
					column->field, MongoDescribeId(doc),
					MongoBsonTypeName(bson_iter_type(iter)), column->attname,
					format_type_with_typemod(column->atttype, column->atttypmod)),
			 why ? errdetail("%s", why) : 0,
			 errhint("Change the column's type, or set its option on_mismatch to 'null' to read such values as NULL.")));
}

typedef struct ConversionContext
{
	MongoColumn *column;
	const bson_t *doc;
} ConversionContext;

static void
ConversionErrorCallback(void *arg)
{
	ConversionContext *cx = arg;

	errcontext("column \"%s\" (field \"%s\"), MongoDB document %s",
			   cx->column->attname,
			   cx->column->field ? cx->column->field : "(whole document)",
			   MongoDescribeId(cx->doc));
}

/*
 * The value of one field for its column.  doc is the whole document, for
 * error messages.
 */
Datum
MongoValueToDatum(const bson_iter_t *iter, MongoColumn *column,
				  const bson_t *doc, bool *isnull)
{
	Conversion	cv = {NULL};
	Datum		result = (Datum) 0;
	ErrorContextCallback callback;
	ConversionContext cx = {column, doc};

	callback.callback = ConversionErrorCallback;
	callback.arg = &cx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	if (!ConvertValue(iter, column->atttype, column->atttypmod, &result, isnull, &cv))
	{
		if (column->on_mismatch == MONGO_MISMATCH_NULL)
			*isnull = true;
		else
		{
			error_context_stack = callback.previous;
			ReportMismatch(iter, column, doc, cv.why);
		}
	}
	error_context_stack = callback.previous;
	return result;
}

/* A document's values for the attributes in retrieved_attrs. */
void
MongoDocumentToValues(const bson_t *doc, MongoTable *table, List *retrieved_attrs,
					  Datum *values, bool *nulls)
{
	ListCell   *lc;

	foreach(lc, retrieved_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		MongoColumn *column = MongoTableColumn(table, attnum);
		bson_iter_t iter;
		bson_iter_t child;

		nulls[attnum - 1] = true;
		values[attnum - 1] = (Datum) 0;
		if (column == NULL)
			continue;
		if (column->whole_document)
		{
			values[attnum - 1] = DirectFunctionCall1(jsonb_in,
													 CStringGetDatum(MongoBsonToJsonText(doc)));
			nulls[attnum - 1] = false;
			continue;
		}
		if (!bson_iter_init(&iter, doc) ||
			!bson_iter_find_descendant(&iter, column->field, &child))
			continue;
		values[attnum - 1] = MongoValueToDatum(&child, column, doc, &nulls[attnum - 1]);
	}
}

/* ---- BSON to JSON ------------------------------------------------------- */

static void
AppendJsonString(StringInfo buf, const char *utf8, uint32_t len)
{
	bool		has_nul;

	escape_json(buf, ServerString(utf8, len, &has_nul));
}

static void
AppendIsoDate(StringInfo buf, int64 ms)
{
	int64		secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int			millis = (int) (ms - secs * 1000);
	time_t		t = (time_t) secs;
	struct tm	tm;
	char		text[64];

	if (ms < 0 || ms >= INT64CONST(253402300800000) || gmtime_r(&t, &tm) == NULL)
	{
		appendStringInfo(buf, "{\"$date\": {\"$numberLong\": \"" INT64_FORMAT "\"}}", ms);
		return;
	}
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	if (millis)
		appendStringInfo(buf, "{\"$date\": \"%s.%03dZ\"}", text, millis);
	else
		appendStringInfo(buf, "{\"$date\": \"%sZ\"}", text);
}

/*
 * Append the value at iter as JSON: MongoDB relaxed Extended JSON, except
 * that doubles are written in their shortest exact form and decimal128
 * values as plain numbers, so that jsonb keeps them exactly.
 */
static void
AppendJson(StringInfo buf, const bson_iter_t *iter)
{
	bson_iter_t child;
	uint32_t	len;
	const char *s;

	switch (bson_iter_type(iter))
	{
		case BSON_TYPE_DOUBLE:
			{
				double		d = bson_iter_double(iter);
				char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

				if (isnan(d))
					appendStringInfoString(buf, "{\"$numberDouble\": \"NaN\"}");
				else if (isinf(d))
					appendStringInfo(buf, "{\"$numberDouble\": \"%sInfinity\"}", d < 0 ? "-" : "");
				else
				{
					double_to_shortest_decimal_buf(d, num);
					appendStringInfoString(buf, num);
				}
				break;
			}
		case BSON_TYPE_UTF8:
			s = bson_iter_utf8(iter, &len);
			AppendJsonString(buf, s, len);
			break;
		case BSON_TYPE_SYMBOL:
			s = bson_iter_symbol(iter, &len);
			appendStringInfoString(buf, "{\"$symbol\": ");
			AppendJsonString(buf, s, len);
			appendStringInfoChar(buf, '}');
			break;
		case BSON_TYPE_DOCUMENT:
		case BSON_TYPE_ARRAY:
			{
				bool		is_array = bson_iter_type(iter) == BSON_TYPE_ARRAY;
				bool		first = true;

				appendStringInfoChar(buf, is_array ? '[' : '{');
				if (bson_iter_recurse(iter, &child))
				{
					while (bson_iter_next(&child))
					{
						if (!first)
							appendStringInfoString(buf, ", ");
						first = false;
						if (!is_array)
						{
							escape_json(buf, bson_iter_key(&child));
							appendStringInfoString(buf, ": ");
						}
						AppendJson(buf, &child);
					}
				}
				appendStringInfoChar(buf, is_array ? ']' : '}');
				break;
			}
		case BSON_TYPE_BINARY:
			{
				bson_subtype_t subtype;
				const uint8_t *data;
				char	   *b64;
				int			b64len;

				bson_iter_binary(iter, &subtype, &len, &data);
				b64 = palloc(pg_b64_enc_len(len) + 1);
				b64len = pg_b64_encode((const char *) data, len, b64, pg_b64_enc_len(len));
				b64[Max(b64len, 0)] = '\0';
				appendStringInfo(buf, "{\"$binary\": {\"base64\": \"%s\", \"subType\": \"%02x\"}}",
								 b64, (unsigned) subtype);
				break;
			}
		case BSON_TYPE_UNDEFINED:
			appendStringInfoString(buf, "{\"$undefined\": true}");
			break;
		case BSON_TYPE_OID:
			{
				char		hex[25];

				bson_oid_to_string(bson_iter_oid(iter), hex);
				appendStringInfo(buf, "{\"$oid\": \"%s\"}", hex);
				break;
			}
		case BSON_TYPE_BOOL:
			appendStringInfoString(buf, bson_iter_bool(iter) ? "true" : "false");
			break;
		case BSON_TYPE_DATE_TIME:
			AppendIsoDate(buf, bson_iter_date_time(iter));
			break;
		case BSON_TYPE_NULL:
			appendStringInfoString(buf, "null");
			break;
		case BSON_TYPE_REGEX:
			{
				const char *options;
				const char *pattern = bson_iter_regex(iter, &options);

				appendStringInfoString(buf, "{\"$regularExpression\": {\"pattern\": ");
				AppendJsonString(buf, pattern, strlen(pattern));
				appendStringInfoString(buf, ", \"options\": ");
				AppendJsonString(buf, options, strlen(options));
				appendStringInfoString(buf, "}}");
				break;
			}
		case BSON_TYPE_DBPOINTER:
			{
				const bson_oid_t *oid;
				char		hex[25];

				bson_iter_dbpointer(iter, &len, &s, &oid);
				bson_oid_to_string(oid, hex);
				appendStringInfoString(buf, "{\"$dbPointer\": {\"$ref\": ");
				AppendJsonString(buf, s, len);
				appendStringInfo(buf, ", \"$id\": {\"$oid\": \"%s\"}}}", hex);
				break;
			}
		case BSON_TYPE_CODE:
			s = bson_iter_code(iter, &len);
			appendStringInfoString(buf, "{\"$code\": ");
			AppendJsonString(buf, s, len);
			appendStringInfoChar(buf, '}');
			break;
		case BSON_TYPE_CODEWSCOPE:
			{
				uint32_t	scope_len;
				const uint8_t *scope;
				bson_t		scope_doc;
				bson_iter_t scope_iter;

				s = bson_iter_codewscope(iter, &len, &scope_len, &scope);
				appendStringInfoString(buf, "{\"$code\": ");
				AppendJsonString(buf, s, len);
				appendStringInfoString(buf, ", \"$scope\": {");
				if (bson_init_static(&scope_doc, scope, scope_len) &&
					bson_iter_init(&scope_iter, &scope_doc))
				{
					bool		first = true;

					while (bson_iter_next(&scope_iter))
					{
						if (!first)
							appendStringInfoString(buf, ", ");
						first = false;
						escape_json(buf, bson_iter_key(&scope_iter));
						appendStringInfoString(buf, ": ");
						AppendJson(buf, &scope_iter);
					}
				}
				appendStringInfoString(buf, "}}");
				break;
			}
		case BSON_TYPE_INT32:
			appendStringInfo(buf, "%d", bson_iter_int32(iter));
			break;
		case BSON_TYPE_TIMESTAMP:
			{
				uint32_t	t;
				uint32_t	i;

				bson_iter_timestamp(iter, &t, &i);
				appendStringInfo(buf, "{\"$timestamp\": {\"t\": %u, \"i\": %u}}", t, i);
				break;
			}
		case BSON_TYPE_INT64:
			appendStringInfo(buf, INT64_FORMAT, (int64) bson_iter_int64(iter));
			break;
		case BSON_TYPE_DECIMAL128:
			{
				bson_decimal128_t dec;
				char		text[BSON_DECIMAL128_STRING];

				bson_iter_decimal128(iter, &dec);
				bson_decimal128_to_string(&dec, text);
				if (strchr(text, 'N') || strchr(text, 'I'))		/* NaN, Infinity */
					appendStringInfo(buf, "{\"$numberDecimal\": \"%s\"}", text);
				else
					appendStringInfoString(buf, text);
				break;
			}
		case BSON_TYPE_MAXKEY:
			appendStringInfoString(buf, "{\"$maxKey\": 1}");
			break;
		case BSON_TYPE_MINKEY:
			appendStringInfoString(buf, "{\"$minKey\": 1}");
			break;
		default:
			appendStringInfoString(buf, "null");
			break;
	}
}

/* One BSON value as JSON text. */
char *
MongoBsonValueToJson(const bson_iter_t *iter)
{
	StringInfoData buf;

	initStringInfo(&buf);
	AppendJson(&buf, iter);
	return buf.data;
}

/* A whole document as JSON text (for EXPLAIN and messages). */
char *
MongoBsonToJsonText(const bson_t *doc)
{
	StringInfoData buf;
	bson_iter_t iter;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (bson_iter_init(&iter, doc))
	{
		while (bson_iter_next(&iter))
		{
			if (!first)
				appendStringInfoString(&buf, ", ");
			first = false;
			escape_json(&buf, bson_iter_key(&iter));
			appendStringInfoString(&buf, ": ");
			AppendJson(&buf, &iter);
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* ---- Datum to BSON ------------------------------------------------------ */

static void
AppendUtf8(bson_t *bson, const char *key, int keylen, const char *s, int len)
{
	char	   *utf8 = pg_server_to_any(s, len, PG_UTF8);

	bson_append_utf8(bson, key, keylen, utf8, utf8 == s ? len : (int) strlen(utf8));
}

/*
 * Append value (of type typid, not NULL) under key.  Types without a BSON
 * counterpart are written as the string of their output function.
 */
bool
MongoAppendDatum(bson_t *bson, const char *key, int keylen, Datum value, Oid typid)
{
	Oid			basetype = getBaseType(typid);

	switch (basetype)
	{
		case INT2OID:
			return bson_append_int32(bson, key, keylen, DatumGetInt16(value));
		case INT4OID:
			return bson_append_int32(bson, key, keylen, DatumGetInt32(value));
		case INT8OID:
			return bson_append_int64(bson, key, keylen, DatumGetInt64(value));
		case FLOAT4OID:
			return bson_append_double(bson, key, keylen, DatumGetFloat4(value));
		case FLOAT8OID:
			return bson_append_double(bson, key, keylen, DatumGetFloat8(value));
		case BOOLOID:
			return bson_append_bool(bson, key, keylen, DatumGetBool(value));
		case NUMERICOID:
			{
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, value));
				bson_decimal128_t dec;

				if (!bson_decimal128_from_string(text, &dec))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("numeric value %s does not fit in a BSON decimal128", text),
							 errdetail("A decimal128 holds at most 34 significant digits.")));
				return bson_append_decimal128(bson, key, keylen, &dec);
			}
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			{
				text	   *t = DatumGetTextPP(value);

				AppendUtf8(bson, key, keylen, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				return true;
			}
		case NAMEOID:
			{
				const char *s = NameStr(*DatumGetName(value));

				AppendUtf8(bson, key, keylen, s, strlen(s));
				return true;
			}
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
			{
				Timestamp	ts;
				bool		exact;

				if (basetype == DATEOID)
				{
					DateADT		d = DatumGetDateADT(value);

					if (DATE_NOT_FINITE(d))
						ts = DATE_IS_NOBEGIN(d) ? DT_NOBEGIN : DT_NOEND;
					else
						ts = (Timestamp) d * USECS_PER_DAY;
				}
				else
					ts = DatumGetTimestamp(value);
				if (TIMESTAMP_NOT_FINITE(ts))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("infinite %s values cannot be stored in MongoDB",
									format_type_be(basetype))));
				return bson_append_date_time(bson, key, keylen,
											 MongoTimestampToMillis(ts, &exact));
			}
		case JSONBOID:
		case JSONOID:
			{
				char	   *json;
				char	   *wrapped;
				bson_t		doc;
				bson_error_t error;
				bson_iter_t iter;
				bool		ok;

				json = basetype == JSONBOID ?
					DatumGetCString(DirectFunctionCall1(jsonb_out, value)) :
					TextDatumGetCString(value);
				json = pg_server_to_any(json, strlen(json), PG_UTF8);
				wrapped = psprintf("{\"v\": %s}", json);
				if (!bson_init_from_json(&doc, wrapped, -1, &error))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
							 errmsg("cannot convert %s value to BSON", format_type_be(basetype)),
							 errdetail("libbson: %s", error.message)));
				ok = bson_iter_init_find(&iter, &doc, "v") &&
					bson_append_iter(bson, key, keylen, &iter);
				bson_destroy(&doc);
				return ok;
			}
		case UUIDOID:
			return bson_append_binary(bson, key, keylen, BSON_SUBTYPE_UUID,
									  DatumGetUUIDP(value)->data, UUID_LEN);
		case BYTEAOID:
			{
				bytea	   *b = DatumGetByteaPP(value);

				return bson_append_binary(bson, key, keylen, BSON_SUBTYPE_BINARY,
										  (const uint8_t *) VARDATA_ANY(b),
										  VARSIZE_ANY_EXHDR(b));
			}
		default:
			break;
	}

	if (type_is_array(basetype))
	{
		ArrayType  *array = DatumGetArrayTypeP(value);
		Oid			elemtype = ARR_ELEMTYPE(array);
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		bson_t		child;
		bool		ok;

		get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
		deconstruct_array(array, elemtype, elmlen, elmbyval, elmalign, &elems, &nulls, &n);
		/* libbson appends nothing that can raise an error between these */
		bson_append_array_begin(bson, key, keylen, &child);
		for (int i = 0; i < n; i++)
		{
			char		index[16];
			int			len = snprintf(index, sizeof(index), "%d", i);

			if (nulls[i])
				bson_append_null(&child, index, len);
			else if (!MongoAppendDatum(&child, index, len, elems[i], elemtype))
				break;
		}
		ok = bson_append_array_end(bson, &child);
		return ok;
	}

	{
		Oid			typoutput;
		bool		isvarlena;
		char	   *s;

		getTypeOutputInfo(basetype, &typoutput, &isvarlena);
		s = OidOutputFunctionCall(typoutput, value);
		AppendUtf8(bson, key, keylen, s, strlen(s));
		return true;
	}
}
