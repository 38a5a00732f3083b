/*
 * serve.c
 *		One user's recommendation list, as recs_topk serves it.
 *
 * The steps, in order:
 *	1. Scores.  A user the model was trained on is scored by the model
 *	   (score_user), unless interactions of theirs arrived after training
 *	   (online updates, recs_enable_online_updates): then their live
 *	   history is folded in (score_history) or, for algorithms without
 *	   fold-in, their new items are at least excluded.  A user the model
 *	   has never seen goes down the model's cold-start chain (params
 *	   "cold_start", default fold_in, user_features, popular): their live
 *	   interactions folded in, then what score_cold_user makes of their
 *	   features, then popularity.
 *	2. Rules.  exclude, candidates, filter and the user's own items
 *	   (exclude_seen) remove items before any selection, so k rows come
 *	   back whenever k items qualify.
 *	3. Ranking: top-k by a bounded heap, short lists filled from the
 *	   popularity fallback (recommend.c).
 *	4. Context re-ranks a larger pool: position relevance 1 - i/P plus
 *	   context_boost (param, default 0.5) times the share of context keys
 *	   the item matches.
 *	5. Diversity re-ranks a larger pool by maximal marginal relevance.
 *	6. Exploration (param {"every": N, "max_interactions": M}) puts a fresh
 *	   item, one with at most M training interactions (default 0), at
 *	   positions N, 2N, ...: the freshest the model scores best, or, when
 *	   the model scores none, one picked by a hash of user and item, so the
 *	   pick differs between users but is stable for each.
 * Every row carries its source: the algorithm, "<algorithm>_fold_in",
 * "<algorithm>_online", what score_cold_user names, "popular_fallback",
 * "exploration", or what the algorithm's row_sources says (hybrids).
 *
 * SPI is connected only when a step needs a query (filter, context, a live
 * history, an online-update check, a cold user's features), so the common
 * path, a known user with default options, runs no query at all.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "registry/registry.h"
#include "serve/rules.h"
#include "serve/serve.h"

#define DEFAULT_CONTEXT_BOOST 0.5

/* Connects to SPI on first use, so that the common path needs none. */
typedef struct LazySpi
{
	bool		connected;
	MemoryContext caller;
} LazySpi;

static void
NeedSpi(LazySpi *spi)
{
	if (!spi->connected)
	{
		SPI_connect();
		/* allocate in the caller's context: SPI's dies at SPI_finish */
		MemoryContextSwitchTo(spi->caller);
		spi->connected = true;
	}
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
	MemoryContext cxt = CurrentMemoryContext;

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
	/* SPI returns in its own context, which dies at SPI_finish */
	MemoryContextSwitchTo(cxt);

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
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * Did interactions of user_id arrive after the model's version was trained
 * (recs.user_updates, kept by the triggers of recs_enable_online_updates)?
 * Always false for models without online updates.  The caller is connected
 * to SPI.
 */
bool
RecsUserUpdatedSinceTraining(const RecsLoadedModel *model, int64 user_id)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[3];
	MemoryContext cxt = CurrentMemoryContext;

	if (!model->online)
		return false;
	if (plan == NULL)
	{
		Oid			argtypes[3] = {TEXTOID, INT8OID, TIMESTAMPTZOID};

		plan = SPI_prepare("SELECT 1 FROM recs.user_updates"
						   " WHERE model = $1 AND user_id = $2 AND updated_at >= $3",
						   3, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the online-update check");
	}
	args[0] = CStringGetTextDatum(model->name);
	args[1] = Int64GetDatum(user_id);
	args[2] = TimestampTzGetDatum(model->trained_at);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read recs.user_updates");
	/* SPI returns in its own context, which dies at SPI_finish */
	MemoryContextSwitchTo(cxt);
	return SPI_processed > 0;
}

/*
 * Put a fresh item at every every-th position of ranking (which has room
 * for k entries).
 */
static void
Explore(const RecsLoadedModel *model, int64 user_id, const float4 *scores,
		const bool *excluded, Jsonb *exploration, int k, RecsRanking *ranking)
{
	int			every = (int) RecsParamInt(exploration, "every", 0, 2, RECS_MAX_EXPLORATION_EVERY);
	int32		max_users = (int32) RecsParamInt(exploration, "max_interactions", 0, 0, PG_INT32_MAX);
	const int32 *users = RecsItemUsers(model);
	int32		n_items = model->data->n_items;
	bool	   *taken = palloc0(sizeof(bool) * Max(n_items, 1));
	RecsRanking room;

	/* room for k entries: a short list grows by the explored items */
	room.n = ranking->n;
	room.items = palloc(sizeof(int32) * k);
	room.scores = palloc(sizeof(float4) * k);
	room.fallback = palloc(sizeof(bool) * k);
	room.sources = palloc(sizeof(const char *) * k);
	memcpy(room.items, ranking->items, sizeof(int32) * ranking->n);
	memcpy(room.scores, ranking->scores, sizeof(float4) * ranking->n);
	memcpy(room.fallback, ranking->fallback, sizeof(bool) * ranking->n);
	memcpy(room.sources, ranking->sources, sizeof(const char *) * ranking->n);
	*ranking = room;

	for (int i = 0; i < ranking->n; i++)
		taken[ranking->items[i]] = true;

	for (int pos = every - 1; pos < k; pos += every)
	{
		int32		best = -1;
		bool		best_scored = false;
		float4		best_score = 0.0f;
		uint64		best_hash = 0;

		for (int32 j = 0; j < n_items; j++)
		{
			bool		scored;
			uint64		h;

			if (taken[j] || (excluded && excluded[j]) || users[j] > max_users)
				continue;
			/* an unseen item's score is an opinion only for some algorithms */
			scored = scores != NULL && scores[j] != -INFINITY &&
				(users[j] > 0 || model->algorithm->scores_unseen_items);
			if (scored)
			{
				if (!best_scored || scores[j] > best_score)
				{
					best = j;
					best_scored = true;
					best_score = scores[j];
				}
				continue;
			}
			if (best_scored)
				continue;
			h = hash_combine64(hash_bytes_uint32_extended((uint32) user_id, (uint64) (user_id >> 32)),
							   (uint64) model->data->item_ids[j]);
			if (best < 0 || h < best_hash)
			{
				best = j;
				best_hash = h;
			}
		}
		if (best < 0)
			break;				/* no fresh item left */
		taken[best] = true;

		/* insert at pos, dropping the last entry if the list is full */
		if (pos > ranking->n)
			pos = ranking->n;
		if (ranking->n == k)
			ranking->n--;
		for (int i = ranking->n; i > pos; i--)
		{
			ranking->items[i] = ranking->items[i - 1];
			ranking->scores[i] = ranking->scores[i - 1];
			ranking->fallback[i] = ranking->fallback[i - 1];
			ranking->sources[i] = ranking->sources[i - 1];
		}
		ranking->items[pos] = best;
		ranking->scores[pos] = best_scored ? best_score : 0.0f;
		ranking->fallback[pos] = false;
		ranking->sources[pos] = RECS_EXPLORATION_SOURCE;
		ranking->n++;
	}
	pfree(taken);
}

/*
 * Re-rank ranking by position relevance plus boost times each item's share
 * of matched context keys; keeps the first k.
 */
static void
ApplyContext(const float4 *share, double boost, int k, RecsRanking *ranking)
{
	int			n = ranking->n;
	float8	   *value = palloc(sizeof(float8) * Max(n, 1));
	int		   *order = palloc(sizeof(int) * Max(n, 1));
	RecsRanking out;

	for (int i = 0; i < n; i++)
	{
		value[i] = 1.0 - (double) i / n + boost * share[ranking->items[i]];
		order[i] = i;
	}
	/* insertion sort by value, stable: the pool is at most a few hundred */
	for (int i = 1; i < n; i++)
	{
		int			o = order[i];
		int			j = i;

		while (j > 0 && value[order[j - 1]] < value[o])
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = o;
	}
	out.n = Min(n, k);
	out.items = palloc(sizeof(int32) * Max(n, 1));
	out.scores = palloc(sizeof(float4) * Max(n, 1));
	out.fallback = palloc(sizeof(bool) * Max(n, 1));
	out.sources = palloc(sizeof(const char *) * Max(n, 1));
	for (int i = 0; i < out.n; i++)
	{
		out.items[i] = ranking->items[order[i]];
		out.scores[i] = ranking->scores[order[i]];
		out.fallback[i] = ranking->fallback[order[i]];
		out.sources[i] = ranking->sources[order[i]];
	}
	*ranking = out;
	pfree(value);
	pfree(order);
}

/*
 * A user of the training data as the model scores them (NULL for "popular",
 * ranked by its popularity order instead), their trained items excluded
 * unless include_seen.
 */
static float4 *
ScoreTrainedUser(const RecsLoadedModel *model, int32 user, bool by_popularity,
				 bool include_seen, bool *excluded)
{
	const RecsInteractions *data = model->data;
	float4	   *scores = NULL;

	if (!by_popularity)
	{
		scores = RecsNewScores(model);
		model->algorithm->score_user(model, user, scores);
	}
	if (!include_seen)
		for (int64 p = data->row_ptr[user]; p < data->row_ptr[user + 1]; p++)
			excluded[data->col_idx[p]] = true;
	return scores;
}

bool
RecsServeOptionsAreDefault(const RecsServeOptions *opts)
{
	return !opts->include_seen && opts->exclude == NULL && opts->candidates == NULL &&
		opts->filter == NULL && opts->context == NULL && opts->diversity == 0.0;
}

/*
 * The list recs_topk returns for user_id under model, into ranking
 * (allocated in CurrentMemoryContext, at most k entries, sources set).
 */
void
RecsServeList(const RecsLoadedModel *model, int64 user_id, int k,
			  const RecsServeOptions *opts, RecsRanking *ranking,
			  RecsServeInfo *info)
{
	const RecsInteractions *data = model->data;
	const char *source = model->algorithm->name;
	LazySpi		spi = {false, CurrentMemoryContext};
	Jsonb	   *exploration = RecsParamObject(model->params, "exploration");
	bool	   *excluded;
	float4	   *scores = NULL;
	float4	   *context_share = NULL;
	int32		user = RecsUserIndex(data, user_id);
	int			pool = k;

	/*
	 * "popular" scores every user alike, with the fallback's own scores:
	 * rank by walking the popularity order instead of scoring the catalogue.
	 */
	bool		by_popularity = model->algorithm == &RecsPopularAlgorithm;

	info->known = user >= 0;
	info->updated = false;

	excluded = palloc0(sizeof(bool) * Max(data->n_items, 1));
	if (opts->candidates != NULL)
	{
		memset(excluded, true, sizeof(bool) * data->n_items);
		RecsMarkIds(data, opts->candidates, excluded, false, "candidates");
	}
	if (opts->exclude != NULL)
		RecsMarkIds(data, opts->exclude, excluded, true, "exclude");
	if (opts->filter != NULL)
	{
		NeedSpi(&spi);
		RecsApplyFilter(model, opts->filter, excluded);
	}
	if (opts->context != NULL)
	{
		NeedSpi(&spi);
		context_share = RecsContextMatches(model, opts->context);
	}

	if (user >= 0 && model->online)
	{
		if (opts->updates == RECS_UPDATES_UNCHECKED)
		{
			NeedSpi(&spi);
			info->updated = RecsUserUpdatedSinceTraining(model, user_id);
		}
		else
			info->updated = opts->updates == RECS_UPDATES_PENDING;
	}

	if (user >= 0 && !info->updated)
		scores = ScoreTrainedUser(model, user, by_popularity, opts->include_seen, excluded);
	else
	{
		int			chain = user >= 0 ? RECS_COLD_FOLD_IN : RecsColdStartChain(model->params);
		int32	   *items = NULL;
		float4	   *values = NULL;
		int			n = 0;

		/* the user's live interactions: fold them in, or at least exclude them */
		if (chain & RECS_COLD_FOLD_IN)
		{
			NeedSpi(&spi);
			n = ReadLiveHistory(model, user_id, &items, &values);
			if (!opts->include_seen)
				for (int i = 0; i < n; i++)
					excluded[items[i]] = true;
		}
		if (n > 0 && model->algorithm->score_history != NULL)
		{
			scores = RecsNewScores(model);
			model->algorithm->score_history(model, items, values, n, scores);
			source = psprintf(user >= 0 ? "%s_online" : "%s_fold_in", model->algorithm->name);
		}
		else if (user >= 0)
		{
			/* no fold-in: the trained scores, without the user's new items */
			scores = ScoreTrainedUser(model, user, by_popularity, opts->include_seen, excluded);
			source = psprintf("%s_online", model->algorithm->name);
		}
		else if (n == 0 && (chain & RECS_COLD_USER_FEATURES) &&
				 model->algorithm->score_cold_user != NULL)
		{
			const char *cold_source = NULL;
			bool		found;

			NeedSpi(&spi);
			scores = RecsNewScores(model);
			found = model->algorithm->score_cold_user(model, user_id, scores, &cold_source);
			/* SPI returns in its own context, which dies at SPI_finish */
			MemoryContextSwitchTo(spi.caller);
			if (found)
				source = cold_source ? cold_source : psprintf("%s_cold_start", model->algorithm->name);
			else
			{
				pfree(scores);
				scores = NULL;
			}
		}
	}

	/* context and diversity re-rank a pool several times larger than k */
	if (context_share != NULL || opts->diversity > 0.0)
		pool = Min(Max(4 * k, k + 50), RECS_MAX_K);
	if (by_popularity && (user >= 0))
		RecsRankByPopularity(model, pool, excluded, ranking);
	else
		RecsRankScores(model, scores, pool, excluded, ranking);
	ranking->sources = palloc(sizeof(const char *) * Max(pool, 1));
	for (int i = 0; i < ranking->n; i++)
		ranking->sources[i] = ranking->fallback[i] ? RECS_FALLBACK_SOURCE : NULL;
	if (model->algorithm->row_sources != NULL && scores != NULL)
		model->algorithm->row_sources(model, user, ranking->items, ranking->n,
									  ranking->sources);
	for (int i = 0; i < ranking->n; i++)
		if (ranking->sources[i] == NULL)
			ranking->sources[i] = source;

	if (context_share != NULL)
		ApplyContext(context_share,
					 RecsParamNonNegative(model->params, "context_boost", DEFAULT_CONTEXT_BOOST),
					 opts->diversity > 0.0 ? pool : k, ranking);
	if (opts->diversity > 0.0)
		RecsDiversify(model, ranking, k, opts->diversity);
	if (ranking->n > k)
		ranking->n = k;
	if (exploration != NULL)
		Explore(model, user_id, scores, excluded, exploration, k, ranking);

	if (spi.connected)
		SPI_finish();
}
