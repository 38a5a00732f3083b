/*
 * explain.c
 *		recs_explain: why a model recommends an item to a user.
 *
 * Rows (reason, evidence_item, weight), heaviest first, at most
 * RECS_EXPLAIN_MAX:
 *	- user_knn: the neighbours who interacted with the item, weighted by
 *	  sim(u, v) * r_vj, the terms of the score (the algorithm's explain);
 *	- models with item similarity (item_knn, ials, bpr_mf, ease, ncf,
 *	  factors): the user's own items, weighted by their similarity to the
 *	  recommended item times the user's weight for them: for item_knn these
 *	  are exactly the terms of the score, for factor models the user's
 *	  items closest to the recommended one in factor space;
 *	- otherwise, and for users the model has nothing on: popularity.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "registry/registry.h"

PG_FUNCTION_INFO_V1(recs_explain);

#define RECS_EXPLAIN_MAX 5

/*
 * recs_explain(user_id bigint, item_id bigint, model text)
 *		RETURNS TABLE (reason text, evidence_item bigint, weight float8)
 */
Datum
recs_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	RecsLoadedModel *model;
	int32		user;
	int32		item;
	RecsEvidence evidence[RECS_EXPLAIN_MAX];
	int			n = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and item_id must not be NULL")));

	InitMaterializedSRF(fcinfo, 0);
	model = RecsGetModel(name);
	user = RecsUserIndex(model->data, PG_GETARG_INT64(0));
	item = RecsItemIndex(model->data, PG_GETARG_INT64(1));
	if (item < 0)
		return (Datum) 0;		/* an item the model has never seen: no reason */

	if (user >= 0 && model->algorithm->explain != NULL)
		n = model->algorithm->explain(model, user, item, evidence, RECS_EXPLAIN_MAX);
	else if (user >= 0 && model->algorithm->score_similar_items != NULL)
		n = RecsExplainBySimilarity(model, user, item, evidence, RECS_EXPLAIN_MAX);

	if (n == 0)
	{
		evidence[0].reason = user >= 0 ? "popular with everyone" :
			"popular with everyone (the model has no history for this user)";
		evidence[0].evidence_item = -1;
		evidence[0].weight = model->popularity[item];
		n = 1;
	}

	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, evidence[i].evidence_item < 0, false};

		values[0] = CStringGetTextDatum(evidence[i].reason);
		values[1] = Int64GetDatum(evidence[i].evidence_item);
		values[2] = Float8GetDatum(evidence[i].weight);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
