/*
 * topk_heap.c
 *		Bounded top-k selection (see topk_heap.h).
 */
#include "postgres.h"

#include "serve/topk_heap.h"

/* true when entry a ranks below entry b */
static inline bool
Worse(float4 score_a, int32 item_a, float4 score_b, int32 item_b)
{
	return score_a < score_b || (score_a == score_b && item_a > item_b);
}

void
RecsTopKInit(RecsTopK *heap, int k)
{
	heap->k = k;
	heap->n = 0;
	heap->items = palloc(sizeof(int32) * k);
	heap->scores = palloc(sizeof(float4) * k);
}

static void
SiftDown(RecsTopK *heap, int i, int n)
{
	for (;;)
	{
		int			worst = i;
		int			left = 2 * i + 1;
		int			right = left + 1;

		if (left < n && Worse(heap->scores[left], heap->items[left],
							  heap->scores[worst], heap->items[worst]))
			worst = left;
		if (right < n && Worse(heap->scores[right], heap->items[right],
							   heap->scores[worst], heap->items[worst]))
			worst = right;
		if (worst == i)
			return;

		{
			int32		item = heap->items[i];
			float4		score = heap->scores[i];

			heap->items[i] = heap->items[worst];
			heap->scores[i] = heap->scores[worst];
			heap->items[worst] = item;
			heap->scores[worst] = score;
		}
		i = worst;
	}
}

/*
 * Insert a candidate that RecsTopKOffer found worth keeping.
 */
void
RecsTopKInsert(RecsTopK *heap, int32 item, float4 score)
{
	if (heap->n < heap->k)
	{
		/* sift up */
		int			i = heap->n++;

		while (i > 0)
		{
			int			parent = (i - 1) / 2;

			if (!Worse(score, item, heap->scores[parent], heap->items[parent]))
				break;
			heap->items[i] = heap->items[parent];
			heap->scores[i] = heap->scores[parent];
			i = parent;
		}
		heap->items[i] = item;
		heap->scores[i] = score;
		return;
	}

	/* full: replace the root only if the candidate beats it */
	if (heap->k == 0 || !Worse(heap->scores[0], heap->items[0], score, item))
		return;
	heap->items[0] = item;
	heap->scores[0] = score;
	SiftDown(heap, 0, heap->n);
}

/*
 * Sort the kept entries best first (heap order is destroyed).  Repeatedly
 * moving the worst entry to the end leaves the array best-first.
 */
void
RecsTopKSort(RecsTopK *heap)
{
	for (int end = heap->n - 1; end > 0; end--)
	{
		int32		item = heap->items[0];
		float4		score = heap->scores[0];

		heap->items[0] = heap->items[end];
		heap->scores[0] = heap->scores[end];
		heap->items[end] = item;
		heap->scores[end] = score;
		SiftDown(heap, 0, end);
	}
}
