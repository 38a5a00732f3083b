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
 * Fill ranking (allocated here, k entries) for user (an index into
 * model->data, or -1 for a user the model has never seen).  Items with
 * excluded[j] set are never ranked; excluded may be NULL.
 */
void
RecsRankForUser(const RecsLoadedModel *model, int32 user, int k,
				const bool *excluded, RecsRanking *ranking)
{
	const RecsInteractions *data = model->data;
	int32		n_items = data->n_items;
	RecsTopK	heap;

	ranking->n = 0;
	ranking->items = palloc(sizeof(int32) * k);
	ranking->scores = palloc(sizeof(float4) * k);
	ranking->fallback = palloc(sizeof(bool) * k);

	if (user >= 0)
	{
		float4	   *scores = palloc(sizeof(float4) * Max(n_items, 1));

		for (int32 j = 0; j < n_items; j++)
			scores[j] = -INFINITY;
		model->algorithm->score_user(model, user, scores);

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
		pfree(scores);
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
