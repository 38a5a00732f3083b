/*
 * source.c
 *		Check a model's source relation and read its interactions.
 *
 * The source is any table, view, materialized view, partitioned table or
 * foreign table.  It is checked when the model is created and again before
 * every training, because it may have been dropped or altered since: each
 * way it can go wrong has its own SQLSTATE and message naming the model's
 * column and the type found.
 *
 * Rows are read through an SPI cursor in batches, so memory holds the
 * compact triples and never the whole result set as tuples.  Rows with a
 * NULL user, item or weight are skipped and counted.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"

#include "registry/registry.h"

PG_FUNCTION_INFO_V1(recs_check_source);

#define SOURCE_FETCH_BATCH 10000

typedef enum ColumnRole
{
	COLUMN_ID,
	COLUMN_WEIGHT,
	COLUMN_TIME
} ColumnRole;

static bool
TypeFitsRole(Oid type, ColumnRole role)
{
	switch (role)
	{
		case COLUMN_ID:
			return type == INT2OID || type == INT4OID || type == INT8OID;
		case COLUMN_WEIGHT:
			return type == INT2OID || type == INT4OID || type == INT8OID ||
				type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID ||
				type == BOOLOID;
		case COLUMN_TIME:
			return type == TIMESTAMPOID || type == TIMESTAMPTZOID ||
				type == DATEOID || type == INT4OID || type == INT8OID ||
				type == FLOAT8OID || type == NUMERICOID;
	}
	return false;
}

static const char *
RoleTypes(ColumnRole role)
{
	switch (role)
	{
		case COLUMN_ID:
			return "smallint, integer or bigint";
		case COLUMN_WEIGHT:
			return "a number or boolean";
		case COLUMN_TIME:
			return "timestamp, timestamptz, date, or a number of seconds since 1970";
	}
	return "";
}

static void
CheckColumn(Oid relid, const char *source_name, const char *column,
			const char *what, ColumnRole role)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			type;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" does not exist in source \"%s\"", column, source_name),
				 errdetail("It was named as the %s column.", what)));
	type = get_atttype(relid, attnum);
	if (!TypeFitsRole(type, role))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s column \"%s\" of source \"%s\" has type %s",
						what, column, source_name, format_type_be(type)),
				 errdetail("The %s column must be %s.", what, RoleTypes(role))));
}

void
RecsCheckSource(Oid relid, const char *source_name,
				const char *user_column, const char *item_column,
				const char *weight_column, const char *time_column)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source \"%s\" no longer exists", source_name),
				 errhint("Drop the model and create it again on an existing source.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE &&
		relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("source \"%s\" is not a table, view or foreign table", source_name)));

	if (user_column == NULL || item_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user and item columns must not be NULL")));
	CheckColumn(relid, source_name, user_column, "user", COLUMN_ID);
	CheckColumn(relid, source_name, item_column, "item", COLUMN_ID);
	if (weight_column)
		CheckColumn(relid, source_name, weight_column, "weight", COLUMN_WEIGHT);
	if (time_column)
		CheckColumn(relid, source_name, time_column, "time", COLUMN_TIME);
}

/*
 * recs.check_source(source regclass, user_column, item_column,
 *					 weight_column, time_column): for recs_create_model.
 */
Datum
recs_check_source(PG_FUNCTION_ARGS)
{
	Oid			relid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL")));
	relid = PG_GETARG_OID(0);
	RecsCheckSource(relid, DatumGetCString(DirectFunctionCall1(regclassout, relid)),
					PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1)),
					PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2)),
					PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)),
					PG_ARGISNULL(4) ? NULL : NameStr(*PG_GETARG_NAME(4)));
	PG_RETURN_VOID();
}

/* SQL expression reading the time column as epoch seconds */
static char *
TimeExpression(Oid relid, const char *column)
{
	Oid			type = get_atttype(relid, get_attnum(relid, column));

	if (type == TIMESTAMPOID || type == TIMESTAMPTZOID || type == DATEOID)
		return psprintf("extract(epoch FROM %s)::float8", quote_identifier(column));
	return psprintf("%s::float8", quote_identifier(column));
}

/*
 * Add the items of the model's item features table (its catalogue) that
 * have no interactions, so that content similarity and exploration can
 * reach items nobody has used yet.  The caller is connected to SPI.
 */
static void
AddCatalogue(const RecsModelSpec *spec, RecsInteractions *data)
{
	char	   *table;
	int64	   *ids;
	int64		n = 0;

	if (get_rel_relkind(spec->item_features) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the item features table of model \"%s\" no longer exists",
						spec->name),
				 errhint("Name another one with recs_set_item_features().")));
	table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(spec->item_features)),
									   get_rel_name(spec->item_features));
	if (SPI_execute(psprintf("SELECT DISTINCT %s::int8 FROM %s WHERE %s IS NOT NULL",
							 quote_identifier(spec->item_features_id), table,
							 quote_identifier(spec->item_features_id)),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", table);

	ids = palloc_extended(mul_size(Max(SPI_processed, 1), sizeof(int64)), MCXT_ALLOC_HUGE);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;

		ids[n++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
											   SPI_tuptable->tupdesc, 1, &isnull));
	}
	RecsAddItems(data, ids, n);
	data->catalogue = true;
	pfree(ids);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Read the source into a matrix allocated in target (the caller is
 * connected to SPI, whose context dies at SPI_finish).  The caller has
 * checked the source.
 */
RecsInteractions *
RecsReadSource(const RecsModelSpec *spec, MemoryContext target,
			   int64 *rows_read, int64 *rows_skipped)
{
	RecsInteractions *result;
	MemoryContext old;
	char	   *relname;
	char	   *query;
	Portal		portal;
	RecsTriple *triples;
	int64		capacity = 1024;
	int64		n = 0;
	int64		skipped = 0;
	bool		with_times = spec->time_column != NULL;

	relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(spec->source)),
										 get_rel_name(spec->source));
	query = psprintf("SELECT %s::int8, %s::int8, %s, %s FROM %s",
					 quote_identifier(spec->user_column),
					 quote_identifier(spec->item_column),
					 spec->weight_column ?
					 psprintf("%s::float8", quote_identifier(spec->weight_column)) :
					 "1::float8",
					 with_times ? TimeExpression(spec->source, spec->time_column) :
					 "0::float8",
					 relname);

	triples = MemoryContextAllocExtended(target, sizeof(RecsTriple) * capacity,
										 MCXT_ALLOC_HUGE);

	portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, SOURCE_FETCH_BATCH);
		if (SPI_processed == 0)
			break;

		if (n + (int64) SPI_processed > capacity)
		{
			while (n + (int64) SPI_processed > capacity)
				capacity *= 2;
			/* repalloc keeps the chunk in its own context, target */
			triples = repalloc_huge(triples, mul_size(sizeof(RecsTriple), capacity));
		}

		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		user_null,
						item_null,
						weight_null,
						time_null;
			Datum		user = SPI_getbinval(tuple, desc, 1, &user_null);
			Datum		item = SPI_getbinval(tuple, desc, 2, &item_null);
			Datum		weight = SPI_getbinval(tuple, desc, 3, &weight_null);
			Datum		time = SPI_getbinval(tuple, desc, 4, &time_null);
			float8		w;

			if (user_null || item_null || weight_null || (with_times && time_null))
			{
				skipped++;
				continue;
			}
			w = DatumGetFloat8(weight);
			if (isnan(w) || isinf(w) || isinf((float4) w))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("weight %g in source \"%s\" is not a finite real",
								w, spec->source_name),
						 errdetail("User %lld, item %lld.",
								   (long long) DatumGetInt64(user),
								   (long long) DatumGetInt64(item))));
			triples[n].user_id = DatumGetInt64(user);
			triples[n].item_id = DatumGetInt64(item);
			triples[n].value = (float4) w;
			triples[n].time = with_times ? DatumGetFloat8(time) : 0.0;
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);

	*rows_read = n + skipped;
	*rows_skipped = skipped;

	old = MemoryContextSwitchTo(target);
	result = RecsBuildInteractions(triples, n, with_times);
	pfree(triples);
	MemoryContextSwitchTo(old);

	if (OidIsValid(spec->item_features))
		AddCatalogue(spec, result);
	return result;
}

PG_FUNCTION_INFO_V1(recs_qualify_table_params);

/*
 * recs.qualify_table_params(params jsonb) returns jsonb: params with every
 * top-level "..._table" string that names an existing relation under the
 * caller's search_path replaced by its schema-qualified name.
 *
 * recs_create_model calls it before entering the code that runs with
 * search_path pg_catalog, pg_temp (and training, in the worker too, runs
 * with yet another), so that {"item_table": "movies"} means the movies the
 * caller sees.  Names that resolve to nothing are left alone, for the
 * algorithm's own check to report.
 */
Datum
recs_qualify_table_params(PG_FUNCTION_ARGS)
{
	Jsonb	   *params = PG_GETARG_JSONB_P(0);
	JsonbParseState *state = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *result = NULL;
	bool		table_key = false;

	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		PG_RETURN_JSONB_P(params);

	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			table_key = v.val.string.len > 6 &&
				strncmp(v.val.string.val + v.val.string.len - 6, "_table", 6) == 0;
			result = pushJsonbValue(&state, tok, &v);
			continue;
		}
		if (tok == WJB_VALUE && table_key && v.type == jbvString)
		{
			char	   *name = pnstrdup(v.val.string.val, v.val.string.len);
			List	   *names = stringToQualifiedNameList(name);
			Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

			if (OidIsValid(relid))
			{
				char	   *qualified =
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid));

				v.val.string.val = qualified;
				v.val.string.len = strlen(qualified);
			}
		}
		result = pushJsonbValue(&state, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}
