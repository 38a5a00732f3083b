/*
 * topk_heap.h
 *		Bounded selection of the k best-scoring items.
 *
 * A min-heap of at most k entries whose root is the worst kept entry, so
 * each candidate costs O(1) when it loses and O(log k) when it wins.
 * Order: higher score first; equal scores by lower item index, which is
 * lower item id (indices follow ids), so results are deterministic.
 */
#ifndef RECS_TOPK_HEAP_H
#define RECS_TOPK_HEAP_H

#include "postgres.h"

typedef struct RecsTopK
{
	int			k;
	int			n;
	int32	   *items;
	float4	   *scores;
} RecsTopK;

extern void RecsTopKInit(RecsTopK *heap, int k);
extern void RecsTopKInsert(RecsTopK *heap, int32 item, float4 score);
extern void RecsTopKSort(RecsTopK *heap);

/*
 * Offer a candidate.  Inline, because it runs once per catalogue item and
 * most candidates lose to the root of a full heap: that test is all they
 * cost.
 */
static inline void
RecsTopKOffer(RecsTopK *heap, int32 item, float4 score)
{
	if (heap->n == heap->k &&
		(heap->k == 0 || score < heap->scores[0] ||
		 (score == heap->scores[0] && item > heap->items[0])))
		return;
	RecsTopKInsert(heap, item, score);
}

#endif							/* RECS_TOPK_HEAP_H */
