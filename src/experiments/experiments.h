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

/* exposure_queue.c */
#define RECS_EXPOSURE_FLUSH_MS 200
extern int	recs_exposure_queue_kb;
extern void RecsExposureQueueInit(void);
extern bool RecsQueueExposure(const char *experiment, const char *variant, const char *model,
							  int32 model_version, int64 user_id, bool forced,
							  const int64 *items, const float4 *scores, int n_items,
							  int fallback_rows);
extern void RecsExposureQueueAttachWorker(void);
extern void RecsExposureQueueDetachWorker(int code, Datum arg);
extern bool RecsExposuresPending(void);
extern uint64 RecsWriteQueuedExposures(uint64 *count);
extern void RecsExposuresWritten(uint64 tail, uint64 count);

#endif							/* RECS_EXPERIMENTS_H */
