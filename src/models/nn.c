/*
 * nn.c
 *		Dense layers, Adam and initialisers for the learned-embedding
 *		models (see nn.h).
 *
 * Dense layers run through OpenBLAS sgemm over a whole batch; the caller
 * owns the thread setting (RecsTrainingBlasBegin/End while training,
 * RecsBlasInit when serving).  Adam is written out as one plain loop per
 * tensor so that a caller can update any slice of a parameter array, which
 * is what lazy (sparse) updates of embedding rows need.
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "utils/memutils.h"

#include "models/nn.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define RECS_ADAM_SSE 1
#endif

void
RecsAdamInit(RecsAdam *adam, double learning_rate)
{
	adam->learning_rate = (float) learning_rate;
	adam->beta1 = 0.9f;
	adam->beta2 = 0.999f;
	adam->epsilon = 1e-8f;
	adam->t = 0;
	adam->beta1_t = 1.0;
	adam->beta2_t = 1.0;
	adam->correction1 = 1.0f;
	adam->correction2 = 1.0f;
}

void
RecsAdamNextStep(RecsAdam *adam)
{
	adam->t++;
	adam->beta1_t *= adam->beta1;
	adam->beta2_t *= adam->beta2;
	adam->correction1 = (float) (1.0 / (1.0 - adam->beta1_t));
	adam->correction2 = (float) (1.0 / (1.0 - adam->beta2_t));
}

/*
 * w -= lr * m_hat / (sqrt(v_hat) + eps), with the moments m and v first
 * moved towards grad and m_hat, v_hat their bias-corrected values.
 *
 * The compiler will not vectorise sqrtf (it may set errno), so on x86-64
 * four lanes go through SSE explicitly.  Every SSE operation here is
 * correctly rounded and done in the scalar loop's order, so both paths
 * give the same bits.
 */
void
RecsAdamUpdate(const RecsAdam *adam, int64 n, float *restrict w,
			   float *restrict m, float *restrict v, const float *restrict grad)
{
	const float b1 = adam->beta1;
	const float b2 = adam->beta2;
	const float lr = adam->learning_rate;
	const float eps = adam->epsilon;
	const float c1 = adam->correction1;
	const float c2 = adam->correction2;
	int64		d = 0;

#ifdef RECS_ADAM_SSE
	{
		const __m128 vb1 = _mm_set1_ps(b1);
		const __m128 vb2 = _mm_set1_ps(b2);
		const __m128 vb1c = _mm_set1_ps(1.0f - b1);
		const __m128 vb2c = _mm_set1_ps(1.0f - b2);
		const __m128 vlr = _mm_set1_ps(lr);
		const __m128 veps = _mm_set1_ps(eps);
		const __m128 vc1 = _mm_set1_ps(c1);
		const __m128 vc2 = _mm_set1_ps(c2);

		for (; d + 4 <= n; d += 4)
		{
			__m128		g = _mm_loadu_ps(grad + d);
			__m128		md = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m + d)),
										_mm_mul_ps(vb1c, g));
			__m128		vd = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(v + d)),
										_mm_mul_ps(_mm_mul_ps(vb2c, g), g));
			__m128		step = _mm_div_ps(_mm_mul_ps(vlr, _mm_mul_ps(md, vc1)),
										  _mm_add_ps(_mm_sqrt_ps(_mm_mul_ps(vd, vc2)), veps));

			_mm_storeu_ps(m + d, md);
			_mm_storeu_ps(v + d, vd);
			_mm_storeu_ps(w + d, _mm_sub_ps(_mm_loadu_ps(w + d), step));
		}
	}
#endif
	for (; d < n; d++)
	{
		float		g = grad[d];

		m[d] = b1 * m[d] + (1.0f - b1) * g;
		v[d] = b2 * v[d] + (1.0f - b2) * g * g;
		w[d] -= lr * (m[d] * c1) / (sqrtf(v[d] * c2) + eps);
	}
}

void
RecsInitNormal(RecsRandom *rng, float *w, int64 n, double stddev)
{
	for (int64 i = 0; i < n; i++)
		w[i] = (float) (stddev * RecsRandomNormal(rng));
}

void
RecsInitUniform(RecsRandom *rng, float *w, int64 n, double limit)
{
	for (int64 i = 0; i < n; i++)
		w[i] = (float) (limit * (2.0 * RecsRandomDouble(rng) - 1.0));
}

/* x = max(x, 0), in blocks of lanes as in nn.h */
static void
ApplyRelu(int64 n, float *restrict x)
{
	int64		d = 0;

	for (; d + RECS_NN_LANES <= n; d += RECS_NN_LANES, x += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			x[l] = x[l] > 0.0f ? x[l] : 0.0f;
	for (int l = 0; l < n - d; l++)
		x[l] = x[l] > 0.0f ? x[l] : 0.0f;
}

/* d = 0 where the ReLU's output y is not positive */
static void
MaskReluGradient(int64 n, const float *restrict y, float *restrict d)
{
	int64		i = 0;

	for (; i + RECS_NN_LANES <= n; i += RECS_NN_LANES, y += RECS_NN_LANES, d += RECS_NN_LANES)
		for (int l = 0; l < RECS_NN_LANES; l++)
			d[l] = y[l] > 0.0f ? d[l] : 0.0f;
	for (int l = 0; l < n - i; l++)
		d[l] = y[l] > 0.0f ? d[l] : 0.0f;
}

void
RecsDenseForward(int n, int in_dim, int out_dim, const float *in,
				 const float *w, const float *b, bool relu, float *out)
{
	/* out = in * W^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_dim, in_dim,
				1.0f, in, in_dim, w, in_dim, 0.0f, out, out_dim);
	for (int r = 0; r < n; r++)
		RecsAxpy(out_dim, 1.0f, b, out + (int64) r * out_dim);
	if (relu)
		ApplyRelu((int64) n * out_dim, out);
}

void
RecsDenseBackward(int n, int in_dim, int out_dim, const float *in,
				  const float *w, const float *out, bool relu,
				  float *d_out, float *grad_w, float *grad_b, float *d_in)
{
	int64		size = (int64) n * out_dim;

	/* through the ReLU: no gradient where it cut the input off */
	if (relu)
		MaskReluGradient(size, out, d_out);

	/* dW = d_out^T * in */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_dim, in_dim, n,
				1.0f, d_out, out_dim, in, in_dim, 0.0f, grad_w, in_dim);

	/* db = column sums of d_out */
	memset(grad_b, 0, sizeof(float) * out_dim);
	for (int r = 0; r < n; r++)
		RecsAxpy(out_dim, 1.0f, d_out + (int64) r * out_dim, grad_b);

	/* d_in = d_out * W */
	if (d_in != NULL)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_dim, out_dim,
					1.0f, d_out, out_dim, w, in_dim, 0.0f, d_in, in_dim);
}

float *
RecsAllocFloats(int64 n)
{
	Size		bytes = mul_size((Size) Max(n, 1), sizeof(float));

	return palloc_extended(bytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}
