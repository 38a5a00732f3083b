/*
 * ials.c
 *		The "ials" algorithm: matrix factorisation for implicit feedback by
 *		alternating least squares (Hu, Koren and Volinsky, "Collaborative
 *		Filtering for Implicit Feedback Datasets", ICDM 2008).
 *
 * Every user u and item i get a vector of f factors, x_u and y_i, and the
 * score of i for u is x_u . y_i.  Training minimises
 *
 *	 sum over observed pairs   c_ui (1 - x_u . y_i)^2
 *	 + w0 sum over the others  (x_u . y_i)^2
 *	 + lambda (sum ||x_u||^2 + sum ||y_i||^2)
 *
 * where r_ui is the pair's summed weight (1.0 per implicit event), the
 * confidence c_ui = 1 + alpha r_ui, and w0 = unobserved_weight.  A pair
 * whose summed weight is not positive is no evidence of a preference and
 * counts as unobserved.
 *
 * Params:
 *   "factors":           f, 1 to 1024 (default 64);
 *   "iterations":        alternations of the two half-steps, 1 to 1000
 *                        (default 15);
 *   "regularization":    lambda > 0 (default 1);
 *   "alpha":             >= 0 (default 2: an implicit event weighs 3 times
 *                        a missing pair; 0 weighs every observed pair 1);
 *   "unobserved_weight": w0 > 0 (default 1, the paper's model): how much
 *                        the missing pairs pull scores towards 0;
 *   "seed":              integer (default 42) for the initial factors.
 * The defaults come from MovieLens 1M, where leave-one-out HR@10 among 100
 * sampled negatives stays within 0.82-0.84 for regularization 0.1 to 50
 * and alpha 1 to 10: the model is not fragile, and these are mid-range.
 *
 * A half-step fixes one side, say the items Y, and solves every user's
 * normal equations exactly:
 *
 *	 (w0 Y'Y + sum_{i in I_u} (c_ui - w0) y_i y_i' + lambda I) x_u
 *		 = sum_{i in I_u} c_ui y_i
 *
 * Y'Y is computed once per half-step (one ssyrk), so a user costs
 * |I_u| f^2 (one ssyrk over the user's gathered, scaled item rows) plus a
 * Cholesky factorisation (spotrf, f^3/3) and two triangular solves, rather
 * than n_items f^2.  On MovieLens 1M (1M interactions) with 64 factors an
 * iteration takes about 0.25 s.  The per-user BLAS calls are too small for
 * OpenBLAS to split across threads, so recs.train_threads hardly matters
 * here.  Items are solved first (from random user factors) and users
 * last, so the stored user factors are exactly the solution RecsIalsFoldIn
 * computes for a history against the stored item factors.  After every
 * iteration a NOTICE reports the objective above.
 *
 * Determinism: the user factors start from N(0, 0.01^2) draws of a
 * generator seeded with "seed"; everything after is deterministic
 * arithmetic, so one seed gives one model (with recs.train_threads > 1
 * OpenBLAS may split sums differently, changing the last bits).
 *
 * Artifact sections, after the common ones:
 *   ials.factors  int32[1]               f
 *   ials.users    float4[n_users * f]    x_u, one user after another
 *   ials.items    float4[n_items * f]    y_i, one item after another
 *
 * Serving (OpenBLAS single-threaded, RecsBlasInit):
 *   score_user(u)      = Y x_u over the whole catalogue (one sgemv); a
 *                        user with no positive pair has x_u = 0 and is
 *                        left to the popularity fallback;
 *   similar items of i = cos(y_i, y_j), with 1 / ||y_j|| computed once at
 *                        load time (items with a zero vector: no score);
 *   RecsIalsFoldIn     = the user half-step for one new history, against
 *                        Y'Y computed at load time.
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "models/algorithm.h"
#include "models/ials.h"
#include "models/lapack.h"
#include "models/training.h"

#define RECS_IALS_MAX_FACTORS 1024
#define RECS_IALS_MAX_ITERATIONS 1000
/* rows solved between cancel checks */
#define RECS_IALS_BATCH 256
/* standard deviation of the initial user factors */
#define RECS_IALS_INIT_SCALE 0.01

static const char *const ials_params[] = {
	"factors", "iterations", "regularization", "alpha", "unobserved_weight",
	"seed", NULL
};

typedef struct IalsParams
{
	int32		factors;
	int32		iterations;
	double		regularization;
	double		alpha;
	double		unobserved_weight;
	int32		seed;
} IalsParams;

/* One side's least-squares problems: settings and scratch space. */
typedef struct IalsSolver
{
	int32		f;
	float4		lambda;
	float4		alpha;
	float4		w0;
	const float4 *gram;			/* [f * f] Y'Y of the fixed side, lower */
	float4	   *a;				/* [f * f] the normal equations' matrix */
	int64		capacity;		/* longest row */
	float4	   *rows;			/* [capacity * f] a row's scaled factor rows:
								 * c >= w0 from the start, c < w0 from the end */
} IalsSolver;

/* A loaded model. */
typedef struct IalsState
{
	int32		factors;
	float4	   *users;			/* [n_users * f] */
	float4	   *items;			/* [n_items * f] */
	float4	   *item_inv_norms; /* [n_items] 1 / ||y_i||, 0 for zero vectors */
	float4	   *gram;			/* [f * f] Y'Y, lower, for fold-in */
	IalsParams	params;
} IalsState;

/* params->key as an integer in [min, max], or default_value when absent */
static int32
IntegerParam(Jsonb *params, const char *key, int32 default_value, int32 min,
			 int32 max)
{
	double		value;

	if (!RecsParamNumber(params, key, &value))
		return default_value;
	if (value < min || value > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be between %d and %d, not %g",
						key, min, max, value)));
	if (value != floor(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be an integer, not %g", key, value)));
	return (int32) value;
}

/*
 * params->key as a number above min (at least min when min_inclusive), or
 * default_value when absent.
 */
static double
RealParam(Jsonb *params, const char *key, double default_value, double min,
		  bool min_inclusive)
{
	double		value;

	if (!RecsParamNumber(params, key, &value))
		return default_value;
	if (min_inclusive ? value < min : value <= min)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 min_inclusive ?
				 errmsg("parameter \"%s\" must be at least %g, not %g", key, min, value) :
				 errmsg("parameter \"%s\" must be greater than %g, not %g", key, min, value)));
	/* the solver works in float4 */
	if (value > 1e30)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be at most 1e+30, not %g", key, value)));
	return value;
}

static IalsParams
ReadParams(Jsonb *params)
{
	IalsParams	p;

	p.factors = IntegerParam(params, "factors", 64, 1, RECS_IALS_MAX_FACTORS);
	p.iterations = IntegerParam(params, "iterations", 15, 1, RECS_IALS_MAX_ITERATIONS);
	p.regularization = RealParam(params, "regularization", 1.0, 0.0, false);
	p.alpha = RealParam(params, "alpha", 2.0, 0.0, true);
	p.unobserved_weight = RealParam(params, "unobserved_weight", 1.0, 0.0, false);
	p.seed = IntegerParam(params, "seed", 42, PG_INT32_MIN, PG_INT32_MAX);
	return p;
}

static void
IalsCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "ials", ials_params);
	(void) ReadParams(params);
}

static void
InitSolver(IalsSolver *s, const IalsParams *p, int64 max_row)
{
	Size		row_bytes = mul_size(mul_size((Size) Max(max_row, 1), p->factors),
									 sizeof(float4));

	s->f = p->factors;
	s->lambda = (float4) p->regularization;
	s->alpha = (float4) p->alpha;
	s->w0 = (float4) p->unobserved_weight;
	s->gram = NULL;
	s->a = palloc(sizeof(float4) * p->factors * p->factors);
	s->capacity = Max(max_row, 1);
	s->rows = palloc_extended(row_bytes, MCXT_ALLOC_HUGE);
}

static void
FreeSolver(IalsSolver *s)
{
	pfree(s->a);
	pfree(s->rows);
}

/*
 * dst[t] = scale * src[t] and acc[t] += weight * src[t] over f floats.  The
 * loops run in blocks of 8 through pointers, so that the compiler
 * vectorises them at -O2 without extra flags (a block's trip count is
 * known, and pointer steps, unlike int indices under -fwrapv, cannot
 * wrap); the tail is scalar.
 */
static inline void
ScaleAndAccumulate(float4 *restrict dst, float4 scale, float4 *restrict acc,
				   float4 weight, const float4 *restrict src, int32 f)
{
	const float4 *end = src + f;

	for (; end - src >= 8; src += 8, dst += 8, acc += 8)
		for (int k = 0; k < 8; k++)
		{
			dst[k] = scale * src[k];
			acc[k] += weight * src[k];
		}
	for (; src < end; src++, dst++, acc++)
	{
		*dst = scale * *src;
		*acc += weight * *src;
	}
}

/* dst[t] = scale * src[t] over n floats, vectorisable likewise */
static inline void
Scale(float4 *restrict dst, float4 scale, const float4 *restrict src, int32 n)
{
	const float4 *end = src + n;

	for (; end - src >= 8; src += 8, dst += 8)
		for (int k = 0; k < 8; k++)
			dst[k] = scale * src[k];
	for (; src < end; src++, dst++)
		*dst = scale * *src;
}

/* x . y over f floats, vectorisable like ScaleAndAccumulate */
static inline double
Dot(const float4 *restrict x, const float4 *restrict y, int32 f)
{
	const float4 *end = x + f;
	float4		partial[8] = {0};
	double		sum = 0.0;

	for (; end - x >= 8; x += 8, y += 8)
		for (int k = 0; k < 8; k++)
			partial[k] += x[k] * y[k];
	for (; x < end; x++, y++)
		sum += *x * *y;
	for (int k = 0; k < 8; k++)
		sum += partial[k];
	return sum;
}

/*
 * Solve one row's normal equations (see the file header) against the
 * fixed side's factors other, for the row's n (index, value) pairs, into
 * x[f].  Returns false if the matrix is not numerically positive definite.
 */
static bool
SolveRow(IalsSolver *s, const float4 *other, const int32 *idx,
		 const float4 *values, int64 n, float4 *x)
{
	int32		f = s->f;
	blasint		bf = f;
	blasint		info;
	int64		n_pos = 0;
	int64		n_neg = 0;
	bool		any = false;

	memset(x, 0, sizeof(float4) * f);
	for (int64 k = 0; k < n; k++)
	{
		const float4 *y = other + (Size) idx[k] * f;
		float4		c;
		float4		d;

		if (!(values[k] > 0.0f))
			continue;
		any = true;
		c = 1.0f + s->alpha * values[k];
		d = c - s->w0;
		if (d >= 0.0f)
			ScaleAndAccumulate(s->rows + (Size) n_pos++ * f, sqrtf(d), x, c, y, f);
		else
			ScaleAndAccumulate(s->rows + (Size) (s->capacity - ++n_neg) * f,
							   sqrtf(-d), x, c, y, f);
	}
	/* no evidence: the right-hand side is 0, and so is the solution */
	if (!any)
		return true;

	/* w0 Y'Y + lambda I + the row's terms (the lower triangle counts) */
	Scale(s->a, s->w0, s->gram, f * f);
	for (int32 t = 0; t < f; t++)
		s->a[(Size) t * f + t] += s->lambda;
	if (n_pos > 0)
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f, (blasint) n_pos,
					1.0f, s->rows, f, 1.0f, s->a, f);
	if (n_neg > 0)
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f, (blasint) n_neg,
					-1.0f, s->rows + (Size) (s->capacity - n_neg) * f, f, 1.0f, s->a, f);

	spotrf_("L", &bf, s->a, &bf, &info, 1);
	if (info != 0)
		return false;
	/* A = L L': solve L z = b, then L' x = z (cheaper than spotrs for one column) */
	cblas_strsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, f, s->a, f, x, 1);
	cblas_strsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, f, s->a, f, x, 1);
	return true;
}

/*
 * Lower triangle (column-major) of M'M for the n rows of m, into gram[f * f].
 * The upper triangle is left alone: callers allocate gram zeroed, because
 * SolveRow scales the whole matrix, and garbage there could be denormals or
 * NaNs that slow every float operation on them down a hundredfold.
 */
static void
Gram(const float4 *m, int32 n, int32 f, float4 *gram)
{
	cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f, n, 1.0f, m, f,
				0.0f, gram, f);
}

/*
 * One half-step: every row of rows (CSR; its columns index other) solved
 * against other, whose Gram matrix s->gram already holds, into out.
 */
static void
HalfStep(IalsSolver *s, const RecsInteractions *rows, const float4 *other,
		 float4 *out, const char *side, const int64 *ids)
{
	for (int32 r = 0; r < rows->n_users; r++)
	{
		int64		begin = rows->row_ptr[r];

		if (r % RECS_IALS_BATCH == 0)
			RecsTrainingCheckpoint();
		if (!SolveRow(s, other, rows->col_idx + begin, rows->values + begin,
					  rows->row_ptr[r + 1] - begin, out + (Size) r * s->f))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("ials: the least-squares problem of %s %lld is not positive definite",
							side, (long long) ids[r]),
					 errhint("Increase \"regularization\".")));
	}
}

/*
 * The training objective (file header) from the factors and their Gram
 * matrices: the unobserved term over all pairs is w0 trace(X'X Y'Y), then
 * each observed pair's term replaces its share of it.
 */
static double
Objective(const RecsInteractions *data, const IalsParams *p, const float4 *x,
		  const float4 *y, const float4 *gram_x, const float4 *gram_y)
{
	int32		f = p->factors;
	double		observed = 0.0;
	double		all_pairs = 0.0;
	double		norms = 0.0;

	for (int32 u = 0; u < data->n_users; u++)
	{
		const float4 *xu = x + (Size) u * f;

		for (int64 k = data->row_ptr[u]; k < data->row_ptr[u + 1]; k++)
		{
			double		score;
			double		c;

			if (!(data->values[k] > 0.0f))
				continue;
			score = Dot(xu, y + (Size) data->col_idx[k] * f, f);
			c = 1.0 + p->alpha * data->values[k];
			observed += c * (1.0 - score) * (1.0 - score) -
				p->unobserved_weight * score * score;
		}
	}
	for (int32 col = 0; col < f; col++)
	{
		for (int32 row = col + 1; row < f; row++)
			all_pairs += 2.0 * gram_x[row + col * f] * gram_y[row + col * f];
		all_pairs += (double) gram_x[col + col * f] * gram_y[col + col * f];
		norms += (double) gram_x[col + col * f] + gram_y[col + col * f];
	}
	return observed + p->unobserved_weight * all_pairs + p->regularization * norms;
}

/*
 * The alternation, from user factors x (already initialised) into x and y.
 * Runs between RecsTrainingBlasBegin and End.
 */
static void
Fit(const RecsInteractions *data, const RecsInteractions *by_item,
	const IalsParams *p, float4 *x, float4 *y)
{
	int32		f = p->factors;
	int64		max_row = 0;
	float4	   *gram_x = palloc0(sizeof(float4) * f * f);
	float4	   *gram_y = palloc0(sizeof(float4) * f * f);
	IalsSolver	s;

	for (int32 u = 0; u < data->n_users; u++)
		max_row = Max(max_row, data->row_ptr[u + 1] - data->row_ptr[u]);
	for (int32 i = 0; i < by_item->n_users; i++)
		max_row = Max(max_row, by_item->row_ptr[i + 1] - by_item->row_ptr[i]);
	InitSolver(&s, p, max_row);

	Gram(x, data->n_users, f, gram_x);
	for (int it = 1; it <= p->iterations; it++)
	{
		instr_time	start;
		instr_time	elapsed;
		double		loss;

		INSTR_TIME_SET_CURRENT(start);

		s.gram = gram_x;
		HalfStep(&s, by_item, x, y, "item", data->item_ids);
		Gram(y, data->n_items, f, gram_y);
		s.gram = gram_y;
		HalfStep(&s, data, y, x, "user", data->user_ids);
		Gram(x, data->n_users, f, gram_x);

		loss = Objective(data, p, x, y, gram_x, gram_y);
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		RecsReportEpoch("ials", it, p->iterations, loss,
						INSTR_TIME_GET_DOUBLE(elapsed));
	}

	FreeSolver(&s);
	pfree(gram_x);
	pfree(gram_y);
}

static void
IalsTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	IalsParams	p = ReadParams(params);
	int32		f = p.factors;
	Size		x_count = mul_size((Size) data->n_users, f);
	Size		y_count = mul_size((Size) data->n_items, f);
	Size		bytes = mul_size(add_size(x_count, y_count), sizeof(float4));
	RecsInteractions *by_item;
	float4	   *x;
	float4	   *y;
	RecsRandom	rng;

	/* the factors are stored in one bytea: fail now, not after training */
	if (bytes >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ials model with %d factors for %d users and %d items is too large to store",
						f, data->n_users, data->n_items),
				 errdetail("Its factors take %.1f MB; a model's artifact is a bytea of at most 1 GB.",
						   bytes / (1024.0 * 1024.0)),
				 errhint("Use fewer \"factors\".")));

	x = palloc_extended(x_count * sizeof(float4), MCXT_ALLOC_HUGE);
	y = palloc_extended(y_count * sizeof(float4), MCXT_ALLOC_HUGE);
	RecsRandomSeed(&rng, p.seed);
	for (Size k = 0; k < x_count; k++)
		x[k] = (float4) (RECS_IALS_INIT_SCALE * RecsRandomNormal(&rng));

	by_item = RecsTransposeInteractions(data);

	RecsTrainingBlasBegin();
	PG_TRY();
	{
		Fit(data, by_item, &p, x, y);
	}
	PG_FINALLY();
	{
		RecsTrainingBlasEnd();
	}
	PG_END_TRY();

	RecsArtifactPutScalar(out, "ials.factors", f);
	RecsArtifactPut(out, "ials.users", x, (int64) x_count, sizeof(float4));
	RecsArtifactPut(out, "ials.items", y, (int64) y_count, sizeof(float4));

	RecsFreeTranspose(by_item);
	pfree(x);
	pfree(y);
}

static void
CorruptArtifact(const char *section, int64 count, int64 expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model artifact is corrupted"),
			 errdetail("Section \"%s\" holds %lld values where %lld are expected.",
					   section, (long long) count, (long long) expected),
			 errhint("Retrain the model with recs_train().")));
}

static void *
IalsLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	IalsState  *state = palloc(sizeof(IalsState));
	int32	   *factors;
	int64		n;
	int32		f;

	factors = RecsArtifactGet(in, "ials.factors", &n, sizeof(int32));
	if (n != 1 || factors[0] < 1 || factors[0] > RECS_IALS_MAX_FACTORS)
		CorruptArtifact("ials.factors", n, 1);
	f = state->factors = factors[0];
	pfree(factors);

	state->users = RecsArtifactGet(in, "ials.users", &n, sizeof(float4));
	if (n != (int64) data->n_users * f)
		CorruptArtifact("ials.users", n, (int64) data->n_users * f);
	state->items = RecsArtifactGet(in, "ials.items", &n, sizeof(float4));
	if (n != (int64) data->n_items * f)
		CorruptArtifact("ials.items", n, (int64) data->n_items * f);
	state->params = ReadParams(params);
	state->params.factors = f;

	state->item_inv_norms = palloc(sizeof(float4) * Max(data->n_items, 1));
	for (int32 i = 0; i < data->n_items; i++)
	{
		const float4 *y = state->items + (Size) i * f;
		double		sum = 0.0;

		for (int32 t = 0; t < f; t++)
			sum += (double) y[t] * y[t];
		state->item_inv_norms[i] = sum > 0.0 ? (float4) (1.0 / sqrt(sum)) : 0.0f;
	}

	RecsBlasInit();
	state->gram = palloc0(sizeof(float4) * f * f);
	Gram(state->items, data->n_items, f, state->gram);
	return state;
}

static void
IalsScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const IalsState *state = model->state;
	int32		f = state->factors;
	const float4 *x = state->users + (Size) user * f;
	bool		zero = true;

	/* no positive interaction, no factors: leave it to the fallback */
	for (int32 t = 0; t < f && zero; t++)
		zero = x[t] == 0.0f;
	if (zero)
		return;
	RecsBlasInit();
	cblas_sgemv(CblasRowMajor, CblasNoTrans, model->data->n_items, f, 1.0f,
				state->items, f, x, 1, 0.0f, scores, 1);
}

static bool
IalsScoreSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	const IalsState *state = model->state;
	int32		f = state->factors;
	int32		n_items = model->data->n_items;
	float4		inv_norm = state->item_inv_norms[item];

	if (inv_norm == 0.0f)
		return true;			/* a zero vector is like nothing */
	RecsBlasInit();
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, f, 1.0f, state->items, f,
				state->items + (Size) item * f, 1, 0.0f, scores, 1);
	for (int32 j = 0; j < n_items; j++)
		scores[j] = state->item_inv_norms[j] > 0.0f ?
			scores[j] * inv_norm * state->item_inv_norms[j] : -INFINITY;
	return true;
}

void
RecsIalsFoldIn(const RecsLoadedModel *model, const int32 *items,
			   const float4 *values, int n, float4 *user_vector)
{
	const IalsState *state = model->state;
	IalsSolver	s;

	if (model->algorithm != &RecsIalsAlgorithm)
		elog(ERROR, "cannot fold a user into model \"%s\" of algorithm \"%s\"",
			 model->name ? model->name : "", model->algorithm->name);
	for (int k = 0; k < n; k++)
		if (items[k] < 0 || items[k] >= model->data->n_items)
			elog(ERROR, "item index %d out of range for fold-in", items[k]);

	InitSolver(&s, &state->params, n);
	s.gram = state->gram;
	RecsBlasInit();
	if (!SolveRow(&s, state->items, items, values, n, user_vector))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("ials: the least-squares problem of the new user is not positive definite"),
				 errhint("Retrain the model with a larger \"regularization\".")));
	FreeSolver(&s);
}

/* a user the model was not trained on: fold in, then score like any user */
static void
IalsScoreHistory(const RecsLoadedModel *model, const int32 *items,
				 const float4 *values, int n, float4 *scores)
{
	const IalsState *state = model->state;
	float4	   *x = palloc(sizeof(float4) * state->factors);
	bool		zero = true;

	RecsIalsFoldIn(model, items, values, n, x);
	for (int32 t = 0; t < state->factors && zero; t++)
		zero = x[t] == 0.0f;
	if (!zero)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, model->data->n_items, state->factors,
					1.0f, state->items, state->factors, x, 1, 0.0f, scores, 1);
	pfree(x);
}

static bool
IalsGetFactors(const RecsLoadedModel *model, RecsFactors *factors)
{
	const IalsState *state = model->state;

	factors->factors = state->factors;
	factors->users = state->users;
	factors->items = state->items;
	factors->item_bias = NULL;
	return true;
}

const RecsAlgorithm RecsIalsAlgorithm = {
	.name = "ials",
	.check_params = IalsCheckParams,
	.train = IalsTrain,
	.load = IalsLoad,
	.score_user = IalsScoreUser,
	.score_history = IalsScoreHistory,
	.score_similar_items = IalsScoreSimilarItems,
	.predict = NULL,
	.get_factors = IalsGetFactors,
};
