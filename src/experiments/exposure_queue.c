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
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "experiments/experiments.h"

/* One queued exposure: this header, then the three names, then the lists. */
typedef struct QueuedExposure
{
	uint32		length;			/* of the whole record, MAXALIGNed */
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

/* The writer says where to wake it, and that it is there to write. */
void
RecsExposureQueueAttachWriter(void)
{
	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->writer_latch = MyLatch;
	queue->writer_database = MyDatabaseId;
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
	left = queue->queued - queue->written;
	LWLockRelease(queue->lock);
	if (proc_exit_inprogress && left > 0)
		ereport(LOG,
				(errmsg("recs exposure writer exits with %llu exposures queued but not written",
						(unsigned long long) left),
				 errdetail("They are written when the writer is back, unless the server stops: then they are lost.")));
}

/* A batch of queued exposures as the parallel arrays of the SQL call. */
typedef struct Batch
{
	int			n;
	int			n_items;
	Datum	   *experiments;
	Datum	   *variants;
	Datum	   *models;
	Datum	   *versions;
	Datum	   *users;
	Datum	   *forced;
	Datum	   *offsets;		/* n + 1 */
	Datum	   *items;
	Datum	   *scores;
	Datum	   *fallback_rows;
	Datum	   *shown;
} Batch;

#define RECS_EXPOSURE_BATCH 2000

static void
WriteBatch(Batch *b)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[11];

	if (b->n == 0)
		return;
	if (plan == NULL)
	{
		Oid			argtypes[11] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
			INT8ARRAYOID, BOOLARRAYOID, INT4ARRAYOID, INT8ARRAYOID, FLOAT4ARRAYOID,
		INT4ARRAYOID, TIMESTAMPTZARRAYOID};

		plan = SPI_prepare("SELECT recs.write_queued_exposures($1, $2, $3, $4, $5, $6, $7,"
						   " $8, $9, $10, $11)", 11, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the writing of queued exposures");
	}
	args[0] = PointerGetDatum(construct_array(b->experiments, b->n, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(b->variants, b->n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(b->models, b->n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(b->versions, b->n, INT4OID, 4, true, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(b->users, b->n, INT8OID, 8, FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	args[5] = PointerGetDatum(construct_array(b->forced, b->n, BOOLOID, 1, true, TYPALIGN_CHAR));
	args[6] = PointerGetDatum(construct_array(b->offsets, b->n + 1, INT4OID, 4, true, TYPALIGN_INT));
	args[7] = PointerGetDatum(construct_array(b->items, b->n_items, INT8OID, 8, FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	args[8] = PointerGetDatum(construct_array(b->scores, b->n_items, FLOAT4OID, 4, true,
											  TYPALIGN_INT));
	args[9] = PointerGetDatum(construct_array(b->fallback_rows, b->n, INT4OID, 4, true,
											  TYPALIGN_INT));
	args[10] = PointerGetDatum(construct_array(b->shown, b->n, TIMESTAMPTZOID, 8,
											   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not write queued exposures");
}

/*
 * Write the queued exposures to recs.exposures (the writer, in a
 * transaction, connected to SPI), in batches of RECS_EXPOSURE_BATCH; returns the
 * position the tail may advance to once the transaction commits, and how
 * many exposures that is.
 */
uint64
RecsWriteQueuedExposures(uint64 *count)
{
	uint64		tail;
	uint64		head;
	uint64		pos;
	uint64		n = 0;
	Batch		b;
	int			items_room = 0;

	*count = 0;
	if (queue == NULL)
		return 0;
	LWLockAcquire(queue->lock, LW_SHARED);
	tail = queue->tail;
	head = queue->head;
	LWLockRelease(queue->lock);
	if (head == tail)
		return tail;

	memset(&b, 0, sizeof(b));
	b.experiments = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.variants = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.models = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.versions = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.users = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.forced = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.offsets = palloc(sizeof(Datum) * (RECS_EXPOSURE_BATCH + 1));
	b.fallback_rows = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	b.shown = palloc(sizeof(Datum) * RECS_EXPOSURE_BATCH);
	items_room = RECS_EXPOSURE_BATCH * 16;
	b.items = palloc(sizeof(Datum) * items_room);
	b.scores = palloc(sizeof(Datum) * items_room);

	/* only the writer reads, and only it moves the tail: [tail, head) is stable */
	for (pos = tail; pos < head;)
	{
		QueuedExposure h;
		char	   *names;
		uint64		p;

		RingRead(pos, &h, sizeof(h));
		p = pos + sizeof(h);
		names = palloc(h.experiment_len + h.variant_len + h.model_len + 1);
		RingRead(p, names, h.experiment_len + h.variant_len + h.model_len);
		p += MAXALIGN(h.experiment_len + h.variant_len + h.model_len);

		if (b.n_items + h.n_items > items_room)
		{
			items_room = Max(items_room * 2, b.n_items + h.n_items);
			b.items = repalloc(b.items, sizeof(Datum) * items_room);
			b.scores = repalloc(b.scores, sizeof(Datum) * items_room);
		}
		for (int i = 0; i < h.n_items; i++)
		{
			int64		item;
			float4		score;

			RingRead(p + sizeof(int64) * i, &item, sizeof(int64));
			RingRead(p + sizeof(int64) * h.n_items + sizeof(float4) * i, &score, sizeof(float4));
			b.items[b.n_items + i] = Int64GetDatum(item);
			b.scores[b.n_items + i] = Float4GetDatum(score);
		}

		b.offsets[b.n] = Int32GetDatum(b.n_items);
		b.experiments[b.n] = PointerGetDatum(cstring_to_text_with_len(names, h.experiment_len));
		b.variants[b.n] = PointerGetDatum(cstring_to_text_with_len(names + h.experiment_len,
																   h.variant_len));
		b.models[b.n] = PointerGetDatum(cstring_to_text_with_len(names + h.experiment_len +
																 h.variant_len, h.model_len));
		b.versions[b.n] = Int32GetDatum(h.model_version);
		b.users[b.n] = Int64GetDatum(h.user_id);
		b.forced[b.n] = BoolGetDatum(h.forced);
		b.fallback_rows[b.n] = Int32GetDatum(h.fallback_rows);
		b.shown[b.n] = TimestampTzGetDatum(h.shown_at);
		b.n_items += h.n_items;
		b.n++;
		b.offsets[b.n] = Int32GetDatum(b.n_items);
		pfree(names);

		pos += h.length;
		n++;
		if (b.n == RECS_EXPOSURE_BATCH)
		{
			WriteBatch(&b);
			b.n = 0;
			b.n_items = 0;
			CHECK_FOR_INTERRUPTS();
		}
	}
	WriteBatch(&b);
	*count = n;
	return pos;
}

/* Is anything waiting to be written? (a hint: read without the lock) */
bool
RecsExposuresPending(void)
{
	return queue != NULL && queue->head != queue->tail;
}

/* After the writing transaction committed: free the ring up to tail. */
void
RecsExposuresWritten(uint64 tail, uint64 count)
{
	if (queue == NULL || count == 0)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->tail = tail;
	queue->written += count;
	LWLockRelease(queue->lock);
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
	Datum		values[7];
	bool		nulls[7] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (queue == NULL)
	{
		values[0] = BoolGetDatum(false);
		for (int i = 1; i < 7; i++)
			nulls[i] = true;
	}
	else
	{
		LWLockAcquire(queue->lock, LW_SHARED);
		values[0] = BoolGetDatum(queue->writer_latch != NULL &&
								 queue->writer_database == MyDatabaseId);
		values[1] = Int64GetDatum((int64) queue->capacity);
		values[2] = Int64GetDatum((int64) (queue->head - queue->tail));
		values[3] = Int64GetDatum((int64) (queue->queued - queue->written));
		values[4] = Int64GetDatum((int64) queue->queued);
		values[5] = Int64GetDatum((int64) queue->written);
		values[6] = Int64GetDatum((int64) queue->direct);
		LWLockRelease(queue->lock);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
