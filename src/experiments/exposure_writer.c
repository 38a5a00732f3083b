/*
 * exposure_writer.c
 *		The recs exposure writer: a background worker of its own that writes
 *		the exposures recs_topk queues in shared memory (exposure_queue.c)
 *		to recs.exposures, every RECS_EXPOSURE_FLUSH_MS or when the queue is
 *		a quarter full.
 *
 * Why a process of its own, and not a job of the recs worker:
 *	- the worker's jobs (a retraining, a cache warming) take seconds to
 *	  minutes; an exposure queue that waited for them would fill, and every
 *	  recs_topk call would then insert its exposure synchronously;
 *	- writing is background work that serving must not wait for.  The
 *	  writer lowers its own scheduling priority (recs.exposure_writer_nice,
 *	  setpriority(2)), so that on a busy machine the kernel runs serving
 *	  backends first and the writer in the time they leave; the queue
 *	  absorbs the delay.  It holds no lock a serving backend waits for
 *	  while it writes: the ring's LWLock only while it reads the head and
 *	  moves the tail.  When it falls behind so far that the queue fills,
 *	  recs_topk inserts synchronously: slower, never lost.
 *
 * Shutdown writes what is queued: SIGTERM (a fast shutdown,
 * pg_terminate_backend) first detaches the writer from the queue, so that
 * recs_topk inserts synchronously from then on, then writes every queued
 * exposure and exits.  Only a crash or an immediate shutdown loses queued
 * exposures (at most RECS_EXPOSURE_FLUSH_MS worth), and the count is logged
 * when the writer exits with exposures unwritten.
 *
 * Registered only when recs is in shared_preload_libraries and
 * recs.exposure_queue_size is not 0; it runs in recs.worker_database, the
 * only database whose exposures are queued, and stays idle on a hot
 * standby (recs_topk does not queue there) and while the extension is not
 * installed.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "experiments/experiments.h"
#include "worker/worker.h"

/*
 * The writer may be away only briefly: while it is, exposures are inserted
 * synchronously, at ten times the cost.
 */
#define RECS_EXPOSURE_WRITER_RESTART_SECONDS 1

int			recs_exposure_writer_nice = 10;

/* Defined with the queue, at server start only (see RecsExposureQueueInit). */
void
RecsExposureWriterInit(void)
{
	DefineCustomIntVariable("recs.exposure_writer_nice",
							"Scheduling priority (nice value) of the recs exposure writer.",
							"Higher values let serving backends run first on a busy machine; 0 runs the writer at the priority of every other process.",
							&recs_exposure_writer_nice,
							10, 0, 19,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/* Register the writer; from _PG_init under shared_preload_libraries. */
void
RecsExposureWriterRegister(void)
{
	RecsRegisterBackgroundWorker("recs_exposure_writer_main", "recs exposure writer",
								 RECS_EXPOSURE_WRITER_RESTART_SECONDS);
}

/*
 * Write what is queued now, in one transaction; the queue frees the space
 * once it has committed.
 */
static void
WriteQueued(void)
{
	uint64		tail = 0;
	uint64		count = 0;
	uint64		discarded = 0;
	int64		events_seen = -1;
	bool		installed;

	if (!RecsExposuresPending() || RecoveryInProgress())
		return;
	RecsWorkerBeginTransaction("writing queued exposures");
	installed = OidIsValid(get_extension_oid("recs", true));
	if (installed)
		tail = RecsWriteQueuedExposures(&count, &discarded, &events_seen);
	else
		RecsDiscardQueuedExposures();
	RecsWorkerEndTransaction(false);
	if (installed)
		RecsExposuresWritten(tail, count, discarded, events_seen);
}

/* The events tracked so far (exposure_table.c), in a transaction of its own. */
static int64
EventsSeen(void)
{
	int64		seen = 0;

	if (RecoveryInProgress())
		return -1;
	RecsWorkerBeginTransaction("noting the events tracked so far");
	seen = RecsEventsSeen();
	RecsWorkerEndTransaction(false);
	return seen;
}

/* Lower this process's priority to the configured nice value. */
static void
SetNice(int nice)
{
	errno = 0;
	if (setpriority(PRIO_PROCESS, 0, nice) != 0)
		ereport(WARNING,
				(errmsg("recs exposure writer could not set its nice value to %d: %m", nice)));
}

void
recs_exposure_writer_main(Datum main_arg)
{
	char	   *database;
	int			nice;
	int64		events_seen;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* SIGTERM asks for a last write; see the header */
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	nice = recs_exposure_writer_nice;
	SetNice(nice);
	database = MemoryContextStrdup(TopMemoryContext, recs_worker_database);
	BackgroundWorkerInitializeConnection(database, NULL, 0);

	events_seen = EventsSeen();
	RecsExposureQueueAttachWriter(events_seen);
	before_shmem_exit(RecsExposureQueueDetachWriter, (Datum) 0);

	while (!ShutdownRequestPending)
	{
		CHECK_FOR_INTERRUPTS();

		/*
		 * Started on a standby, now promoted: note the events tracked so far
		 * (unknown in recovery), so that the first write does not go over
		 * every event.  Exposures queued in the moment since promotion may
		 * miss a late attribution.
		 */
		if (events_seen < 0 && !RecoveryInProgress())
		{
			events_seen = EventsSeen();
			RecsExposureQueueAttachWriter(events_seen);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* a lower nice value needs privileges: start afresh instead */
			if (strcmp(database, recs_worker_database) != 0 ||
				nice != recs_exposure_writer_nice)
			{
				ereport(LOG,
						(errmsg("recs exposure writer exits to restart with database \"%s\" and nice value %d",
								recs_worker_database, recs_exposure_writer_nice)));
				break;
			}
		}
		WriteQueued();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RECS_EXPOSURE_FLUSH_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	/* from now on recs_topk inserts itself; write what it queued before */
	RecsExposureQueueDetachWriter(0, (Datum) 0);
	WriteQueued();
	/* exit code 1: the postmaster restarts it (unless the server stops) */
	proc_exit(1);
}
