/*
 * evaluate.h
 *		Offline evaluation: split, train in memory, rank, measure.
 *
 * Used by recs_evaluate and by recs_train (validation metrics of every
 * version).
 */
#ifndef RECS_EVALUATE_H
#define RECS_EVALUATE_H

#include "cf/interactions.h"
#include "models/algorithm.h"

typedef enum RecsEvalProtocol
{
	RECS_PROTOCOL_LEAVE_ONE_OUT,
	RECS_PROTOCOL_RANDOM,
	RECS_PROTOCOL_TEMPORAL
} RecsEvalProtocol;

typedef struct RecsEvalOptions
{
	RecsEvalProtocol protocol;
	int			k;
	double		test_fraction;	/* random, temporal without cutoff */
	int32		seed;
	int			negatives;		/* 0: rank the whole catalogue */
	float8		cutoff;			/* temporal, epoch seconds; NaN: from fraction */
} RecsEvalOptions;

typedef struct RecsEvalResult
{
	const char *failure;		/* why the split was unusable, or NULL */
	int32		users;
	double		precision;
	double		recall;
	double		ndcg;
	double		hit_rate;
	double		mrr;
	double		map;
	double		coverage;
	int64		train_interactions;
	int64		test_interactions;
	double		train_seconds;
	float8		cutoff;			/* the temporal cutoff used */
} RecsEvalResult;

extern void RecsEvaluateModel(const RecsLoadedModel *model,
							  const RecsInteractions *test,
							  const RecsInteractions *candidates, int k,
							  RecsEvalResult *result);
extern bool RecsCrossValidate(const RecsInteractions *full,
							  const RecsAlgorithm *algorithm, Jsonb *params,
							  int folds, int k, int32 seed,
							  RecsEvalResult *fold_results);
extern bool RecsEvaluateOn(const RecsInteractions *full,
						   const RecsAlgorithm *algorithm, Jsonb *params,
						   const RecsEvalOptions *opts, RecsEvalResult *result);

#endif							/* RECS_EVALUATE_H */
