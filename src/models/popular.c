/*
 * popular.c
 *		The "popular" algorithm: rank items by how much they are used.
 *
 * Params:
 *   "weighting": "count" (distinct users, the default) or "weight" (sum of
 *                the weight column, or of event counts without one);
 *   "half_life_days": optional exponential time decay; needs a time column.
 *                A (user, item) pair's contribution halves every
 *                half_life_days between its latest interaction and the
 *                newest interaction in the data (not now(), so that
 *                training is reproducible).
 *   "window_days": optional; count only interactions within window_days of
 *                the newest one in the data ("what is popular lately");
 *                needs a time column.
 *
 * Every trained model also carries these counts as its cold-start
 * fallback; for "popular" the fallback and the model are the same scores.
 */
#include "postgres.h"

#include <math.h>

#include "models/algorithm.h"

static const char *const popular_params[] = {"weighting", "half_life_days", "window_days", NULL};

typedef struct PopularParams
{
	bool		by_weight;
	double		half_life_days; /* 0: no decay */
	double		window_days;	/* 0: all of the data */
} PopularParams;

static PopularParams
ReadParams(Jsonb *params)
{
	PopularParams p = {false, 0.0, 0.0};
	char	   *weighting;

	if (RecsParamString(params, "weighting", &weighting))
	{
		if (strcmp(weighting, "weight") == 0)
			p.by_weight = true;
		else if (strcmp(weighting, "count") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"weighting\" must be \"count\" or \"weight\", not \"%s\"",
							weighting)));
	}
	if (RecsParamNumber(params, "half_life_days", &p.half_life_days) &&
		p.half_life_days <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"half_life_days\" must be positive")));
	p.window_days = RecsParamPositive(params, "window_days", 0.0);
	return p;
}

static void
PopularCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	PopularParams p;

	RecsCheckParamKeys(params, "popular", popular_params);
	p = ReadParams(params);
	if ((p.half_life_days > 0 || p.window_days > 0) && !has_time)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" needs a time column",
						p.half_life_days > 0 ? "half_life_days" : "window_days"),
				 errhint("Pass time_column to recs_create_model.")));
}

/*
 * Popularity of every item under params.  Used by "popular" itself and, with
 * default params, as every model's cold-start fallback.
 */
float4 *
RecsItemPopularity(const RecsInteractions *data, Jsonb *params)
{
	PopularParams p = ReadParams(params);
	float8	   *sums = palloc0(sizeof(float8) * Max(data->n_items, 1));
	float4	   *result = palloc(sizeof(float4) * Max(data->n_items, 1));
	float8		newest = 0.0;
	float8		decay_per_second = 0.0;

	if ((p.half_life_days > 0 || p.window_days > 0) && data->times != NULL)
	{
		newest = -INFINITY;
		for (int64 i = 0; i < data->nnz; i++)
			newest = Max(newest, data->times[i]);
		if (p.half_life_days > 0)
			decay_per_second = log(2.0) / (p.half_life_days * 86400.0);
	}

	for (int64 i = 0; i < data->nnz; i++)
	{
		float8		w = p.by_weight ? data->values[i] : 1.0;

		if (p.window_days > 0 && data->times != NULL &&
			newest - data->times[i] > p.window_days * 86400.0)
			continue;

		if (decay_per_second > 0)
			w *= exp(-decay_per_second * (newest - data->times[i]));
		sums[data->col_idx[i]] += w;
	}
	for (int32 j = 0; j < data->n_items; j++)
		result[j] = (float4) sums[j];
	pfree(sums);
	return result;
}

static void
PopularTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	float4	   *scores = RecsItemPopularity(data, params);

	RecsArtifactPut(out, "popular.scores", scores, data->n_items, sizeof(float4));
}

static void *
PopularLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	return RecsArtifactGetExact(in, "popular.scores", data->n_items, sizeof(float4));
}

static void
PopularScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	memcpy(scores, model->state, sizeof(float4) * model->data->n_items);
}

const RecsAlgorithm RecsPopularAlgorithm = {
	.name = "popular",
	.check_params = PopularCheckParams,
	.train = PopularTrain,
	.load = PopularLoad,
	.score_user = PopularScoreUser,
	.score_similar_items = NULL,
	.predict = NULL,
};
