/*
 * worker.c
 *		The recs background worker: runs the jobs of recs.schedules in one
 *		database (recs.worker_database), every recs.worker_naptime seconds.
 *
 * Exposures that recs_topk queues in shared memory are written by a
 * process of their own (experiments/exposure_writer.c), so that a long
 * job here never holds them up.
 *
 * Registered only when recs is in shared_preload_libraries (see recs.c);
 * without that, recs_worker_status() says so and how to enable it.
 *
 * Design:
 *	- The loop is the worker_spi one: signal handlers before unblocking,
 *	  WaitLatch with WL_EXIT_ON_PM_DEATH, ResetLatch, CHECK_FOR_INTERRUPTS,
 *	  ProcessConfigFile on SIGHUP.  SIGTERM is die(), so pg_terminate_backend
 *	  and shutdown end the worker promptly, also while it waits for Redis.
 *	- Nothing is touched while the server is in recovery (a hot standby runs
 *	  the worker, which stays idle) or while the extension is not installed
 *	  in recs.worker_database.
 *	- Every job (one retraining of a model, one cache warming of a model)
 *	  runs in its own transaction with the standard sequence around SPI.
 *	  The job itself is a plpgsql function in schema recs (worker.sql) whose
 *	  EXCEPTION block is the subtransaction that catches the job's errors and
 *	  writes them, with their text, to recs.worker_jobs; one failing model
 *	  therefore never stops the others.  Errors outside a job (the catalogs
 *	  cannot be read, say) end the worker with the error in the server log,
 *	  and the postmaster restarts it after RECS_WORKER_RESTART_SECONDS.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "worker/worker.h"

PG_FUNCTION_INFO_V1(recs_worker_preloaded);

char	   *recs_worker_database = NULL;
int			recs_worker_naptime = 10;

/* Set in the postmaster when the worker is registered; inherited by fork. */
static bool worker_registered = false;

void
RecsWorkerInit(void)
{
	DefineCustomStringVariable("recs.worker_database",
							   "Database the recs background worker serves.",
							   "The worker runs the schedules of the recs extension installed there; when this changes, it restarts to connect to the new one.",
							   &recs_worker_database,
							   "postgres",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("recs.worker_naptime",
							"Time the recs background worker sleeps between rounds of jobs.",
							NULL,
							&recs_worker_naptime,
							10, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * Register a background worker of recs, database-connected and started on
 * hot standbys too (where it stays idle until promotion): the worker here,
 * and the exposure writer (experiments/exposure_writer.c).  From _PG_init
 * under shared_preload_libraries.
 */
void
RecsRegisterBackgroundWorker(const char *function_name, const char *type,
							 int restart_seconds)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = restart_seconds;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "recs");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function_name);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", type);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/* Register the worker; called from _PG_init under shared_preload_libraries. */
void
RecsWorkerRegister(void)
{
	RecsRegisterBackgroundWorker("recs_worker_main", "recs worker", RECS_WORKER_RESTART_SECONDS);
	worker_registered = true;
}

/* recs.worker_preloaded(): was the worker registered at server start? */
Datum
recs_worker_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(worker_registered);
}

/*
 * The transaction around a background job that uses SPI, reported in
 * pg_stat_activity; shared with the exposure writer.  force_stats flushes
 * the job's statistics at once (the writer, every 200 ms, lets them batch).
 */
void
RecsWorkerBeginTransaction(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

void
RecsWorkerEndTransaction(bool force_stats)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(force_stats);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * The models a query (one text column) returns, copied into cxt; NIL when
 * the extension is not installed.
 */
static List *
FetchModels(const char *query, MemoryContext cxt)
{
	List	   *models = NIL;

	RecsWorkerBeginTransaction(query);
	if (OidIsValid(get_extension_oid("recs", true)))
	{
		if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not list the jobs of the recs worker");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *model = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (model != NULL)
				models = lappend(models, MemoryContextStrdup(cxt, model));
		}
		/* the list cells too */
		if (models != NIL)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			models = list_copy(models);
			MemoryContextSwitchTo(old);
		}
	}
	RecsWorkerEndTransaction(true);
	return models;
}

/* Run one job: call a job function of worker.sql for a model. */
static void
RunJob(const char *call, const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	CHECK_FOR_INTERRUPTS();
	if (RecoveryInProgress())
		return;
	RecsWorkerBeginTransaction(psprintf("%s -- %s", call, model));
	args[0] = CStringGetTextDatum(model);
	if (SPI_execute_with_args(call, 1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run recs worker job \"%s\"", call);
	RecsWorkerEndTransaction(true);
}

/*
 * One round: retrain the models whose schedule is due, then warm the cache
 * of the scheduled models whose active version is not warm, then drop the
 * cached lists of users with online updates.  Retraining first, so that a
 * version activated now is the one warmed.
 */
static void
RunRound(MemoryContext cxt)
{
	List	   *models;
	ListCell   *lc;

	if (RecoveryInProgress())
		return;

	models = FetchModels("SELECT model FROM recs.schedules"
						 " WHERE next_run OPERATOR(pg_catalog.<=) pg_catalog.now()"
						 " ORDER BY next_run, model", cxt);
	foreach(lc, models)
		RunJob("SELECT recs.run_retrain($1)", (const char *) lfirst(lc));

	models = FetchModels("SELECT m FROM recs.warm_due() AS m ORDER BY 1", cxt);
	foreach(lc, models)
		RunJob("SELECT recs.run_warm($1)", (const char *) lfirst(lc));

	models = FetchModels("SELECT m FROM recs.invalidate_due() AS m ORDER BY 1", cxt);
	foreach(lc, models)
		RunJob("SELECT recs.run_invalidate($1)", (const char *) lfirst(lc));

	MemoryContextReset(cxt);
}

void
recs_worker_main(Datum main_arg)
{
	MemoryContext round_cxt;
	char	   *database;
	TimestampTz next_round;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* a database connection is for life: a new database needs a restart */
	database = MemoryContextStrdup(TopMemoryContext, recs_worker_database);
	BackgroundWorkerInitializeConnection(database, NULL, 0);
	ereport(LOG,
			(errmsg("recs worker started in database \"%s\" with naptime %d s",
					database, recs_worker_naptime)));

	round_cxt = AllocSetContextCreate(TopMemoryContext, "recs worker round",
									  ALLOCSET_DEFAULT_SIZES);

	next_round = GetCurrentTimestamp();
	for (;;)
	{
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (strcmp(database, recs_worker_database) != 0)
			{
				ereport(LOG,
						(errmsg("recs worker exits to restart in database \"%s\"",
								recs_worker_database)));
				proc_exit(1);
			}
			ereport(LOG,
					(errmsg("recs worker reloaded its configuration: naptime %d s",
							recs_worker_naptime)));
			/* the next round is a new naptime from now */
			next_round = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 recs_worker_naptime * 1000L);
		}

		if (GetCurrentTimestamp() >= next_round)
		{
			RunRound(round_cxt);
			next_round = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 recs_worker_naptime * 1000L);
		}

		wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_round);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms + 1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
