/*
 * recs.c
 *		Module entry point: the magic block and _PG_init.
 *
 * _PG_init only calls each subsystem's Init function, so that what runs at
 * load time is visible in one place.  It must stay cheap and must not touch
 * the catalogs: the library is loaded by CREATE EXTENSION, by the first call
 * of any recs function, and (later) by shared_preload_libraries.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "cache/cache.h"
#include "experiments/experiments.h"
#include "models/training.h"
#include "registry/registry.h"
#include "types/embedding_kernels.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	RecsKernelsInit();
	RecsTrainingInit();
	RecsRegistryInit();
	RecsCacheInit();
	RecsWorkerInit();
	RecsExposureQueueInit();

	/* the background worker exists only when loaded at server start */
	if (process_shared_preload_libraries_in_progress)
		RecsWorkerRegister();

	/* Every recs.* setting is defined above; reject misspelt ones. */
	MarkGUCPrefixReserved("recs");
}
