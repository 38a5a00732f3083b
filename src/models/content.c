/*
 * content.c
 *		The "content" algorithm (being written).
 */
#include "postgres.h"

#include "models/algorithm.h"

static void
ContentCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("algorithm \"content\" is not available yet")));
}

const RecsAlgorithm RecsContentAlgorithm = {
	.name = "content",
	.check_params = ContentCheckParams,
};
