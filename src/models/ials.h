/*
 * ials.h
 *		What the "ials" algorithm offers beyond the RecsAlgorithm interface.
 */
#ifndef RECS_IALS_H
#define RECS_IALS_H

#include "postgres.h"

#include "models/algorithm.h"

/*
 * Fold in a user the model has not seen: the factor vector (model's
 * "factors" floats, written to user_vector) that minimises the model's
 * training objective for a history of n (item, value) pairs, against the
 * stored item factors.  items are indices into model->data, each at most
 * once (sum repeated events first, as training does); values are the summed
 * weights.  For a user of the training data, folding in that user's history
 * gives the user's stored factors.  model must be an "ials" model.
 */
extern void RecsIalsFoldIn(const RecsLoadedModel *model, const int32 *items,
						   const float4 *values, int n, float4 *user_vector);

#endif							/* RECS_IALS_H */
