/*
 * factors.c
 *		The "factors" algorithm: a factor model trained elsewhere.
 *
 * Its parameters are not learned here but imported by recs_import() from
 * two tables of embeddings (registry/import_export.c), so a model trained
 * with TensorFlow, PyTorch or any other tool is served by recs_topk like
 * any other: score(u, i) = b_i + p_u · q_i over the catalogue of the
 * model's source, with the same exclusion, fallback and evaluation.
 * recs_train refuses it: there is nothing to learn from the source.
 *
 * Artifact sections (after the common ones): "factors.k" (int32),
 * "factors.users" and "factors.items" (float4, row-major), "factors.bias"
 * (float4, n_items, or empty).  Users or items the import had no vector
 * for have zero rows: such users get the popularity fallback.
 */
#include "postgres.h"

#include <cblas.h>
#include <math.h>

#include "models/algorithm.h"
#include "models/training.h"

typedef struct FactorsState
{
	int32		k;
	float4	   *users;
	float4	   *items;
	float4	   *bias;			/* NULL: no biases */
	float4	   *item_norms;		/* |q_i|, for similar items */
} FactorsState;

static const char *const factors_params[] = {NULL};

static void
FactorsCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "factors", factors_params);
}

static void
FactorsTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("models of algorithm \"factors\" are imported, not trained"),
			 errhint("Load new factors with recs_import().")));
}

/* Append the factor sections of an imported model. */
void
RecsFactorsWrite(RecsArtifactWriter *out, int32 k, int32 n_users, int32 n_items,
				 const float4 *users, const float4 *items, const float4 *bias)
{
	RecsArtifactPutScalar(out, "factors.k", k);
	RecsArtifactPut(out, "factors.users", users, (int64) n_users * k, sizeof(float4));
	RecsArtifactPut(out, "factors.items", items, (int64) n_items * k, sizeof(float4));
	RecsArtifactPut(out, "factors.bias", bias, bias ? n_items : 0, sizeof(float4));
}

static void *
FactorsLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	FactorsState *state = palloc0(sizeof(FactorsState));
	int64		n;
	int32	   *k = RecsArtifactGet(in, "factors.k", &n, sizeof(int32));

	state->k = *k;
	state->users = RecsArtifactGetExact(in, "factors.users", (int64) data->n_users * state->k,
										sizeof(float4));
	state->items = RecsArtifactGetExact(in, "factors.items", (int64) data->n_items * state->k,
										sizeof(float4));
	state->bias = RecsArtifactGet(in, "factors.bias", &n, sizeof(float4));
	if (n == 0)
		state->bias = NULL;
	else if (n != data->n_items)
		elog(ERROR, "model artifact has %lld item biases for %d items", (long long) n, data->n_items);

	state->item_norms = palloc(sizeof(float4) * Max(data->n_items, 1));
	for (int32 j = 0; j < data->n_items; j++)
	{
		double		sum = 0.0;

		for (int32 t = 0; t < state->k; t++)
			sum += (double) state->items[(Size) j * state->k + t] * state->items[(Size) j * state->k + t];
		state->item_norms[j] = (float4) sqrt(sum);
	}
	return state;
}

static void
FactorsScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const FactorsState *state = model->state;
	const float4 *p = state->users + (Size) user * state->k;
	bool		zero = true;

	for (int32 t = 0; t < state->k && zero; t++)
		zero = p[t] == 0.0f;
	if (zero)
		return;					/* no vector was imported: the fallback serves */
	RecsBlasInit();
	if (state->bias)
		memcpy(scores, state->bias, sizeof(float4) * model->data->n_items);
	cblas_sgemv(CblasRowMajor, CblasNoTrans, model->data->n_items, state->k, 1.0f,
				state->items, state->k, p, 1, state->bias ? 1.0f : 0.0f, scores, 1);
}

static bool
FactorsScoreSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	const FactorsState *state = model->state;
	int32		n_items = model->data->n_items;

	if (state->item_norms[item] == 0.0f)
		return true;
	RecsBlasInit();
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, state->k, 1.0f, state->items,
				state->k, state->items + (Size) item * state->k, 1, 0.0f, scores, 1);
	for (int32 j = 0; j < n_items; j++)
		scores[j] = state->item_norms[j] > 0.0f ?
			scores[j] / (state->item_norms[item] * state->item_norms[j]) : -INFINITY;
	return true;
}

static bool
FactorsGetFactors(const RecsLoadedModel *model, RecsFactors *factors)
{
	const FactorsState *state = model->state;

	factors->factors = state->k;
	factors->users = state->users;
	factors->items = state->items;
	factors->item_bias = state->bias;
	return true;
}

const RecsAlgorithm RecsFactorsAlgorithm = {
	.name = "factors",
	.check_params = FactorsCheckParams,
	.train = FactorsTrain,
	.load = FactorsLoad,
	.score_user = FactorsScoreUser,
	.score_similar_items = FactorsScoreSimilarItems,
	.get_factors = FactorsGetFactors,
};
