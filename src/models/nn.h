/*
 * nn.h
 *		Small numeric building blocks for the learned-embedding models
 *		(bpr_mf, ncf): vector loops, dense layers, Adam, initialisers.
 *
 * Everything works on float4 arrays laid out row-major.  The vector loops
 * are written with eight independent lanes so that the compiler vectorises
 * them at -O2 without being allowed to reorder float additions: results do
 * not depend on compiler flags, and training stays deterministic for a
 * seed.  Matrix products (dense layers) go through OpenBLAS.
 */
#ifndef RECS_NN_H
#define RECS_NN_H

#include "postgres.h"

#include <math.h>

#include "models/training.h"

#define RECS_NN_LANES 8

/* a hint to start loading the cache line at address p */
#if defined(__GNUC__) || defined(__clang__)
#define RECS_PREFETCH(p) __builtin_prefetch(p)
#else
#define RECS_PREFETCH(p) ((void) 0)
#endif

/* sum_d a[d] * b[d] */
static inline float
RecsDot(int n, const float *restrict a, const float *restrict b)
{
	float		acc[RECS_NN_LANES] = {0};
	float		sum = 0.0f;
	int			d = 0;

	/* pointer steps, not a[d + l]: -fwrapv would hide that lanes are adjacent */
	for (; d + RECS_NN_LANES <= n; d += RECS_NN_LANES, a += RECS_NN_LANES, b += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			acc[l] += a[l] * b[l];
	for (int l = 0; l < n - d; l++)
		sum += a[l] * b[l];
	for (int l = 0; l < RECS_NN_LANES; l++)
		sum += acc[l];
	return sum;
}

/*
 * The loops below run eight lanes at a time, then the rest: -O2 vectorises
 * such fixed-width blocks, but not a loop of unknown length.  They step
 * pointers rather than index x[d + l], which -fwrapv would obscure.
 */

/* y[d] += alpha * x[d] */
static inline void
RecsAxpy(int n, float alpha, const float *restrict x, float *restrict y)
{
	int			d = 0;

	for (; d + RECS_NN_LANES <= n; d += RECS_NN_LANES, x += RECS_NN_LANES, y += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			y[l] += alpha * x[l];
	for (int l = 0; l < n - d; l++)
		y[l] += alpha * x[l];
}

/* out[d] = a[d] * b[d] */
static inline void
RecsMultiply(int n, const float *restrict a, const float *restrict b, float *restrict out)
{
	int			d = 0;

	for (; d + RECS_NN_LANES <= n;
		 d += RECS_NN_LANES, a += RECS_NN_LANES, b += RECS_NN_LANES, out += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			out[l] = a[l] * b[l];
	for (int l = 0; l < n - d; l++)
		out[l] = a[l] * b[l];
}

/* out[d] += a[d] * b[d] */
static inline void
RecsMultiplyAdd(int n, const float *restrict a, const float *restrict b, float *restrict out)
{
	int			d = 0;

	for (; d + RECS_NN_LANES <= n;
		 d += RECS_NN_LANES, a += RECS_NN_LANES, b += RECS_NN_LANES, out += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			out[l] += a[l] * b[l];
	for (int l = 0; l < n - d; l++)
		out[l] += a[l] * b[l];
}

/* out[d] = alpha * x[d] */
static inline void
RecsScale(int n, float alpha, const float *restrict x, float *restrict out)
{
	int			d = 0;

	for (; d + RECS_NN_LANES <= n; d += RECS_NN_LANES, x += RECS_NN_LANES, out += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			out[l] = alpha * x[l];
	for (int l = 0; l < n - d; l++)
		out[l] = alpha * x[l];
}

/* log(1 + exp(x)) without overflow */
static inline double
RecsSoftplus(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* 1 / (1 + exp(-x)) without overflow */
static inline double
RecsSigmoid(double x)
{
	if (x >= 0)
		return 1.0 / (1.0 + exp(-x));
	else
	{
		double		e = exp(x);

		return e / (1.0 + e);
	}
}

/*
 * The BPR loss summed over many pairs.  A pair's loss is -ln sigma(x) =
 * max(-x, 0) + ln(1 + e) with e = exp(-|x|) in (0, 1]; the ln(1 + e)
 * terms are summed as the log of their product, taken every
 * RECS_BPR_LOG_EVERY pairs (the product stays below 2^512), which saves a
 * logarithm per pair.
 */
#define RECS_BPR_LOG_EVERY 512

typedef struct RecsBprLoss
{
	double		total;
	double		product;
	int			pending;
} RecsBprLoss;

static inline void
RecsBprLossInit(RecsBprLoss *loss)
{
	loss->total = 0.0;
	loss->product = 1.0;
	loss->pending = 0;
}

/*
 * sigma(-x), the negated derivative of -ln sigma(x), adding the loss
 * -ln sigma(x) to *loss.
 */
static inline float
RecsBprGradient(float x, RecsBprLoss *loss)
{
	float		e = expf(-fabsf(x));

	loss->product *= 1.0 + e;
	if (x < 0)
		loss->total -= x;
	if (++loss->pending == RECS_BPR_LOG_EVERY)
	{
		loss->total += log(loss->product);
		loss->product = 1.0;
		loss->pending = 0;
	}
	return x >= 0 ? e / (1.0f + e) : 1.0f / (1.0f + e);
}

static inline double
RecsBprLossTotal(RecsBprLoss *loss)
{
	loss->total += log(loss->product);
	loss->product = 1.0;
	loss->pending = 0;
	return loss->total;
}

/*
 * Adam (Kingma and Ba, 2015).  One RecsAdam holds the hyperparameters and
 * the step count t shared by all tensors; each tensor has its own first and
 * second moment arrays m and v (zero at t = 0).  Call RecsAdamNextStep once
 * per optimisation step, then RecsAdamUpdate for each tensor (or slice of
 * one) that has a gradient in this step.
 */
typedef struct RecsAdam
{
	float		learning_rate;
	float		beta1;
	float		beta2;
	float		epsilon;
	int64		t;
	double		beta1_t;		/* beta1^t */
	double		beta2_t;		/* beta2^t */
	float		correction1;	/* 1 / (1 - beta1^t) */
	float		correction2;	/* 1 / (1 - beta2^t) */
} RecsAdam;

extern void RecsAdamInit(RecsAdam *adam, double learning_rate);
extern void RecsAdamNextStep(RecsAdam *adam);
extern void RecsAdamUpdate(const RecsAdam *adam, int64 n, float *restrict w,
						   float *restrict m, float *restrict v,
						   const float *restrict grad);

/* fill n floats with N(0, stddev^2) */
extern void RecsInitNormal(RecsRandom *rng, float *w, int64 n, double stddev);
/* fill n floats with U(-limit, limit) */
extern void RecsInitUniform(RecsRandom *rng, float *w, int64 n, double limit);

/*
 * A dense layer over a batch of n rows: out = act(in * W^T + b), with in
 * n x in_dim, W out_dim x in_dim, b out_dim, out n x out_dim, and act
 * ReLU or the identity.
 */
extern void RecsDenseForward(int n, int in_dim, int out_dim, const float *in,
							 const float *w, const float *b, bool relu,
							 float *out);

/*
 * Its backward pass.  d_out (n x out_dim) holds dL/d(out) and is turned
 * into dL/d(pre-activation) in place.  Writes dL/dW (overwriting grad_w),
 * dL/db (overwriting grad_b) and, unless d_in is NULL, dL/d(in).
 */
extern void RecsDenseBackward(int n, int in_dim, int out_dim, const float *in,
							  const float *w, const float *out, bool relu,
							  float *d_out, float *grad_w, float *grad_b,
							  float *d_in);

/* palloc'd zeroed float array of n elements, may exceed 1 GB */
extern float *RecsAllocFloats(int64 n);

#endif							/* RECS_NN_H */
