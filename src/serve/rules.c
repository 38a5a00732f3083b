/*
 * rules.c
 *		Business rules and context for recs_topk: which items may be ranked
 *		(exclude, candidates, filter) and how the context re-ranks them.
 *
 * filter and context match the model's item features table
 * (recs_set_item_features, or a content model's item_table) by jsonb
 * containment of {...} in the row's columns as jsonb, so any column type
 * jsonb can represent works, and arrays match by containment
 * ({"genres": ["Comedy"]}); common column types are matched natively, with
 * the same result (MatchingItems).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "serve/rules.h"

/*
 * The model's item features table, quoted, and its id column; errors when
 * the model has none or it was dropped.  The caller is connected to SPI.
 */
static char *
FeaturesTable(const RecsLoadedModel *model, const char *why, Oid *relid, char **id_column)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(model->name)};
	bool		isnull;
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute_with_args("SELECT item_features::oid, item_features_id::text"
							  " FROM recs.models WHERE name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read recs.models");
	/* SPI returns in its own context, which dies at SPI_finish */
	MemoryContextSwitchTo(cxt);
	*relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no item features %s", model->name, why),
				 errhint("Name its item features table with recs_set_item_features().")));
	*id_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (get_rel_relkind(*relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the item features table of model \"%s\" no longer exists",
						model->name)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(*relid)),
									  get_rel_name(*relid));
}

/* {key: value} as a jsonb object of its own */
static Jsonb *
KeyValuePattern(const char *key, JsonbValue *value)
{
	JsonbParseState *state = NULL;
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	pushJsonbValue(&state, WJB_KEY, &k);
	pushJsonbValue(&state, WJB_VALUE, value);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/*
 * A text[] of the elements of a JSON array, if they are all strings; else
 * NULL.
 */
static ArrayType *
StringArray(JsonbValue *array_value)
{
	JsonbIterator *it = JsonbIteratorInit((JsonbContainer *) array_value->val.binary.data);
	JsonbValue	v;
	JsonbIteratorToken tok;
	Datum	   *elems;
	int			n = 0;
	int			room = 8;

	if (!JsonContainerIsArray((JsonbContainer *) array_value->val.binary.data))
		return NULL;
	elems = palloc(sizeof(Datum) * room);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvString)
			return NULL;
		if (n == room)
		{
			room *= 2;
			elems = repalloc(elems, sizeof(Datum) * room);
		}
		elems[n++] = PointerGetDatum(cstring_to_text_with_len(v.val.string.val, v.val.string.len));
	}
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * Item indices of the rows of table whose columns contain pattern, as a
 * mask over the model's items: a row matches when jsonb containment of
 * {key: value} in {key: to_jsonb(column)} holds for every pair.  Where the
 * column's type allows, a pair is matched natively instead, with the same
 * result and no conversion of the row to jsonb (five times faster, and
 * open to the table's indexes): a string against a text or varchar column
 * of a deterministic collation is equality, a boolean against a boolean,
 * a number against an integer or numeric column numeric equality, an
 * array of strings against a text[] column array containment.  The caller
 * checked that every key is a column, and is connected to SPI.
 */
static bool *
MatchingItems(const RecsLoadedModel *model, Oid relid, const char *table,
			  const char *id_column, Jsonb *pattern)
{
	int			n_pairs = JB_ROOT_COUNT(pattern);
	Oid		   *argtypes = palloc(sizeof(Oid) * Max(n_pairs, 1));
	Datum	   *args = palloc(sizeof(Datum) * Max(n_pairs, 1));
	int			n_args = 0;
	bool	   *match = palloc0(sizeof(bool) * Max(model->data->n_items, 1));
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData where;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	initStringInfo(&where);
	appendStringInfoString(&where, "true");
	it = JsonbIteratorInit(&pattern->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		AttrNumber	attnum;
		Oid			type;
		Oid			collation;
		int32		typmod;
		const char *column;
		ArrayType  *strings;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		attnum = get_attnum(relid, key);
		get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
		column = quote_identifier(key);

		if (v.type == jbvString && (type == TEXTOID || type == VARCHAROID) &&
			(!OidIsValid(collation) || get_collation_isdeterministic(collation)))
		{
			argtypes[n_args] = TEXTOID;
			args[n_args] = PointerGetDatum(cstring_to_text_with_len(v.val.string.val,
																	v.val.string.len));
			appendStringInfo(&where, " AND t.%s OPERATOR(pg_catalog.=) $%d", column, ++n_args);
		}
		else if (v.type == jbvBool && type == BOOLOID)
		{
			argtypes[n_args] = BOOLOID;
			args[n_args] = BoolGetDatum(v.val.boolean);
			appendStringInfo(&where, " AND t.%s OPERATOR(pg_catalog.=) $%d", column, ++n_args);
		}
		else if (v.type == jbvNumeric &&
				 (type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID))
		{
			argtypes[n_args] = NUMERICOID;
			args[n_args] = NumericGetDatum(v.val.numeric);
			appendStringInfo(&where, " AND t.%s::pg_catalog.numeric OPERATOR(pg_catalog.=) $%d",
							 column, ++n_args);
		}
		else if (v.type == jbvBinary && type == TEXTARRAYOID &&
				 (strings = StringArray(&v)) != NULL)
		{
			argtypes[n_args] = TEXTARRAYOID;
			args[n_args] = PointerGetDatum(strings);
			appendStringInfo(&where, " AND t.%s OPERATOR(pg_catalog.@>) $%d", column, ++n_args);
		}
		else
		{
			/* any other type: containment of the pair as jsonb */
			argtypes[n_args] = JSONBOID;
			args[n_args] = JsonbPGetDatum(KeyValuePattern(key, &v));
			appendStringInfo(&where,
							 " AND pg_catalog.jsonb_build_object(%s, t.%s) OPERATOR(pg_catalog.@>) $%d",
							 quote_literal_cstr(key), column, ++n_args);
		}
	}

	if (SPI_execute_with_args(psprintf("SELECT t.%s::pg_catalog.int8 FROM %s t WHERE %s",
									   quote_identifier(id_column), table, where.data),
							  n_args, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", table);
	MemoryContextSwitchTo(cxt);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		int32		j = isnull ? -1 : RecsItemIndex(model->data, DatumGetInt64(id));

		if (j >= 0)
			match[j] = true;
	}
	SPI_freetuptable(SPI_tuptable);
	return match;
}

/* Mark the items of array (bigint[]) in mask, skipping ids the model does not know. */
void
RecsMarkIds(const RecsInteractions *data, ArrayType *array, bool *mask, bool value,
			const char *what)
{
	Datum	   *ids;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(array, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &ids, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		int32		j;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULLs", what)));
		j = RecsItemIndex(data, DatumGetInt64(ids[i]));
		if (j >= 0)
			mask[j] = value;
	}
}

/*
 * Exclude every item not matching filter: rows of the model's item features
 * table whose to_jsonb() contains filter.  The caller is connected to SPI.
 */
void
RecsApplyFilter(const RecsLoadedModel *model, Jsonb *filter, bool *excluded)
{
	Oid			relid;
	char	   *id_column;
	char	   *table;
	bool	   *allowed;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(filter) || JB_ROOT_IS_SCALAR(filter))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter must be a JSON object of feature values"),
				 errhint("For example {\"genre\": \"Comedy\"}.")));
	table = FeaturesTable(model, "to filter on", &relid, &id_column);

	/* every key must be a column of the features table */
	it = JsonbIteratorInit(&filter->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		if (get_attnum(relid, key) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("filter names column \"%s\", which %s does not have", key, table)));
	}

	allowed = MatchingItems(model, relid, table, id_column, filter);
	for (int32 j = 0; j < model->data->n_items; j++)
		if (!allowed[j])
			excluded[j] = true;
	pfree(allowed);
}

/*
 * The share of context's keys each item matches, for context-aware
 * re-ranking: context is an object such as {"daypart": "evening",
 * "device": "mobile"}; each key naming a column of the model's item
 * features table is matched like a filter ({key: value} contained in the
 * item's row); keys naming no column are ignored, since applications pass
 * context they have, not context every model uses.  Returns NULL when no
 * key applies.  The caller is connected to SPI.
 */
float4 *
RecsContextMatches(const RecsLoadedModel *model, Jsonb *context)
{
	Oid			relid;
	char	   *id_column;
	char	   *table;
	float4	   *share = NULL;
	int			keys = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(context) || JB_ROOT_IS_SCALAR(context))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("context must be a JSON object"),
				 errhint("For example {\"daypart\": \"evening\", \"device\": \"mobile\"}.")));
	table = FeaturesTable(model, "for context to match", &relid, &id_column);

	it = JsonbIteratorInit(&context->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		bool	   *match;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE || key == NULL || get_attnum(relid, key) == InvalidAttrNumber)
			continue;

		match = MatchingItems(model, relid, table, id_column, KeyValuePattern(key, &v));
		if (share == NULL)
			share = palloc0(sizeof(float4) * Max(model->data->n_items, 1));
		for (int32 j = 0; j < model->data->n_items; j++)
			if (match[j])
				share[j] += 1.0f;
		pfree(match);
		keys++;
	}
	if (share != NULL)
		for (int32 j = 0; j < model->data->n_items; j++)
			share[j] /= keys;
	return share;
}
