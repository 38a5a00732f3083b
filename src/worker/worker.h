/*
 * worker.h
 *		The recs background worker: scheduled retraining and cache warming.
 */
#ifndef RECS_WORKER_H
#define RECS_WORKER_H

#include "postgres.h"

/* How long the postmaster waits before restarting a worker that exited. */
#define RECS_WORKER_RESTART_SECONDS 10

extern char *recs_worker_database;
extern int	recs_worker_naptime;

extern void RecsWorkerInit(void);
extern void RecsWorkerRegister(void);
extern void RecsWorkerBeginTransaction(const char *activity);
extern void RecsWorkerEndTransaction(bool force_stats);
extern void RecsRegisterBackgroundWorker(const char *function_name, const char *type,
										 int restart_seconds);

extern PGDLLEXPORT void recs_worker_main(Datum main_arg);

#endif							/* RECS_WORKER_H */
