/*
 * training.h
 *		What every training algorithm shares: threads, progress, randomness.
 *
 * Rules for algorithms (see algorithm.h for the interface):
 *	- PostgreSQL calls (palloc, ereport, CHECK_FOR_INTERRUPTS) only on the
 *	  backend's own thread.  Extra threads come from OpenBLAS, inside
 *	  RecsTrainingBlasBegin/End, and never call back into PostgreSQL.
 *	- Call RecsTrainingCheckpoint() between batches or epochs: it honours
 *	  query cancel and statement_timeout (the ERROR unwinds the whole
 *	  training transaction, so no partial version is left behind).
 *	- Randomness only from a RecsRandom seeded from the "seed" param, so a
 *	  given seed trains the same model (single-threaded).
 */
#ifndef RECS_TRAINING_H
#define RECS_TRAINING_H

#include "postgres.h"

#include "common/pg_prng.h"

/* recs.train_threads: threads OpenBLAS may use while training */
extern int	recs_train_threads;

extern void RecsTrainingInit(void);

/* Call before any BLAS use outside training: one thread in this process. */
extern void RecsBlasInit(void);

/* Let OpenBLAS use recs.train_threads threads until RecsTrainingBlasEnd. */
extern void RecsTrainingBlasBegin(void);
extern void RecsTrainingBlasEnd(void);

/* Cancel/timeout point; cheap enough to call per batch. */
#define RecsTrainingCheckpoint() CHECK_FOR_INTERRUPTS()

/* NOTICE "algorithm: epoch i/n, loss x, t s" (loss NaN: not reported) */
extern void RecsReportEpoch(const char *algorithm, int epoch, int epochs,
							double loss, double elapsed_seconds);

typedef pg_prng_state RecsRandom;

#define RecsRandomSeed(r, seed) pg_prng_seed((r), (uint64) (seed))
/* uniform integer in [0, n) */
#define RecsRandomIndex(r, n) ((int32) pg_prng_uint64_range((r), 0, (uint64) (n) - 1))
/* uniform double in [0, 1) */
#define RecsRandomDouble(r) pg_prng_double(r)
/* standard normal (Box-Muller) */
extern double RecsRandomNormal(RecsRandom *r);

#endif							/* RECS_TRAINING_H */
