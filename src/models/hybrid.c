/*
 * hybrid.c
 *		The "hybrid" algorithm (being written).
 */
#include "postgres.h"

#include "models/algorithm.h"

static void
HybridCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("algorithm \"hybrid\" is not available yet")));
}

const RecsAlgorithm RecsHybridAlgorithm = {
	.name = "hybrid",
	.check_params = HybridCheckParams,
};
