/*
 * embedding.h
 *		The embedding type: a dense vector of float4 stored as a varlena.
 *
 * The on-disk layout is part of the extension's contract (tables, dumps and
 * binary COPY depend on it): a varlena header, the dimension count, a
 * reserved field that must be zero, then the elements.  The reserved field
 * leaves room for a future element type (half precision, int8 quantisation)
 * without rewriting stored data.
 */
#ifndef RECS_EMBEDDING_H
#define RECS_EMBEDDING_H

#include "postgres.h"

#include "fmgr.h"

/* Largest dimension count we accept anywhere (input, casts, typmod, recv). */
#define RECS_EMBEDDING_MAX_DIM 16000

typedef struct Embedding
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved for the element format, always 0 */
	float4		x[FLEXIBLE_ARRAY_MEMBER];
} Embedding;

/* Size in bytes of an embedding with dim elements (dim is already checked). */
#define RECS_EMBEDDING_SIZE(dim) \
	add_size(offsetof(Embedding, x), mul_size(sizeof(float4), (dim)))

#define DatumGetEmbeddingP(d)	((Embedding *) PG_DETOAST_DATUM(d))
#define PG_GETARG_EMBEDDING_P(n) DatumGetEmbeddingP(PG_GETARG_DATUM(n))
#define PG_RETURN_EMBEDDING_P(e) PG_RETURN_POINTER(e)

extern Embedding *InitEmbedding(int dim);
extern void CheckEmbeddingDim(int dim);
extern void CheckEmbeddingElement(float4 value);
extern void CheckEmbeddingDimsMatch(const Embedding *a, const Embedding *b);
extern void CheckEmbeddingTypmod(int typmod, int dim);
extern float4 Float8ToEmbeddingElement(float8 value);

#endif							/* RECS_EMBEDDING_H */
