/*
 * kernels.c
 *		Micro-benchmark of the embedding distance kernels, outside PostgreSQL.
 *
 * Compiles src/types/embedding_kernels_body.h exactly as the extension does
 * (same flags, same target attributes) and times the portable, AVX2 and
 * AVX-512 builds, and OpenBLAS's cblas_sdot, on the same data.  This is the
 * evidence behind the run-time choice in src/types/embedding_kernels.c:
 * a build is worth selecting only if it wins here.
 *
 * Prints, per dimension count, the median nanoseconds per call over 7 runs
 * and the ratio to the portable build.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Vectors are drawn from a pool this large; L2-resident by default. */
#ifndef BENCH_POOL_BYTES
#define BENCH_POOL_BYTES (256 * 1024)
#endif

#define KERNEL_SUFFIX Portable
#define KERNEL_TARGET
#include "types/embedding_kernels_body.h"
#undef KERNEL_SUFFIX
#undef KERNEL_TARGET

#define KERNEL_SUFFIX Avx2
#define KERNEL_TARGET __attribute__((target("avx2,fma")))
#include "types/embedding_kernels_body.h"
#undef KERNEL_SUFFIX
#undef KERNEL_TARGET

#define KERNEL_SUFFIX Avx512
#define KERNEL_TARGET __attribute__((target("avx512f,avx2,fma")))
#include "types/embedding_kernels_body.h"
#undef KERNEL_SUFFIX
#undef KERNEL_TARGET

typedef float (*Kernel) (int dim, const float *a, const float *b);

static float
BlasDot(int dim, const float *a, const float *b)
{
	return cblas_sdot(dim, a, 1, b, 1);
}

static double
NowNs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Median ns per call of kernel over a pool of vectors (defeats caching of one pair). */
static double
TimeKernel(Kernel kernel, int dim, const float *pool, int nvec, volatile float *sink)
{
	double		runs[7];
	long		calls = 20000000L / dim + 1000;

	for (int r = 0; r < 7; r++)
	{
		double		start = NowNs();
		float		acc = 0.0f;

		for (long c = 0; c < calls; c++)
		{
			const float *a = pool + (size_t) (c % nvec) * dim;
			const float *b = pool + (size_t) ((c + 1) % nvec) * dim;

			acc += kernel(dim, a, b);
		}
		*sink = acc;
		runs[r] = (NowNs() - start) / calls;
	}
	qsort(runs, 7, sizeof(double), CompareDoubles);
	return runs[3];
}

int
main(void)
{
	static const int dims[] = {16, 128, 1024, 16000};
	volatile float sink;
	int			has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	int			has_avx512 = has_avx2 && __builtin_cpu_supports("avx512f");

	openblas_set_num_threads(1);
	printf("%-8s %-16s %12s %10s\n", "dims", "kernel", "ns/call", "vs portable");
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
	{
		int			dim = dims[d];
		int			nvec = (int) (BENCH_POOL_BYTES / (dim * sizeof(float)));
		float	   *pool = malloc(sizeof(float) * (size_t) dim * nvec);
		double		base;

		if (nvec < 2)
			nvec = 2;
		pool = realloc(pool, sizeof(float) * (size_t) dim * nvec);
		srand(42);
		for (long i = 0; i < (long) dim * nvec; i++)
			pool[i] = (float) rand() / RAND_MAX - 0.5f;

		base = TimeKernel(InnerProductPortable, dim, pool, nvec, &sink);
		printf("%-8d %-16s %12.1f %10.2f\n", dim, "dot portable", base, 1.0);
		if (has_avx2)
		{
			double		t = TimeKernel(InnerProductAvx2, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "dot avx2", t, base / t);
		}
		if (has_avx512)
		{
			double		t = TimeKernel(InnerProductAvx512, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "dot avx512", t, base / t);
		}
		{
			double		t = TimeKernel(BlasDot, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "dot cblas_sdot", t, base / t);
		}
		{
			double		t = TimeKernel(L2SquaredPortable, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "l2 portable", t, 1.0);
			base = t;
		}
		if (has_avx2)
		{
			double		t = TimeKernel(L2SquaredAvx2, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "l2 avx2", t, base / t);
		}
		if (has_avx512)
		{
			double		t = TimeKernel(L2SquaredAvx512, dim, pool, nvec, &sink);

			printf("%-8d %-16s %12.1f %10.2f\n", dim, "l2 avx512", t, base / t);
		}
		free(pool);
	}
	return 0;
}
