/*
 * bpr_mf.h
 *		Bayesian personalised ranking: the "bpr_mf" algorithm, its fold-in
 *		of new users, and the pairwise sampling other BPR-trained models
 *		(ncf) share.
 */
#ifndef RECS_BPR_MF_H
#define RECS_BPR_MF_H

#include "postgres.h"

#include "cf/interactions.h"
#include "models/algorithm.h"
#include "models/training.h"

/* one observed (user, item) pair, as training visits them */
typedef struct RecsPositive
{
	int32		user;
	int32		item;
} RecsPositive;

/* Every observed pair, and scratch for reshuffling them every epoch. */
typedef struct RecsPositives
{
	int64		n;				/* data->nnz */
	RecsPositive *pairs;		/* in the current order */
	RecsPositive *spare;		/* shuffle scratch (NULL for small n) */
	int32	   *bucket;
} RecsPositives;

/* Every nonzero of data as a (user, item) pair, in CSR order; palloc'd. */
extern void RecsBprPositivesInit(RecsPositives *positives,
								 const RecsInteractions *data);

/* Put the pairs in a new uniformly random order. */
extern void RecsBprShuffle(RecsPositives *positives, RecsRandom *rng);

/* the largest (user, item) bitmap a negative sampler builds */
#define RECS_BPR_BITMAP_BYTES (64 * 1024 * 1024)

/* Draws items a user has not interacted with (negatives). */
typedef struct RecsNegativeSampler
{
	const RecsInteractions *data;
	uint64	   *bitmap;			/* n_users rows of words_per_user, or NULL */
	int64		words_per_user;
} RecsNegativeSampler;

/*
 * Set up sampling from data, with a bit per (user, item) for fast
 * membership tests when that fits in RECS_BPR_BITMAP_BYTES; palloc'd.
 */
extern void RecsBprSamplerInit(RecsNegativeSampler *sampler,
							   const RecsInteractions *data);

/*
 * An item drawn uniformly from those user has not interacted with, or -1
 * when the user has interacted with every item.  The draws made depend
 * only on the data and the random stream (never on whether the bitmap
 * fits), so results are the same either way.
 */
extern int32 RecsBprSampleNegative(const RecsNegativeSampler *sampler, int32 user,
								   RecsRandom *rng);

/*
 * Fold a user the model has not seen into a bpr_mf model: learn a user
 * vector (model's "factors" floats, written to user_vector) from the item
 * indices items[0 .. n-1] (indices into model->data; out-of-range entries
 * and repeats are ignored), with the item factors and biases held fixed.
 * Deterministic for the model's seed.  A user with no usable item gets the
 * zero vector, which ranks items by their biases.
 */
extern void RecsBprFoldIn(const RecsLoadedModel *model, const int32 *items, int n,
						  float4 *user_vector);

#endif							/* RECS_BPR_MF_H */
