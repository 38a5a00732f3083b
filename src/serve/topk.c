/*
 * topk.c
 *		recs_topk and recs_similar_items: serve recommendations.
 *
 * The list is computed by serve.c (RecsServeList); this file checks
 * arguments, finds the model (registry/model_cache.c), goes through the
 * Redis cache (cache/cache.c) and experiments, and returns rows.
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

#include "cache/cache.h"
#include "experiments/experiments.h"
#include "registry/registry.h"
#include "serve/serve.h"
#include "serve/topk_heap.h"

PG_FUNCTION_INFO_V1(recs_topk);
PG_FUNCTION_INFO_V1(recs_similar_items);

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
 * Record what an experiment served: queued in shared memory for the writer
 * (experiments/exposure_queue.c) when the queue takes it, else through
 * recs.record_exposure (an INSERT into recs.exposures, or a WARNING in a
 * read-only transaction).
 */
static void
RecordExposure(const char *experiment, const RecsExperimentRoute *route, int64 user_id,
			   int32 model_version, const int64 *ids, const float4 *scores,
			   const char *const *sources, int n)
{
	Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT8OID, BOOLOID,
	INT8ARRAYOID, FLOAT4ARRAYOID, INT4OID};
	Datum		args[9];
	Datum	   *id_datums;
	Datum	   *score_datums;
	int			fallback_rows = 0;

	/* the same rows whether computed now or read from a cache */
	for (int i = 0; i < n; i++)
		fallback_rows += (strcmp(sources[i], RECS_FALLBACK_SOURCE) == 0);
	if (RecsQueueExposure(experiment, route->variant, route->model, model_version,
						  user_id, route->forced, ids, scores, n, fallback_rows))
		return;

	id_datums = palloc(sizeof(Datum) * Max(n, 1));
	score_datums = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		id_datums[i] = Int64GetDatum(ids[i]);
		score_datums[i] = Float4GetDatum(scores[i]);
	}
	args[0] = CStringGetTextDatum(experiment);
	args[1] = CStringGetTextDatum(route->variant);
	args[2] = CStringGetTextDatum(route->model);
	args[3] = Int32GetDatum(model_version);
	args[4] = Int64GetDatum(user_id);
	args[5] = BoolGetDatum(route->forced);
	args[6] = PointerGetDatum(construct_array(id_datums, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[7] = PointerGetDatum(construct_array(score_datums, n, FLOAT4OID,
											  sizeof(float4), true, TYPALIGN_INT));
	args[8] = Int32GetDatum(fallback_rows);
	SPI_connect();
	if (SPI_execute_with_args("SELECT recs.record_exposure($1, $2, $3, $4, $5, $6, $7, $8, $9)",
							  9, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not record an exposure of experiment \"%s\"", experiment);
	SPI_finish();
}

/*
 * Return a list as rows; through an experiment (experiment not NULL),
 * record the exposure first and tag each row's source "<variant>:<source>".
 */
static void
ServeRows(ReturnSetInfo *rsinfo, const char *experiment, const RecsExperimentRoute *route,
		  int64 user_id, int32 model_version, const int64 *ids, const float4 *scores,
		  const char *const *sources, int n)
{
	const char *untagged = NULL;
	const char *tagged = NULL;

	/* a list with no rows is not an exposure */
	if (experiment != NULL && route->record && n > 0)
		RecordExposure(experiment, route, user_id, model_version, ids, scores, sources, n);
	for (int i = 0; i < n; i++)
	{
		const char *source = sources[i];

		if (experiment != NULL)
		{
			/* rows share a few source strings: tag each once */
			if (source != untagged)
			{
				untagged = source;
				tagged = psprintf("%s:%s", route->variant, untagged);
			}
			source = tagged;
		}
		EmitRow(rsinfo, ids[i], scores[i], i + 1, source);
	}
}

/*
 * recs_topk(user_id bigint, k integer, model text, exclude_seen boolean,
 *			 exclude bigint[], candidates bigint[], filter jsonb,
 *			 diversity real, context jsonb, experiment text)
 *
 * The list itself is RecsServeList's (serve.c).  With the default options
 * it goes through two cache layers: this backend's memory
 * (recs.local_cache_size) and Redis when one is configured
 * (recs.redis_url); a hit is returned as stored, a miss is computed and
 * stored in both.  Users with interactions newer than the model (online
 * updates) bypass the caches.
 */
Datum
recs_topk(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int			k;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *experiment = NULL;
	RecsExperimentRoute route;
	RecsServeOptions opts;
	RecsServeInfo info;
	RecsLoadedModel *model;
	RecsRanking ranking;
	bool		cacheable;
	int64	   *cached_ids;
	float4	   *cached_scores;
	char	  **cached_sources;
	int			cached_n;
	int64	   *ids;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and k must not be NULL")));
	user_id = PG_GETARG_INT64(0);
	k = CheckK(PG_GETARG_INT32(1));

	memset(&opts, 0, sizeof(opts));
	opts.include_seen = !PG_ARGISNULL(3) && !PG_GETARG_BOOL(3);
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		opts.exclude = PG_GETARG_ARRAYTYPE_P(4);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		opts.candidates = PG_GETARG_ARRAYTYPE_P(5);
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
		opts.filter = PG_GETARG_JSONB_P(6);
	if (PG_NARGS() > 7 && !PG_ARGISNULL(7))
		opts.diversity = PG_GETARG_FLOAT4(7);
	if (PG_NARGS() > 8 && !PG_ARGISNULL(8))
		opts.context = PG_GETARG_JSONB_P(8);
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		experiment = text_to_cstring(PG_GETARG_TEXT_PP(9));
	if (isnan(opts.diversity) || opts.diversity < 0.0 || opts.diversity > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity must be between 0 and 1, not %g", opts.diversity)));

	InitMaterializedSRF(fcinfo, 0);

	if (experiment != NULL)
	{
		if (name != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("recs_topk takes a model or an experiment, not both"),
					 errdetail("The experiment decides which model serves each user.")));
		RecsRouteExperiment(experiment, user_id, &route);
		name = pstrdup(route.model);
		route.variant = pstrdup(route.variant);
	}

	model = RecsGetModel(name);

	/*
	 * The caches hold default-option lists of users as the model knows
	 * them: first this backend's memory, then Redis.  Through an
	 * experiment too: the variant's model serves the same list.
	 */
	cacheable = RecsServeOptionsAreDefault(&opts) && RecsUserIndex(model->data, user_id) >= 0;
	if (cacheable && model->online)
	{
		bool		updated;

		SPI_connect();
		updated = RecsUserUpdatedSinceTraining(model, user_id);
		SPI_finish();
		cacheable = !updated;
		/* RecsServeList need not ask again */
		opts.updates = updated ? RECS_UPDATES_PENDING : RECS_UPDATES_NONE;
	}
	if (cacheable &&
		RecsLocalCacheGet(model, user_id, k, true, &cached_ids, &cached_scores,
						  &cached_sources, &cached_n))
	{
		ServeRows(rsinfo, experiment, &route, user_id, model->version, cached_ids,
				  cached_scores, (const char *const *) cached_sources, cached_n);
		return (Datum) 0;
	}
	if (cacheable && RecsRedisEnabled() &&
		RecsCacheGet(model, user_id, k, true, &cached_ids, &cached_scores,
					 &cached_sources, &cached_n))
	{
		RecsLocalCachePut(model, user_id, k, true, cached_ids, cached_scores,
						  (const char *const *) cached_sources, cached_n);
		ServeRows(rsinfo, experiment, &route, user_id, model->version, cached_ids,
				  cached_scores, (const char *const *) cached_sources, cached_n);
		return (Datum) 0;
	}

	RecsServeList(model, user_id, k, &opts, &ranking, &info);
	ids = palloc(sizeof(int64) * Max(ranking.n, 1));
	for (int i = 0; i < ranking.n; i++)
		ids[i] = model->data->item_ids[ranking.items[i]];

	if (cacheable && info.known && !info.updated)
	{
		RecsLocalCachePut(model, user_id, k, true, ids, ranking.scores,
						  (const char *const *) ranking.sources, ranking.n);
		if (RecsRedisEnabled())
			RecsCachePut(model, user_id, k, true, ids, ranking.scores,
						 (const char *const *) ranking.sources, ranking.n);
	}
	ServeRows(rsinfo, experiment, &route, user_id, model->version, ids, ranking.scores,
			  (const char *const *) ranking.sources, ranking.n);
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
