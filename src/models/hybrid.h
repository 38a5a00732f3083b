/*
 * hybrid.h
 *		Internals shared by the two files of the "hybrid" algorithm:
 *		hybrid.c (params, artifact, serving) and hybrid_learn.c (learning
 *		member weights on a validation split).
 */
#ifndef RECS_HYBRID_H
#define RECS_HYBRID_H

#include "postgres.h"

#include <math.h>

#include "models/algorithm.h"

/* the most members a hybrid may have (artifact section names hold 2 digits) */
#define RECS_HYBRID_MAX_MEMBERS 16

/* how each member's scores are put on a common scale, per user */
typedef enum RecsHybridNorm
{
	RECS_HYBRID_ZSCORE,
	RECS_HYBRID_MINMAX,
	RECS_HYBRID_RANK
} RecsHybridNorm;

/* One member's recipe: what recs.models says about it at training time. */
typedef struct RecsHybridMember
{
	char	   *name;
	const RecsAlgorithm *algorithm;
	Jsonb	   *params;
} RecsHybridMember;

/*
 * The popularity prior's weight for a user with n interactions: s 2^(-n / h),
 * h the param "popularity" (half-life), s "popularity_weight".
 */
static inline float8
RecsHybridPriorWeight(float8 half_life, float8 at_zero, int64 n)
{
	return at_zero * pow(2.0, -(float8) n / half_life);
}

/*
 * One item's hybrid score: sum of w_m * x_m over the members active for the
 * user (and weighted) that scored item j, plus the prior's pop_weight *
 * pop_norm[j]; -infinity when none did.  x holds the members' normalised
 * scores, n_items apart.  Serving (hybrid.c) and weight learning
 * (hybrid_learn.c) both score with it, so that they score alike.
 */
static inline float4
RecsHybridCombine(const float4 *x, int32 n_items, int32 j, int n_members, const float8 *w,
				  const bool *active, float8 pop_weight, const float4 *pop_norm)
{
	float8		sum = 0.0;
	bool		scored = false;

	for (int m = 0; m < n_members; m++)
	{
		float4		v = x[(Size) m * n_items + j];

		if (active[m] && w[m] > 0 && v != -INFINITY)
		{
			sum += w[m] * v;
			scored = true;
		}
	}
	if (pop_weight > 0 && pop_norm[j] != -INFINITY)
	{
		sum += pop_weight * pop_norm[j];
		scored = true;
	}
	return scored ? (float4) sum : -INFINITY;
}

/* hybrid.c */
extern void RecsHybridNormalise(float4 *scores, int32 n, RecsHybridNorm norm);
extern void RecsHybridInteractionRanges(Jsonb *params, char **names, int n_members,
										int64 *min_n, int64 *max_n);
extern bytea *RecsHybridTrainMember(const RecsHybridMember *member,
									const RecsInteractions *data);
extern RecsLoadedModel *RecsHybridLoadMember(const RecsHybridMember *member,
											 bytea *artifact,
											 RecsInteractions *data);

/* hybrid_learn.c */
extern void RecsHybridLearnWeights(const RecsInteractions *data, Jsonb *params,
								   const RecsHybridMember *members, int n_members,
								   RecsHybridNorm norm, int k, int32 seed,
								   float8 *weights);

#endif							/* RECS_HYBRID_H */
