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
extern void RecsTopKOffer(RecsTopK *heap, int32 item, float4 score);
extern void RecsTopKSort(RecsTopK *heap);

#endif							/* RECS_TOPK_HEAP_H */
