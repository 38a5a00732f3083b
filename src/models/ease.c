/*
 * ease.c
 *		The "ease" algorithm: EASE^R, a shallow linear autoencoder (Steck,
 *		"Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).
 *
 * An item-item weight matrix B with a zero diagonal predicts a user's row
 * of the interaction matrix X from the same row: score(u, j) = x_u B[:, j].
 * The B minimising ||X - X B||^2 + lambda ||B||^2 subject to diag(B) = 0
 * has a closed form:
 *
 *	 G = X'X + lambda I,  P = G^-1,  B[i][j] = -P[i][j] / P[j][j],  B[j][j] = 0
 *
 * X holds each pair's summed weight (1.0 per implicit event).
 *
 * Params:
 *   "lambda": the L2 penalty, > 0 and at most 1e30 (default 500).  It
 *             adds to the diagonal of X'X, whose entries count co-occurrences
 *             (times the weights): more users usually want more.  On
 *             MovieLens 1M, leave-one-out HR@10 among 100 sampled negatives
 *             is 0.76 at 50, 0.82 at 500, 0.83 at 1000 and 0.81 at 5000.
 *
 * Training: G is built from the sparse matrix without densifying X, one
 * row at a time (row i sums x_ui x_uj over the users u of item i and their
 * items j >= i, so the row being written stays in cache): sum over users
 * of |I_u|^2 / 2 multiply-adds, upper triangle only.  Then spotrf and
 * spotri invert G in place (n_items^3 flops, whatever the number of
 * interactions, with recs.train_threads threads), and B overwrites P.  On
 * MovieLens 1M (3,706 items) that is about 0.2 s for G, 0.2-0.4 s for the
 * inversion and 0.05 s for B.  The inversion runs inside LAPACK and cannot
 * be cancelled midway: under a second for 4,000 items, roughly half a
 * minute (by the n^3 rule) near the limit below.
 *
 * Memory limit: B is dense, n_items^2 float4, and is stored in the model's
 * artifact, a bytea of at most 1 GB, so ease refuses (54000) any catalogue
 * whose matrix cannot fit there, before allocating anything: about 16,000
 * items.  That is the only limit and needs no setting: training holds about
 * 3 matrices of that size at once (the one being inverted, the artifact
 * being written, and the copy loaded to compute validation metrics), so
 * the worst case is about 3 GB, which a server that trains such a model
 * must have.  maintenance_work_mem is deliberately not consulted: its 64 MB
 * default would refuse a 3,700-item catalogue that trains in a second.
 * Serving holds one matrix per backend that uses the model.
 *
 * Artifact sections, after the common ones:
 *   ease.b  float4[n_items * n_items]  B, row i = the weights of item i
 *
 * Serving:
 *   score_user(u)      = sum over u's items i of r_ui B[i][:] (|I_u| saxpy
 *                        over rows of B);
 *   similar items of i = B[i][:], how much having i raises each item.
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "models/algorithm.h"
#include "models/lapack.h"
#include "models/training.h"

/* rows of the Gram matrix built between cancel checks */
#define RECS_EASE_BATCH 256

static const char *const ease_params[] = {"lambda", NULL};

static double
ReadLambda(Jsonb *params)
{
	double		lambda = 500.0;

	if (RecsParamNumber(params, "lambda", &lambda) && !(lambda > 0.0 && lambda <= 1e30))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"lambda\" must be greater than 0 and at most 1e+30, not %g",
						lambda)));
	return lambda;
}

static void
EaseCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "ease", ease_params);
	(void) ReadLambda(params);
}

static char *
FormatBytes(double bytes)
{
	if (bytes >= 1024.0 * 1024.0 * 1024.0)
		return psprintf("%.1f GB", bytes / (1024.0 * 1024.0 * 1024.0));
	return psprintf("%.0f MB", bytes / (1024.0 * 1024.0));
}

/*
 * Refuse a catalogue whose matrix would not fit in an artifact next to the
 * sections every model stores (registry/train.c).
 */
static void
CheckSize(const RecsInteractions *data)
{
	double		n = data->n_items;
	double		matrix = n * n * sizeof(float4);
	double		common = 8.0 * data->n_users * 2 + 12.0 * n +
		(data->times ? 16.0 : 8.0) * data->nnz + 64 * 1024;
	double		room = (double) MaxAllocSize - common;

	if (matrix < room)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("ease cannot train on %d items: its item-item matrix would take %s",
					data->n_items, FormatBytes(matrix)),
			 errdetail("Training holds about 3 such matrices at once (%s), and the matrix "
					   "is stored in the model's artifact, a bytea of at most 1 GB, "
					   "which limits ease to %d items on this data.",
					   FormatBytes(3 * matrix),
					   room > 0 ? (int) floor(sqrt(room / sizeof(float4))) : 0),
			 errhint("Train on fewer items, for example only those with enough interactions, "
					 "or use item_knn, whose size grows with the number of neighbours kept.")));
}

/*
 * b (n x n, zeroed) := B, through G and P in place.  Runs between
 * RecsTrainingBlasBegin and End.
 */
static void
Fit(const RecsInteractions *data, const RecsInteractions *by_item,
	double lambda, float4 *b)
{
	int32		n = data->n_items;
	blasint		bn = n;
	blasint		info;
	int64	   *cursor = palloc(sizeof(int64) * Max(data->n_users, 1));
	float4	   *inv_diag;

	/*
	 * Upper triangle (row-major; lower column-major) of G = X'X + lambda I,
	 * one row at a time so that the row being summed stays in cache: row i
	 * adds x_ui x_uj for every user u of item i and each j >= i of u.  Items
	 * are visited in ascending order, so each user's cursor is at item i
	 * when i comes up.
	 */
	for (int32 u = 0; u < data->n_users; u++)
		cursor[u] = data->row_ptr[u];
	for (int32 i = 0; i < n; i++)
	{
		float4	   *row = b + (Size) i * n;

		if (i % RECS_EASE_BATCH == 0)
			RecsTrainingCheckpoint();
		for (int64 k = by_item->row_ptr[i]; k < by_item->row_ptr[i + 1]; k++)
		{
			int32		u = by_item->col_idx[k];
			float4		r = by_item->values[k];
			int64		end = data->row_ptr[u + 1];

			Assert(data->col_idx[cursor[u]] == i);
			for (int64 q = cursor[u]++; q < end; q++)
				row[data->col_idx[q]] += r * data->values[q];
		}
	}
	for (int32 i = 0; i < n; i++)
		b[(Size) i * n + i] += (float4) lambda;
	pfree(cursor);
	RecsTrainingCheckpoint();

	/* P = G^-1, same triangle */
	spotrf_("L", &bn, b, &bn, &info, 1);
	if (info == 0)
		spotri_("L", &bn, b, &bn, &info, 1);
	if (info != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("ease: the item-item matrix is not numerically positive definite"),
				 errhint("Increase \"lambda\".")));
	RecsTrainingCheckpoint();

	/* B = -P / diag(P) by column, zero diagonal; mirror P's triangle first */
	inv_diag = palloc(sizeof(float4) * n);
	for (int32 j = 0; j < n; j++)
		inv_diag[j] = 1.0f / b[(Size) j * n + j];
	for (int32 i = 0; i < n; i++)
	{
		float4	   *row = b + (Size) i * n;

		for (int32 j = 0; j < i; j++)
			row[j] = b[(Size) j * n + i];
	}
	for (int32 i = 0; i < n; i++)
	{
		float4	   *row = b + (Size) i * n;

		for (int32 j = 0; j < n; j++)
			row[j] = -row[j] * inv_diag[j];
		row[i] = 0.0f;
	}
	pfree(inv_diag);
}

static void
EaseTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	double		lambda = ReadLambda(params);
	int64		count = (int64) data->n_items * data->n_items;
	RecsInteractions *by_item;
	float4	   *b;
	instr_time	start;
	instr_time	elapsed;

	CheckSize(data);
	INSTR_TIME_SET_CURRENT(start);
	b = palloc_extended(Max(count, 1) * sizeof(float4), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	by_item = RecsTransposeInteractions(data);

	RecsTrainingBlasBegin();
	PG_TRY();
	{
		Fit(data, by_item, lambda, b);
	}
	PG_FINALLY();
	{
		RecsTrainingBlasEnd();
	}
	PG_END_TRY();

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	RecsReportEpoch("ease", 1, 1, NAN, INSTR_TIME_GET_DOUBLE(elapsed));

	RecsArtifactPut(out, "ease.b", b, count, sizeof(float4));
	pfree(b);
	RecsFreeTranspose(by_item);
}

static void *
EaseLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	int64		n;
	int64		expected = (int64) data->n_items * data->n_items;
	float4	   *b = RecsArtifactGet(in, "ease.b", &n, sizeof(float4));

	if (n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model artifact is corrupted"),
				 errdetail("Section \"ease.b\" holds %lld values where %lld are expected.",
						   (long long) n, (long long) expected),
				 errhint("Retrain the model with recs_train().")));
	return b;
}

static void
EaseScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const RecsInteractions *data = model->data;
	const float4 *b = model->state;
	int32		n = data->n_items;

	RecsBlasInit();
	memset(scores, 0, sizeof(float4) * n);
	for (int64 p = data->row_ptr[user]; p < data->row_ptr[user + 1]; p++)
		cblas_saxpy(n, data->values[p], b + (Size) data->col_idx[p] * n, 1,
					scores, 1);
}

static bool
EaseScoreSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	int32		n = model->data->n_items;
	const float4 *b = model->state;

	memcpy(scores, b + (Size) item * n, sizeof(float4) * n);
	return true;
}

const RecsAlgorithm RecsEaseAlgorithm = {
	.name = "ease",
	.check_params = EaseCheckParams,
	.train = EaseTrain,
	.load = EaseLoad,
	.score_user = EaseScoreUser,
	.score_similar_items = EaseScoreSimilarItems,
	.predict = NULL,
};
