/*
 * model_cache.c
 *		Load a model's active version once per backend and reuse it.
 *
 * A cached model is served without reading the registry while no change
 * to it has been announced: statement triggers on recs.models and
 * recs.config send a relcache invalidation at commit (recs.announce_change),
 * which every backend receives at its next transaction start or lock.
 * After one, the next call asks recs.models which version is active, under
 * the caller's snapshot, so serving follows activations and rollbacks with
 * ordinary MVCC: a session sees a new version when its snapshot does.  That
 * question is a direct probe of recs.models' primary key (and recs.config's,
 * for the default model), a few microseconds: if the row found is the very
 * row version the cached model was loaded through (same xmin and ctid,
 * which no other row version can share) with the same active_version, the
 * cache is current.  Otherwise the model's version is looked up and its
 * artifact read and parsed through SPI.  Whatever changes the active
 * version (activation, rollback, drop and re-create, DROP EXTENSION) writes
 * a new row version and announces it, so the cache never serves a stale
 * model, including one seen in a transaction that rolled back (which
 * announces nothing).

 * Each loaded model lives in its own memory context under
 * CacheMemoryContext.  It is built under the caller's context and only
 * re-parented when complete, so an ERROR while loading leaks nothing.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "registry/registry.h"

typedef struct ModelCacheEntry
{
	char		name[NAMEDATALEN];	/* key; model names are at most 63 bytes */
	bool		current;		/* no registry invalidation since checked */
	TransactionId row_xmin;		/* the recs.models row version loaded through */
	ItemPointerData row_tid;
	int32		active_version;
	RecsLoadedModel *model;
} ModelCacheEntry;

/* What a probe of recs.models found. */
typedef struct ModelRow
{
	char		name[NAMEDATALEN];
	TransactionId xmin;
	ItemPointerData tid;
	bool		trained;		/* active_version is not NULL */
	int32		active_version;
} ModelRow;

/* OIDs of the registry relations, resolved once per backend */
typedef struct RegistryOids
{
	bool		valid;
	Oid			models;
	Oid			models_pkey;
	AttrNumber	models_active_version;
	Oid			config;
	Oid			config_pkey;
	AttrNumber	config_value;
} RegistryOids;

static HTAB *model_cache = NULL;
static RegistryOids registry = {false};
static uint64 registry_invalidations = 0;	/* received so far */
static char default_model_name[NAMEDATALEN];	/* what the default model was */
static bool default_model_current = false;
static SPIPlanPtr active_version_plan = NULL;
static SPIPlanPtr artifact_plan = NULL;

static SPIPlanPtr
KeepPlan(const char *query, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(query, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", query,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/*
 * Parse an artifact into a loaded model, in CurrentMemoryContext.
 */
RecsLoadedModel *
RecsLoadArtifact(bytea *artifact, const RecsAlgorithm *algorithm, Jsonb *params)
{
	RecsLoadedModel *model = palloc0(sizeof(RecsLoadedModel));
	RecsInteractions *data = palloc0(sizeof(RecsInteractions));
	RecsArtifactReader reader;
	int64		n_users;
	int64		n_items;
	int64		n_times;

	RecsArtifactOpen(&reader, artifact);
	data->user_ids = RecsArtifactGet(&reader, "user_ids", &n_users, sizeof(int64));
	data->item_ids = RecsArtifactGet(&reader, "item_ids", &n_items, sizeof(int64));
	data->n_users = (int32) n_users;
	data->n_items = (int32) n_items;
	data->row_ptr = RecsArtifactGetExact(&reader, "row_ptr", n_users + 1, sizeof(int64));
	data->col_idx = RecsArtifactGet(&reader, "col_idx", &data->nnz, sizeof(int32));
	data->values = RecsArtifactGetExact(&reader, "values", data->nnz, sizeof(float4));
	data->times = RecsArtifactGet(&reader, "times", &n_times, sizeof(float8));
	if (n_times == 0)
	{
		pfree(data->times);
		data->times = NULL;
	}
	else if (n_times != data->nnz)
		elog(ERROR, "model artifact has %lld interaction times for %lld interactions",
			 (long long) n_times, (long long) data->nnz);
	model->popularity = RecsArtifactGetExact(&reader, "popularity", n_items, sizeof(float4));

	model->algorithm = algorithm;
	model->params = params;
	model->data = data;
	model->state = algorithm->load(&reader, data, params);
	return model;
}

/*
 * Relcache invalidations of recs.models or recs.config (sent by their
 * announce_change statement triggers on every change, and by DDL): check
 * cached models again before use, and resolve the OIDs again, since it may
 * be DROP EXTENSION.
 */
static void
InvalidateRegistryOids(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	ModelCacheEntry *entry;

	if (!(relid == InvalidOid || relid == registry.models || relid == registry.config))
		return;
	registry.valid = false;
	registry_invalidations++;
	default_model_current = false;
	if (model_cache == NULL)
		return;
	hash_seq_init(&seq, model_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
		entry->current = false;
}

PG_FUNCTION_INFO_V1(recs_announce_change);

/*
 * recs.announce_change(): statement trigger on the tables whose contents
 * backends cache (recs.models and recs.config here, recs.experiments in
 * experiments/routing.c).  The relcache invalidation of the table it sends
 * at commit tells every backend to look again; until one comes, what they
 * cached is served without reading the table at all.
 */
Datum
recs_announce_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "recs.announce_change must be called as a trigger");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

static void
ResolveRegistryOids(void)
{
	static bool callback_registered = false;
	Oid			nsp;

	if (registry.valid)
		return;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(InvalidateRegistryOids, (Datum) 0);
		callback_registered = true;
	}
	nsp = get_namespace_oid("recs", false);
	registry.models = get_relname_relid("models", nsp);
	registry.models_pkey = get_relname_relid("models_pkey", nsp);
	registry.config = get_relname_relid("config", nsp);
	registry.config_pkey = get_relname_relid("config_pkey", nsp);
	if (!OidIsValid(registry.models) || !OidIsValid(registry.models_pkey) ||
		!OidIsValid(registry.config) || !OidIsValid(registry.config_pkey))
		elog(ERROR, "recs registry tables are missing from schema \"recs\"");
	registry.models_active_version = get_attnum(registry.models, "active_version");
	registry.config_value = get_attnum(registry.config, "value");
	registry.valid = true;
}

/*
 * Probe relation's primary key (a text column) for key under the active
 * snapshot; returns the heap tuple (a copy) or NULL.
 */
HeapTuple
RecsProbeByTextKey(Oid relid, Oid pkey, const char *key, TupleDesc *desc)
{
	Relation	rel = table_open(relid, AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(key));
	scan = systable_beginscan(rel, pkey, true, GetActiveSnapshot(), 1, &skey);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	systable_endscan(scan);
	*desc = RelationGetDescr(rel);
	table_close(rel, AccessShareLock);
	return tuple;
}

/*
 * Find model name's row (NULL: the default model's); false if there is
 * none, with row->name empty when no default model is set.
 */
static bool
ProbeModelRow(const char *name, ModelRow *row)
{
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		value;

	ResolveRegistryOids();
	memset(row, 0, sizeof(ModelRow));
	if (name == NULL)
	{
		tuple = RecsProbeByTextKey(registry.config, registry.config_pkey, "default_model", &desc);
		if (tuple == NULL)
			return false;
		value = heap_getattr(tuple, registry.config_value, desc, &isnull);
		name = isnull ? "" : TextDatumGetCString(value);
	}
	strlcpy(row->name, name, NAMEDATALEN);

	tuple = RecsProbeByTextKey(registry.models, registry.models_pkey, name, &desc);
	if (tuple == NULL)
		return false;
	row->xmin = HeapTupleHeaderGetXmin(tuple->t_data);
	row->tid = tuple->t_self;
	value = heap_getattr(tuple, registry.models_active_version, desc, &isnull);
	row->trained = !isnull;
	row->active_version = isnull ? 0 : DatumGetInt32(value);
	heap_freetuple(tuple);
	return true;
}

/*
 * entry was just checked against the registry (for name, NULL meaning the
 * default model): it is current unless an invalidation came meanwhile.
 */
static void
MarkChecked(ModelCacheEntry *entry, const char *name, uint64 before)
{
	entry->current = registry_invalidations == before;
	if (name == NULL)
	{
		strlcpy(default_model_name, entry->name, NAMEDATALEN);
		default_model_current = entry->current;
	}
}

/*
 * The active version of model name (NULL: the database's default model),
 * loaded.  The fast path needs no SPI; loading connects to SPI itself
 * (nested inside the caller's connection, if any).
 */
RecsLoadedModel *
RecsGetModel(const char *name)
{
	Datum		args[1];
	char		nulls[1];
	HeapTuple	tuple;
	TupleDesc	desc;
	char	   *model_name;
	bool		isnull;
	int64		version_id;
	int32		version;
	ModelCacheEntry *entry;
	bool		found;
	MemoryContext context;
	MemoryContext old;
	RecsLoadedModel *model;
	Jsonb	   *params;
	Oid			source;
	char	   *user_column;
	char	   *item_column;
	char	   *weight_column;
	bytea	   *raw;
	const RecsAlgorithm *algorithm;
	bool		online;
	TimestampTz trained_at;
	ModelRow	row;
	uint64		before;

	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ModelCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		model_cache = hash_create("recs model cache", 8, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}

	/* fastest path: no change to the registry since the model was checked */
	if ((name != NULL && strlen(name) < NAMEDATALEN) ||
		(name == NULL && default_model_current))
	{
		entry = hash_search(model_cache, name ? name : default_model_name, HASH_FIND, NULL);
		if (entry != NULL && entry->model != NULL && entry->current)
			return entry->model;
	}

	/*
	 * Fast path: the cached model, if its recs.models row is unchanged.
	 * Opening the registry receives the invalidations sent so far; one that
	 * arrives during the probe may be for a commit the probe's snapshot
	 * does not see, and then the entry stays unchecked.
	 */
	before = registry_invalidations;
	if (ProbeModelRow(name, &row) && row.trained)
	{
		entry = hash_search(model_cache, row.name, HASH_FIND, NULL);
		if (entry != NULL && entry->model != NULL &&
			TransactionIdEquals(entry->row_xmin, row.xmin) &&
			ItemPointerEquals(&entry->row_tid, &row.tid) &&
			entry->active_version == row.active_version)
		{
			MarkChecked(entry, name, before);
			return entry->model;
		}
	}

	SPI_connect();
	if (active_version_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};

		active_version_plan = KeepPlan(
			"SELECT m.name, v.id, v.version, m.algorithm, v.params, m.source::oid,"
			" m.user_column::text, m.item_column::text, m.weight_column::text,"
			" m.online, v.trained_at"
			" FROM recs.models m"
			" LEFT JOIN recs.model_versions v"
			"   ON v.model = m.name AND v.version = m.active_version"
			" WHERE m.name = coalesce($1,"
			"   (SELECT value FROM recs.config WHERE key = 'default_model'))",
			1, argtypes);
	}

	args[0] = name ? CStringGetTextDatum(name) : (Datum) 0;
	nulls[0] = name ? ' ' : 'n';
	if (SPI_execute_plan(active_version_plan, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read recs.models");
	if (SPI_processed == 0)
	{
		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("no model given and no default model set"),
					 errhint("Name a model, or set one with recs_set_default_model().")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name)));
	}

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	model_name = SPI_getvalue(tuple, desc, 1);
	version_id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has not been trained", model_name),
				 errhint("Train it with SELECT recs_train('%s').", model_name)));
	version = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));

	entry = hash_search(model_cache, model_name, HASH_ENTER, &found);
	if (!found)
	{
		entry->model = NULL;
		entry->current = false;
	}

	/* (re)load: build under the caller's context, adopt when complete */
	algorithm = RecsFindAlgorithm(SPI_getvalue(tuple, desc, 4), false);
	context = AllocSetContextCreate(CurrentMemoryContext, "recs model",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);
	params = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 5, &isnull));
	source = DatumGetObjectId(SPI_getbinval(tuple, desc, 6, &isnull));
	user_column = pstrdup(SPI_getvalue(tuple, desc, 7));
	item_column = pstrdup(SPI_getvalue(tuple, desc, 8));
	weight_column = SPI_getvalue(tuple, desc, 9);
	if (weight_column)
		weight_column = pstrdup(weight_column);
	online = DatumGetBool(SPI_getbinval(tuple, desc, 10, &isnull));
	trained_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 11, &isnull));

	if (artifact_plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		artifact_plan = KeepPlan("SELECT artifact FROM recs.model_versions WHERE id = $1",
								 1, argtypes);
	}
	args[0] = Int64GetDatum(version_id);
	nulls[0] = ' ';
	if (SPI_execute_plan(artifact_plan, args, nulls, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the artifact of model \"%s\" version %d",
			 model_name, version);
	/* detoast in SPI's context: the model keeps only what it parses */
	MemoryContextSwitchTo(old);
	raw = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	MemoryContextSwitchTo(context);
	model = RecsLoadArtifact(raw, algorithm, params);
	model->name = pstrdup(model_name);
	model->source = source;
	model->user_column = user_column;
	model->item_column = item_column;
	model->weight_column = weight_column;
	model->version = version;
	model->version_id = version_id;
	model->online = online;
	model->trained_at = trained_at;
	model->context = context;
	MemoryContextSwitchTo(old);

	/* complete: replace the previous version and keep this one */
	if (entry->model != NULL)
		MemoryContextDelete(entry->model->context);
	MemoryContextSetParent(context, CacheMemoryContext);
	entry->model = model;
	/* the probe and the SPI query ran under the same snapshot */
	entry->row_xmin = row.xmin;
	entry->row_tid = row.tid;
	entry->active_version = row.active_version;
	MarkChecked(entry, name, before);
	SPI_finish();
	return model;
}

/*
 * Version version of model name (NULL: the active one), loaded into target
 * without caching (recs_export, evaluation of imported models).  The
 * caller is connected to SPI; every SPI call returns to SPI's own context,
 * which dies at SPI_finish, hence the explicit target.
 */
RecsLoadedModel *
RecsLoadModelVersion(const char *name, const int32 *version, MemoryContext target)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	RecsLoadedModel *model;
	const RecsAlgorithm *algorithm;
	MemoryContext old;

	args[0] = CStringGetTextDatum(name);
	args[1] = version ? Int32GetDatum(*version) : (Datum) 0;
	if (version == NULL)
		nulls[1] = 'n';
	if (SPI_execute_with_args("SELECT v.version, v.algorithm, v.params, v.artifact"
							  " FROM recs.models m JOIN recs.model_versions v ON v.model = m.name"
							  " WHERE m.name = $1 AND v.version = coalesce($2, m.active_version)",
							  2, argtypes, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read recs.model_versions");
	if (SPI_processed == 0)
	{
		if (SPI_execute_with_args("SELECT 1 FROM recs.models WHERE name = $1",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read recs.models");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", name)));
		if (version)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" has no version %d", name, *version)));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has not been trained", name)));
	}
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	algorithm = RecsFindAlgorithm(SPI_getvalue(tuple, desc, 2), false);
	old = MemoryContextSwitchTo(target);
	model = RecsLoadArtifact(DatumGetByteaPP(SPI_getbinval(tuple, desc, 4, &isnull)),
							 algorithm,
							 DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 3, &isnull)));
	model->name = pstrdup(name);
	model->version = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
	model->context = target;
	MemoryContextSwitchTo(old);
	return model;
}
