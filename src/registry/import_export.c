/*
 * import_export.c
 *		recs_export and recs_import: factor matrices in and out as rows.
 *
 * recs_export returns a factor model's user and item vectors as embedding
 * rows (and item biases), for use elsewhere: nearest-neighbour search with
 * the embedding operators, another serving system, inspection.
 *
 * recs_import loads vectors trained elsewhere (TensorFlow, PyTorch...)
 * into a model of algorithm "factors" as a new version: two tables, one of
 * users and one of items, each with columns id (an integer type) and
 * factors (embedding, or real[] / double precision[]), the items' table
 * optionally with bias (a number).  The model's source still defines the
 * catalogue, user histories (for exclude_seen) and the popularity fallback:
 * vectors of users or items absent from the source are ignored, and users
 * or items of the source without a vector get none (users without one are
 * served by the fallback).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "registry/registry.h"
#include "types/embedding.h"

PG_FUNCTION_INFO_V1(recs_export);
PG_FUNCTION_INFO_V1(recs_import);

static Datum
VectorToEmbedding(const float4 *x, int32 k)
{
	Embedding  *e = InitEmbedding(k);

	memcpy(e->x, x, sizeof(float4) * k);
	return PointerGetDatum(e);
}

/*
 * recs_export(name text, version integer) RETURNS TABLE (kind text,
 *		id bigint, factors embedding, bias real)
 */
Datum
recs_export(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	int32		version;
	RecsLoadedModel *model;
	RecsFactors f;
	const RecsInteractions *data;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	version = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	model = RecsLoadModelVersion(name, PG_ARGISNULL(1) ? NULL : &version, CurrentMemoryContext);
	if (model->algorithm->get_factors == NULL || !model->algorithm->get_factors(model, &f))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" (algorithm \"%s\") has no factor matrices to export",
						name, model->algorithm->name)));
	data = model->data;

	for (int32 u = 0; u < data->n_users; u++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, true};

		values[0] = CStringGetTextDatum("user");
		values[1] = Int64GetDatum(data->user_ids[u]);
		values[2] = VectorToEmbedding(f.users + (Size) u * f.factors, f.factors);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int32 j = 0; j < data->n_items; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, f.item_bias == NULL};

		values[0] = CStringGetTextDatum("item");
		values[1] = Int64GetDatum(data->item_ids[j]);
		values[2] = VectorToEmbedding(f.items + (Size) j * f.factors, f.factors);
		values[3] = Float4GetDatum(f.item_bias ? f.item_bias[j] : 0.0f);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * Read table's vectors into rows of out (n x *k, zero where absent), for
 * the ids in ids[0..n-1]; *k is set by the first vector when 0.  bias, if
 * not NULL, receives the bias column (0 when absent or NULL).
 */
static void
ReadVectors(Oid relid, const char *what, const int64 *ids, int32 n, int32 *k,
			float4 **out, float4 **bias)
{
	char	   *relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													 get_rel_name(relid));
	bool		has_bias;
	bool	   *seen = palloc0(sizeof(bool) * Max(n, 1));
	uint64		rows;

	if (get_attnum(relid, "id") == InvalidAttrNumber ||
		get_attnum(relid, "factors") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s table %s must have columns \"id\" and \"factors\"", what, relname)));
	has_bias = bias != NULL && get_attnum(relid, "bias") != InvalidAttrNumber;

	if (SPI_execute(psprintf("SELECT id::int8, factors::real[]%s FROM %s",
							 has_bias ? ", bias::float8" : "", relname),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", relname);
	rows = SPI_processed;

	for (uint64 r = 0; r < rows; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		id_datum = SPI_getbinval(tuple, desc, 1, &isnull);
		int32		index;
		ArrayType  *array;
		float4	   *x;
		int			nx;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s table %s has a NULL id", what, relname)));
		array = DatumGetArrayTypeP(SPI_getbinval(tuple, desc, 2, &isnull));
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s %lld in %s has NULL factors", what,
							(long long) DatumGetInt64(id_datum), relname)));
		if (ARR_NDIM(array) != 1 || array_contains_nulls(array))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s %lld in %s has malformed factors", what,
							(long long) DatumGetInt64(id_datum), relname)));
		nx = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
		/* no NULLs, so no null bitmap (ARR_DATA_PTR trips -Wsign-compare) */
		x = (float4 *) ((char *) array + ARR_OVERHEAD_NONULLS(1));
		if (*k == 0)
		{
			CheckEmbeddingDim(nx);
			*k = nx;
			*out = palloc0(mul_size(sizeof(float4), mul_size(Max(n, 1), nx)));
		}
		if (nx != *k)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s %lld in %s has %d factors, not %d like the others", what,
							(long long) DatumGetInt64(id_datum), relname, nx, *k)));
		for (int t = 0; t < nx; t++)
			if (isnan(x[t]) || isinf(x[t]))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("%s %lld in %s has a non-finite factor", what,
								(long long) DatumGetInt64(id_datum), relname)));

		index = RecsFindId(ids, n, DatumGetInt64(id_datum));
		if (index < 0)
			continue;			/* not in the model's source: ignored */
		if (seen[index])
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("%s %lld appears twice in %s", what,
							(long long) DatumGetInt64(id_datum), relname)));
		seen[index] = true;
		memcpy(*out + (Size) index * nx, x, sizeof(float4) * nx);
		if (has_bias)
		{
			Datum		b = SPI_getbinval(tuple, desc, 3, &isnull);

			(*bias)[index] = isnull ? 0.0f : (float4) DatumGetFloat8(b);
		}
	}
	if (*k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s table %s has no vectors", what, relname)));
	if (bias != NULL && !has_bias)
	{
		pfree(*bias);
		*bias = NULL;
	}
	pfree(seen);
}

/*
 * recs_import(name text, user_factors regclass, item_factors regclass,
 *			   activate boolean) RETURNS integer
 */
Datum
recs_import(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *name;
	RecsModelSpec *spec;
	RecsInteractions *data;
	int64		rows_read;
	int64		rows_skipped;
	int32		k = 0;
	float4	   *users = NULL;
	float4	   *items = NULL;
	float4	   *bias;
	RecsArtifactWriter writer;
	bytea	   *artifact;
	TimestampTz start = GetCurrentTimestamp();
	long		secs;
	int			usecs;
	int32		version;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("recs_import arguments must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	SPI_connect();
	spec = RecsLookupModelSpec(name, true, caller);
	if (strcmp(spec->algorithm, RecsFactorsAlgorithm.name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" has algorithm \"%s\"; factors can only be imported into a model of algorithm \"factors\"",
						name, spec->algorithm),
				 errhint("Create one with recs_create_model(name, 'factors', source).")));
	RecsCheckSource(spec->source, spec->source_name, spec->user_column,
					spec->item_column, spec->weight_column, spec->time_column);
	data = RecsReadSource(spec, caller, &rows_read, &rows_skipped);
	if (data->nnz == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" of model \"%s\" has no interactions",
						spec->source_name, name)));

	{
		MemoryContext old = MemoryContextSwitchTo(caller);
		int32		k_items = 0;

		bias = palloc0(sizeof(float4) * Max(data->n_items, 1));
		ReadVectors(PG_GETARG_OID(1), "user", data->user_ids, data->n_users, &k, &users, NULL);
		ReadVectors(PG_GETARG_OID(2), "item", data->item_ids, data->n_items, &k_items, &items, &bias);
		if (k_items != k)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("user vectors have %d factors and item vectors %d", k, k_items)));

		RecsArtifactBegin(&writer);
		RecsWriteArtifactCommon(&writer, data, NULL);
		RecsFactorsWrite(&writer, k, data->n_users, data->n_items, users, items, bias);
		artifact = RecsArtifactFinish(&writer);
		MemoryContextSwitchTo(old);
	}
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);

	version = RecsStoreVersion(spec, data, rows_read, rows_skipped, secs + usecs / 1e6,
							   artifact, "{\"validation\": \"skipped: imported\"}",
							   PG_GETARG_BOOL(3));
	SPI_finish();
	PG_RETURN_INT32(version);
}
