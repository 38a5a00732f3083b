/*
 * routing.c
 *		Which variant, and so which model, serves a user in an experiment:
 *		recs_topk(..., experiment => name) asks here on every call.
 *
 * The rules are those of recs.assign (experiments.sql), which recs_variant
 * and the report use: an allow-list override first, else the user's bucket
 * (RecsAssignmentBucket over coalesce(salt, name)) against the variants'
 * cumulative bucket ranges in "C" order of their names; a stopped
 * experiment serves its winner, else its baseline ("control", else the
 * first name), and records nothing.  The regression tests check that both
 * agree for every user.
 *
 * An experiment's definition (salt, status, variants with their upper
 * buckets, overrides) is loaded once per backend and kept until
 * recs.experiments changes: every change to an experiment, its variants or
 * its overrides updates its recs.experiments row (the revision triggers in
 * experiments.sql), and a statement trigger on recs.experiments sends a
 * relcache invalidation of the table (recs.announce_change), which
 * every backend receives at its next transaction or lock.  So the common
 * call costs a hash lookup, no catalog or table access at all; a ramp-up is
 * seen by each backend's next transaction after it commits.  When an
 * invalidation came, the entry is checked against the row version it was
 * loaded through (same xmin and ctid) under the caller's snapshot, and
 * reloaded if it changed.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "experiments/experiments.h"
#include "registry/registry.h"

typedef struct Variant
{
	char	   *name;
	char	   *model;
	int32		upper_bucket;	/* users with bucket < this (and >= the previous) */
} Variant;

typedef struct Override
{
	int64		user_id;
	int			variant;		/* index into variants */
} Override;

typedef struct ExperimentEntry
{
	char		name[NAMEDATALEN];	/* key */
	bool		current;		/* no invalidation since it was checked */
	TransactionId row_xmin;
	ItemPointerData row_tid;
	bool		loaded;
	MemoryContext context;		/* holds what follows */
	char	   *salt;			/* coalesce(salt, name) */
	bool		stopped;
	int			serve_when_stopped; /* winner, else baseline */
	int			n_variants;
	Variant    *variants;		/* by name in "C" order = by upper_bucket */
	int			n_overrides;
	Override   *overrides;		/* by user_id */
} ExperimentEntry;

static HTAB *experiments = NULL;
static Oid	experiments_relid = InvalidOid;
static uint64 invalidations = 0;	/* received so far */

/* recs.experiments changed somewhere: check every entry again before use */
static void
InvalidateExperiments(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	ExperimentEntry *entry;

	if (experiments == NULL ||
		(OidIsValid(relid) && relid != experiments_relid))
		return;
	invalidations++;
	hash_seq_init(&seq, experiments);
	while ((entry = hash_seq_search(&seq)) != NULL)
		entry->current = false;
}


static int
CompareOverrides(const void *a, const void *b)
{
	int64		x = ((const Override *) a)->user_id;
	int64		y = ((const Override *) b)->user_id;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * (Re)load entry's definition under the caller's snapshot (read-only SPI
 * uses the active snapshot, the one the probe used).
 */
static void
LoadExperiment(ExperimentEntry *entry, const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	MemoryContext context;
	MemoryContext old;
	char	   *winner;
	bool		isnull;

	/* made before SPI_connect: SPI's own context dies at SPI_finish */
	context = AllocSetContextCreate(CurrentMemoryContext, "recs experiment",
									ALLOCSET_SMALL_SIZES);
	SPI_connect();

	if (SPI_execute_with_args("SELECT coalesce(salt, name), status = 'stopped', winner"
							  " FROM recs.experiments WHERE name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read experiment \"%s\"", name);
	old = MemoryContextSwitchTo(context);
	entry->salt = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	entry->stopped = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 2, &isnull));
	winner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	MemoryContextSwitchTo(old);

	/* the same arithmetic (numeric) as recs.assign */
	if (SPI_execute_with_args("SELECT variant, model,"
							  " floor(10000 * sum(weight) OVER (ORDER BY variant COLLATE \"C\")"
							  "       / sum(weight) OVER ())::int4"
							  " FROM recs.experiment_variants WHERE experiment = $1"
							  " ORDER BY variant COLLATE \"C\"",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the variants of experiment \"%s\"", name);
	old = MemoryContextSwitchTo(context);
	entry->n_variants = (int) SPI_processed;
	entry->variants = palloc(sizeof(Variant) * Max(entry->n_variants, 1));
	entry->serve_when_stopped = 0;
	for (int i = 0; i < entry->n_variants; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];

		entry->variants[i].name = pstrdup(SPI_getvalue(t, SPI_tuptable->tupdesc, 1));
		entry->variants[i].model = pstrdup(SPI_getvalue(t, SPI_tuptable->tupdesc, 2));
		entry->variants[i].upper_bucket =
			DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
		if (strcmp(entry->variants[i].name, "control") == 0)
			entry->serve_when_stopped = i;
	}
	if (winner != NULL)
		for (int i = 0; i < entry->n_variants; i++)
			if (strcmp(entry->variants[i].name, winner) == 0)
				entry->serve_when_stopped = i;
	MemoryContextSwitchTo(old);

	if (SPI_execute_with_args("SELECT user_id, variant FROM recs.experiment_overrides"
							  " WHERE experiment = $1",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the overrides of experiment \"%s\"", name);
	old = MemoryContextSwitchTo(context);
	entry->overrides = palloc(sizeof(Override) * Max(SPI_processed, 1));
	entry->n_overrides = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		char	   *variant = SPI_getvalue(t, SPI_tuptable->tupdesc, 2);

		for (int i = 0; i < entry->n_variants; i++)
			if (strcmp(entry->variants[i].name, variant) == 0)
			{
				entry->overrides[entry->n_overrides].user_id =
					DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
				entry->overrides[entry->n_overrides].variant = i;
				entry->n_overrides++;
			}
	}
	qsort(entry->overrides, entry->n_overrides, sizeof(Override), CompareOverrides);
	MemoryContextSwitchTo(old);
	SPI_finish();

	/* complete: adopt the new definition */
	if (entry->loaded)
		MemoryContextDelete(entry->context);
	MemoryContextSetParent(context, CacheMemoryContext);
	entry->context = context;
	entry->loaded = true;
}

void
RecsRouteExperiment(const char *experiment, int64 user_id, RecsExperimentRoute *route)
{
	ExperimentEntry *entry;
	bool		found;
	int			v = -1;

	if (strlen(experiment) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("experiment \"%s\" does not exist", experiment)));
	if (experiments == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ExperimentEntry);
		ctl.hcxt = CacheMemoryContext;
		experiments = hash_create("recs experiments", 8, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(InvalidateExperiments, (Datum) 0);
	}
	entry = hash_search(experiments, experiment, HASH_ENTER, &found);
	if (!found)
	{
		entry->loaded = false;
		entry->current = false;
	}

	if (!entry->current)
	{
		Oid			nsp = get_namespace_oid("recs", false);
		Oid			relid = get_relname_relid("experiments", nsp);
		Oid			pkey = get_relname_relid("experiments_pkey", nsp);
		HeapTuple	tuple;
		TupleDesc	desc;
		uint64		before = invalidations;

		if (!OidIsValid(relid) || !OidIsValid(pkey))
			elog(ERROR, "recs experiment tables are missing from schema \"recs\"");
		experiments_relid = relid;
		tuple = RecsProbeByTextKey(relid, pkey, experiment, &desc);
		if (tuple == NULL)
		{
			hash_search(experiments, experiment, HASH_REMOVE, NULL);
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("experiment \"%s\" does not exist", experiment)));
		}
		if (!entry->loaded ||
			!TransactionIdEquals(entry->row_xmin, HeapTupleHeaderGetXmin(tuple->t_data)) ||
			!ItemPointerEquals(&entry->row_tid, &tuple->t_self))
		{
			LoadExperiment(entry, experiment);
			entry->row_xmin = HeapTupleHeaderGetXmin(tuple->t_data);
			entry->row_tid = tuple->t_self;
		}
		heap_freetuple(tuple);

		/*
		 * Opening the table received the invalidations sent so far.  One that
		 * arrived during the probe may be for a commit the probe's snapshot
		 * does not see: then check again next time.
		 */
		entry->current = invalidations == before;
	}

	if (entry->n_variants == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("experiment \"%s\" has no variants", experiment)));

	route->forced = false;
	route->record = !entry->stopped;
	if (entry->stopped)
		v = entry->serve_when_stopped;
	else
	{
		/* an override, by binary search */
		int			lo = 0,
					hi = entry->n_overrides - 1;

		while (lo <= hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (entry->overrides[mid].user_id == user_id)
			{
				v = entry->overrides[mid].variant;
				route->forced = true;
				break;
			}
			if (entry->overrides[mid].user_id < user_id)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		if (v < 0)
		{
			int32		bucket = RecsAssignmentBucket(entry->salt, strlen(entry->salt), user_id);

			for (int i = 0; i < entry->n_variants && v < 0; i++)
				if (bucket < entry->variants[i].upper_bucket)
					v = i;
			if (v < 0)
				v = entry->n_variants - 1;	/* cannot happen: the last is 10000 */
		}
	}
	route->variant = entry->variants[v].name;
	route->model = entry->variants[v].model;
}
