/*
 * hybrid.h
 *		Internals shared by the two files of the "hybrid" algorithm:
 *		hybrid.c (params, artifact, serving) and hybrid_learn.c (learning
 *		member weights on a validation split).
 */
#ifndef RECS_HYBRID_H
#define RECS_HYBRID_H

#include "postgres.h"

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
