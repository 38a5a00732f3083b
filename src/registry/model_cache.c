/*
 * model_cache.c
 *		Load a model's active version once per backend and reuse it.
 *
 * Every call asks recs.models (one indexed lookup through a kept SPI plan,
 * under the caller's snapshot) which version is active, so serving follows
 * activations and rollbacks with ordinary MVCC: a session sees a new
 * version when, and only when, its snapshot does.  The version's artifact
 * is read and parsed only when that answer differs from the cached one.
 * The cache key is the version's id (a sequence value) together with its
 * row's xmin, so an id reused after DROP/CREATE EXTENSION, or a version
 * seen inside a transaction that then rolled back, is never mistaken for
 * the one cached.
 *
 * Each loaded model lives in its own memory context under
 * CacheMemoryContext.  It is built under the caller's context and only
 * re-parented when complete, so an ERROR while loading leaks nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "registry/registry.h"

typedef struct ModelCacheEntry
{
	char		name[NAMEDATALEN];	/* key; model names are at most 63 bytes */
	int64		version_id;
	int64		version_xmin;
	RecsLoadedModel *model;
} ModelCacheEntry;

static HTAB *model_cache = NULL;
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
	int64		n;
	int64		n_times;

	RecsArtifactOpen(&reader, artifact);
	data->user_ids = RecsArtifactGet(&reader, "user_ids", &n_users, sizeof(int64));
	data->item_ids = RecsArtifactGet(&reader, "item_ids", &n_items, sizeof(int64));
	data->n_users = (int32) n_users;
	data->n_items = (int32) n_items;
	data->row_ptr = RecsArtifactGet(&reader, "row_ptr", &n, sizeof(int64));
	if (n != n_users + 1)
		elog(ERROR, "model artifact has %lld row pointers for %lld users",
			 (long long) n, (long long) n_users);
	data->col_idx = RecsArtifactGet(&reader, "col_idx", &data->nnz, sizeof(int32));
	data->values = RecsArtifactGet(&reader, "values", &n, sizeof(float4));
	data->times = RecsArtifactGet(&reader, "times", &n_times, sizeof(float8));
	if (n_times == 0)
	{
		pfree(data->times);
		data->times = NULL;
	}
	model->popularity = RecsArtifactGet(&reader, "popularity", &n, sizeof(float4));
	if (n != n_items)
		elog(ERROR, "model artifact has %lld popularity scores for %lld items",
			 (long long) n, (long long) n_items);

	model->algorithm = algorithm;
	model->params = params;
	model->data = data;
	model->state = algorithm->load(&reader, data, params);
	return model;
}

/*
 * The active version of model name (NULL: the database's default model),
 * loaded.  Must be called by a function connected to SPI.
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
	int64		version_xmin;
	int32		version;
	ModelCacheEntry *entry;
	bool		found;
	MemoryContext context;
	MemoryContext old;
	RecsLoadedModel *model;
	Jsonb	   *params;
	bytea	   *raw;
	const RecsAlgorithm *algorithm;

	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ModelCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		model_cache = hash_create("recs model cache", 8, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	if (active_version_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};

		active_version_plan = KeepPlan(
			"SELECT m.name, v.id, v.xmin::text::int8, v.version, m.algorithm, v.params"
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
	version_xmin = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
	version = DatumGetInt32(SPI_getbinval(tuple, desc, 4, &isnull));

	entry = hash_search(model_cache, model_name, HASH_ENTER, &found);
	if (!found)
		entry->model = NULL;
	if ( entry->model != NULL && entry->version_id == version_id &&
		entry->version_xmin == version_xmin)
		return entry->model;

	/* (re)load: build under the caller's context, adopt when complete */
	algorithm = RecsFindAlgorithm(SPI_getvalue(tuple, desc, 5), false);
	context = AllocSetContextCreate(CurrentMemoryContext, "recs model",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);
	params = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 6, &isnull));

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
	model->version = version;
	model->version_id = version_id;
	model->context = context;
	MemoryContextSwitchTo(old);

	/* complete: replace the previous version and keep this one */
	if (entry->model != NULL)
		MemoryContextDelete(entry->model->context);
	MemoryContextSetParent(context, CacheMemoryContext);
	entry->model = model;
	entry->version_id = version_id;
	entry->version_xmin = version_xmin;
	return model;
}
