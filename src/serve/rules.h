/*
 * rules.h
 *		Business rules and context for recs_topk (rules.c).
 */
#ifndef RECS_RULES_H
#define RECS_RULES_H

#include "utils/array.h"
#include "utils/jsonb.h"

#include "models/algorithm.h"

extern void RecsMarkIds(const RecsInteractions *data, ArrayType *array, bool *mask,
						bool value, const char *what);
extern void RecsApplyFilter(const RecsLoadedModel *model, Jsonb *filter, bool *excluded);
extern float4 *RecsContextMatches(const RecsLoadedModel *model, Jsonb *context);

#endif							/* RECS_RULES_H */
