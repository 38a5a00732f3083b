/*
 * experiments.h
 *		A/B experiments in C: the assignment hash (experiment_stats.c) and
 *		serving routes (routing.c).  The rest is SQL (experiments.sql).
 */
#ifndef RECS_EXPERIMENTS_H
#define RECS_EXPERIMENTS_H

#include "postgres.h"

/* users are hashed into this many buckets */
#define RECS_BUCKETS 10000

extern int32 RecsAssignmentBucket(const char *salt, size_t salt_len, int64 user_id);

/* How recs_topk serves a user in an experiment. */
typedef struct RecsExperimentRoute
{
	const char *variant;
	const char *model;
	bool		forced;			/* an allow-list override, not the hash */
	bool		record;			/* running: record the exposure */
} RecsExperimentRoute;

extern void RecsRouteExperiment(const char *experiment, int64 user_id,
								RecsExperimentRoute *route);

#endif							/* RECS_EXPERIMENTS_H */
