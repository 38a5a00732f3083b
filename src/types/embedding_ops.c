/*
 * embedding_ops.c
 *		Distance and similarity functions, arithmetic and comparison
 *		operators for the embedding type.
 *
 * Distances go through the kernels chosen at load time (embedding_kernels.c).
 * The kernels accumulate in float4, as pgvector does: for the dimensions
 * embeddings have, the rounding error is far below what ranking can see,
 * and float4 accumulation vectorises twice as wide as float8.
 *
 * Cosine involving a zero vector is defined as similarity 0 (distance 1),
 * as scikit-learn does, rather than NaN: a zero vector carries no direction,
 * and NaN would poison sorts, averages and model training downstream.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "utils/float.h"

#include "types/embedding.h"
#include "types/embedding_kernels.h"

PG_FUNCTION_INFO_V1(recs_dims);
PG_FUNCTION_INFO_V1(recs_norm);
PG_FUNCTION_INFO_V1(recs_normalize);
PG_FUNCTION_INFO_V1(recs_dot);
PG_FUNCTION_INFO_V1(recs_l2_distance);
PG_FUNCTION_INFO_V1(recs_cosine_similarity);
PG_FUNCTION_INFO_V1(embedding_negative_inner_product);
PG_FUNCTION_INFO_V1(embedding_cosine_distance);
PG_FUNCTION_INFO_V1(embedding_add);
PG_FUNCTION_INFO_V1(embedding_sub);
PG_FUNCTION_INFO_V1(embedding_mul);
PG_FUNCTION_INFO_V1(embedding_lt);
PG_FUNCTION_INFO_V1(embedding_le);
PG_FUNCTION_INFO_V1(embedding_eq);
PG_FUNCTION_INFO_V1(embedding_ne);
PG_FUNCTION_INFO_V1(embedding_ge);
PG_FUNCTION_INFO_V1(embedding_gt);
PG_FUNCTION_INFO_V1(embedding_cmp);
PG_FUNCTION_INFO_V1(embedding_hash);

/*
 * Cosine similarity from its parts, clamped to [-1, 1] against rounding.
 */
static double
CosineSimilarity(const Embedding *a, const Embedding *b)
{
	float		ab;
	float		aa;
	float		bb;
	double		similarity;

	RecsKernels->cosine_parts(a->dim, a->x, b->x, &ab, &aa, &bb);

	if (aa == 0.0f || bb == 0.0f)
		return 0.0;

	similarity = (double) ab / sqrt((double) aa * (double) bb);
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	return similarity;
}

Datum
recs_dims(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);

	PG_RETURN_INT32(e->dim);
}

Datum
recs_norm(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	double		norm = 0.0;

	/* float8 accumulation: a norm is computed once, not per candidate */
	for (int i = 0; i < e->dim; i++)
		norm += (double) e->x[i] * (double) e->x[i];

	PG_RETURN_FLOAT8(sqrt(norm));
}

/*
 * Scale to unit L2 norm.  The zero vector is returned unchanged (it has no
 * direction to keep).
 */
Datum
recs_normalize(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	Embedding  *result = InitEmbedding(e->dim);
	double		norm = 0.0;

	for (int i = 0; i < e->dim; i++)
		norm += (double) e->x[i] * (double) e->x[i];
	norm = sqrt(norm);

	for (int i = 0; i < e->dim; i++)
		result->x[i] = norm > 0.0 ? (float4) (e->x[i] / norm) : e->x[i];

	PG_FREE_IF_COPY(e, 0);
	PG_RETURN_EMBEDDING_P(result);
}

Datum
recs_dot(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);

	CheckEmbeddingDimsMatch(a, b);
	PG_RETURN_FLOAT8((double) RecsKernels->inner_product(a->dim, a->x, b->x));
}

Datum
embedding_negative_inner_product(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);

	CheckEmbeddingDimsMatch(a, b);
	PG_RETURN_FLOAT8(-(double) RecsKernels->inner_product(a->dim, a->x, b->x));
}

Datum
recs_l2_distance(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);

	CheckEmbeddingDimsMatch(a, b);
	PG_RETURN_FLOAT8(sqrt((double) RecsKernels->l2_squared(a->dim, a->x, b->x)));
}

Datum
recs_cosine_similarity(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);

	CheckEmbeddingDimsMatch(a, b);
	PG_RETURN_FLOAT8(CosineSimilarity(a, b));
}

Datum
embedding_cosine_distance(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);

	CheckEmbeddingDimsMatch(a, b);
	PG_RETURN_FLOAT8(1.0 - CosineSimilarity(a, b));
}

/*
 * Element-wise arithmetic.  Results that overflow float4 are errors, as for
 * real arithmetic; an underflow to zero is accepted.
 */
typedef enum ElementwiseOp
{
	ELEMENTWISE_ADD,
	ELEMENTWISE_SUB,
	ELEMENTWISE_MUL
} ElementwiseOp;

static Embedding *
Elementwise(const Embedding *a, const Embedding *b, ElementwiseOp op)
{
	Embedding  *result;
	bool		overflow = false;

	CheckEmbeddingDimsMatch(a, b);
	result = InitEmbedding(a->dim);

	switch (op)
	{
		case ELEMENTWISE_ADD:
			for (int i = 0; i < a->dim; i++)
				result->x[i] = a->x[i] + b->x[i];
			break;
		case ELEMENTWISE_SUB:
			for (int i = 0; i < a->dim; i++)
				result->x[i] = a->x[i] - b->x[i];
			break;
		case ELEMENTWISE_MUL:
			for (int i = 0; i < a->dim; i++)
				result->x[i] = a->x[i] * b->x[i];
			break;
	}

	/* One pass after the arithmetic keeps the loops above vectorisable. */
	for (int i = 0; i < a->dim; i++)
		overflow |= isinf(result->x[i]);
	if (overflow)
		float_overflow_error();

	return result;
}

Datum
embedding_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_EMBEDDING_P(Elementwise(PG_GETARG_EMBEDDING_P(0),
									  PG_GETARG_EMBEDDING_P(1),
									  ELEMENTWISE_ADD));
}

Datum
embedding_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_EMBEDDING_P(Elementwise(PG_GETARG_EMBEDDING_P(0),
									  PG_GETARG_EMBEDDING_P(1),
									  ELEMENTWISE_SUB));
}

Datum
embedding_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_EMBEDDING_P(Elementwise(PG_GETARG_EMBEDDING_P(0),
									  PG_GETARG_EMBEDDING_P(1),
									  ELEMENTWISE_MUL));
}

/*
 * Total order for btree: element by element, then the shorter embedding
 * first.  Elements are never NaN, so float comparison is a total order;
 * -0 and +0 compare equal, and embedding_hash agrees.
 */
static int
EmbeddingCompare(const Embedding *a, const Embedding *b)
{
	int			common = Min(a->dim, b->dim);

	for (int i = 0; i < common; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

#define RECS_EMBEDDING_COMPARISON(fname, test) \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	Embedding  *a = PG_GETARG_EMBEDDING_P(0); \
	Embedding  *b = PG_GETARG_EMBEDDING_P(1); \
	int			cmp = EmbeddingCompare(a, b); \
\
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	PG_RETURN_BOOL(test); \
}

RECS_EMBEDDING_COMPARISON(embedding_lt, cmp < 0)
RECS_EMBEDDING_COMPARISON(embedding_le, cmp <= 0)
RECS_EMBEDDING_COMPARISON(embedding_eq, cmp == 0)
RECS_EMBEDDING_COMPARISON(embedding_ne, cmp != 0)
RECS_EMBEDDING_COMPARISON(embedding_ge, cmp >= 0)
RECS_EMBEDDING_COMPARISON(embedding_gt, cmp > 0)

Datum
embedding_cmp(PG_FUNCTION_ARGS)
{
	Embedding  *a = PG_GETARG_EMBEDDING_P(0);
	Embedding  *b = PG_GETARG_EMBEDDING_P(1);
	int			cmp = EmbeddingCompare(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_INT32(cmp);
}

/*
 * Hash consistent with embedding_eq: -0 hashes as +0.
 */
Datum
embedding_hash(PG_FUNCTION_ARGS)
{
	Embedding  *e = PG_GETARG_EMBEDDING_P(0);
	uint32		hash = hash_bytes_uint32((uint32) e->dim);

	for (int i = 0; i < e->dim; i++)
	{
		float4		value = e->x[i] == 0.0f ? 0.0f : e->x[i];
		uint32		bits;

		memcpy(&bits, &value, sizeof(bits));
		hash = hash_combine(hash, hash_bytes_uint32(bits));
	}

	PG_FREE_IF_COPY(e, 0);
	PG_RETURN_INT32((int32) hash);
}
