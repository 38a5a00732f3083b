/*
 * embedding_kernels_body.h
 *		The kernel loops, written once and compiled once per instruction set.
 *
 * embedding_kernels.c includes this file several times, each time defining
 * KERNEL_SUFFIX (appended to every function name) and KERNEL_TARGET (a
 * function attribute naming the instruction set, or nothing for the portable
 * build).  The loops are deliberately plain: with the flags the Makefile
 * gives this translation unit, gcc and clang turn each into SIMD code for
 * the target, including the reductions.
 */
#ifndef KERNEL_SUFFIX
#error "define KERNEL_SUFFIX and KERNEL_TARGET before including this file"
#endif

#define KERNEL_CONCAT2(a, b) a##b
#define KERNEL_CONCAT(a, b) KERNEL_CONCAT2(a, b)
#define KERNEL_FN(name) KERNEL_CONCAT(name, KERNEL_SUFFIX)

static KERNEL_TARGET float
KERNEL_FN(InnerProduct) (int dim, const float *restrict a, const float *restrict b)
{
	float		sum = 0.0f;

	for (int i = 0; i < dim; i++)
		sum += a[i] * b[i];
	return sum;
}

static KERNEL_TARGET float
KERNEL_FN(L2Squared) (int dim, const float *restrict a, const float *restrict b)
{
	float		sum = 0.0f;

	for (int i = 0; i < dim; i++)
	{
		float		diff = a[i] - b[i];

		sum += diff * diff;
	}
	return sum;
}

static KERNEL_TARGET void
KERNEL_FN(CosineParts) (int dim, const float *restrict a, const float *restrict b,
						float *ab, float *aa, float *bb)
{
	float		sab = 0.0f;
	float		saa = 0.0f;
	float		sbb = 0.0f;

	for (int i = 0; i < dim; i++)
	{
		sab += a[i] * b[i];
		saa += a[i] * a[i];
		sbb += b[i] * b[i];
	}
	*ab = sab;
	*aa = saa;
	*bb = sbb;
}

#undef KERNEL_FN
#undef KERNEL_CONCAT
#undef KERNEL_CONCAT2
