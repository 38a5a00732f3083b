/*
 * embedding_kernels.c
 *		Choose, at load time, the fastest build of the vector kernels that
 *		this CPU can run.
 *
 * The same plain loops (embedding_kernels_body.h) are compiled for the
 * baseline x86-64 instruction set (SSE2), for AVX2+FMA and for AVX-512, and
 * the best one the CPU supports is picked in RecsKernelsInit().  We never
 * compile with -march: the library must run on any CPU of its architecture.
 * Other architectures get the portable build only.
 *
 * recs.vector_kernels forces a build ('portable', 'avx2', 'avx512'), so that
 * bench/ can compare them in one run and tests can exercise each one.
 * Asking for a build the CPU cannot run is an error, not a silent fallback.
 *
 * BLAS is not used for single pairs: in bench/kernels.c cblas_sdot was no
 * faster than the AVX-512 build up to 1024 dimensions and at most ~1.2x at
 * 16000, not enough for a second code path.  BLAS earns its place where
 * whole matrices are scored at once, in the model code.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "types/embedding_kernels.h"

#define KERNEL_SUFFIX Portable
#define KERNEL_TARGET
#include "types/embedding_kernels_body.h"
#undef KERNEL_SUFFIX
#undef KERNEL_TARGET

static const RecsVectorKernels PortableKernels = {
	"portable", InnerProductPortable, L2SquaredPortable, CosinePartsPortable
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RECS_HAVE_X86_KERNELS 1

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

static const RecsVectorKernels Avx2Kernels = {
	"avx2", InnerProductAvx2, L2SquaredAvx2, CosinePartsAvx2
};

static const RecsVectorKernels Avx512Kernels = {
	"avx512", InnerProductAvx512, L2SquaredAvx512, CosinePartsAvx512
};
#endif

typedef enum RecsKernelChoice
{
	RECS_KERNELS_AUTO,
	RECS_KERNELS_PORTABLE,
	RECS_KERNELS_AVX2,
	RECS_KERNELS_AVX512
} RecsKernelChoice;

static const struct config_enum_entry kernel_choices[] = {
	{"auto", RECS_KERNELS_AUTO, false},
	{"portable", RECS_KERNELS_PORTABLE, false},
	{"avx2", RECS_KERNELS_AVX2, false},
	{"avx512", RECS_KERNELS_AVX512, false},
	{NULL, 0, false}
};

static int	kernel_choice = RECS_KERNELS_AUTO;

const RecsVectorKernels *RecsKernels = &PortableKernels;

static bool
CpuSupports(RecsKernelChoice choice)
{
	switch (choice)
	{
		case RECS_KERNELS_AUTO:
		case RECS_KERNELS_PORTABLE:
			return true;
#ifdef RECS_HAVE_X86_KERNELS
		case RECS_KERNELS_AVX2:
			return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
		case RECS_KERNELS_AVX512:
			return __builtin_cpu_supports("avx512f") &&
				__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
		case RECS_KERNELS_AVX2:
		case RECS_KERNELS_AVX512:
			return false;
#endif
	}
	return false;
}

static const RecsVectorKernels *
KernelsFor(RecsKernelChoice choice)
{
#ifdef RECS_HAVE_X86_KERNELS
	if (choice == RECS_KERNELS_AUTO)
	{
		/*
		 * The widest build wins: bench/kernels.c measured AVX-512 1.3x to 2x
		 * faster than the portable SSE2 build from 128 to 16000 dimensions,
		 * and AVX2 1.1x to 1.6x at 128 to 1024 dimensions.
		 */
		if (CpuSupports(RECS_KERNELS_AVX512))
			return &Avx512Kernels;
		if (CpuSupports(RECS_KERNELS_AVX2))
			return &Avx2Kernels;
		return &PortableKernels;
	}
	if (choice == RECS_KERNELS_AVX2)
		return &Avx2Kernels;
	if (choice == RECS_KERNELS_AVX512)
		return &Avx512Kernels;
#endif
	return &PortableKernels;
}

static bool
check_vector_kernels(int *newval, void **extra, GucSource source)
{
	if (!CpuSupports((RecsKernelChoice) *newval))
	{
		GUC_check_errcode(ERRCODE_FEATURE_NOT_SUPPORTED);
		GUC_check_errdetail("This CPU does not support the \"%s\" kernels.",
							kernel_choices[*newval].name);
		return false;
	}
	return true;
}

static void
assign_vector_kernels(int newval, void *extra)
{
	RecsKernels = KernelsFor((RecsKernelChoice) newval);
}

static const char *
show_vector_kernels(void)
{
	/* Show what "auto" resolved to, which is what users want to know. */
	if (kernel_choice == RECS_KERNELS_AUTO)
		return psprintf("auto (%s)", RecsKernels->name);
	return RecsKernels->name;
}

void
RecsKernelsInit(void)
{
	RecsKernels = KernelsFor(RECS_KERNELS_AUTO);

	DefineCustomEnumVariable("recs.vector_kernels",
							 "Which build of the vector distance kernels to use.",
							 "\"auto\" picks the fastest one this CPU supports.",
							 &kernel_choice,
							 RECS_KERNELS_AUTO,
							 kernel_choices,
							 PGC_USERSET,
							 GUC_NOT_IN_SAMPLE,
							 check_vector_kernels,
							 assign_vector_kernels,
							 show_vector_kernels);
}
