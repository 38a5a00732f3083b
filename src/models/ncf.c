/*
 * ncf.c
 *		The "ncf" algorithm: neural collaborative filtering (He et al.,
 *		"Neural Collaborative Filtering", WWW 2017) with learned user and
 *		item embeddings.
 *
 * Variants, each ending in one prediction unit y = h . z + h0 whose value
 * (before any sigmoid) is the score:
 *   gmf    z = p_u * q_i, elementwise, p and q "factors" wide;
 *   mlp    z = the last layer of a ReLU tower over [p'_u, q'_i], the
 *          concatenation of user and item MLP embeddings layers[0]/2 wide
 *          each, with dense layers layers[1], layers[2], ... (the paper's
 *          convention: [64, 32, 16] is a 64-wide input and two hidden
 *          layers of 32 and 16; a single entry means no hidden layer,
 *          and so no user-item interaction beyond item popularity);
 *   neumf  z = [GMF vector, last MLP layer], with separate embeddings for
 *          the two parts (default).
 *
 * Params:
 *   "variant"         "gmf", "mlp" or "neumf" (default);
 *   "factors"         GMF embedding size, 1..1024 (default 32);
 *   "layers"          MLP widths as a JSON array of 1..16 integers in
 *                     1..4096, the first even (default [64, 32, 16]);
 *   "loss"            "bpr" (default): -ln sigma(y_ui - y_uj) for each
 *                     observed (u, i) and sampled unobserved j, or
 *                     "logloss": binary cross-entropy of sigma(y) with
 *                     observed pairs labelled 1 and sampled ones 0;
 *   "negatives"       sampled items per observed pair, 1..1000 (default 1
 *                     for bpr, 4 for logloss as in the paper);
 *   "learning_rate"   Adam's step size, > 0 (default 0.001);
 *   "regularization"  lambda of an L2 penalty lambda * ||w||^2 on the
 *                     embeddings and dense weights (not biases), >= 0
 *                     (default 0);
 *   "epochs"          1..10000 (default 20);
 *   "batch_size"      observed pairs per step, 1..65536 (default 256);
 *   "seed"            integer (default 42).
 * Negatives are drawn uniformly from the items the user has not
 * interacted with (RecsBprSampleNegative), afresh for every epoch.  The
 * paper's NeuMF initialisation from pretrained GMF and MLP models is not
 * implemented.
 *
 * Training: each epoch visits every observed pair once, shuffled, in
 * batches; the loss is the batch mean (over pairs for bpr, over rows,
 * observed and sampled, for logloss).  Forward and backward passes of the
 * MLP run on the whole batch through cblas_sgemm (models/nn.c).  The
 * optimiser is Adam (beta1 0.9, beta2 0.999, eps 1e-8): dense layers and
 * the prediction unit get ordinary (dense) updates every step; embedding
 * rows get lazy updates, only in steps whose batch touches them (as in
 * TensorFlow's LazyAdam), so a step costs the batch, not the catalogue.
 * The penalty's gradient is added once per step to each touched row and
 * to the dense weights.  Initialisation follows the paper: embeddings
 * N(0, 0.01^2), dense layers Glorot-uniform, the prediction unit
 * LeCun-uniform, biases 0.  One seeded random stream drives it all, so a
 * seed trains the same model bit for bit with recs.train_threads = 1.
 * More threads parallelise sgemm inside OpenBLAS, but batches of a few
 * hundred rows are too small for that to pay.  On MovieLens 1M, NeuMF
 * with the defaults takes about 1 s per epoch on one core (2.4 s with
 * logloss and 4 negatives).
 *
 * Artifact sections, after the common ones (empty for the parts a variant
 * does not use):
 *   ncf.gmf_users   float4[n_users * factors]
 *   ncf.gmf_items   float4[n_items * factors]
 *   ncf.mlp_users   float4[n_users * layers[0]/2]
 *   ncf.mlp_items   float4[n_items * layers[0]/2]
 *   ncf.wL, ncf.bL  float4 weights (layers[L] x layers[L-1], row-major) and
 *                   biases of dense layer L = 1, 2, ...
 *   ncf.h, ncf.h0   float4 prediction weights and bias
 *   ncf.train_loss  float8[epochs] mean loss of each epoch
 *
 * Serving: score_user runs the network over every item in batches of
 * NCF_SCORE_BATCH; similar items are the cosine of the GMF item embedding
 * (the MLP one for variant mlp).
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "models/algorithm.h"
#include "models/bpr_mf.h"
#include "models/nn.h"
#include "models/training.h"
#include "registry/registry.h"

#define NCF_MAX_LAYERS 16
#define NCF_MAX_WIDTH 4096
#define NCF_MAX_BATCH_ROWS (1 << 20)	/* batch_size * (1 + negatives) */
#define NCF_SCORE_BATCH 1024
#define NCF_EMBEDDING_STDDEV 0.01

static const char *const ncf_params[] = {
	"variant", "factors", "layers", "loss", "negatives", "learning_rate",
	"regularization", "epochs", "batch_size", "seed",
	"pretrain_gmf", "pretrain_mlp", "pretrain_alpha", NULL
};

typedef enum NcfVariant
{
	NCF_GMF,
	NCF_MLP,
	NCF_NEUMF
} NcfVariant;

typedef struct NcfParams
{
	NcfVariant	variant;
	int			factors;
	int			n_layers;
	int			layers[NCF_MAX_LAYERS];
	bool		logloss;
	int			negatives;
	double		learning_rate;
	double		regularization;
	int			epochs;
	int			batch_size;
	int64		seed;
	/* NeuMF initialised from trained GMF and MLP models (both, or neither) */
	char	   *pretrain_gmf;
	char	   *pretrain_mlp;
	double		pretrain_alpha; /* weight of the GMF half of the output layer */
} NcfParams;

/*
 * The network's shape and parameters.  Dense layer l (1..n_dense) maps
 * width[l-1] to width[l]; width[0] is the concatenated MLP embeddings.
 */
typedef struct NcfNet
{
	int32		n_users;
	int32		n_items;
	int			gmf;			/* GMF width, 0 for variant mlp */
	int			half;			/* MLP embedding width, 0 for variant gmf */
	int			n_dense;
	int			width[NCF_MAX_LAYERS];
	int			pred_in;		/* gmf + last MLP width */
	float	   *gmf_users;
	float	   *gmf_items;
	float	   *mlp_users;
	float	   *mlp_items;
	float	   *w[NCF_MAX_LAYERS];
	float	   *b[NCF_MAX_LAYERS];
	float	   *h;
	float	   *h0;
} NcfNet;

/* Per-batch buffers; the backward ones only when training. */
typedef struct NcfWork
{
	int			capacity;		/* rows */
	int32	   *users;
	int32	   *items;
	float	   *act[NCF_MAX_LAYERS];	/* rows x width[l] */
	float	   *z;				/* rows x pred_in */
	float	   *y;
	float	   *dy;
	float	   *dz;
	float	   *dact[NCF_MAX_LAYERS];
} NcfWork;

typedef struct NcfState
{
	NcfParams	params;
	NcfNet		net;
	NcfWork		work;			/* scoring buffers, reused by every call */
	const float *sim_items;		/* embedding used for item similarity */
	int			sim_width;
	float	   *sim_norms;
} NcfState;

/* ---------- params ---------- */


static void
BadLayers(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("parameter \"layers\" must be a non-empty array of positive integers"),
			 errdetail("%s", detail)));
}

static void
ReadLayers(Jsonb *params, NcfParams *p)
{
	JsonbValue	key;
	JsonbValue *v = NULL;
	JsonbContainer *array;
	uint32		n;

	p->n_layers = 3;
	p->layers[0] = 64;
	p->layers[1] = 32;
	p->layers[2] = 16;

	key.type = jbvString;
	key.val.string.val = "layers";
	key.val.string.len = strlen("layers");
	if (JB_ROOT_IS_OBJECT(params))
		v = findJsonbValueFromContainer(&params->root, JB_FOBJECT, &key);
	if (v == NULL || v->type == jbvNull)
		return;
	if (v->type != jbvBinary || JsonContainerIsScalar(v->val.binary.data) ||
		!JsonContainerIsArray(v->val.binary.data))
		BadLayers("It is not an array.");
	array = v->val.binary.data;
	n = JsonContainerSize(array);
	if (n == 0)
		BadLayers("It is empty.");
	if (n > NCF_MAX_LAYERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"layers\" must have at most %d entries, not %u",
						NCF_MAX_LAYERS, n)));

	p->n_layers = (int) n;
	for (int l = 0; l < p->n_layers; l++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(array, (uint32) l);
		double		width;

		if (e->type != jbvNumeric)
			BadLayers(psprintf("Entry %d is not a number.", l + 1));
		width = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												   NumericGetDatum(e->val.numeric)));
		if (!(width >= 1) || width != floor(width))
			BadLayers(psprintf("Entry %d is %g.", l + 1, width));
		if (width > NCF_MAX_WIDTH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("entries of parameter \"layers\" must be at most %d, not %g",
							NCF_MAX_WIDTH, width)));
		p->layers[l] = (int) width;
	}
	if (p->layers[0] % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the first entry of parameter \"layers\" must be even, not %d",
						p->layers[0]),
				 errdetail("It is the width of the MLP's input, the user and item embeddings side by side.")));
}

static NcfParams
ReadParams(Jsonb *params)
{
	NcfParams	p;
	char	   *s;

	p.variant = NCF_NEUMF;
	if (RecsParamString(params, "variant", &s))
	{
		if (strcmp(s, "gmf") == 0)
			p.variant = NCF_GMF;
		else if (strcmp(s, "mlp") == 0)
			p.variant = NCF_MLP;
		else if (strcmp(s, "neumf") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"variant\" must be \"gmf\", \"mlp\" or \"neumf\", not \"%s\"",
							s)));
	}
	p.logloss = false;
	if (RecsParamString(params, "loss", &s))
	{
		if (strcmp(s, "logloss") == 0)
			p.logloss = true;
		else if (strcmp(s, "bpr") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"loss\" must be \"bpr\" or \"logloss\", not \"%s\"", s)));
	}
	p.factors = (int) RecsParamInt(params, "factors", 32, 1, 1024);
	ReadLayers(params, &p);
	p.negatives = (int) RecsParamInt(params, "negatives", p.logloss ? 4 : 1, 1, 1000);
	p.learning_rate = RecsParamPositive(params, "learning_rate", 0.001);
	p.regularization = RecsParamNonNegative(params, "regularization", 0.0);
	p.epochs = (int) RecsParamInt(params, "epochs", 20, 1, 10000);
	p.batch_size = (int) RecsParamInt(params, "batch_size", 256, 1, 65536);
	p.seed = RecsParamInt(params, "seed", 42, PG_INT32_MIN, PG_INT32_MAX);
	p.pretrain_gmf = NULL;
	p.pretrain_mlp = NULL;
	(void) RecsParamString(params, "pretrain_gmf", &p.pretrain_gmf);
	(void) RecsParamString(params, "pretrain_mlp", &p.pretrain_mlp);
	if ((p.pretrain_gmf == NULL) != (p.pretrain_mlp == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameters \"pretrain_gmf\" and \"pretrain_mlp\" go together")));
	if (p.pretrain_gmf != NULL && p.variant != NCF_NEUMF)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pretraining applies to variant \"neumf\" only")));
	p.pretrain_alpha = 0.5;
	if (RecsParamNumber(params, "pretrain_alpha", &p.pretrain_alpha) &&
		!(p.pretrain_alpha >= 0.0 && p.pretrain_alpha <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"pretrain_alpha\" must be between 0 and 1, not %g",
						p.pretrain_alpha)));
	if ((int64) p.batch_size * (1 + p.negatives) > NCF_MAX_BATCH_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameters \"batch_size\" and \"negatives\" make batches of %lld rows, more than %d",
						(long long) p.batch_size * (1 + p.negatives), NCF_MAX_BATCH_ROWS),
				 errdetail("A batch holds batch_size observed pairs and negatives sampled items for each.")));
	return p;
}

static void
NcfCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	RecsCheckParamKeys(params, "ncf", ncf_params);
	(void) ReadParams(params);
}

/* ---------- the network ---------- */

/* Sizes of the net for p; pointers are left NULL. */
static void
NetShape(NcfNet *net, const NcfParams *p, int32 n_users, int32 n_items)
{
	memset(net, 0, sizeof(NcfNet));
	net->n_users = n_users;
	net->n_items = n_items;
	net->gmf = p->variant == NCF_MLP ? 0 : p->factors;
	if (p->variant != NCF_GMF)
	{
		net->half = p->layers[0] / 2;
		net->n_dense = p->n_layers - 1;
		for (int l = 0; l < p->n_layers; l++)
			net->width[l] = p->layers[l];
	}
	net->pred_in = net->gmf + (p->variant == NCF_GMF ? 0 : net->width[net->n_dense]);
}

/*
 * The parameters in one array, in this order: embeddings, then the
 * "dense" part (layers, prediction unit), which Adam updates as a whole.
 * Writes pointers into base and returns the count; *dense_offset is where
 * the dense part starts.  Called with base NULL to count.
 */
static int64
NetLayout(NcfNet *net, float *base, int64 *dense_offset)
{
	int64		off = 0;

#define NCF_TAKE(ptr, n) \
	do { (ptr) = base ? base + off : NULL; off += (n); } while (0)

	NCF_TAKE(net->gmf_users, (int64) net->n_users * net->gmf);
	NCF_TAKE(net->gmf_items, (int64) net->n_items * net->gmf);
	NCF_TAKE(net->mlp_users, (int64) net->n_users * net->half);
	NCF_TAKE(net->mlp_items, (int64) net->n_items * net->half);
	*dense_offset = off;
	for (int l = 1; l <= net->n_dense; l++)
	{
		NCF_TAKE(net->w[l], (int64) net->width[l] * net->width[l - 1]);
		NCF_TAKE(net->b[l], net->width[l]);
	}
	NCF_TAKE(net->h, net->pred_in);
	NCF_TAKE(net->h0, 1);
#undef NCF_TAKE
	return off;
}

static void
WorkInit(NcfWork *work, const NcfNet *net, int capacity, bool training)
{
	memset(work, 0, sizeof(NcfWork));
	work->capacity = capacity;
	work->users = palloc(sizeof(int32) * capacity);
	work->items = palloc(sizeof(int32) * capacity);
	work->z = RecsAllocFloats((int64) capacity * net->pred_in);
	work->y = RecsAllocFloats(capacity);
	if (net->half > 0)
		for (int l = 0; l <= net->n_dense; l++)
			work->act[l] = RecsAllocFloats((int64) capacity * net->width[l]);
	if (!training)
		return;
	work->dy = RecsAllocFloats(capacity);
	work->dz = RecsAllocFloats((int64) capacity * net->pred_in);
	if (net->half > 0)
		for (int l = 0; l <= net->n_dense; l++)
			work->dact[l] = RecsAllocFloats((int64) capacity * net->width[l]);
}

/* y[r] for the n pairs (users[r], items[r]) of work */
static void
Forward(const NcfNet *net, NcfWork *work, int n)
{
	int			pred_in = net->pred_in;

	if (net->gmf > 0)
		for (int r = 0; r < n; r++)
		{
			RecsMultiply(net->gmf, net->gmf_users + (int64) work->users[r] * net->gmf,
						 net->gmf_items + (int64) work->items[r] * net->gmf,
						 work->z + (int64) r * pred_in);
		}

	if (net->half > 0)
	{
		int			last = net->width[net->n_dense];

		for (int r = 0; r < n; r++)
		{
			float	   *a = work->act[0] + (int64) r * net->width[0];

			memcpy(a, net->mlp_users + (int64) work->users[r] * net->half,
				   sizeof(float) * net->half);
			memcpy(a + net->half, net->mlp_items + (int64) work->items[r] * net->half,
				   sizeof(float) * net->half);
		}
		for (int l = 1; l <= net->n_dense; l++)
			RecsDenseForward(n, net->width[l - 1], net->width[l], work->act[l - 1],
							 net->w[l], net->b[l], true, work->act[l]);
		for (int r = 0; r < n; r++)
			memcpy(work->z + (int64) r * pred_in + net->gmf,
				   work->act[net->n_dense] + (int64) r * last, sizeof(float) * last);
	}

	/* y = z h + h0 */
	for (int r = 0; r < n; r++)
		work->y[r] = net->h0[0];
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n, pred_in, 1.0f, work->z, pred_in,
				net->h, 1, 1.0f, work->y, 1);
}

/* Embedding rows whose gradient is nonzero in this step. */
typedef struct NcfTouched
{
	bool	   *user_flag;
	bool	   *item_flag;
	int32	   *users;
	int32	   *items;
	int			n_users;
	int			n_items;
} NcfTouched;

static inline void
Touch(NcfTouched *t, int32 user, int32 item)
{
	if (!t->user_flag[user])
	{
		t->user_flag[user] = true;
		t->users[t->n_users++] = user;
	}
	if (!t->item_flag[item])
	{
		t->item_flag[item] = true;
		t->items[t->n_items++] = item;
	}
}

/*
 * Gradients of the batch loss given dL/dy in work->dy: dense ones
 * overwrite their slots of grad, embedding ones are added to the rows of
 * grad, which the caller zeroes after using them.
 */
static void
Backward(const NcfNet *net, NcfNet *grad, NcfWork *work, int n, NcfTouched *touched)
{
	int			pred_in = net->pred_in;
	float		dh0 = 0.0f;

	/* prediction unit */
	cblas_sgemv(CblasRowMajor, CblasTrans, n, pred_in, 1.0f, work->z, pred_in,
				work->dy, 1, 0.0f, grad->h, 1);
	for (int r = 0; r < n; r++)
	{
		dh0 += work->dy[r];
		RecsScale(pred_in, work->dy[r], net->h, work->dz + (int64) r * pred_in);
		Touch(touched, work->users[r], work->items[r]);
	}
	grad->h0[0] = dh0;

	/* GMF: z = p * q */
	if (net->gmf > 0)
		for (int r = 0; r < n; r++)
		{
			int64		u = (int64) work->users[r] * net->gmf;
			int64		i = (int64) work->items[r] * net->gmf;
			const float *dz = work->dz + (int64) r * pred_in;

			RecsMultiplyAdd(net->gmf, dz, net->gmf_items + i, grad->gmf_users + u);
			RecsMultiplyAdd(net->gmf, dz, net->gmf_users + u, grad->gmf_items + i);
		}

	/* MLP tower, then its embeddings */
	if (net->half > 0)
	{
		int			last = net->width[net->n_dense];

		for (int r = 0; r < n; r++)
			memcpy(work->dact[net->n_dense] + (int64) r * last,
				   work->dz + (int64) r * pred_in + net->gmf, sizeof(float) * last);
		for (int l = net->n_dense; l >= 1; l--)
			RecsDenseBackward(n, net->width[l - 1], net->width[l], work->act[l - 1],
							  net->w[l], work->act[l], true, work->dact[l],
							  grad->w[l], grad->b[l], work->dact[l - 1]);
		for (int r = 0; r < n; r++)
		{
			const float *da = work->dact[0] + (int64) r * net->width[0];

			RecsAxpy(net->half, 1.0f, da,
					 grad->mlp_users + (int64) work->users[r] * net->half);
			RecsAxpy(net->half, 1.0f, da + net->half,
					 grad->mlp_items + (int64) work->items[r] * net->half);
		}
	}
}

/* Adam and the arrays it works on, all laid out as NetLayout says. */
typedef struct NcfTrainer
{
	NcfNet		net;
	NcfNet		grad;
	float	   *params;
	float	   *grads;
	float	   *m;
	float	   *v;
	int64		size;
	int64		dense;
	RecsAdam	adam;
	float		reg2;			/* 2 * lambda */
} NcfTrainer;

/* one embedding row: penalty, Adam, then clear its gradient */
static inline void
UpdateRow(NcfTrainer *t, const float *row, int width)
{
	int64		off = row - t->params;

	if (width == 0)
		return;
	if (t->reg2 > 0)
		RecsAxpy(width, t->reg2, t->params + off, t->grads + off);
	RecsAdamUpdate(&t->adam, width, t->params + off, t->m + off, t->v + off,
				   t->grads + off);
	memset(t->grads + off, 0, sizeof(float) * width);
}

static void
Step(NcfTrainer *t, NcfTouched *touched)
{
	NcfNet	   *net = &t->net;

	if (t->reg2 > 0)
	{
		for (int l = 1; l <= net->n_dense; l++)
			RecsAxpy(net->width[l] * net->width[l - 1], t->reg2, net->w[l], t->grad.w[l]);
		RecsAxpy(net->pred_in, t->reg2, net->h, t->grad.h);
	}
	RecsAdamNextStep(&t->adam);
	RecsAdamUpdate(&t->adam, t->size - t->dense, t->params + t->dense,
				   t->m + t->dense, t->v + t->dense, t->grads + t->dense);

	for (int k = 0; k < touched->n_users; k++)
	{
		int32		u = touched->users[k];

		UpdateRow(t, net->gmf_users + (int64) u * net->gmf, net->gmf);
		UpdateRow(t, net->mlp_users + (int64) u * net->half, net->half);
		touched->user_flag[u] = false;
	}
	for (int k = 0; k < touched->n_items; k++)
	{
		int32		i = touched->items[k];

		UpdateRow(t, net->gmf_items + (int64) i * net->gmf, net->gmf);
		UpdateRow(t, net->mlp_items + (int64) i * net->half, net->half);
		touched->item_flag[i] = false;
	}
	touched->n_users = 0;
	touched->n_items = 0;
}

static void
InitNet(NcfNet *net, RecsRandom *rng)
{
	RecsInitNormal(rng, net->gmf_users, (int64) net->n_users * net->gmf, NCF_EMBEDDING_STDDEV);
	RecsInitNormal(rng, net->gmf_items, (int64) net->n_items * net->gmf, NCF_EMBEDDING_STDDEV);
	RecsInitNormal(rng, net->mlp_users, (int64) net->n_users * net->half, NCF_EMBEDDING_STDDEV);
	RecsInitNormal(rng, net->mlp_items, (int64) net->n_items * net->half, NCF_EMBEDDING_STDDEV);
	for (int l = 1; l <= net->n_dense; l++)
		RecsInitUniform(rng, net->w[l], (int64) net->width[l] * net->width[l - 1],
						sqrt(6.0 / (net->width[l] + net->width[l - 1])));
	RecsInitUniform(rng, net->h, net->pred_in, sqrt(3.0 / net->pred_in));
}

/*
 * Rows of one batch: pairs[0 .. n_pos-1] first, then for positive b its
 * negatives at n_pos + b * negatives + s.  valid[r] is false for a
 * negative that could not be drawn (a user who has every item).
 */
static int
FillBatch(const RecsNegativeSampler *sampler, const NcfParams *p, const RecsPositive *pairs,
		  int n_pos, RecsRandom *rng, NcfWork *work, bool *valid)
{
	int			n = n_pos * (1 + p->negatives);

	for (int b = 0; b < n_pos; b++)
	{
		work->users[b] = pairs[b].user;
		work->items[b] = pairs[b].item;
		valid[b] = true;
		for (int s = 0; s < p->negatives; s++)
		{
			int			r = n_pos + b * p->negatives + s;
			int32		j = RecsBprSampleNegative(sampler, pairs[b].user, rng);

			work->users[r] = pairs[b].user;
			work->items[r] = j >= 0 ? j : pairs[b].item;
			valid[r] = j >= 0;
		}
	}
	return n;
}

/*
 * Loss of the batch (summed) and dL/dy of its mean into work->dy; *count
 * is the number of terms (pairs for bpr, rows for logloss).
 */
static double
BatchLoss(const NcfParams *p, NcfWork *work, int n_pos, const bool *valid, int64 *count)
{
	int			n = n_pos * (1 + p->negatives);
	double		loss = 0.0;
	int			terms = 0;

	for (int r = 0; r < n; r++)
		terms += valid[r] && (p->logloss || r >= n_pos);
	*count = terms;
	for (int r = 0; r < n; r++)
		work->dy[r] = 0.0f;
	if (terms == 0)
		return 0.0;

	for (int r = n_pos; r < n; r++)
	{
		int			b = (r - n_pos) / p->negatives;

		if (!valid[r])
			continue;
		if (p->logloss)
		{
			/* a sampled item: label 0 */
			loss += RecsSoftplus(work->y[r]);
			work->dy[r] = (float) (RecsSigmoid(work->y[r]) / terms);
		}
		else
		{
			double		x = (double) work->y[b] - work->y[r];
			float		g = (float) (RecsSigmoid(-x) / terms);

			loss += RecsSoftplus(-x);
			work->dy[b] -= g;
			work->dy[r] += g;
		}
	}
	if (p->logloss)
		for (int b = 0; b < n_pos; b++)
		{
			/* an observed item: label 1 */
			loss += RecsSoftplus(-work->y[b]);
			work->dy[b] = (float) ((RecsSigmoid(work->y[b]) - 1.0) / terms);
		}
	return loss;
}

/* The training loop proper; the caller brackets it with the BLAS setting. */
static void
TrainLoop(const RecsInteractions *data, const NcfParams *p, NcfTrainer *t,
		  RecsRandom *rng, float8 *losses)
{
	RecsPositives positives;
	int			rows = p->batch_size * (1 + p->negatives);
	bool	   *valid = palloc(sizeof(bool) * rows);
	NcfWork		work;
	NcfTouched	touched;
	RecsNegativeSampler sampler;

	RecsBprPositivesInit(&positives, data);
	RecsBprSamplerInit(&sampler, data);
	WorkInit(&work, &t->net, rows, true);
	touched.user_flag = palloc0(sizeof(bool) * Max(data->n_users, 1));
	touched.item_flag = palloc0(sizeof(bool) * Max(data->n_items, 1));
	touched.users = palloc(sizeof(int32) * rows);
	touched.items = palloc(sizeof(int32) * rows);
	touched.n_users = 0;
	touched.n_items = 0;

	for (int epoch = 0; epoch < p->epochs; epoch++)
	{
		instr_time	start;
		instr_time	elapsed;
		double		loss = 0.0;
		int64		terms = 0;

		INSTR_TIME_SET_CURRENT(start);
		RecsBprShuffle(&positives, rng);
		for (int64 first = 0; first < data->nnz; first += p->batch_size)
		{
			int			n_pos = (int) Min(p->batch_size, data->nnz - first);
			int			n;
			int64		count;

			RecsTrainingCheckpoint();
			n = FillBatch(&sampler, p, positives.pairs + first, n_pos, rng, &work, valid);
			Forward(&t->net, &work, n);
			loss += BatchLoss(p, &work, n_pos, valid, &count);
			terms += count;
			if (count == 0)
				continue;
			Backward(&t->net, &t->grad, &work, n, &touched);
			Step(t, &touched);
		}
		losses[epoch] = terms > 0 ? loss / terms : 0.0;
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		RecsReportEpoch("ncf", epoch + 1, p->epochs, losses[epoch],
						INSTR_TIME_GET_DOUBLE(elapsed));
	}
}

static void
PutNet(RecsArtifactWriter *out, const NcfNet *net)
{
	RecsArtifactPut(out, "ncf.gmf_users", net->gmf_users,
					(int64) net->n_users * net->gmf, sizeof(float4));
	RecsArtifactPut(out, "ncf.gmf_items", net->gmf_items,
					(int64) net->n_items * net->gmf, sizeof(float4));
	RecsArtifactPut(out, "ncf.mlp_users", net->mlp_users,
					(int64) net->n_users * net->half, sizeof(float4));
	RecsArtifactPut(out, "ncf.mlp_items", net->mlp_items,
					(int64) net->n_items * net->half, sizeof(float4));
	for (int l = 1; l <= net->n_dense; l++)
	{
		RecsArtifactPut(out, psprintf("ncf.w%d", l), net->w[l],
						(int64) net->width[l] * net->width[l - 1], sizeof(float4));
		RecsArtifactPut(out, psprintf("ncf.b%d", l), net->b[l], net->width[l],
						sizeof(float4));
	}
	RecsArtifactPut(out, "ncf.h", net->h, net->pred_in, sizeof(float4));
	RecsArtifactPut(out, "ncf.h0", net->h0, 1, sizeof(float4));
}

/*
 * The trained ncf model name, checked to be of variant and, for the parts
 * NeuMF copies, of the same shape as p.
 */
static const NcfState *
PretrainedModel(const char *name, NcfVariant variant, const NcfParams *p,
				const RecsLoadedModel **model)
{
	const NcfState *state;
	bool		same_shape;

	*model = RecsGetModel(name);
	state = (*model)->algorithm == &RecsNcfAlgorithm ? (*model)->state : NULL;
	if (state == NULL || state->params.variant != variant)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" is not an ncf model of variant \"%s\"", name,
						variant == NCF_GMF ? "gmf" : "mlp")));
	if (variant == NCF_GMF)
		same_shape = state->params.factors == p->factors;
	else
	{
		same_shape = state->params.n_layers == p->n_layers;
		for (int l = 0; l < p->n_layers && same_shape; l++)
			same_shape = state->params.layers[l] == p->layers[l];
	}
	if (!same_shape)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has a different %s than this model", name,
						variant == NCF_GMF ? "\"factors\"" : "\"layers\"")));
	return state;
}

/* Copy embedding rows of ids present in both models. */
static void
CopyRows(float *to, const int64 *to_ids, int32 n_to, const float *from,
		 const int64 *from_ids, int32 n_from, int width)
{
	for (int32 r = 0; r < n_to; r++)
	{
		int32		s = RecsFindId(from_ids, n_from, to_ids[r]);

		if (s >= 0)
			memcpy(to + (int64) r * width, from + (int64) s * width, sizeof(float) * width);
	}
}

/*
 * NeuMF from pretrained GMF and MLP models (He et al., section 3.4.1):
 * their embeddings and MLP layers as they are, the output layer as the
 * two output layers side by side weighted by alpha and 1 - alpha.  Rows
 * are matched by user and item id, so the pretrained models may have been
 * trained on other data (those absent keep their random start).
 */
static void
Pretrain(NcfNet *net, const RecsInteractions *data, const NcfParams *p)
{
	const RecsLoadedModel *gm;
	const RecsLoadedModel *mm;
	const NcfState *g = PretrainedModel(p->pretrain_gmf, NCF_GMF, p, &gm);
	const NcfState *m = PretrainedModel(p->pretrain_mlp, NCF_MLP, p, &mm);
	float		alpha = (float) p->pretrain_alpha;

	CopyRows(net->gmf_users, data->user_ids, data->n_users, g->net.gmf_users,
			 gm->data->user_ids, gm->data->n_users, net->gmf);
	CopyRows(net->gmf_items, data->item_ids, data->n_items, g->net.gmf_items,
			 gm->data->item_ids, gm->data->n_items, net->gmf);
	CopyRows(net->mlp_users, data->user_ids, data->n_users, m->net.mlp_users,
			 mm->data->user_ids, mm->data->n_users, net->half);
	CopyRows(net->mlp_items, data->item_ids, data->n_items, m->net.mlp_items,
			 mm->data->item_ids, mm->data->n_items, net->half);
	for (int l = 1; l <= net->n_dense; l++)
	{
		memcpy(net->w[l], m->net.w[l], sizeof(float) * net->width[l] * net->width[l - 1]);
		memcpy(net->b[l], m->net.b[l], sizeof(float) * net->width[l]);
	}
	for (int t = 0; t < net->gmf; t++)
		net->h[t] = alpha * g->net.h[t];
	for (int t = 0; t < net->pred_in - net->gmf; t++)
		net->h[net->gmf + t] = (1.0f - alpha) * m->net.h[t];
	net->h0[0] = alpha * g->net.h0[0] + (1.0f - alpha) * m->net.h0[0];
}

static void
NcfTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	NcfParams	p = ReadParams(params);
	MemoryContext context;
	MemoryContext old;
	NcfTrainer	t;
	RecsRandom	rng;
	float8	   *losses;

	context = AllocSetContextCreate(CurrentMemoryContext, "ncf training",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);

	NetShape(&t.net, &p, data->n_users, data->n_items);
	t.grad = t.net;
	t.size = NetLayout(&t.net, NULL, &t.dense);
	t.params = RecsAllocFloats(t.size);
	t.grads = RecsAllocFloats(t.size);
	t.m = RecsAllocFloats(t.size);
	t.v = RecsAllocFloats(t.size);
	NetLayout(&t.net, t.params, &t.dense);
	NetLayout(&t.grad, t.grads, &t.dense);
	RecsAdamInit(&t.adam, p.learning_rate);
	t.reg2 = (float) (2.0 * p.regularization);
	losses = palloc0(sizeof(float8) * p.epochs);

	RecsRandomSeed(&rng, p.seed);
	InitNet(&t.net, &rng);
	if (p.pretrain_gmf != NULL)
		Pretrain(&t.net, data, &p);

	RecsTrainingBlasBegin();
	PG_TRY();
	{
		TrainLoop(data, &p, &t, &rng, losses);
	}
	PG_FINALLY();
	{
		RecsTrainingBlasEnd();
	}
	PG_END_TRY();

	MemoryContextSwitchTo(old);
	PutNet(out, &t.net);
	RecsArtifactPut(out, "ncf.train_loss", losses, p.epochs, sizeof(float8));
	MemoryContextDelete(context);
}

static void *
NcfLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	NcfState   *state = palloc0(sizeof(NcfState));
	NcfNet	   *net = &state->net;

	state->params = ReadParams(params);
	NetShape(net, &state->params, data->n_users, data->n_items);
	net->gmf_users = RecsArtifactGetExact(in, "ncf.gmf_users", (int64) net->n_users * net->gmf,
								sizeof(float4));
	net->gmf_items = RecsArtifactGetExact(in, "ncf.gmf_items", (int64) net->n_items * net->gmf,
								sizeof(float4));
	net->mlp_users = RecsArtifactGetExact(in, "ncf.mlp_users", (int64) net->n_users * net->half,
								sizeof(float4));
	net->mlp_items = RecsArtifactGetExact(in, "ncf.mlp_items", (int64) net->n_items * net->half,
								sizeof(float4));
	for (int l = 1; l <= net->n_dense; l++)
	{
		net->w[l] = RecsArtifactGetExact(in, psprintf("ncf.w%d", l),
							   (int64) net->width[l] * net->width[l - 1], sizeof(float4));
		net->b[l] = RecsArtifactGetExact(in, psprintf("ncf.b%d", l), net->width[l], sizeof(float4));
	}
	net->h = RecsArtifactGetExact(in, "ncf.h", net->pred_in, sizeof(float4));
	net->h0 = RecsArtifactGetExact(in, "ncf.h0", 1, sizeof(float4));
	pfree(RecsArtifactGetExact(in, "ncf.train_loss", state->params.epochs, sizeof(float8)));

	if (net->gmf > 0)
	{
		state->sim_items = net->gmf_items;
		state->sim_width = net->gmf;
	}
	else
	{
		state->sim_items = net->mlp_items;
		state->sim_width = net->half;
	}
	WorkInit(&state->work, net, Min(NCF_SCORE_BATCH, Max(data->n_items, 1)), false);
	state->sim_norms = palloc(sizeof(float) * Max(data->n_items, 1));
	for (int32 j = 0; j < data->n_items; j++)
	{
		const float *q = state->sim_items + (int64) j * state->sim_width;

		state->sim_norms[j] = sqrtf(RecsDot(state->sim_width, q, q));
	}
	return state;
}

/* The network over (user, every item), NCF_SCORE_BATCH items at a time. */
static void
NcfScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	NcfState   *state = model->state;
	NcfWork    *work = &state->work;
	int32		n_items = model->data->n_items;

	RecsBlasInit();
	for (int32 first = 0; first < n_items; first += work->capacity)
	{
		int			n = Min(work->capacity, n_items - first);

		for (int r = 0; r < n; r++)
		{
			work->users[r] = user;
			work->items[r] = first + r;
		}
		Forward(&state->net, work, n);
		memcpy(scores + first, work->y, sizeof(float) * n);
	}
}

static bool
NcfSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	const NcfState *state = model->state;
	int			k = state->sim_width;
	int32		n_items = model->data->n_items;
	float		norm = state->sim_norms[item];

	if (!(norm > 0.0f))
		return true;			/* a zero vector is similar to nothing */
	RecsBlasInit();
	cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, k, 1.0f, state->sim_items, k,
				state->sim_items + (int64) item * k, 1, 0.0f, scores, 1);
	for (int32 j = 0; j < n_items; j++)
		scores[j] = state->sim_norms[j] > 0.0f ?
			scores[j] / (norm * state->sim_norms[j]) : -INFINITY;
	return true;
}

const RecsAlgorithm RecsNcfAlgorithm = {
	.name = "ncf",
	.check_params = NcfCheckParams,
	.train = NcfTrain,
	.load = NcfLoad,
	.score_user = NcfScoreUser,
	.score_similar_items = NcfSimilarItems,
	.predict = NULL,
};
