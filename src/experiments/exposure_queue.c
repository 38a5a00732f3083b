/*
 * exposure_queue.c
 *		Exposures recorded by recs_topk(..., experiment => name) go through a
 *		queue in shared memory that the exposure writer (exposure_writer.c)
 *		writes to recs.exposures, so that serving in an experiment costs
 *		about what serving without one does.
 *
 * Writing an exposure synchronously is an INSERT and, for a serving
 * transaction that wrote nothing else, a commit that waits for its WAL
 * flush: ten times the cost of the recommendation itself.  With recs in
 * shared_preload_libraries, recs_topk instead appends the exposure to a
 * byte ring in shared memory (recs.exposure_queue_size) under an LWLock,
 * and the exposure writer (exposure_writer.c), woken every
 * RECS_EXPOSURE_FLUSH_MS or when the ring is a quarter full, inserts what
 * is queued in one transaction of its own.
 *
 * Nothing is lost silently:
 *	- a full ring, a server in recovery, no preloading, no writer running,
 *	  or a database other than the writer's (recs.worker_database):
 *	  recs_topk inserts synchronously, as without the queue (a full ring
 *	  is counted as "direct");
 *	- an event tracked before its exposure is written is attributed when
 *	  the writer writes the exposure (recs.write_queued_exposures);
 *	- the writer detaches before its last write when it stops, and from
 *	  then on nothing more is queued (the check and the append are under
 *	  one lock);
 *	- queued exposures that a crash or an immediate shutdown takes with
 *	  it (at most RECS_EXPOSURE_FLUSH_MS worth) are counted, and the writer
 *	  logs the count when it exits with exposures still queued.
 *
 * The writer advances the ring's tail only after its transaction commits;
 * it is the ring's only reader.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "commands/dbcommands.h"
#include "utils/guc.h"

#include "experiments/experiments.h"

/* One queued exposure: this header, then the three names, then the lists. */
typedef struct QueuedExposure
{
	uint32		length;			/* of the whole record, MAXALIGNed */
	Oid			database;		/* where it was served */
	int32		model_version;
	int64		user_id;
	TimestampTz shown_at;
	int32		n_items;
	int32		fallback_rows;
	uint16		experiment_len;
	uint16		variant_len;
	uint16		model_len;
	bool		forced;
	/* char experiment[], variant[], model[]; int64 items[]; float4 scores[] */
} QueuedExposure;

typedef struct ExposureQueue
{
	LWLock	   *lock;
	uint64		capacity;		/* bytes of data[] */
	uint64		head;			/* bytes ever appended */
	uint64		tail;			/* bytes ever written to the table */
	uint64		queued;			/* exposures ever appended */
	uint64		written;		/* exposures ever written by the writer */
	uint64		direct;			/* exposures inserted directly (ring full) */
	uint64		discarded;		/* exposures whose tables were gone */
	int64		events_seen;	/* recs.events ids before the head was last
								 * read (-1: unknown); see exposure_table.c */
	Latch	   *writer_latch;	/* NULL: no writer; woken when a quarter full */
	Oid			writer_database;	/* only its exposures are queued */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} ExposureQueue;

int			recs_exposure_queue_kb = 8192;

static ExposureQueue *queue = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
QueueSize(void)
{
	return add_size(offsetof(ExposureQueue, data),
					mul_size((Size) recs_exposure_queue_kb, 1024));
}

static void
ExposureQueueShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(QueueSize());
	RequestNamedLWLockTranche("recs exposure queue", 1);
}

static void
ExposureQueueShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("recs exposure queue", QueueSize(), &found);
	if (!found)
	{
		memset(queue, 0, offsetof(ExposureQueue, data));
		queue->lock = &(GetNamedLWLockTranche("recs exposure queue"))->lock;
		queue->capacity = (uint64) recs_exposure_queue_kb * 1024;
		queue->events_seen = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init; the queue and its writer exist only when preloaded. */
void
RecsExposureQueueInit(void)
{
	/* a PGC_POSTMASTER setting can only be defined at server start */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("recs.exposure_queue_size",
							"Shared memory for exposures waiting to be written by the recs exposure writer.",
							"0 writes every exposure synchronously.  Needs shared_preload_libraries = 'recs'.",
							&recs_exposure_queue_kb,
							8192, 0, 1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	if (recs_exposure_queue_kb == 0)
		return;
	RecsExposureWriterInit();
	RecsExposureWriterRegister();
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ExposureQueueShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ExposureQueueShmemStartup;
}

/* Copy len bytes in or out of the ring at logical offset pos. */
static void
RingWrite(uint64 pos, const void *src, Size len)
{
	uint64		at = pos % queue->capacity;
	Size		first = Min(len, queue->capacity - at);

	memcpy(queue->data + at, src, first);
	if (first < len)
		memcpy(queue->data, (const char *) src + first, len - first);
}

static void
RingRead(uint64 pos, void *dst, Size len)
{
	uint64		at = pos % queue->capacity;
	Size		first = Min(len, queue->capacity - at);

	memcpy(dst, queue->data + at, first);
	if (first < len)
		memcpy((char *) dst + first, queue->data, len - first);
}

/*
 * Queue one exposure; false when the queue cannot take it (not preloaded,
 * in recovery, full, or no writer to write it), and the caller inserts it
 * itself.
 */
bool
RecsQueueExposure(const char *experiment, const char *variant, const char *model,
				  int32 model_version, int64 user_id, bool forced,
				  const int64 *items, const float4 *scores, int n_items,
				  int fallback_rows)
{
	QueuedExposure h;
	Size		names;
	Size		length;
	uint64		pos;
	Latch	   *wake = NULL;

	/* the writer writes into its own database only (checked again below) */
	if (queue == NULL || queue->writer_latch == NULL ||
		queue->writer_database != MyDatabaseId || RecoveryInProgress())
		return false;

	memset(&h, 0, sizeof(h));
	h.experiment_len = strlen(experiment);
	h.variant_len = strlen(variant);
	h.model_len = strlen(model);
	names = h.experiment_len + h.variant_len + h.model_len;
	length = MAXALIGN(sizeof(h) + MAXALIGN(names) +
					  (Size) n_items * (sizeof(int64) + sizeof(float4)));
	if (length > queue->capacity / 4)
		return false;
	h.length = (uint32) length;
	h.model_version = model_version;
	h.user_id = user_id;
	h.shown_at = GetCurrentTransactionStartTimestamp();
	h.n_items = n_items;
	h.fallback_rows = fallback_rows;
	h.forced = forced;
	h.database = MyDatabaseId;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	/* a writer that has detached writes nothing more */
	if (queue->writer_latch == NULL || queue->writer_database != MyDatabaseId)
	{
		LWLockRelease(queue->lock);
		return false;
	}
	if (queue->head + length - queue->tail > queue->capacity)
	{
		queue->direct++;
		LWLockRelease(queue->lock);
		return false;
	}
	pos = queue->head;
	RingWrite(pos, &h, sizeof(h));
	pos += sizeof(h);
	RingWrite(pos, experiment, h.experiment_len);
	RingWrite(pos + h.experiment_len, variant, h.variant_len);
	RingWrite(pos + h.experiment_len + h.variant_len, model, h.model_len);
	pos += MAXALIGN(names);
	RingWrite(pos, items, sizeof(int64) * n_items);
	RingWrite(pos + sizeof(int64) * n_items, scores, sizeof(float4) * n_items);
	queue->head += length;
	queue->queued++;
	if (queue->head - queue->tail > queue->capacity / 4)
		wake = queue->writer_latch;
	LWLockRelease(queue->lock);

	/* a latch stays valid shared memory even if its owner has gone */
	if (wake != NULL)
		SetLatch(wake);
	return true;
}

/*
 * The writer says where to wake it, and that it is there to write; with
 * the events tracked so far, read before any exposure can be queued, when
 * the queue has not seen events yet (since server start).
 */
void
RecsExposureQueueAttachWriter(int64 events_seen)
{
	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->writer_latch = MyLatch;
	queue->writer_database = MyDatabaseId;
	if (queue->events_seen < 0)
		queue->events_seen = events_seen;
	LWLockRelease(queue->lock);
}

/*
 * The writer stops taking exposures: recs_topk inserts them itself from
 * now on.  Called before its last write, and again at exit, when it says
 * how many exposures it leaves unwritten.
 */
void
RecsExposureQueueDetachWriter(int code, Datum arg)
{
	uint64		left;

	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->writer_latch == MyLatch)
		queue->writer_latch = NULL;
	left = queue->queued - queue->written - queue->discarded;
	LWLockRelease(queue->lock);
	if (proc_exit_inprogress && left > 0)
		ereport(LOG,
				(errmsg("recs exposure writer exits with %llu exposures queued but not written",
						(unsigned long long) left),
				 errdetail("They are written when the writer is back, unless the server stops: then they are lost.")));
}

#define RECS_EXPOSURE_BATCH 2000

/*
 * Write the queued exposures to recs.exposures (the writer, in a
 * transaction, connected to SPI), in batches of RECS_EXPOSURE_BATCH
 * (exposure_table.c), and attribute the events tracked while they waited;
 * returns the position the tail may advance to once the transaction
 * commits, how many exposures that is, how many of them were discarded
 * (served in another database), and the events seen.
 */
uint64
RecsWriteQueuedExposures(uint64 *count, uint64 *discarded, int64 *events_seen)
{
	uint64		tail;
	uint64		head;
	uint64		pos;
	uint64		n = 0;
	RecsExposureRow *rows;
	int			n_rows = 0;
	MemoryContext batch_cxt;
	MemoryContext old;
	int64		seen_before;
	TimestampTz shown_since = DT_NOEND;

	*count = 0;
	*discarded = 0;
	*events_seen = -1;
	if (queue == NULL)
		return 0;
	/* before the head: events tracked after this are about later exposures */
	*events_seen = RecsEventsSeen();
	LWLockAcquire(queue->lock, LW_SHARED);
	tail = queue->tail;
	head = queue->head;
	seen_before = queue->events_seen;
	LWLockRelease(queue->lock);
	if (head == tail)
		return tail;

	rows = palloc(sizeof(RecsExposureRow) * RECS_EXPOSURE_BATCH);
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "recs exposure batch",
									  ALLOCSET_DEFAULT_SIZES);

	/* only the writer reads, and only it moves the tail: [tail, head) is stable */
	for (pos = tail; pos < head;)
	{
		QueuedExposure h;
		RecsExposureRow *r = &rows[n_rows];
		char	   *names;
		int64	   *items;
		float4	   *scores;
		uint64		p;

		RingRead(pos, &h, sizeof(h));
		pos += h.length;
		n++;
		/* queued before the writer moved to another database */
		if (h.database != MyDatabaseId)
		{
			(*discarded)++;
			continue;
		}
		p = pos - h.length + sizeof(h);
		old = MemoryContextSwitchTo(batch_cxt);
		names = palloc(h.experiment_len + 1 + h.variant_len + 1 + h.model_len + 1);
		items = palloc(sizeof(int64) * Max(h.n_items, 1));
		scores = palloc(sizeof(float4) * Max(h.n_items, 1));
		MemoryContextSwitchTo(old);

		/* three NUL-terminated names from the ring's concatenation */
		RingRead(p, names, h.experiment_len);
		names[h.experiment_len] = '\0';
		RingRead(p + h.experiment_len, names + h.experiment_len + 1, h.variant_len);
		names[h.experiment_len + 1 + h.variant_len] = '\0';
		RingRead(p + h.experiment_len + h.variant_len,
				 names + h.experiment_len + 1 + h.variant_len + 1, h.model_len);
		names[h.experiment_len + 1 + h.variant_len + 1 + h.model_len] = '\0';
		p += MAXALIGN(h.experiment_len + h.variant_len + h.model_len);
		RingRead(p, items, sizeof(int64) * h.n_items);
		RingRead(p + sizeof(int64) * h.n_items, scores, sizeof(float4) * h.n_items);

		r->experiment = names;
		r->variant = names + h.experiment_len + 1;
		r->model = names + h.experiment_len + 1 + h.variant_len + 1;
		r->model_version = h.model_version;
		r->user_id = h.user_id;
		r->forced = h.forced;
		r->n_items = h.n_items;
		r->items = items;
		r->scores = scores;
		r->fallback_rows = h.fallback_rows;
		r->shown_at = h.shown_at;
		shown_since = Min(shown_since, h.shown_at);
		n_rows++;

		if (n_rows == RECS_EXPOSURE_BATCH)
		{
			RecsInsertExposures(rows, n_rows);
			n_rows = 0;
			MemoryContextReset(batch_cxt);
			CHECK_FOR_INTERRUPTS();
		}
	}
	RecsInsertExposures(rows, n_rows);
	MemoryContextDelete(batch_cxt);
	pfree(rows);

	/*
	 * Events tracked since the previous head read may be about these
	 * exposures (all events, if the sequence went backwards: recs was
	 * installed again).
	 */
	RecsAttributeEventsSince(seen_before < 0 || *events_seen < seen_before ? 0 : seen_before,
							 shown_since);
	*count = n;
	return pos;
}

/* Is anything waiting to be written? (a hint: read without the lock) */
bool
RecsExposuresPending(void)
{
	return queue != NULL && queue->head != queue->tail;
}

/*
 * After the writing transaction committed: free the ring up to tail, and
 * note the events whose exposures were written.  count includes the
 * discarded ones.
 */
void
RecsExposuresWritten(uint64 tail, uint64 count, uint64 discarded, int64 events_seen)
{
	if (queue == NULL || count == 0)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->tail = tail;
	queue->written += count - discarded;
	queue->discarded += discarded;
	queue->events_seen = events_seen;
	LWLockRelease(queue->lock);
	if (discarded > 0)
		ereport(LOG,
				(errmsg("recs exposure writer discarded %llu exposures served in another database",
						(unsigned long long) discarded),
				 errdetail("They were queued before recs.worker_database changed and its writer could not write them.")));
}

/*
 * Discard every queued exposure: recs is no longer installed in the
 * writer's database, and with it went the tables they were for.  (In a
 * transaction, for the database's name.)
 */
void
RecsDiscardQueuedExposures(void)
{
	uint64		n = 0;
	uint64		head;

	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	head = queue->head;
	for (uint64 pos = queue->tail; pos < head; n++)
	{
		QueuedExposure h;

		RingRead(pos, &h, sizeof(h));
		pos += h.length;
	}
	queue->tail = head;
	queue->discarded += n;
	LWLockRelease(queue->lock);
	if (n > 0)
		ereport(LOG,
				(errmsg("recs exposure writer discarded %llu exposures: extension \"recs\" is not installed in database \"%s\"",
						(unsigned long long) n, get_database_name(MyDatabaseId))));
}

PG_FUNCTION_INFO_V1(recs_exposure_queue_stats);

/*
 * recs_exposure_queue_stats(): whether this database's exposures are
 * queued (preloaded, the writer running here), the ring's size and use,
 * and counts since server start.
 */
Datum
recs_exposure_queue_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (queue == NULL)
	{
		values[0] = BoolGetDatum(false);
		for (int i = 1; i < 8; i++)
			nulls[i] = true;
	}
	else
	{
		LWLockAcquire(queue->lock, LW_SHARED);
		values[0] = BoolGetDatum(queue->writer_latch != NULL &&
								 queue->writer_database == MyDatabaseId);
		values[1] = Int64GetDatum((int64) queue->capacity);
		values[2] = Int64GetDatum((int64) (queue->head - queue->tail));
		values[3] = Int64GetDatum((int64) (queue->queued - queue->written - queue->discarded));
		values[4] = Int64GetDatum((int64) queue->queued);
		values[5] = Int64GetDatum((int64) queue->written);
		values[6] = Int64GetDatum((int64) queue->direct);
		values[7] = Int64GetDatum((int64) queue->discarded);
		LWLockRelease(queue->lock);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
