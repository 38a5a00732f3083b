/*
 * embedding_kernels.h
 *		Dense float4 vector kernels behind the embedding operators.
 *
 * Each kernel is a function pointer chosen once at load time for the CPU we
 * run on (or forced with the recs.vector_kernels setting, for benchmarks
 * and tests).  Callers guarantee both inputs have dim elements.
 */
#ifndef RECS_EMBEDDING_KERNELS_H
#define RECS_EMBEDDING_KERNELS_H

typedef struct RecsVectorKernels
{
	const char *name;
	/* sum_i a[i] * b[i] */
	float		(*inner_product) (int dim, const float *a, const float *b);
	/* sum_i (a[i] - b[i])^2 */
	float		(*l2_squared) (int dim, const float *a, const float *b);
	/* a.b, |a|^2 and |b|^2 in one pass, for the cosine */
	void		(*cosine_parts) (int dim, const float *a, const float *b,
								 float *ab, float *aa, float *bb);
} RecsVectorKernels;

/* The kernels in use; valid after RecsKernelsInit(). */
extern const RecsVectorKernels *RecsKernels;

extern void RecsKernelsInit(void);

#endif							/* RECS_EMBEDDING_KERNELS_H */
