/*
 * topk.c
 *		recs_topk and recs_similar_items: serve recommendations.
 *
 * Ranking itself is in recommend.c; this file checks arguments, finds the
 * model (registry/model_cache.c) and returns rows.  The source column says
 * what produced each row: the model's algorithm; "<algorithm>_fold_in" for
 * a user the model was not trained on but who has interactions in the
 * source now (algorithms with score_history); "popular_fallback" for a user
 * with nothing to go on and for rows that fill up a short list.
 *
 * Reading a new user's interactions is one query on the model's source per
 * call: an index on the source's user column keeps it cheap.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "registry/registry.h"
#include "serve/recommend.h"
#include "serve/topk_heap.h"

PG_FUNCTION_INFO_V1(recs_topk);
PG_FUNCTION_INFO_V1(recs_similar_items);

#define FALLBACK_SOURCE "popular_fallback"

static int
CheckK(int32 k)
{
	if (k <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be positive, not %d", k)));
	if (k > RECS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at most %d, not %d", RECS_MAX_K, k)));
	return k;
}

static void
EmitRow(ReturnSetInfo *rsinfo, int64 item_id, float8 score, int32 rank,
		const char *source)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = Int64GetDatum(item_id);
	values[1] = Float8GetDatum(score);
	values[2] = Int32GetDatum(rank);
	values[3] = CStringGetTextDatum(source);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The live interactions of user_id in the model's source, as item indices
 * of the model (items it does not know are skipped) and weights, one entry
 * per item with repeated rows summed, as training sums them; returns how
 * many.  The caller is connected to SPI.
 */
static int
ReadLiveHistory(const RecsLoadedModel *model, int64 user_id, int32 **items,
				float4 **values)
{
	char	   *query;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(user_id)};
	int			n = 0;

	query = psprintf("SELECT %s::int8, %s FROM %s WHERE %s = $1 AND %s IS NOT NULL ORDER BY 1",
					 quote_identifier(model->item_column),
					 model->weight_column ?
					 psprintf("%s::float8", quote_identifier(model->weight_column)) :
					 "1::float8",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(model->source)),
												get_rel_name(model->source)),
					 quote_identifier(model->user_column),
					 quote_identifier(model->item_column));
	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the interactions of user %lld", (long long) user_id);

	*items = palloc(sizeof(int32) * Max(SPI_processed, 1));
	*values = palloc(sizeof(float4) * Max(SPI_processed, 1));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		item_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
														  SPI_tuptable->tupdesc, 1, &isnull));
		Datum		weight = SPI_getbinval(SPI_tuptable->vals[r],
										   SPI_tuptable->tupdesc, 2, &isnull);
		int32		j = RecsItemIndex(model->data, item_id);

		if (j < 0 || isnull)
			continue;
		if (n > 0 && (*items)[n - 1] == j)
		{
			(*values)[n - 1] += (float4) DatumGetFloat8(weight);
			continue;
		}
		(*items)[n] = j;
		(*values)[n] = (float4) DatumGetFloat8(weight);
		n++;
	}
	return n;
}

/* Mark the items of array (bigint[]) in mask, skipping ids the model does not know. */
static void
MarkIds(const RecsInteractions *data, ArrayType *array, bool *mask, bool value,
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
 * table (recs_set_item_features) whose to_jsonb() contains filter.  The
 * caller is connected to SPI.
 */
static void
ApplyFilter(const RecsLoadedModel *model, Jsonb *filter, bool *excluded)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(model->name)};
	bool		isnull;
	Oid			features;
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
	if (SPI_execute_with_args("SELECT item_features::oid, item_features_id::text"
							  " FROM recs.models WHERE name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read recs.models");
	features = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no item features to filter on", model->name),
				 errhint("Name its item features table with recs_set_item_features().")));
	id_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (get_rel_relkind(features) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the item features table of model \"%s\" no longer exists",
						model->name)));
	table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(features)),
									   get_rel_name(features));

	/* every key must be a column of the features table */
	it = JsonbIteratorInit(&filter->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		if (get_attnum(features, key) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("filter names column \"%s\", which %s does not have", key, table)));
	}

	argtypes[0] = JSONBOID;
	args[0] = JsonbPGetDatum(filter);
	if (SPI_execute_with_args(psprintf("SELECT DISTINCT %s::int8 FROM %s t WHERE to_jsonb(t) @> $1",
									   quote_identifier(id_column), table),
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", table);

	allowed = palloc0(sizeof(bool) * Max(model->data->n_items, 1));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		Datum		id = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		int32		j = isnull ? -1 : RecsItemIndex(model->data, DatumGetInt64(id));

		if (j >= 0)
			allowed[j] = true;
	}
	for (int32 j = 0; j < model->data->n_items; j++)
		if (!allowed[j])
			excluded[j] = true;
	pfree(allowed);
}

/*
 * recs_topk(user_id bigint, k integer, model text, exclude_seen boolean,
 *			 exclude bigint[], candidates bigint[], filter jsonb,
 *			 diversity real)
 *
 * Business rules (exclude, candidates, filter) shape the set of items
 * before top-k selection, for the model's rows and the fallback alike, so
 * k rows come back whenever k items qualify.  diversity > 0 re-ranks a
 * larger pool by maximal marginal relevance (RecsDiversify).
 */
Datum
recs_topk(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int			k;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		exclude_seen = PG_ARGISNULL(3) ? true : PG_GETARG_BOOL(3);
	double		diversity = (PG_NARGS() > 7 && !PG_ARGISNULL(7)) ? PG_GETARG_FLOAT4(7) : 0.0;
	RecsLoadedModel *model;
	const RecsInteractions *data;
	bool	   *excluded;
	float4	   *scores = NULL;
	int32		user;
	int			pool;
	RecsRanking ranking;
	const char *source;
	bool		spi_connected = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and k must not be NULL")));
	user_id = PG_GETARG_INT64(0);
	k = CheckK(PG_GETARG_INT32(1));
	if (isnan(diversity) || diversity < 0.0 || diversity > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity must be between 0 and 1, not %g", diversity)));

	InitMaterializedSRF(fcinfo, 0);

	/* no SPI unless a filter or a new user's live interactions need it */
	model = RecsGetModel(name);
	data = model->data;
	user = RecsUserIndex(data, user_id);
	source = model->algorithm->name;

	excluded = palloc0(sizeof(bool) * Max(data->n_items, 1));
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
	{
		/* candidates: rank only these */
		memset(excluded, true, sizeof(bool) * data->n_items);
		MarkIds(data, PG_GETARG_ARRAYTYPE_P(5), excluded, false, "candidates");
	}
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		MarkIds(data, PG_GETARG_ARRAYTYPE_P(4), excluded, true, "exclude");
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
	{
		SPI_connect();
		spi_connected = true;
		ApplyFilter(model, PG_GETARG_JSONB_P(6), excluded);
	}

	if (user >= 0)
	{
		scores = RecsNewScores(model);
		model->algorithm->score_user(model, user, scores);
		if (exclude_seen)
			for (int64 p = data->row_ptr[user]; p < data->row_ptr[user + 1]; p++)
				excluded[data->col_idx[p]] = true;
	}
	else if (model->algorithm->score_history != NULL)
	{
		/* not in the model: fold in the user's live interactions, if any */
		int32	   *items;
		float4	   *values;
		int			n;

		if (!spi_connected)
		{
			SPI_connect();
			spi_connected = true;
		}
		n = ReadLiveHistory(model, user_id, &items, &values);
		if (n > 0)
		{
			scores = RecsNewScores(model);
			model->algorithm->score_history(model, items, values, n, scores);
			source = psprintf("%s_fold_in", model->algorithm->name);
			if (exclude_seen)
				for (int i = 0; i < n; i++)
					excluded[items[i]] = true;
		}
	}

	/* diversity re-ranks a pool several times larger than k */
	pool = diversity > 0.0 ? Min(Max(4 * k, k + 50), RECS_MAX_K) : k;
	RecsRankScores(model, scores, pool, excluded, &ranking);
	if (diversity > 0.0)
		RecsDiversify(model, &ranking, k, diversity);

	for (int i = 0; i < Min(ranking.n, k); i++)
		EmitRow(rsinfo, data->item_ids[ranking.items[i]], ranking.scores[i], i + 1,
				ranking.fallback[i] ? FALLBACK_SOURCE : source);

	if (spi_connected)
		SPI_finish();
	return (Datum) 0;
}

/*
 * recs_similar_items(item_id bigint, k integer, model text): the items most
 * similar to item_id under the model, excluding item_id itself.  An item the
 * model has never seen has no similar items (no rows); there is no
 * popularity fill-up, since popular items are not "similar".
 */
Datum
recs_similar_items(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		item_id;
	int			k;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	RecsLoadedModel *model;
	const RecsInteractions *data;
	int32		item;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item_id and k must not be NULL")));
	item_id = PG_GETARG_INT64(0);
	k = CheckK(PG_GETARG_INT32(1));

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	model = RecsGetModel(name);
	data = model->data;
	if (model->algorithm->score_similar_items == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" (algorithm \"%s\") has no notion of item similarity",
						model->name, model->algorithm->name),
				 errhint("Use an item_knn model or a factor model.")));

	item = RecsItemIndex(data, item_id);
	if (item >= 0)
	{
		float4	   *scores = palloc(sizeof(float4) * data->n_items);
		RecsTopK	heap;

		for (int32 j = 0; j < data->n_items; j++)
			scores[j] = -INFINITY;
		if (model->algorithm->score_similar_items(model, item, scores))
		{
			RecsTopKInit(&heap, Min(k, data->n_items));
			for (int32 j = 0; j < data->n_items; j++)
				if (j != item && scores[j] != -INFINITY)
					RecsTopKOffer(&heap, j, scores[j]);
			RecsTopKSort(&heap);
			for (int i = 0; i < heap.n; i++)
				EmitRow(rsinfo, data->item_ids[heap.items[i]], heap.scores[i], i + 1,
						model->algorithm->name);
		}
	}

	SPI_finish();
	return (Datum) 0;
}
