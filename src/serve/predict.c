/*
 * predict.c
 *		recs_predict: a model's predicted rating of one item by one user.
 *
 * Ranking (recs_topk) needs only an order; a prediction is on the scale of
 * the training weights, so only algorithms that define one (the predict
 * callback) can answer.  A model whose algorithm has none is an error, not
 * NULL, so that a query over the wrong model fails loudly; NULL means "this
 * model cannot predict this pair": the user or item is unknown to it, or
 * nothing in the model relates them (no neighbour rated the item).
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"

#include "registry/registry.h"

PG_FUNCTION_INFO_V1(recs_predict);

/*
 * recs_predict(user_id bigint, item_id bigint, model text)
 */
Datum
recs_predict(PG_FUNCTION_ARGS)
{
	char	   *name;
	RecsLoadedModel *model;
	const RecsInteractions *data;
	int32		user;
	int32		item;
	float8		rating = 0.0;
	bool		found = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and item_id must not be NULL")));
	name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	SPI_connect();
	model = RecsGetModel(name);
	if (model->algorithm->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" (algorithm \"%s\") cannot predict ratings",
						model->name, model->algorithm->name),
				 errhint("Use an item_knn or user_knn model.")));

	data = model->data;
	user = RecsUserIndex(data, PG_GETARG_INT64(0));
	item = RecsItemIndex(data, PG_GETARG_INT64(1));
	if (user >= 0 && item >= 0)
		found = model->algorithm->predict(model, user, item, &rating);
	SPI_finish();

	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(rating);
}
