/*
 * recommend.c
 *		Rank items for one user: the model's candidates first, then the
 *		popularity fallback.
 *
 * Scoring writes one float per catalogue item; items the algorithm cannot
 * score for this user stay at -infinity and are not candidates.  Top-k
 * selection is a bounded heap (topk_heap.c) with ties broken by item index,
 * which follows item id.  When the model yields fewer than k candidates (a
 * user it has never seen, or a neighbourhood too small) the rest of the
 * list comes from the popularity fallback and is marked as such, so a list
 * is never short while the catalogue has items left to offer.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "serve/recommend.h"
#include "serve/topk_heap.h"

/*
 * A catalogue-sized score array with every item "not a candidate", for
 * score_user and score_history to fill.
 */
float4 *
RecsNewScores(const RecsLoadedModel *model)
{
	int32		n_items = model->data->n_items;
	float4	   *scores = palloc(sizeof(float4) * Max(n_items, 1));

	for (int32 j = 0; j < n_items; j++)
		scores[j] = -INFINITY;
	return scores;
}

/*
 * The model's items by popularity, best first (ties by item index), built
 * once per loaded model: filling a list from the fallback then walks it
 * and skips what is taken or excluded, O(k + skipped) instead of a pass
 * over the catalogue.
 */
static const int32 *
PopularOrder(const RecsLoadedModel *model)
{
	RecsLoadedModel *m = (RecsLoadedModel *) model;

	if (m->popular_order == NULL)
	{
		int32		n_items = m->data->n_items;
		RecsTopK	heap;
		int32	   *order;

		RecsTopKInit(&heap, n_items);
		for (int32 j = 0; j < n_items; j++)
			RecsTopKOffer(&heap, j, m->popularity[j]);
		RecsTopKSort(&heap);
		order = MemoryContextAlloc(GetMemoryChunkContext(m),
								   sizeof(int32) * Max(n_items, 1));
		memcpy(order, heap.items, sizeof(int32) * n_items);
		pfree(heap.items);
		pfree(heap.scores);
		m->popular_order = order;
	}
	return m->popular_order;
}

/*
 * Append the most popular items not yet in ranking and not excluded until
 * it has k entries, marked as fallback rows or not.
 */
static void
FillByPopularity(const RecsLoadedModel *model, int k, const bool *excluded,
				 RecsRanking *ranking, bool as_fallback)
{
	const int32 *order = PopularOrder(model);
	int32		n_items = model->data->n_items;
	int			first = ranking->n;

	for (int32 o = 0; o < n_items && ranking->n < k; o++)
	{
		int32		j = order[o];
		bool		taken = false;

		if (excluded && excluded[j])
			continue;
		/* the model's own rows, at most k: a linear check is cheap */
		for (int i = 0; i < first && !taken; i++)
			taken = ranking->items[i] == j;
		if (taken)
			continue;
		ranking->items[ranking->n] = j;
		ranking->scores[ranking->n] = model->popularity[j];
		ranking->fallback[ranking->n] = as_fallback;
		ranking->n++;
	}
}

/*
 * Rank by popularity alone (the "popular" algorithm, whose scores are the
 * same for every user): k entries, allocated here, not marked as fallback.
 */
void
RecsRankByPopularity(const RecsLoadedModel *model, int k, const bool *excluded,
					 RecsRanking *ranking)
{
	ranking->n = 0;
	ranking->items = palloc(sizeof(int32) * k);
	ranking->scores = palloc(sizeof(float4) * k);
	ranking->fallback = palloc(sizeof(bool) * k);
	ranking->sources = NULL;
	FillByPopularity(model, k, excluded, ranking, false);
}

/*
 * Fill ranking (allocated here, k entries) from scores (NULL: the model has
 * nothing for this user), then the popularity fallback.  Items with
 * excluded[j] set are never ranked; excluded may be NULL.
 */
void
RecsRankScores(const RecsLoadedModel *model, const float4 *scores, int k,
			   const bool *excluded, RecsRanking *ranking)
{
	const RecsInteractions *data = model->data;
	int32		n_items = data->n_items;
	RecsTopK	heap;

	ranking->n = 0;
	ranking->items = palloc(sizeof(int32) * k);
	ranking->scores = palloc(sizeof(float4) * k);
	ranking->fallback = palloc(sizeof(bool) * k);
	ranking->sources = NULL;

	if (scores != NULL)
	{
		/* items nobody has used are unscored unless the algorithm knows better */
		const int32 *users = model->algorithm->scores_unseen_items ? NULL :
		RecsItemUsers(model);

		RecsTopKInit(&heap, Min(k, n_items));
		for (int32 j = 0; j < n_items; j++)
			if (scores[j] != -INFINITY && !(excluded && excluded[j]) &&
				!(users && users[j] == 0))
				RecsTopKOffer(&heap, j, scores[j]);
		RecsTopKSort(&heap);
		for (int i = 0; i < heap.n; i++)
		{
			ranking->items[i] = heap.items[i];
			ranking->scores[i] = heap.scores[i];
			ranking->fallback[i] = false;
		}
		ranking->n = heap.n;
	}

	if (ranking->n < k)
		FillByPopularity(model, k, excluded, ranking, true);
}

/*
 * Rank for user, an index into model->data or -1 for a user the model has
 * never seen (who gets the fallback alone).
 */
void
RecsRankForUser(const RecsLoadedModel *model, int32 user, int k,
				const bool *excluded, RecsRanking *ranking)
{
	float4	   *scores = NULL;

	if (user >= 0)
	{
		scores = RecsNewScores(model);
		model->algorithm->score_user(model, user, scores);
	}
	RecsRankScores(model, scores, k, excluded, ranking);
	if (scores)
		pfree(scores);
}

/*
 * Re-rank ranking for diversity by maximal marginal relevance: repeatedly
 * take the entry maximising (1 - lambda) * relevance - lambda * (its
 * highest similarity to the entries already taken), keeping the first k.
 * Relevance is position-based (1 for the first entry, falling linearly),
 * so model and fallback rows, whose scores are on different scales, mix
 * fairly.  Similarity is the model's item similarity; negative or missing
 * similarity counts as 0.
 */
void
RecsDiversify(const RecsLoadedModel *model, RecsRanking *ranking, int k, double lambda)
{
	int			n = ranking->n;
	bool	   *taken;
	float8	   *max_sim;
	float4	   *sims;
	RecsRanking out;

	if (model->algorithm->score_similar_items == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("diversity needs item similarity, which model \"%s\" (algorithm \"%s\") does not have",
						model->name, model->algorithm->name)));
	if (n == 0)
		return;

	taken = palloc0(sizeof(bool) * n);
	max_sim = palloc0(sizeof(float8) * n);
	out.n = 0;
	out.items = palloc(sizeof(int32) * Min(k, n));
	out.scores = palloc(sizeof(float4) * Min(k, n));
	out.fallback = palloc(sizeof(bool) * Min(k, n));
	out.sources = ranking->sources ? palloc(sizeof(const char *) * Min(k, n)) : NULL;

	while (out.n < Min(k, n))
	{
		int			best = -1;
		double		best_value = 0.0;

		for (int i = 0; i < n; i++)
		{
			double		relevance = 1.0 - (double) i / n;
			double		value;

			if (taken[i])
				continue;
			value = (1.0 - lambda) * relevance - lambda * max_sim[i];
			if (best < 0 || value > best_value)
			{
				best = i;
				best_value = value;
			}
		}
		taken[best] = true;
		out.items[out.n] = ranking->items[best];
		out.scores[out.n] = ranking->scores[best];
		out.fallback[out.n] = ranking->fallback[best];
		if (out.sources)
			out.sources[out.n] = ranking->sources[best];
		out.n++;

		/* the new entry's similarity to every entry still in the pool */
		sims = RecsNewScores(model);
		model->algorithm->score_similar_items(model, ranking->items[best], sims);
		for (int i = 0; i < n; i++)
		{
			double		s = sims[ranking->items[i]];

			if (!taken[i] && s > max_sim[i])
				max_sim[i] = s;
		}
		pfree(sims);
	}
	*ranking = out;
	pfree(taken);
	pfree(max_sim);
}
