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

	if (scores != NULL)
	{
		RecsTopKInit(&heap, Min(k, n_items));
		for (int32 j = 0; j < n_items; j++)
			if (scores[j] != -INFINITY && !(excluded && excluded[j]))
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
	{
		bool	   *taken = palloc0(sizeof(bool) * Max(n_items, 1));

		for (int i = 0; i < ranking->n; i++)
			taken[ranking->items[i]] = true;
		RecsTopKInit(&heap, Min(k - ranking->n, n_items));
		for (int32 j = 0; j < n_items; j++)
			if (!taken[j] && !(excluded && excluded[j]))
				RecsTopKOffer(&heap, j, model->popularity[j]);
		RecsTopKSort(&heap);
		for (int i = 0; i < heap.n; i++)
		{
			ranking->items[ranking->n] = heap.items[i];
			ranking->scores[ranking->n] = heap.scores[i];
			ranking->fallback[ranking->n] = true;
			ranking->n++;
		}
		pfree(taken);
	}
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
