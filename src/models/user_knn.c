/*
 * user_knn.c
 *		The "user_knn" algorithm: user-based neighbourhood collaborative
 *		filtering.
 *
 * Params:
 *   "similarity":   "pearson" (default) or "cosine" between two users'
 *                   vectors of ratings of items (r is the summed weight of
 *                   a (user, item) pair, 1.0 per implicit event):
 *                     pearson(u, v) = sum (r_ui - mean_u)(r_vi - mean_v)
 *                        / (sqrt(sum (r_ui - mean_u)^2) * sqrt(sum (r_vi - mean_v)^2))
 *                   with every sum over I_uv, the items both rated, and
 *                   mean_u the mean of ALL of u's ratings: the classic
 *                   formulation, not the co-rated-only mean;
 *                     cosine(u, v) = sum r_ui r_vi / (|r_u| |r_v|) over the
 *                   full vectors (unrated items are zeros);
 *   "neighbours":   how many most similar users each user keeps (default 50);
 *   "min_overlap":  pairs with fewer co-rated items have no similarity;
 *                   default 2 for pearson, since over one item the
 *                   correlation is always +1 or -1 however close the two
 *                   ratings are, and 1 for cosine;
 *   "significance": n >= 0 (default 0, off): significance weighting, a
 *                   similarity built on |I_uv| co-rated items becomes
 *                   sim * min(|I_uv|, n) / n.
 * Only positive similarities (after weighting) are kept.  With implicit
 * 0/1 data pearson is undefined (zero variance): use cosine there.
 *
 * Training computes each user's neighbours without visiting pairs of users
 * with no item in common (RecsNearestRows).  Artifact sections, after the
 * common ones:
 *   user_knn.ptr  int64[n_users + 1]  CSR offsets into the next two
 *   user_knn.idx  int32[]             neighbour user indices, best first
 *   user_knn.sim  float8[]            their (weighted) similarities
 *
 * Serving:
 *   score_user(u)[j] = sum over u's neighbours v that rated j of
 *                      sim(u, v) * r_vj; items no neighbour rated stay
 *                      unscored;
 *   predict(u, j)    = mean_u + sum sim(u, v) (r_vj - mean_v) / sum |sim(u, v)|
 *                      over u's neighbours v that rated j; none did: no
 *                      prediction;
 *   similar items:   not supported (no item-item notion).
 */
#include "postgres.h"

#include <math.h>

#include "cf/similarity.h"
#include "models/algorithm.h"

static const char *const user_knn_params[] = {
	"similarity", "neighbours", "min_overlap", "significance", NULL
};

typedef struct UserKnnState
{
	RecsNeighbours *neighbours; /* rows are users */
	float8	   *user_means;		/* [n_users] over all of each user's items */
} UserKnnState;


static RecsNeighbourOptions
ReadParams(Jsonb *params)
{
	RecsNeighbourOptions opt;
	char	   *similarity;

	opt.method = RECS_SIM_PEARSON;
	opt.shrinkage = 0.0;
	opt.significance = 0.0;
	if (RecsParamString(params, "similarity", &similarity) &&
		(!RecsParseSimilarity(similarity, &opt.method) ||
		 (opt.method != RECS_SIM_PEARSON && opt.method != RECS_SIM_COSINE)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"similarity\" must be \"pearson\" or \"cosine\", not \"%s\"",
						similarity)));
	if (RecsParamNumber(params, "significance", &opt.significance) &&
		opt.significance < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"significance\" must not be negative, not %g",
						opt.significance)));
	opt.neighbours = RecsParamCount(params, "neighbours", 50);
	opt.min_overlap = RecsParamCount(params, "min_overlap",
								 opt.method == RECS_SIM_PEARSON ? 2 : 1);
	return opt;
}

static void
UserKnnCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "user_knn", user_knn_params);
	(void) ReadParams(params);
}

static void
UserKnnTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	RecsNeighbourOptions opt = ReadParams(params);
	RecsInteractions *by_item = RecsTransposeInteractions(data);
	RecsNeighbours *neighbours = RecsNearestRows(data, by_item, &opt);

	RecsPutNeighbours(out, "user_knn", neighbours);
	RecsFreeTranspose(by_item);
}

static void *
UserKnnLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	UserKnnState *state = palloc(sizeof(UserKnnState));

	state->neighbours = RecsGetNeighbours(in, "user_knn", data->n_users);
	state->user_means = RecsRowMeans(data);
	return state;
}

static void
UserKnnScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const UserKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;
	const RecsInteractions *data = model->data;
	float8	   *sums = palloc0(sizeof(float8) * Max(data->n_items, 1));
	bool	   *touched = palloc0(sizeof(bool) * Max(data->n_items, 1));

	for (int64 q = nb->ptr[user]; q < nb->ptr[user + 1]; q++)
	{
		int32		v = nb->idx[q];
		float8		sim = nb->sim[q];

		for (int64 p = data->row_ptr[v]; p < data->row_ptr[v + 1]; p++)
		{
			sums[data->col_idx[p]] += sim * data->values[p];
			touched[data->col_idx[p]] = true;
		}
	}
	for (int32 j = 0; j < data->n_items; j++)
		if (touched[j])
			scores[j] = (float4) sums[j];
	pfree(sums);
	pfree(touched);
}

static bool
UserKnnPredict(const RecsLoadedModel *model, int32 user, int32 item, float8 *rating)
{
	const UserKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;
	const RecsInteractions *data = model->data;
	float8		numerator = 0.0;
	float8		denominator = 0.0;

	for (int64 q = nb->ptr[user]; q < nb->ptr[user + 1]; q++)
	{
		int32		v = nb->idx[q];
		int64		p = RecsFindEntry(data, v, item);

		if (p < 0)
			continue;
		numerator += nb->sim[q] * (data->values[p] - state->user_means[v]);
		denominator += fabs(nb->sim[q]);
	}
	if (!(denominator > 0.0))
		return false;
	*rating = state->user_means[user] + numerator / denominator;
	return true;
}

/*
 * The user's neighbours who interacted with item, by sim(u, v) * r_vj: the
 * terms of the score.
 */
static int
UserKnnExplain(const RecsLoadedModel *model, int32 user, int32 item,
			   RecsEvidence *evidence, int max)
{
	const UserKnnState *state = model->state;
	const RecsNeighbours *nb = state->neighbours;
	const RecsInteractions *data = model->data;
	int			n = 0;

	for (int64 q = nb->ptr[user]; q < nb->ptr[user + 1]; q++)
	{
		int32		v = nb->idx[q];
		int64		p = RecsFindEntry(data, v, item);
		RecsEvidence e;

		if (p < 0)
			continue;
		e.reason = psprintf("similar user %lld interacted with it", (long long) data->user_ids[v]);
		e.evidence_item = -1;
		e.weight = nb->sim[q] * data->values[p];
		n = RecsEvidenceAdd(evidence, n, max, &e);
	}
	return n;
}

const RecsAlgorithm RecsUserKnnAlgorithm = {
	.name = "user_knn",
	.check_params = UserKnnCheckParams,
	.train = UserKnnTrain,
	.load = UserKnnLoad,
	.score_user = UserKnnScoreUser,
	.score_similar_items = NULL,
	.predict = UserKnnPredict,
	.explain = UserKnnExplain,
};
