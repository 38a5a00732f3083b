/*
 * embedding_agg.c
 *		sum(embedding) and avg(embedding).
 *
 * The transition state is an internal struct of float8 sums and a count,
 * updated in place in the aggregate's memory context: no per-row copy of
 * the state, and float8 sums keep millions of rows from losing precision.
 * Combine, serialize and deserialize functions make both aggregates run in
 * parallel plans.
 */
#include "postgres.h"

#include "compat.h"
#include "libpq/pqformat.h"

#include "types/embedding.h"

PG_FUNCTION_INFO_V1(embedding_accum);
PG_FUNCTION_INFO_V1(embedding_combine);
PG_FUNCTION_INFO_V1(embedding_agg_serialize);
PG_FUNCTION_INFO_V1(embedding_agg_deserialize);
PG_FUNCTION_INFO_V1(embedding_sum_final);
PG_FUNCTION_INFO_V1(embedding_avg_final);

typedef struct EmbeddingAggState
{
	int64		count;			/* non-NULL inputs seen */
	int			dim;
	float8		sums[FLEXIBLE_ARRAY_MEMBER];
} EmbeddingAggState;

static EmbeddingAggState *
CreateAggState(MemoryContext aggcontext, int dim)
{
	EmbeddingAggState *state;

	state = MemoryContextAllocZero(aggcontext,
								   add_size(offsetof(EmbeddingAggState, sums),
											mul_size(sizeof(float8), dim)));
	state->dim = dim;
	return state;
}

static MemoryContext
AggContextOrError(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

static void
CheckStateDims(int expected, int actual)
{
	if (expected != actual)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different embedding dimensions %d and %d",
						expected, actual)));
}

Datum
embedding_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = AggContextOrError(fcinfo, "embedding_accum");
	EmbeddingAggState *state;
	Embedding  *e;

	state = PG_ARGISNULL(0) ? NULL : (EmbeddingAggState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}

	e = PG_GETARG_EMBEDDING_P(1);
	if (state == NULL)
		state = CreateAggState(aggcontext, e->dim);
	else
		CheckStateDims(state->dim, e->dim);

	for (int i = 0; i < e->dim; i++)
		state->sums[i] += (float8) e->x[i];
	state->count++;

	PG_FREE_IF_COPY(e, 1);
	PG_RETURN_POINTER(state);
}

Datum
embedding_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = AggContextOrError(fcinfo, "embedding_combine");
	EmbeddingAggState *state1;
	EmbeddingAggState *state2;

	state1 = PG_ARGISNULL(0) ? NULL : (EmbeddingAggState *) PG_GETARG_POINTER(0);
	state2 = PG_ARGISNULL(1) ? NULL : (EmbeddingAggState *) PG_GETARG_POINTER(1);

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}

	if (state1 == NULL)
	{
		/* the result must live in the aggregate context, not state2's */
		state1 = CreateAggState(aggcontext, state2->dim);
		memcpy(state1->sums, state2->sums, sizeof(float8) * state2->dim);
		state1->count = state2->count;
		PG_RETURN_POINTER(state1);
	}

	CheckStateDims(state1->dim, state2->dim);
	for (int i = 0; i < state1->dim; i++)
		state1->sums[i] += state2->sums[i];
	state1->count += state2->count;

	PG_RETURN_POINTER(state1);
}

/* Wire form between parallel workers: int64 count, int32 dim, dim float8. */
Datum
embedding_agg_serialize(PG_FUNCTION_ARGS)
{
	EmbeddingAggState *state;
	StringInfoData buf;

	AggContextOrError(fcinfo, "embedding_agg_serialize");
	state = (EmbeddingAggState *) PG_GETARG_POINTER(0);

	pq_begintypsend(&buf);
	pq_sendint64(&buf, state->count);
	pq_sendint32(&buf, state->dim);
	for (int i = 0; i < state->dim; i++)
		pq_sendfloat8(&buf, state->sums[i]);

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
embedding_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = AggContextOrError(fcinfo, "embedding_agg_deserialize");
	bytea	   *sstate = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	EmbeddingAggState *state;
	int64		count;
	int			dim;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));

	count = pq_getmsgint64(&buf);
	dim = pq_getmsgint(&buf, sizeof(int32));
	CheckEmbeddingDim(dim);

	state = CreateAggState(aggcontext, dim);
	state->count = count;
	for (int i = 0; i < dim; i++)
		state->sums[i] = pq_getmsgfloat8(&buf);
	pq_getmsgend(&buf);

	PG_RETURN_POINTER(state);
}

/* Turn float8 totals (divided by divisor) into an embedding, checking range. */
static Embedding *
StateToEmbedding(const EmbeddingAggState *state, float8 divisor)
{
	Embedding  *result = InitEmbedding(state->dim);

	for (int i = 0; i < state->dim; i++)
		result->x[i] = Float8ToEmbeddingElement(state->sums[i] / divisor);
	return result;
}

Datum
embedding_sum_final(PG_FUNCTION_ARGS)
{
	EmbeddingAggState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (EmbeddingAggState *) PG_GETARG_POINTER(0);
	PG_RETURN_EMBEDDING_P(StateToEmbedding(state, 1.0));
}

Datum
embedding_avg_final(PG_FUNCTION_ARGS)
{
	EmbeddingAggState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (EmbeddingAggState *) PG_GETARG_POINTER(0);
	PG_RETURN_EMBEDDING_P(StateToEmbedding(state, (float8) state->count));
}
