/*
 * exposure_table.c
 *		Bulk insertion of queued exposures into recs.exposures, for the
 *		exposure writer (exposure_writer.c).
 *
 * The writer inserts tens of thousands of exposures a second, each a row
 * with two index entries, on the machine that serves: its CPU time is
 * taken from serving.  So it inserts as COPY FROM does, not through SQL:
 * heap tuples formed here, table_multi_insert (one WAL record per heap
 * page rather than per row) with a bulk-insert state, then the index
 * entries.  Through an INSERT ... SELECT FROM unnest(...) the same work
 * cost twice the CPU (bench/experiments.sh).
 *
 * What SQL would have done and this does not, and why that is right here:
 *	- triggers: recs.exposures has none but its foreign key's; user
 *	  triggers on it do not fire for queued exposures (documented);
 *	- the foreign key to recs.experiments is checked once per batch
 *	  rather than per row: the experiments of the batch are locked FOR KEY
 *	  SHARE, as the per-row check would lock them, and exposures of
 *	  experiments dropped meanwhile are skipped.  A recs_drop_experiment
 *	  that starts later waits for this transaction and its cascade then
 *	  removes what was written;
 *	- permissions and row security: the writer is a superuser process
 *	  writing recs's own table.
 * Every column recs defines is filled; a column a user added gets NULL.
 *
 * Events tracked before their exposure was written are attributed
 * afterwards (RecsAttributeEventsSince): an event is about an exposure only
 * if it was tracked after the exposure was queued, so the writer notes
 * recs.events' sequence before it reads the queue (RecsEventsSeen) and, once
 * the exposures are in, applies recs_track's rule again to the events
 * tracked since its previous note, over the exposures just written (shown
 * since the earliest of them).  That costs what the new events cost, not
 * what the exposures do.  One race remains, as with any attribution that
 * is not serialised: an event whose recs_track transaction took its id
 * before the writer noted the sequence but commits only after the
 * writer's attribution query, for an exposure written in between, is
 * attributed by neither (a window of one recs_track transaction).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "experiments/experiments.h"

/* recs.exposures' columns, by name: its layout is the extension script's */
enum
{
	COL_ID,
	COL_EXPERIMENT,
	COL_VARIANT,
	COL_MODEL,
	COL_MODEL_VERSION,
	COL_USER_ID,
	COL_FORCED,
	COL_ITEMS,
	COL_SCORES,
	COL_FALLBACK_ROWS,
	COL_SHOWN_AT,
	N_COLS
};

static const char *const column_names[N_COLS] = {
	"id", "experiment", "variant", "model", "model_version", "user_id", "forced",
	"items", "scores", "fallback_rows", "shown_at"
};

/*
 * Rows per table_multi_insert call: a few heap pages' worth is where its
 * gain is made; every slot is made and dropped per batch (and tracked by
 * the resource owner), so there are no more than that.
 */
#define RECS_MULTI_INSERT_SLOTS 128

/*
 * Lock the batch's experiments FOR KEY SHARE; the names of those that
 * still exist, as a list of palloc'd strings.
 */
static List *
LockLiveExperiments(const RecsExposureRow *rows, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *names = palloc(sizeof(Datum) * n);
	int			n_names = 0;
	Datum		args[1];
	Oid			argtypes[1] = {TEXTARRAYOID};
	List	   *live = NIL;

	/* batches hold few experiments, in runs: skip repeats of the last one */
	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(rows[i].experiment, rows[i - 1].experiment) != 0)
			names[n_names++] = CStringGetTextDatum(rows[i].experiment);
	args[0] = PointerGetDatum(construct_array(names, n_names, TEXTOID, -1, false, TYPALIGN_INT));

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT x.name FROM recs.experiments x"
						   " WHERE x.name OPERATOR(pg_catalog.=) ANY ($1) FOR KEY SHARE",
						   1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the locking of experiments");
	}
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the experiments of queued exposures");
	for (uint64 i = 0; i < SPI_processed; i++)
		live = lappend(live, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return live;
}

static bool
IsLive(List *live, const char *experiment)
{
	ListCell   *lc;

	foreach(lc, live)
		if (strcmp((const char *) lfirst(lc), experiment) == 0)
			return true;
	return false;
}

/*
 * The last id recs.events' sequence has handed out (0 when none, or when
 * recs is not installed): events tracked from now on have larger ids.
 * (Connected to SPI.)
 */
int64
RecsEventsSeen(void)
{
	bool		isnull;
	Datum		last;

	if (!OidIsValid(get_extension_oid("recs", true)))
		return 0;
	/* NULL until the sequence is first used */
	if (SPI_execute("SELECT pg_catalog.pg_sequence_last_value("
					"'recs.events_id_seq'::pg_catalog.regclass)", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read recs.events_id_seq");
	last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(last);
}

/*
 * Attribute, by recs_track's rule, the events tracked since the one with
 * id after (those tracked while the exposures just written were queued) to
 * the exposures shown since shown_since (those just written).  (Connected
 * to SPI.)
 */
void
RecsAttributeEventsSince(int64 after, TimestampTz shown_since)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2];

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT recs.attribute_events_since($1, $2)", 2, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the attribution of events");
	}
	args[0] = Int64GetDatum(after);
	args[1] = TimestampTzGetDatum(shown_since);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not attribute events to written exposures");
}

/*
 * Insert n exposures into recs.exposures (in a transaction, connected to
 * SPI); returns how many were written (those of dropped experiments are
 * not).
 */
int
RecsInsertExposures(const RecsExposureRow *rows, int n)
{
	MemoryContext cxt;
	MemoryContext old;
	List	   *live;
	Oid			namespace;
	Oid			relid;
	Oid			seqid;
	Relation	rel;
	TupleDesc	desc;
	int			attnum[N_COLS];
	ResultRelInfo *rri;
	EState	   *estate;
	BulkInsertState bistate;
	TupleTableSlot **slots;
	int			n_slots = Min(n, RECS_MULTI_INSERT_SLOTS);
	CommandId	cid;
	int			written = 0;

	if (n == 0)
		return 0;
	live = LockLiveExperiments(rows, n);
	if (live == NIL)
		return 0;

	namespace = get_namespace_oid("recs", false);
	relid = get_relname_relid("exposures", namespace);
	seqid = get_relname_relid("exposures_id_seq", namespace);
	if (!OidIsValid(relid) || !OidIsValid(seqid))
		elog(ERROR, "recs.exposures or its sequence is missing");
	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	for (int c = 0; c < N_COLS; c++)
	{
		attnum[c] = SPI_fnumber(desc, column_names[c]);
		if (attnum[c] <= 0)
			elog(ERROR, "recs.exposures has no column \"%s\"", column_names[c]);
	}

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	bistate = GetBulkInsertState();
	cid = GetCurrentCommandId(true);
	slots = palloc(sizeof(TupleTableSlot *) * n_slots);
	for (int s = 0; s < n_slots; s++)
		slots[s] = table_slot_create(rel, NULL);

	/* the arrays and heap tuples of one multi-insert live here */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "recs exposure insert",
								ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < n;)
	{
		int			used = 0;

		old = MemoryContextSwitchTo(cxt);
		for (; i < n && used < n_slots; i++)
		{
			const RecsExposureRow *r = &rows[i];
			TupleTableSlot *slot = slots[used];
			Datum	   *values = slot->tts_values;
			bool	   *nulls = slot->tts_isnull;
			Datum	   *item_datums;
			Datum	   *score_datums;
			int64		id;

			if (!IsLive(live, r->experiment))
				continue;
			ExecClearTuple(slot);
			memset(nulls, true, sizeof(bool) * desc->natts);

			item_datums = palloc(sizeof(Datum) * Max(r->n_items, 1));
			score_datums = palloc(sizeof(Datum) * Max(r->n_items, 1));
			for (int k = 0; k < r->n_items; k++)
			{
				item_datums[k] = Int64GetDatum(r->items[k]);
				score_datums[k] = Float4GetDatum(r->scores[k]);
			}
			id = nextval_internal(seqid, false);

#define SET(col, datum) (values[attnum[col] - 1] = (datum), nulls[attnum[col] - 1] = false)
			SET(COL_ID, Int64GetDatum(id));
			SET(COL_EXPERIMENT, CStringGetTextDatum(r->experiment));
			SET(COL_VARIANT, CStringGetTextDatum(r->variant));
			SET(COL_MODEL, CStringGetTextDatum(r->model));
			SET(COL_MODEL_VERSION, Int32GetDatum(r->model_version));
			SET(COL_USER_ID, Int64GetDatum(r->user_id));
			SET(COL_FORCED, BoolGetDatum(r->forced));
			SET(COL_ITEMS, PointerGetDatum(construct_array(item_datums, r->n_items, INT8OID,
														   sizeof(int64), FLOAT8PASSBYVAL,
														   TYPALIGN_DOUBLE)));
			SET(COL_SCORES, PointerGetDatum(construct_array(score_datums, r->n_items, FLOAT4OID,
															sizeof(float4), true, TYPALIGN_INT)));
			SET(COL_FALLBACK_ROWS, Int32GetDatum(r->fallback_rows));
			SET(COL_SHOWN_AT, TimestampTzGetDatum(r->shown_at));
#undef SET
			ExecStoreVirtualTuple(slot);
			used++;
		}
		if (used > 0)
		{
			table_multi_insert(rel, slots, used, cid, 0, bistate);
			for (int s = 0; s < used; s++)
			{
				List	   *recheck;

				ResetPerTupleExprContext(estate);
				recheck = ExecInsertIndexTuples(rri, slots[s], estate, false, false, NULL, NIL);
				list_free(recheck);
			}
			written += used;
		}
		MemoryContextSwitchTo(old);
		for (int s = 0; s < used; s++)
			ExecClearTuple(slots[s]);
		MemoryContextReset(cxt);
	}

	for (int s = 0; s < n_slots; s++)
		ExecDropSingleTupleTableSlot(slots[s]);
	FreeBulkInsertState(bistate);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	MemoryContextDelete(cxt);

	/* later queries of the transaction (attribution) see the rows */
	CommandCounterIncrement();
	return written;
}
