/*
 * lapack.h
 *		The few LAPACK routines the model kernels call, declared here
 *		because Debian's OpenBLAS ships no LAPACKE header.
 *
 * These are the Fortran entry points (trailing underscore, arguments by
 * reference, column-major matrices).  Fortran passes the length of each
 * CHARACTER argument as a hidden trailing argument; it is declared and
 * passed (always 1) so that gfortran-built routines see what they expect.
 * The integer type is OpenBLAS's blasint (int unless built for 64-bit
 * indices), which cblas.h defines.
 */
#ifndef RECS_LAPACK_H
#define RECS_LAPACK_H

#include <stddef.h>
#include <cblas.h>

/* Cholesky factorisation of a symmetric positive definite matrix */
extern void spotrf_(const char *uplo, const blasint *n, float *a,
					const blasint *lda, blasint *info, size_t uplo_len);

/* solve A X = B given spotrf's factor of A */
extern void spotrs_(const char *uplo, const blasint *n, const blasint *nrhs,
					const float *a, const blasint *lda, float *b,
					const blasint *ldb, blasint *info, size_t uplo_len);

/* inverse of A given spotrf's factor of A (the uplo triangle only) */
extern void spotri_(const char *uplo, const blasint *n, float *a,
					const blasint *lda, blasint *info, size_t uplo_len);

#endif							/* RECS_LAPACK_H */
