/*
 * serve.h
 *		Compute one user's recommendation list the way recs_topk serves it.
 *
 * recs_topk, cache warming (recs_precompute) and the worker all call
 * RecsServeList, so a list read from the cache is exactly the list
 * recs_topk would have computed.
 */
#ifndef RECS_SERVE_H
#define RECS_SERVE_H

#include "utils/array.h"
#include "utils/jsonb.h"

#include "models/algorithm.h"
#include "serve/recommend.h"

#define RECS_FALLBACK_SOURCE "popular_fallback"
#define RECS_EXPLORATION_SOURCE "exploration"

/* What the caller already knows of a user's online updates. */
typedef enum RecsUpdatesKnown
{
	RECS_UPDATES_UNCHECKED = 0, /* RecsServeList asks recs.user_updates */
	RECS_UPDATES_NONE,			/* checked: nothing since training */
	RECS_UPDATES_PENDING		/* checked: interactions since training */
} RecsUpdatesKnown;

/* recs_topk's optional arguments; zeroed means "the defaults" */
typedef struct RecsServeOptions
{
	RecsUpdatesKnown updates;	/* not an argument: saves checking twice */
	bool		include_seen;	/* exclude_seen => false */
	ArrayType  *exclude;		/* bigint[] or NULL */
	ArrayType  *candidates;		/* bigint[] or NULL */
	Jsonb	   *filter;			/* or NULL */
	Jsonb	   *context;		/* or NULL */
	double		diversity;		/* 0: none */
} RecsServeOptions;

/* What RecsServeList learned about the user besides the list. */
typedef struct RecsServeInfo
{
	bool		known;			/* the model was trained on the user */
	bool		updated;		/* interactions arrived after training */
} RecsServeInfo;

extern void RecsServeList(const RecsLoadedModel *model, int64 user_id, int k,
						  const RecsServeOptions *opts, RecsRanking *ranking,
						  RecsServeInfo *info);
extern bool RecsServeOptionsAreDefault(const RecsServeOptions *opts);
extern bool RecsUserUpdatedSinceTraining(const RecsLoadedModel *model, int64 user_id);

#endif							/* RECS_SERVE_H */
