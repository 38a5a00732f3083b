/*
 * topk.c
 *		recs_topk and recs_similar_items: serve recommendations.
 *
 * Scoring writes one float per catalogue item; items an algorithm cannot
 * score for this user stay at -infinity and are not candidates.  Top-k
 * selection is a bounded heap (topk_heap.c) with ties broken by item id.
 * When the model yields fewer than k candidates (a user it has never seen,
 * or a neighbourhood too small), the remaining rows come from the
 * popularity fallback and say so in the source column: recs_topk never
 * returns an empty list while the catalogue has unseen items.
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "registry/registry.h"
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
 * Select and emit the top k of scores, skipping excluded items (excluded
 * may be NULL); with fill, make up a shortfall from the popularity fallback.
 */
static void
EmitTopK(ReturnSetInfo *rsinfo, const RecsLoadedModel *model, float4 *scores,
		 const bool *excluded, int k, const char *source, bool fill)
{
	const RecsInteractions *data = model->data;
	RecsTopK	heap;
	int			rank = 0;

	RecsTopKInit(&heap, Min(k, data->n_items));
	for (int32 j = 0; j < data->n_items; j++)
		if (scores[j] != -INFINITY && !(excluded && excluded[j]))
			RecsTopKOffer(&heap, j, scores[j]);
	RecsTopKSort(&heap);
	for (int i = 0; i < heap.n; i++)
		EmitRow(rsinfo, data->item_ids[heap.items[i]], heap.scores[i], ++rank, source);

	if (heap.n < k && fill)
	{
		bool	   *taken = palloc0(sizeof(bool) * Max(data->n_items, 1));
		RecsTopK	rest;

		for (int i = 0; i < heap.n; i++)
			taken[heap.items[i]] = true;
		RecsTopKInit(&rest, Min(k - heap.n, data->n_items));
		for (int32 j = 0; j < data->n_items; j++)
			if (!taken[j] && !(excluded && excluded[j]))
				RecsTopKOffer(&rest, j, model->popularity[j]);
		RecsTopKSort(&rest);
		for (int i = 0; i < rest.n; i++)
			EmitRow(rsinfo, data->item_ids[rest.items[i]], rest.scores[i], ++rank,
					FALLBACK_SOURCE);
	}
}

/*
 * recs_topk(user_id bigint, k integer, model text, exclude_seen boolean)
 */
Datum
recs_topk(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int			k;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		exclude_seen = PG_ARGISNULL(3) ? true : PG_GETARG_BOOL(3);
	RecsLoadedModel *model;
	const RecsInteractions *data;
	float4	   *scores;
	bool	   *excluded = NULL;
	int32		user;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and k must not be NULL")));
	user_id = PG_GETARG_INT64(0);
	k = CheckK(PG_GETARG_INT32(1));

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	model = RecsGetModel(name);
	data = model->data;
	scores = palloc(sizeof(float4) * Max(data->n_items, 1));
	user = RecsUserIndex(data, user_id);

	if (user >= 0)
	{
		for (int32 j = 0; j < data->n_items; j++)
			scores[j] = -INFINITY;
		model->algorithm->score_user(model, user, scores);
		if (exclude_seen)
		{
			excluded = palloc0(sizeof(bool) * Max(data->n_items, 1));
			for (int64 p = data->row_ptr[user]; p < data->row_ptr[user + 1]; p++)
				excluded[data->col_idx[p]] = true;
		}
		EmitTopK(rsinfo, model, scores, excluded, k, model->algorithm->name, true);
	}
	else
	{
		/* cold start: a user the model has never seen */
		memcpy(scores, model->popularity, sizeof(float4) * data->n_items);
		EmitTopK(rsinfo, model, scores, NULL, k, FALLBACK_SOURCE, false);
	}

	SPI_finish();
	return (Datum) 0;
}

/*
 * recs_similar_items(item_id bigint, k integer, model text): the items most
 * similar to item_id under the model, excluding item_id itself.  An item the
 * model has never seen has no similar items (no rows).
 */
Datum
recs_similar_items(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		item_id;
	int			k;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	RecsLoadedModel *model;
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
	if (model->algorithm->score_similar_items == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" (algorithm \"%s\") has no notion of item similarity",
						model->name, model->algorithm->name),
				 errhint("Use an item_knn, user_knn or factor model.")));

	item = RecsItemIndex(model->data, item_id);
	if (item >= 0)
	{
		float4	   *scores = palloc(sizeof(float4) * model->data->n_items);
		bool	   *excluded = palloc0(sizeof(bool) * model->data->n_items);

		for (int32 j = 0; j < model->data->n_items; j++)
			scores[j] = -INFINITY;
		excluded[item] = true;
		if (model->algorithm->score_similar_items(model, item, scores))
			EmitTopK(rsinfo, model, scores, excluded, k, model->algorithm->name, false);
	}

	SPI_finish();
	return (Datum) 0;
}
