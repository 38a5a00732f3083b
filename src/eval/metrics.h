/*
 * metrics.h
 *		Ranking metrics at k, for the SQL functions and for recs_evaluate.
 */
#ifndef RECS_METRICS_H
#define RECS_METRICS_H

#include "postgres.h"

/* What one pass over the top k tells every metric. */
typedef struct RecsTopKStats
{
	int			k;
	int			nrelevant;		/* distinct relevant items */
	int			nhits;			/* relevant items among the top k */
	int			first_hit;		/* rank of the first hit, 0 if none */
	double		precision_sum;	/* sum of precision@i over hit ranks i */
	double		dcg;			/* discounted cumulative gain */
	double		idcg;			/* DCG of the ideal ordering (if asked for) */
} RecsTopKStats;

extern bool RecsComputeTopKStats(const int64 *recommended, int nrec,
								 const int64 *relevant, const float4 *grades,
								 int nrel, double max_grade, int k,
								 bool want_idcg, RecsTopKStats *stats);

/* The metrics, from stats filled by RecsComputeTopKStats. */
#define RecsPrecisionAtK(s) ((double) (s)->nhits / (s)->k)
#define RecsRecallAtK(s) ((double) (s)->nhits / (s)->nrelevant)
#define RecsHitRateAtK(s) ((s)->nhits > 0 ? 1.0 : 0.0)
#define RecsReciprocalRankAtK(s) ((s)->first_hit > 0 ? 1.0 / (s)->first_hit : 0.0)
#define RecsAveragePrecisionAtK(s) ((s)->precision_sum / Min((s)->nrelevant, (s)->k))
/* NaN-free: callers treat idcg <= 0 as undefined */
#define RecsNdcgAtK(s) Min((s)->dcg / (s)->idcg, 1.0)

#endif							/* RECS_METRICS_H */
