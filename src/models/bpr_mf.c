/*
 * bpr_mf.c
 *		The "bpr_mf" algorithm: matrix factorisation trained on the BPR
 *		pairwise ranking loss (Rendle et al., UAI 2009).
 *
 * Model: y_ui = b_i + p_u . q_i, with k-dimensional user factors p_u, item
 * factors q_i and item biases b_i.  A user bias would cancel in every
 * pairwise difference y_ui - y_uj, so there is none.
 *
 * Loss, over triples (u, i, j) of an observed pair (u, i) and an item j
 * drawn uniformly from the items u has not interacted with:
 *		L = -sum ln sigma(y_ui - y_uj) + lambda * ||Theta||^2
 * minimised by stochastic gradient steps, one per triple.  The
 * regulariser's gradient 2 * lambda * theta is applied to the parameters a
 * triple touches (p_u, q_i, q_j, b_i, b_j), the usual stochastic
 * approximation of the full penalty.
 *
 * Params:
 *   "factors"         k, 1..1024 (default 64);
 *   "learning_rate"   step size, > 0 (default 0.05 with sgd, 0.001 with adam);
 *   "regularization"  lambda, >= 0 (default 0.0025);
 *   "epochs"          passes over the observed pairs, 1..10000 (default 20);
 *   "negatives"       triples per observed pair, 1..1000 (default 1);
 *   "optimizer"       "sgd" (default) or "adam": Adam (beta1 0.9, beta2
 *                     0.999, eps 1e-8) with lazy updates, a row's moments
 *                     moving only when a triple touches it;
 *   "seed"            integer (default 42).
 * Factors start as N(0, 0.1^2), biases at 0.  Each epoch visits every
 * observed pair once, in a freshly shuffled order; one random stream,
 * seeded, drives initialisation, shuffles and negative draws, so a seed
 * trains the same model bit for bit.  Training uses no threads.
 *
 * Speed: a step is a few hundred flops on three random rows, so an epoch
 * is bound by memory latency, not arithmetic.  Hence a shuffle that stays
 * in cache (RecsBprShuffle), negatives tested against a (user, item) bitmap
 * (RecsBprSampleNegative), and a software pipeline that prefetches each
 * triple's rows a few triples ahead of its step (RunEpoch).  The step
 * itself is plain code the compiler vectorises over the factor dimension
 * (models/nn.h), and the epoch's loss costs one logarithm per 512 triples.
 * On MovieLens 1M (1M pairs, 64 factors) an epoch takes about 0.1 s.
 *
 * Artifact sections, after the common ones:
 *   bpr.users       float4[n_users * k]  user factors, row-major
 *   bpr.items       float4[n_items * k]  item factors, row-major
 *   bpr.bias        float4[n_items]      item biases
 *   bpr.train_loss  float8[epochs]       mean BPR loss (without the
 *                                        penalty) of each epoch
 *
 * Serving: score_user is b + Q p_u (one sgemv); similar items are the
 * cosine of item factors; RecsBprFoldIn (bpr_mf.h) learns a vector for a
 * user outside the training data.
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "models/bpr_mf.h"
#include "models/nn.h"
#include "models/training.h"

#define BPR_INIT_STDDEV 0.1
#define BPR_FOLD_IN_EPOCHS 20
#define BPR_FOLD_IN_LEARNING_RATE 0.05	/* SGD, also for adam-trained models */
#define BPR_CHECKPOINT_EVERY 4096	/* triples between interrupt checks */
#define BPR_SHUFFLE_BUCKET 16384	/* pairs per bucket of the two-pass shuffle */
#define BPR_LOOKAHEAD 8			/* triples between prefetch and use */
#define BPR_RING 32				/* > 2 * BPR_LOOKAHEAD */

static const char *const bpr_mf_params[] = {
	"factors", "learning_rate", "regularization", "epochs", "negatives",
	"optimizer", "seed", NULL
};

typedef struct BprParams
{
	int			factors;
	double		learning_rate;
	double		regularization;
	int			epochs;
	int			negatives;
	bool		adam;
	int64		seed;
} BprParams;

typedef struct BprState
{
	BprParams	params;
	float	   *users;			/* [n_users * k] */
	float	   *items;			/* [n_items * k] */
	float	   *bias;			/* [n_items] */
	float	   *item_norms;		/* [n_items] |q_i|, for the cosine */
} BprState;


static BprParams
ReadParams(Jsonb *params)
{
	BprParams	p;
	char	   *optimizer;

	p.adam = false;
	if (RecsParamString(params, "optimizer", &optimizer))
	{
		if (strcmp(optimizer, "adam") == 0)
			p.adam = true;
		else if (strcmp(optimizer, "sgd") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"optimizer\" must be \"sgd\" or \"adam\", not \"%s\"",
							optimizer)));
	}
	p.factors = (int) RecsParamInt(params, "factors", 64, 1, 1024);
	p.learning_rate = RecsParamPositive(params, "learning_rate", p.adam ? 0.001 : 0.05);
	p.regularization = RecsParamNonNegative(params, "regularization", 0.0025);
	p.epochs = (int) RecsParamInt(params, "epochs", 20, 1, 10000);
	p.negatives = (int) RecsParamInt(params, "negatives", 1, 1, 1000);
	p.seed = RecsParamInt(params, "seed", 42, PG_INT32_MIN, PG_INT32_MAX);
	return p;
}

static void
BprCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "bpr_mf", bpr_mf_params);
	(void) ReadParams(params);
}

void
RecsBprPositivesInit(RecsPositives *positives, const RecsInteractions *data)
{
	int64		n = data->nnz;

	positives->n = n;
	positives->pairs = palloc_extended(mul_size(Max(n, 1), sizeof(RecsPositive)),
									   MCXT_ALLOC_HUGE);
	for (int32 u = 0; u < data->n_users; u++)
		for (int64 p = data->row_ptr[u]; p < data->row_ptr[u + 1]; p++)
		{
			positives->pairs[p].user = u;
			positives->pairs[p].item = data->col_idx[p];
		}
	positives->spare = NULL;
	positives->bucket = NULL;
	if (n > 2 * BPR_SHUFFLE_BUCKET)
	{
		positives->spare = palloc_extended(mul_size(n, sizeof(RecsPositive)),
										   MCXT_ALLOC_HUGE);
		positives->bucket = palloc_extended(mul_size(n, sizeof(int32)), MCXT_ALLOC_HUGE);
	}
}

/*
 * A uniform integer in [0, n), 0 < n <= 2^32 - 1: Lemire's multiply and
 * shift, rejecting the few draws that would bias it.  Exact, usually one
 * 32-bit draw, and cheaper than pg_prng_uint64_range in the inner loops.
 */
static inline uint32
RandomBelow(RecsRandom *rng, uint32 n)
{
	uint64		m = (uint64) pg_prng_uint32(rng) * n;

	if ((uint32) m < n)
	{
		uint32		threshold = (uint32) (-n) % n;	/* 2^32 mod n */

		while ((uint32) m < threshold)
			m = (uint64) pg_prng_uint32(rng) * n;
	}
	return (uint32) (m >> 32);
}

static void
FisherYates(RecsRandom *rng, RecsPositive *pairs, int64 n)
{
	for (int64 i = n - 1; i > 0; i--)
	{
		int64		j = i < PG_UINT32_MAX ?
			(int64) RandomBelow(rng, (uint32) (i + 1)) :
			(int64) pg_prng_uint64_range(rng, 0, (uint64) i);
		RecsPositive tmp = pairs[i];

		pairs[i] = pairs[j];
		pairs[j] = tmp;
	}
}

/*
 * Fisher-Yates over a large array is a cache miss per element, so large
 * arrays are shuffled in two cache-friendly passes (Rao-Sandelius): deal
 * every element to one of about n / BPR_SHUFFLE_BUCKET buckets drawn
 * uniformly, then Fisher-Yates each bucket.  The concatenation is a
 * uniformly random permutation.
 */
void
RecsBprShuffle(RecsPositives *positives, RecsRandom *rng)
{
	int64		n = positives->n;
	int32		n_buckets;
	int64	   *start;
	int64	   *fill;
	int32	   *bucket = positives->bucket;
	RecsPositive *dealt = positives->spare;

	if (dealt == NULL)
	{
		FisherYates(rng, positives->pairs, n);
		return;
	}
	n_buckets = (int32) Min((n + BPR_SHUFFLE_BUCKET - 1) / BPR_SHUFFLE_BUCKET, PG_INT32_MAX);
	start = palloc0(sizeof(int64) * (n_buckets + 1));
	fill = palloc(sizeof(int64) * n_buckets);

	for (int64 i = 0; i < n; i++)
	{
		bucket[i] = (int32) RandomBelow(rng, (uint32) n_buckets);
		start[bucket[i] + 1]++;
	}
	for (int32 b = 0; b < n_buckets; b++)
	{
		start[b + 1] += start[b];
		fill[b] = start[b];
	}
	for (int64 i = 0; i < n; i++)
		dealt[fill[bucket[i]]++] = positives->pairs[i];
	for (int32 b = 0; b < n_buckets; b++)
		FisherYates(rng, dealt + start[b], start[b + 1] - start[b]);

	positives->spare = positives->pairs;
	positives->pairs = dealt;
	pfree(start);
	pfree(fill);
}

void
RecsBprSamplerInit(RecsNegativeSampler *sampler, const RecsInteractions *data)
{
	int64		words = (data->n_items + 63) / 64;

	sampler->data = data;
	sampler->words_per_user = words;
	sampler->bitmap = NULL;
	if ((double) data->n_users * words * sizeof(uint64) > RECS_BPR_BITMAP_BYTES)
		return;
	sampler->bitmap = palloc_extended(Max((Size) data->n_users * words, 1) * sizeof(uint64),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int32 u = 0; u < data->n_users; u++)
	{
		uint64	   *row = sampler->bitmap + (int64) u * words;

		for (int64 p = data->row_ptr[u]; p < data->row_ptr[u + 1]; p++)
			row[data->col_idx[p] / 64] |= UINT64CONST(1) << (data->col_idx[p] % 64);
	}
}

/* Has user interacted with item? */
static inline bool
HasItem(const RecsNegativeSampler *sampler, int32 user, int32 item)
{
	const RecsInteractions *data = sampler->data;
	int64		lo;
	int64		hi;

	if (sampler->bitmap)
		return (sampler->bitmap[(int64) user * sampler->words_per_user + item / 64] >>
				(item % 64)) & 1;
	lo = data->row_ptr[user];
	hi = data->row_ptr[user + 1];
	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (data->col_idx[mid] < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < data->row_ptr[user + 1] && data->col_idx[lo] == item;
}

/*
 * Negative sampling, in two stages so that training can prefetch between
 * them.  Users with at most half the catalogue: draw items until one is
 * new to the user (on average fewer than two draws); DrawCandidate makes
 * the first draw, Resolve tests it and redraws.  Denser users: one draw of
 * r, then the r-th (from 0) item absent from the user's row, which is
 * r + c where c counts the row entries below it.  Row entry t (ascending
 * items e_t) has e_t - t absent items below it, a non-decreasing
 * sequence, so c is the first t with e_t - t > r: one binary search, and
 * the candidate is final.
 */
static inline int32
DrawCandidate(const RecsNegativeSampler *sampler, int32 user, RecsRandom *rng,
			  bool *final)
{
	const RecsInteractions *data = sampler->data;
	const int32 *row = data->col_idx + data->row_ptr[user];
	int64		degree = data->row_ptr[user + 1] - data->row_ptr[user];
	int64		r;
	int64		lo = 0;
	int64		hi = degree;

	*final = true;
	if (degree >= data->n_items)
		return -1;
	if (degree * 2 <= data->n_items)
	{
		*final = false;
		return (int32) RandomBelow(rng, (uint32) data->n_items);
	}

	r = RandomBelow(rng, (uint32) (data->n_items - degree));
	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (row[mid] - mid > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (int32) (r + lo);
}

static inline int32
Resolve(const RecsNegativeSampler *sampler, int32 user, int32 candidate, RecsRandom *rng)
{
	while (HasItem(sampler, user, candidate))
		candidate = (int32) RandomBelow(rng, (uint32) sampler->data->n_items);
	return candidate;
}

/* what Resolve will read first, for prefetching */
static inline const void *
CandidateAddress(const RecsNegativeSampler *sampler, int32 user, int32 candidate)
{
	if (sampler->bitmap)
		return sampler->bitmap + (int64) user * sampler->words_per_user + candidate / 64;
	return sampler->data->col_idx + sampler->data->row_ptr[user];
}

int32
RecsBprSampleNegative(const RecsNegativeSampler *sampler, int32 user, RecsRandom *rng)
{
	bool		final;
	int32		j = DrawCandidate(sampler, user, rng, &final);

	return final ? j : Resolve(sampler, user, j, rng);
}

/*
 * One SGD step on the triple (p_u; q_i, b_i; q_j, b_j), adding its loss
 * -ln sigma(x), x = y_ui - y_uj, to *loss.  reg2 is 2 * lambda.
 */
static inline void
SgdStep(int k, float lr, float reg2, float *restrict pu, float *restrict qi,
		float *restrict qj, float *restrict bi, float *restrict bj, RecsBprLoss *loss)
{
	float		x = *bi - *bj + RecsDot(k, pu, qi) - RecsDot(k, pu, qj);
	float		g = RecsBprGradient(x, loss);	/* -dL/dx */
	int			d = 0;

	/*
	 * Eight lanes at a time, so that the compiler vectorises the block;
	 * pointer steps rather than pu[d + l], which -fwrapv would obscure.
	 */
	for (; d + RECS_NN_LANES <= k;
		 d += RECS_NN_LANES, pu += RECS_NN_LANES, qi += RECS_NN_LANES, qj += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
		{
			float		u = pu[l];
			float		a = qi[l];
			float		b = qj[l];

			pu[l] = u + lr * (g * (a - b) - reg2 * u);
			qi[l] = a + lr * (g * u - reg2 * a);
			qj[l] = b - lr * (g * u + reg2 * b);
		}
	for (int l = 0; l < k - d; l++)
	{
		float		u = pu[l];
		float		a = qi[l];
		float		b = qj[l];

		pu[l] = u + lr * (g * (a - b) - reg2 * u);
		qi[l] = a + lr * (g * u - reg2 * a);
		qj[l] = b - lr * (g * u + reg2 * b);
	}
	*bi += lr * (g - reg2 * *bi);
	*bj -= lr * (g + reg2 * *bj);
}

/* Everything an epoch works on. */
typedef struct BprTrainer
{
	BprParams	params;
	int			k;
	float		lr;
	float		reg2;			/* 2 * lambda */
	RecsRandom	rng;
	RecsPositives positives;
	RecsNegativeSampler sampler;
	float	   *users;			/* [n_users * k] */
	float	   *items;			/* [n_items * k] */
	float	   *bias;			/* [n_items] */
	/* Adam only: moments of every parameter, gradient scratch for a triple */
	RecsAdam	adam;
	float	   *m_users;
	float	   *v_users;
	float	   *m_items;
	float	   *v_items;
	float	   *m_bias;
	float	   *v_bias;
	float	   *grad_u;			/* [k] */
	float	   *grad_i;
	float	   *grad_j;
} BprTrainer;

/* One (lazy) Adam step on a triple, adding its loss to *loss. */
static void
AdamStep(BprTrainer *t, int32 u, int32 i, int32 j, RecsBprLoss *loss)
{
	int			k = t->k;
	float		reg2 = t->reg2;
	float	   *pu = t->users + (int64) u * k;
	float	   *qi = t->items + (int64) i * k;
	float	   *qj = t->items + (int64) j * k;
	float		x = t->bias[i] - t->bias[j] + RecsDot(k, pu, qi) - RecsDot(k, pu, qj);
	float		g = RecsBprGradient(x, loss);
	float		grad_bi = -g + reg2 * t->bias[i];
	float		grad_bj = g + reg2 * t->bias[j];

	for (int d = 0; d < k; d++)
	{
		t->grad_u[d] = -g * (qi[d] - qj[d]) + reg2 * pu[d];
		t->grad_i[d] = -g * pu[d] + reg2 * qi[d];
		t->grad_j[d] = g * pu[d] + reg2 * qj[d];
	}
	RecsAdamNextStep(&t->adam);
	RecsAdamUpdate(&t->adam, k, pu, t->m_users + (int64) u * k,
				   t->v_users + (int64) u * k, t->grad_u);
	RecsAdamUpdate(&t->adam, k, qi, t->m_items + (int64) i * k,
				   t->v_items + (int64) i * k, t->grad_i);
	RecsAdamUpdate(&t->adam, k, qj, t->m_items + (int64) j * k,
				   t->v_items + (int64) j * k, t->grad_j);
	RecsAdamUpdate(&t->adam, 1, t->bias + i, t->m_bias + i, t->v_bias + i, &grad_bi);
	RecsAdamUpdate(&t->adam, 1, t->bias + j, t->m_bias + j, t->v_bias + j, &grad_bj);
}

static inline void
PrefetchRow(const float *row, int k)
{
	for (int b = 0; b < k * (int) sizeof(float); b += 64)
		RECS_PREFETCH((const char *) row + b);
}

/* a triple on its way through the pipeline of RunEpoch */
typedef struct BprTriple
{
	int32		u;
	int32		i;
	int32		j;				/* -1: no negative exists */
	bool		final;			/* j needs no Resolve */
} BprTriple;

/*
 * One pass over the shuffled positives, "negatives" triples each; returns
 * the summed loss and sets *n_triples.  Each step's rows are random, so
 * the loop is a software pipeline: triple s + 2 * BPR_LOOKAHEAD draws its
 * negative candidate and prefetches what testing it reads, triple
 * s + BPR_LOOKAHEAD resolves its negative and prefetches its rows, triple
 * s takes its step.  The random stream is consumed in this fixed order,
 * so results stay deterministic.
 */
static double
RunEpoch(BprTrainer *t, int64 *n_triples)
{
	const RecsPositive *pairs = t->positives.pairs;
	int			negatives = t->params.negatives;
	int			k = t->k;
	int64		total = t->positives.n * negatives;
	BprTriple	ring[BPR_RING];
	RecsBprLoss loss;
	int64		done = 0;

	RecsBprLossInit(&loss);

	for (int64 s = -2 * BPR_LOOKAHEAD; s < total; s++)
	{
		int64		ahead = s + 2 * BPR_LOOKAHEAD;
		int64		near = s + BPR_LOOKAHEAD;

		if (ahead < total)
		{
			BprTriple  *e = &ring[ahead % BPR_RING];
			const RecsPositive *pair = &pairs[ahead / negatives];

			e->u = pair->user;
			e->i = pair->item;
			e->j = DrawCandidate(&t->sampler, e->u, &t->rng, &e->final);
			if (!e->final)
				RECS_PREFETCH(CandidateAddress(&t->sampler, e->u, e->j));
		}
		if (near >= 0 && near < total)
		{
			BprTriple  *e = &ring[near % BPR_RING];

			if (!e->final)
				e->j = Resolve(&t->sampler, e->u, e->j, &t->rng);
			if (e->j >= 0)
			{
				PrefetchRow(t->users + (int64) e->u * k, k);
				PrefetchRow(t->items + (int64) e->i * k, k);
				PrefetchRow(t->items + (int64) e->j * k, k);
				RECS_PREFETCH(t->bias + e->j);
			}
		}
		if (s >= 0)
		{
			BprTriple  *e = &ring[s % BPR_RING];

			if (s % BPR_CHECKPOINT_EVERY == 0)
				RecsTrainingCheckpoint();
			if (e->j < 0)
				continue;		/* the user has interacted with every item */
			if (t->params.adam)
				AdamStep(t, e->u, e->i, e->j, &loss);
			else
				SgdStep(k, t->lr, t->reg2, t->users + (int64) e->u * k,
						t->items + (int64) e->i * k, t->items + (int64) e->j * k,
						t->bias + e->i, t->bias + e->j, &loss);
			done++;
		}
	}
	*n_triples = done;
	return RecsBprLossTotal(&loss);
}

static void
BprTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	BprTrainer	t;
	int			k;
	MemoryContext context;
	MemoryContext old;
	float8	   *losses;

	memset(&t, 0, sizeof(t));
	t.params = ReadParams(params);
	k = t.k = t.params.factors;
	t.lr = (float) t.params.learning_rate;
	t.reg2 = (float) (2.0 * t.params.regularization);

	context = AllocSetContextCreate(CurrentMemoryContext, "bpr_mf training",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);

	RecsRandomSeed(&t.rng, t.params.seed);
	t.users = RecsAllocFloats((int64) data->n_users * k);
	t.items = RecsAllocFloats((int64) data->n_items * k);
	t.bias = RecsAllocFloats(data->n_items);
	losses = palloc0(sizeof(float8) * t.params.epochs);
	RecsInitNormal(&t.rng, t.users, (int64) data->n_users * k, BPR_INIT_STDDEV);
	RecsInitNormal(&t.rng, t.items, (int64) data->n_items * k, BPR_INIT_STDDEV);
	RecsBprPositivesInit(&t.positives, data);
	RecsBprSamplerInit(&t.sampler, data);
	if (t.params.adam)
	{
		RecsAdamInit(&t.adam, t.params.learning_rate);
		t.m_users = RecsAllocFloats((int64) data->n_users * k);
		t.v_users = RecsAllocFloats((int64) data->n_users * k);
		t.m_items = RecsAllocFloats((int64) data->n_items * k);
		t.v_items = RecsAllocFloats((int64) data->n_items * k);
		t.m_bias = RecsAllocFloats(data->n_items);
		t.v_bias = RecsAllocFloats(data->n_items);
		t.grad_u = RecsAllocFloats(k);
		t.grad_i = RecsAllocFloats(k);
		t.grad_j = RecsAllocFloats(k);
	}

	for (int epoch = 0; epoch < t.params.epochs; epoch++)
	{
		instr_time	start;
		instr_time	elapsed;
		double		loss;
		int64		triples;

		INSTR_TIME_SET_CURRENT(start);
		RecsBprShuffle(&t.positives, &t.rng);
		loss = RunEpoch(&t, &triples);
		losses[epoch] = triples > 0 ? loss / triples : 0.0;
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		RecsReportEpoch("bpr_mf", epoch + 1, t.params.epochs, losses[epoch],
						INSTR_TIME_GET_DOUBLE(elapsed));
	}

	MemoryContextSwitchTo(old);
	RecsArtifactPut(out, "bpr.users", t.users, (int64) data->n_users * k, sizeof(float4));
	RecsArtifactPut(out, "bpr.items", t.items, (int64) data->n_items * k, sizeof(float4));
	RecsArtifactPut(out, "bpr.bias", t.bias, data->n_items, sizeof(float4));
	RecsArtifactPut(out, "bpr.train_loss", losses, t.params.epochs, sizeof(float8));
	MemoryContextDelete(context);
}

static void *
BprLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	BprState   *state = palloc(sizeof(BprState));
	int			k;

	state->params = ReadParams(params);
	k = state->params.factors;
	state->users = RecsArtifactGetExact(in, "bpr.users", (int64) data->n_users * k, sizeof(float4));
	state->items = RecsArtifactGetExact(in, "bpr.items", (int64) data->n_items * k, sizeof(float4));
	state->bias = RecsArtifactGetExact(in, "bpr.bias", data->n_items, sizeof(float4));
	pfree(RecsArtifactGetExact(in, "bpr.train_loss", state->params.epochs, sizeof(float8)));

	state->item_norms = palloc(sizeof(float) * Max(data->n_items, 1));
	for (int32 j = 0; j < data->n_items; j++)
	{
		const float *q = state->items + (int64) j * k;

		state->item_norms[j] = sqrtf(RecsDot(k, q, q));
	}
	return state;
}

/* scores = b + Q v for a user vector v */
static void
ScoreVector(const BprState *state, int32 n_items, const float *v, float4 *scores)
{
	int			k = state->params.factors;

	RecsBlasInit();
	memcpy(scores, state->bias, sizeof(float) * n_items);
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, k, 1.0f, state->items, k,
				v, 1, 1.0f, scores, 1);
}

static void
BprScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const BprState *state = model->state;

	ScoreVector(state, model->data->n_items,
				state->users + (int64) user * state->params.factors, scores);
}

static bool
BprSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	const BprState *state = model->state;
	int			k = state->params.factors;
	int32		n_items = model->data->n_items;
	float		norm = state->item_norms[item];

	if (!(norm > 0.0f))
		return true;			/* a zero vector is similar to nothing */
	RecsBlasInit();
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, k, 1.0f, state->items, k,
				state->items + (int64) item * k, 1, 0.0f, scores, 1);
	for (int32 j = 0; j < n_items; j++)
		scores[j] = state->item_norms[j] > 0.0f ?
			scores[j] / (norm * state->item_norms[j]) : -INFINITY;
	return true;
}

/*
 * Fold-in: BPR_FOLD_IN_EPOCHS passes of plain SGD over the user's items in
 * a shuffled order, one sampled negative per item per pass, updating only
 * the user vector.  Adam-trained models use BPR_FOLD_IN_LEARNING_RATE,
 * since their learning rate is scaled for Adam.
 */
void
RecsBprFoldIn(const RecsLoadedModel *model, const int32 *items, int n,
			  float4 *user_vector)
{
	const BprState *state;
	int32		n_items = model->data->n_items;
	int			k;
	float		lr;
	float		reg2;
	bool	   *seen;
	int32	   *mine;
	int			n_mine = 0;
	RecsRandom	rng;
	RecsBprLoss loss;			/* not reported */

	if (model->algorithm != &RecsBprMfAlgorithm)
		elog(ERROR, "model \"%s\" is not a bpr_mf model", model->name);
	state = model->state;
	k = state->params.factors;
	lr = state->params.adam ? BPR_FOLD_IN_LEARNING_RATE : (float) state->params.learning_rate;
	reg2 = (float) (2.0 * state->params.regularization);

	seen = palloc0(sizeof(bool) * Max(n_items, 1));
	mine = palloc(sizeof(int32) * Max(n, 1));
	for (int t = 0; t < n; t++)
		if (items[t] >= 0 && items[t] < n_items && !seen[items[t]])
		{
			seen[items[t]] = true;
			mine[n_mine++] = items[t];
		}

	memset(user_vector, 0, sizeof(float4) * k);
	if (n_mine == 0 || n_mine == n_items)
	{
		pfree(seen);
		pfree(mine);
		return;
	}

	RecsRandomSeed(&rng, state->params.seed);
	RecsBprLossInit(&loss);
	RecsInitNormal(&rng, user_vector, k, BPR_INIT_STDDEV);
	for (int epoch = 0; epoch < BPR_FOLD_IN_EPOCHS; epoch++)
	{
		/* shuffle the user's items */
		for (int t = n_mine - 1; t > 0; t--)
		{
			int			s = (int) RandomBelow(&rng, (uint32) t + 1);
			int32		tmp = mine[t];

			mine[t] = mine[s];
			mine[s] = tmp;
		}
		for (int t = 0; t < n_mine; t++)
		{
			const float *qi = state->items + (int64) mine[t] * k;
			const float *qj;
			int32		j;
			float		x;
			float		g;

			do
				j = (int32) RandomBelow(&rng, (uint32) n_items);
			while (seen[j]);
			qj = state->items + (int64) j * k;
			x = state->bias[mine[t]] - state->bias[j] +
				RecsDot(k, user_vector, qi) - RecsDot(k, user_vector, qj);
			g = RecsBprGradient(x, &loss);
			for (int d = 0; d < k; d++)
				user_vector[d] += lr * (g * (qi[d] - qj[d]) - reg2 * user_vector[d]);
		}
	}
	pfree(seen);
	pfree(mine);
}

/* a user the model was not trained on: fold in, then score like any user */
static void
BprScoreHistory(const RecsLoadedModel *model, const int32 *items,
				const float4 *values, int n, float4 *scores)
{
	const BprState *state = model->state;
	float4	   *p = palloc(sizeof(float4) * state->params.factors);

	RecsBprFoldIn(model, items, n, p);
	ScoreVector(state, model->data->n_items, p, scores);
	pfree(p);
}

static bool
BprGetFactors(const RecsLoadedModel *model, RecsFactors *factors)
{
	const BprState *state = model->state;

	factors->factors = state->params.factors;
	factors->users = state->users;
	factors->items = state->items;
	factors->item_bias = state->bias;
	return true;
}

const RecsAlgorithm RecsBprMfAlgorithm = {
	.name = "bpr_mf",
	.check_params = BprCheckParams,
	.train = BprTrain,
	.load = BprLoad,
	.score_user = BprScoreUser,
	.score_history = BprScoreHistory,
	.score_similar_items = BprSimilarItems,
	.predict = NULL,
	.get_factors = BprGetFactors,
};
