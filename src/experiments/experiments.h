/*
 * experiments.h
 *		A/B experiments in C: the assignment hash (experiment_stats.c),
 *		serving routes (routing.c), the exposure queue (exposure_queue.c)
 *		and its writer (exposure_writer.c).  The rest is SQL
 *		(experiments.sql, report.sql, monitoring.sql).
 */
#ifndef RECS_EXPERIMENTS_H
#define RECS_EXPERIMENTS_H

#include "postgres.h"

#include "datatype/timestamp.h"

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
extern void RecsExposureQueueAttachWriter(int64 events_seen);
extern void RecsExposureQueueDetachWriter(int code, Datum arg);
extern bool RecsExposuresPending(void);
extern uint64 RecsWriteQueuedExposures(uint64 *count, uint64 *discarded, int64 *events_seen);
extern void RecsExposuresWritten(uint64 tail, uint64 count, uint64 discarded,
								 int64 events_seen);
extern void RecsDiscardQueuedExposures(void);

/* exposure_table.c: one exposure to write */
typedef struct RecsExposureRow
{
	const char *experiment;
	const char *variant;
	const char *model;
	int32		model_version;
	int64		user_id;
	bool		forced;
	int			n_items;
	const int64 *items;			/* in rank order */
	const float4 *scores;
	int32		fallback_rows;
	TimestampTz shown_at;
} RecsExposureRow;

extern int	RecsInsertExposures(const RecsExposureRow *rows, int n);
extern int64 RecsEventsSeen(void);
extern void RecsAttributeEventsSince(int64 after, TimestampTz shown_since);

/* exposure_writer.c */
extern int	recs_exposure_writer_nice;
extern void RecsExposureWriterInit(void);
extern void RecsExposureWriterRegister(void);
extern PGDLLEXPORT void recs_exposure_writer_main(Datum main_arg);

#endif							/* RECS_EXPERIMENTS_H */
