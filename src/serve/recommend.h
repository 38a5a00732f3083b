/*
 * recommend.h
 *		Rank items for one user under a loaded model.
 *
 * Shared by recs_topk (serving) and recs_evaluate (offline evaluation), so
 * that what is measured is exactly what is served.
 */
#ifndef RECS_RECOMMEND_H
#define RECS_RECOMMEND_H

#include "models/algorithm.h"

typedef struct RecsRanking
{
	int			n;				/* entries filled, at most k */
	int32	   *items;			/* item indices into model->data, best first */
	float4	   *scores;
	bool	   *fallback;		/* true: from the popularity fallback */
	const char **sources;		/* what produced each row (serve.c), or NULL */
} RecsRanking;

extern float4 *RecsNewScores(const RecsLoadedModel *model);
extern void RecsRankScores(const RecsLoadedModel *model, const float4 *scores,
						   int k, const bool *excluded, RecsRanking *ranking);
extern void RecsRankByPopularity(const RecsLoadedModel *model, int k,
								 const bool *excluded, RecsRanking *ranking);
extern void RecsDiversify(const RecsLoadedModel *model, RecsRanking *ranking, int k,
						  double lambda);
extern void RecsRankForUser(const RecsLoadedModel *model, int32 user, int k,
							const bool *excluded, RecsRanking *ranking);

#endif							/* RECS_RECOMMEND_H */
