/*
 * training.c
 *		Shared training services: the recs.train_threads setting, OpenBLAS
 *		thread control, progress reports and Gaussian random numbers.
 *
 * OpenBLAS is kept single-threaded in ordinary backends (a backend serving
 * queries must not spawn threads behind PostgreSQL's back); training opts
 * in to recs.train_threads threads for its duration and goes back to one.
 * Nothing here runs in the postmaster: _PG_init only defines the setting,
 * and each process configures OpenBLAS the first time it uses it
 * (RecsBlasInit), after any fork.
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "utils/guc.h"

#include "models/training.h"

int			recs_train_threads = 1;

void
RecsTrainingInit(void)
{
	DefineCustomIntVariable("recs.train_threads",
							"Threads OpenBLAS may use while training a model.",
							"1 trains deterministically for a given seed.",
							&recs_train_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

void
RecsBlasInit(void)
{
	static bool configured = false;

	if (!configured)
	{
		openblas_set_num_threads(1);
		configured = true;
	}
}

void
RecsTrainingBlasBegin(void)
{
	RecsBlasInit();
	openblas_set_num_threads(recs_train_threads);
}

void
RecsTrainingBlasEnd(void)
{
	openblas_set_num_threads(1);
}

void
RecsReportEpoch(const char *algorithm, int epoch, int epochs, double loss,
				double elapsed_seconds)
{
	if (isnan(loss))
		ereport(NOTICE,
				(errmsg("%s: epoch %d/%d, %.3f s", algorithm, epoch, epochs,
						elapsed_seconds)));
	else
		ereport(NOTICE,
				(errmsg("%s: epoch %d/%d, loss %.6g, %.3f s", algorithm, epoch,
						epochs, loss, elapsed_seconds)));
}

double
RecsRandomNormal(RecsRandom *r)
{
	double		u1 = RecsRandomDouble(r);
	double		u2 = RecsRandomDouble(r);

	/* u1 in (0, 1] so that log() is finite */
	return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}
