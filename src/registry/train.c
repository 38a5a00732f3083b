/*
 * train.c
 *		recs_train(name): read the source, train, store a new version.
 *
 * The model's row in recs.models is locked FOR UPDATE first, so concurrent
 * trainings of one model queue up and version numbers never collide.  The
 * new version is an ordinary INSERT: until the training transaction
 * commits, every other session keeps seeing (and serving) the versions it
 * saw before.  An ERROR or a cancel anywhere rolls the version back with
 * the transaction; nothing partial remains.
 *
 * Each version carries validation metrics (recs.validate_on_train, on by
 * default): the same algorithm and params trained once more on the
 * training data minus each user's latest interaction, and measured on
 * those held-out interactions at k = 10 (eval/evaluate.c).  They are what
 * "is the new version better?" is decided on, at the price of a second
 * training.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "eval/evaluate.h"
#include "registry/registry.h"
#include "utils/guc.h"

PG_FUNCTION_INFO_V1(recs_train);

static bool validate_on_train = true;

void
RecsRegistryInit(void)
{
	DefineCustomBoolVariable("recs.validate_on_train",
							 "Computes validation metrics for every trained version.",
							 "Costs a second training on the data minus each user's latest interaction.",
							 &validate_on_train,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * Validation metrics of algorithm/params on data, as a jsonb text.
 */
static char *
ValidationMetrics(const RecsAlgorithm *algorithm, const RecsInteractions *data,
				  Jsonb *params)
{
	RecsEvalOptions opts = {RECS_PROTOCOL_LEAVE_ONE_OUT, 10, 0.2, 42, 0, NAN};
	RecsEvalResult r;

	if (!validate_on_train)
		return "{}";
	if (!RecsEvaluateOn(data, algorithm, params, &opts, &r))
		return psprintf("{\"validation\": \"skipped: leave_one_out leaves %s\"}", r.failure);
	return psprintf("{\"validation\": \"leave_one_out\", \"k\": 10, \"users\": %d,"
					" \"precision@10\": %.6f, \"recall@10\": %.6f, \"ndcg@10\": %.6f,"
					" \"hit_rate@10\": %.6f, \"mrr@10\": %.6f, \"map@10\": %.6f,"
					" \"coverage@10\": %.6f}",
					r.users, r.precision, r.recall, r.ndcg, r.hit_rate, r.mrr, r.map,
					r.coverage);
}
PG_FUNCTION_INFO_V1(recs_check_params);

static char *
GetText(HeapTuple tuple, TupleDesc desc, int col)
{
	char	   *value = SPI_getvalue(tuple, desc, col);

	return value ? pstrdup(value) : NULL;
}

/*
 * Read the model's row, locking it when for_update; the spec is copied
 * into target.  The caller is connected to SPI.
 */
RecsModelSpec *
RecsLookupModelSpec(const char *name, bool for_update, MemoryContext target)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	RecsModelSpec *spec;
	HeapTuple	tuple;
	TupleDesc	desc;
	MemoryContext old;
	bool		isnull;

	if (SPI_execute_with_args(for_update ?
							  "SELECT algorithm, source::oid, source_name, user_column::text,"
							  " item_column::text, weight_column::text, time_column::text, params,"
							  " item_features::oid, item_features_id::text"
							  " FROM recs.models WHERE name = $1 FOR UPDATE" :
							  "SELECT algorithm, source::oid, source_name, user_column::text,"
							  " item_column::text, weight_column::text, time_column::text, params,"
							  " item_features::oid, item_features_id::text"
							  " FROM recs.models WHERE name = $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read recs.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Create it with recs_create_model().")));

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(target);
	spec = palloc0(sizeof(RecsModelSpec));
	spec->name = pstrdup(name);
	spec->algorithm = GetText(tuple, desc, 1);
	spec->source = DatumGetObjectId(SPI_getbinval(tuple, desc, 2, &isnull));
	spec->source_name = GetText(tuple, desc, 3);
	spec->user_column = GetText(tuple, desc, 4);
	spec->item_column = GetText(tuple, desc, 5);
	spec->weight_column = GetText(tuple, desc, 6);
	spec->time_column = GetText(tuple, desc, 7);
	spec->params = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 8, &isnull));
	spec->item_features = DatumGetObjectId(SPI_getbinval(tuple, desc, 9, &isnull));
	if (isnull)
		spec->item_features = InvalidOid;
	spec->item_features_id = GetText(tuple, desc, 10);
	MemoryContextSwitchTo(old);
	return spec;
}

/*
 * The parts of an artifact every algorithm shares: the training matrix
 * (user histories for exclude_seen and neighbourhood scoring) and the
 * popularity used as cold-start fallback, computed with popularity_params
 * (NULL: distinct users per item).
 */
void
RecsWriteArtifactCommon(RecsArtifactWriter *w, const RecsInteractions *data,
						Jsonb *popularity_params)
{
	float4	   *popularity = RecsItemPopularity(data, popularity_params);

	RecsArtifactPut(w, "user_ids", data->user_ids, data->n_users, sizeof(int64));
	RecsArtifactPut(w, "item_ids", data->item_ids, data->n_items, sizeof(int64));
	RecsArtifactPut(w, "row_ptr", data->row_ptr, data->n_users + 1, sizeof(int64));
	RecsArtifactPut(w, "col_idx", data->col_idx, data->nnz, sizeof(int32));
	RecsArtifactPut(w, "values", data->values, data->nnz, sizeof(float4));
	RecsArtifactPut(w, "times", data->times, data->times ? data->nnz : 0, sizeof(float8));
	RecsArtifactPut(w, "popularity", popularity, data->n_items, sizeof(float4));
	pfree(popularity);
}

/*
 * Train algorithm on data and return the complete artifact, in
 * CurrentMemoryContext.  recs_train stores it; recs_evaluate loads it.
 */
bytea *
RecsTrainArtifact(const RecsAlgorithm *algorithm, const RecsInteractions *data,
				  Jsonb *params)
{
	RecsArtifactWriter writer;

	RecsArtifactBegin(&writer);
	/* a popular model's fallback is the model itself */
	RecsWriteArtifactCommon(&writer, data,
							algorithm == &RecsPopularAlgorithm ? params :
							RecsParamObject(params, "fallback"));
	algorithm->train(data, params, &writer);
	return RecsArtifactFinish(&writer);
}

/*
 * Insert a new version of spec's model (the next number) and activate it
 * when it is the model's first or activate is set; then apply the model's
 * retention.  The caller is connected to SPI and holds the model's row
 * lock.  Returns the version number.
 */
int32
RecsStoreVersion(const RecsModelSpec *spec, const RecsInteractions *data,
				 int64 rows_read, int64 rows_skipped, double seconds,
				 bytea *artifact, const char *metrics, bool activate)
{
	const char *name = spec->name;
	int32		version;
	bool		isnull;

	{
		Oid			argtypes[12] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT8OID,
		INT8OID, INT4OID, INT4OID, INT8OID, FLOAT8OID, BYTEAOID, TEXTOID};
		Datum		args[12] = {
			CStringGetTextDatum(name),
			CStringGetTextDatum(spec->algorithm),
			JsonbPGetDatum(spec->params),
			CStringGetTextDatum(spec->source_name),
			Int64GetDatum(rows_read),
			Int64GetDatum(rows_skipped),
			Int32GetDatum(data->n_users),
			Int32GetDatum(data->n_items),
			Int64GetDatum(data->nnz),
			Float8GetDatum(seconds),
			PointerGetDatum(artifact),
			CStringGetTextDatum(metrics)
		};

		if (SPI_execute_with_args("INSERT INTO recs.model_versions"
								  " (model, version, algorithm, params, source_name, source_rows,"
								  "  skipped_rows, n_users, n_items, n_interactions, train_seconds,"
								  "  artifact, metrics)"
								  " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5,"
								  "  $6, $7, $8, $9, $10, $11, $12::jsonb"
								  " FROM recs.model_versions WHERE model = $1"
								  " RETURNING version",
								  12, argtypes, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "could not insert into recs.model_versions");
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));

		/* the first version becomes active, and any asked for */
		args[1] = Int32GetDatum(version);
		argtypes[1] = INT4OID;
		args[2] = BoolGetDatum(activate);
		argtypes[2] = BOOLOID;
		if (SPI_execute_with_args("SELECT recs.activate(name, $2) FROM recs.models"
								  " WHERE name = $1 AND (active_version IS NULL OR $3)",
								  3, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not activate version %d of model \"%s\"", version, name);
		if (SPI_execute_with_args("SELECT recs.apply_retention($1)",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not apply the retention of model \"%s\"", name);
	}

	return version;
}

Datum
recs_train(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *name;
	bool		activate = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	char	   *metrics;
	RecsModelSpec *spec;
	const RecsAlgorithm *algorithm;
	RecsInteractions *data;
	bytea	   *artifact;
	int64		rows_read;
	int64		rows_skipped;
	TimestampTz start;
	long		secs;
	int			usecs;
	int32		version;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	SPI_connect();
	spec = RecsLookupModelSpec(name, true, caller);
	algorithm = RecsFindAlgorithm(spec->algorithm, false);
	RecsCheckSource(spec->source, spec->source_name, spec->user_column,
					spec->item_column, spec->weight_column, spec->time_column);

	start = GetCurrentTimestamp();
	data = RecsReadSource(spec, caller, &rows_read, &rows_skipped);
	if (data->nnz == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" of model \"%s\" has no interactions to train on",
						spec->source_name, name),
				 rows_skipped > 0 ?
				 errdetail("All %lld rows have a NULL user, item, weight or time.",
						   (long long) rows_skipped) : 0));

	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		artifact = RecsTrainArtifact(algorithm, data, spec->params);
		MemoryContextSwitchTo(old);
	}
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);

	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		metrics = ValidationMetrics(algorithm, data, spec->params);
		MemoryContextSwitchTo(old);
	}

	version = RecsStoreVersion(spec, data, rows_read, rows_skipped,
							   secs + usecs / 1e6, artifact, metrics, activate);

	SPI_finish();
	PG_RETURN_INT32(version);
}

/*
 * recs.check_params(algorithm, params, has_weight, has_time): for
 * recs_create_model, so bad params fail at creation and not at training.
 */
Datum
recs_check_params(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *params = PG_GETARG_JSONB_P(1);
	const RecsAlgorithm *algorithm = RecsFindAlgorithm(name, false);

	algorithm->check_params(params, PG_GETARG_BOOL(2), PG_GETARG_BOOL(3));
	RecsCheckCommonParams(params, PG_GETARG_BOOL(3));
	PG_RETURN_VOID();
}
