/*
 * item_knn.c
 *		The "item_knn" algorithm: item-based neighbourhood collaborative
 *		filtering.
 *
 * Params:
 *   "similarity":  "cosine" (default), "adjusted_cosine", "pearson" or
 *                  "jaccard", between two items' vectors of ratings by
 *                  users (formulas in cf/similarity.h; r is the summed
 *                  weight of a (user, item) pair, 1.0 per implicit event);
 *   "shrinkage":   s >= 0 (default 0, off): a similarity built on n
 *                  co-rating users becomes sim * n / (n + s), so that
 *                  pairs with little evidence count less;
 *   "neighbours":  how many most similar items each item keeps (default 50);
 *   "min_overlap": pairs with fewer co-rating users have no similarity
 *                  (default 1).
 * Only positive similarities (after shrinkage) are kept: an item is never
 * recommended because it is unlike the user's items.  With implicit 0/1
 * data every entry is 1, so pearson and adjusted_cosine are undefined
 * (zero variance) and yield no neighbours; use cosine or jaccard there.
 *
 * Training computes each item's neighbours without visiting pairs that no
 * user shares (RecsNearestRows).  Artifact sections, after the common ones:
 *   item_knn.ptr  int64[n_items + 1]  CSR offsets into the next two
 *   item_knn.idx  int32[]             neighbour item indices, best first
 *   item_knn.sim  float8[]            their (shrunk) similarities
 *
 * Serving:
 *   score_user(u)[j] = sum over items i rated by u, j among i's
 *                      neighbours, of sim(i, j) * r_ui; items reached from
 *                      no item of u stay unscored;
 *   similar items of i = i's stored neighbours and similarities;
 *   predict(u, j)    = mean(j) + sum sim(i, j) (r_ui - mean(i)) / sum |sim(i, j)|
 *                      over j's neighbours i that u rated, mean(i) being
 *                      item i's mean over its raters; none rated: no
 *                      prediction.
 */
#include "postgres.h"

#include <math.h>

#include "cf/similarity.h"
#include "models/algorithm.h"

static const char *const item_knn_params[] = {
	"similarity", "shrinkage", "neighbours", "min_overlap", NULL
};

typedef struct ItemKnnState
{
	RecsNeighbours *neighbours; /* rows are items */
	float8	   *item_means;		/* [n_items] over each item's raters */
	/*
	 * Scoring scratch, allocated once with the model and left all zero
	 * between calls (each call clears only what it touched), so serving a
	 * user costs no allocation proportional to the catalogue.  Nothing in
	 * the scoring loop can raise an ERROR, so it cannot be left dirty.
	 */
	float8	   *sums;			/* [n_items] */
	bool	   *touched;		/* [n_items] */
	int32	   *touched_list;	/* [n_items] */
} ItemKnnState;


static RecsNeighbourOptions
ReadParams(Jsonb *params)
{
	RecsNeighbourOptions opt;
	char	   *similarity;

	opt.method = RECS_SIM_COSINE;
	opt.shrinkage = 0.0;
	opt.significance = 0.0;
	if (RecsParamString(params, "similarity", &similarity) &&
		!RecsParseSimilarity(similarity, &opt.method))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"similarity\" must be \"cosine\", \"adjusted_cosine\", \"pearson\" or \"jaccard\", not \"%s\"",
						similarity)));
	if (RecsParamNumber(params, "shrinkage", &opt.shrinkage) && opt.shrinkage < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"shrinkage\" must not be negative, not %g", opt.shrinkage)));
	opt.neighbours = RecsParamCount(params, "neighbours", 50);
	opt.min_overlap = RecsParamCount(params, "min_overlap", 1);
	return opt;
}

static void
ItemKnnCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "item_knn", item_knn_params);
	(void) ReadParams(params);
}

static void
ItemKnnTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	RecsNeighbourOptions opt = ReadParams(params);
	RecsInteractions *by_item = RecsTransposeInteractions(data);
	RecsNeighbours *neighbours = RecsNearestRows(by_item, data, &opt);

	RecsPutNeighbours(out, "item_knn", neighbours);
	RecsFreeTranspose(by_item);
}

static void *
ItemKnnLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	ItemKnnState *state = palloc(sizeof(ItemKnnState));

	state->neighbours = RecsGetNeighbours(in, "item_knn", data->n_items);
	state->item_means = RecsColumnMeans(data);
	state->sums = palloc0(sizeof(float8) * Max(data->n_items, 1));
	state->touched = palloc0(sizeof(bool) * Max(data->n_items, 1));
	state->touched_list = palloc(sizeof(int32) * Max(data->n_items, 1));
	return state;
}

/*
 * score(j) = sum over the history's items i with j among i's neighbours of
 * sim(i, j) * r_i; only touched items are written.
 */
static void
ScoreHistory(const RecsLoadedModel *model, const int32 *items, const float4 *values,
			 int64 n, float4 *scores)
{
	const ItemKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;
	float8	   *sums = state->sums;
	bool	   *touched = state->touched;
	int32	   *list = state->touched_list;
	int32		n_touched = 0;

	for (int64 p = 0; p < n; p++)
	{
		int32		i = items[p];
		float8		r = values[p];

		for (int64 q = nb->ptr[i]; q < nb->ptr[i + 1]; q++)
		{
			int32		j = nb->idx[q];

			sums[j] += nb->sim[q] * r;
			if (!touched[j])
			{
				touched[j] = true;
				list[n_touched++] = j;
			}
		}
	}
	/* hand over the scores and leave the scratch all zero again */
	for (int32 t = 0; t < n_touched; t++)
	{
		int32		j = list[t];

		scores[j] = (float4) sums[j];
		sums[j] = 0.0;
		touched[j] = false;
	}
}

static void
ItemKnnScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const RecsInteractions *data = model->data;
	int64		begin = data->row_ptr[user];

	ScoreHistory(model, data->col_idx + begin, data->values + begin,
				 data->row_ptr[user + 1] - begin, scores);
}

/* a user the model has never seen, from live interactions: the same sum */
static void
ItemKnnScoreHistory(const RecsLoadedModel *model, const int32 *items,
					const float4 *values, int n, float4 *scores)
{
	ScoreHistory(model, items, values, n, scores);
}

static bool
ItemKnnSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	const ItemKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;

	for (int64 q = nb->ptr[item]; q < nb->ptr[item + 1]; q++)
		scores[nb->idx[q]] = (float4) nb->sim[q];
	return true;
}

static bool
ItemKnnPredict(const RecsLoadedModel *model, int32 user, int32 item, float8 *rating)
{
	const ItemKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;
	const RecsInteractions *data = model->data;
	float8		numerator = 0.0;
	float8		denominator = 0.0;

	for (int64 q = nb->ptr[item]; q < nb->ptr[item + 1]; q++)
	{
		int32		i = nb->idx[q];
		int64		p = RecsFindEntry(data, user, i);

		if (p < 0)
			continue;
		numerator += nb->sim[q] * (data->values[p] - state->item_means[i]);
		denominator += fabs(nb->sim[q]);
	}
	if (!(denominator > 0.0))
		return false;
	*rating = state->item_means[item] + numerator / denominator;
	return true;
}

const RecsAlgorithm RecsItemKnnAlgorithm = {
	.name = "item_knn",
	.check_params = ItemKnnCheckParams,
	.train = ItemKnnTrain,
	.load = ItemKnnLoad,
	.score_user = ItemKnnScoreUser,
	.score_history = ItemKnnScoreHistory,
	.score_similar_items = ItemKnnSimilarItems,
	.predict = ItemKnnPredict,
};
