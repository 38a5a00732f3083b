/*
 * experiment_stats.c
 *		The C helpers of A/B experiments: the assignment hash, the normal and
 *		chi-square tail probabilities, and a per-backend count of exposures
 *		that could not be recorded.
 *
 * Everything else about experiments is SQL (experiments.sql, monitoring.sql);
 * these are here because SQL cannot do them well:
 *
 *	- The assignment hash must never change, whatever the server: not with the
 *	  PostgreSQL major version (hashtextextended is only promised stable
 *	  within one), not with the CPU's byte order.  So recs defines its own:
 *	  64-bit FNV-1a over the UTF-8 bytes of "<salt>:<user_id>" (user id in
 *	  decimal), then the MurmurHash3 fmix64 finaliser to spread FNV's weak
 *	  low bits, then modulo RECS_BUCKETS.  The function is pure byte
 *	  arithmetic on uint64, so every platform computes the same bucket.
 *	- PostgreSQL 15 has no erf() in SQL.  The normal CDF comes from libm's
 *	  erfc, which keeps full relative precision in the tails (two-sided
 *	  p-values are computed as 2 * Phi(-|z|), never as 1 - Phi(|z|)).
 *	- The chi-square upper tail for k - 1 degrees of freedom is the
 *	  regularised upper incomplete gamma function Q(dof / 2, x / 2), computed
 *	  by its power series when x < a + 1 and by its continued fraction
 *	  (modified Lentz) otherwise, the usual split where each converges fast.
 *	- A hot standby (or any read-only transaction) cannot insert exposures;
 *	  recs_experiment_topk still serves, raises a WARNING and counts the
 *	  exposure here, per backend, so that the loss is visible.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "experiments/experiments.h"

/* buckets of the assignment hash; weights are mapped onto these */

#define RECS_FNV_OFFSET UINT64CONST(0xcbf29ce484222325)
#define RECS_FNV_PRIME UINT64CONST(0x100000001b3)

/* series and continued fraction stop at this relative change */
#define RECS_GAMMA_EPS 1e-15
#define RECS_GAMMA_MAX_ITER 10000
#define RECS_GAMMA_TINY 1e-300

PG_FUNCTION_INFO_V1(recs_assignment_bucket);
PG_FUNCTION_INFO_V1(recs_normal_cdf);
PG_FUNCTION_INFO_V1(recs_chi2_sf);
PG_FUNCTION_INFO_V1(recs_note_unrecorded_exposure);
PG_FUNCTION_INFO_V1(recs_unrecorded_exposures);

/* exposures this backend served but could not record (read-only) */
static int64 unrecorded_exposures = 0;

static uint64
FnvAppend(uint64 h, const unsigned char *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		h ^= bytes[i];
		h *= RECS_FNV_PRIME;
	}
	return h;
}

/* MurmurHash3's 64-bit finaliser: every input bit affects every output bit */
static uint64
MixBits(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb1a2c5ec53);
	h ^= h >> 33;
	return h;
}

/*
 * recs.assignment_bucket(salt text, user_id bigint) -> integer in
 * [0, RECS_BUCKETS): the stable bucket of a user in an experiment.
 */
int32
RecsAssignmentBucket(const char *salt, size_t salt_len, int64 user_id)
{
	char		digits[MAXINT8LEN + 1];
	int			ndigits;
	uint64		h = RECS_FNV_OFFSET;

	ndigits = pg_lltoa(user_id, digits);
	h = FnvAppend(h, (const unsigned char *) salt, salt_len);
	h = FnvAppend(h, (const unsigned char *) ":", 1);
	h = FnvAppend(h, (const unsigned char *) digits, ndigits);
	h = MixBits(h);
	return (int32) (h % RECS_BUCKETS);
}

Datum
recs_assignment_bucket(PG_FUNCTION_ARGS)
{
	text	   *salt = PG_GETARG_TEXT_PP(0);

	PG_RETURN_INT32(RecsAssignmentBucket(VARDATA_ANY(salt), VARSIZE_ANY_EXHDR(salt),
										 PG_GETARG_INT64(1)));
}

/* recs.normal_cdf(x) = P(Z <= x) for a standard normal Z */
Datum
recs_normal_cdf(PG_FUNCTION_ARGS)
{
	float8		x = PG_GETARG_FLOAT8(0);

	if (isnan(x))
		PG_RETURN_FLOAT8(get_float8_nan());
	PG_RETURN_FLOAT8(0.5 * erfc(-x / M_SQRT2));
}

/* P(a, x) by its series; valid (and fast) for x < a + 1 */
static double
GammaSeriesP(double a, double x)
{
	double		term = 1.0 / a;
	double		sum = term;

	for (int n = 1; n < RECS_GAMMA_MAX_ITER; n++)
	{
		term *= x / (a + n);
		sum += term;
		if (fabs(term) < fabs(sum) * RECS_GAMMA_EPS)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1 */
static double
GammaFractionQ(double a, double x)
{
	double		b = x + 1.0 - a;
	double		c = 1.0 / RECS_GAMMA_TINY;
	double		d = 1.0 / b;
	double		f = d;

	for (int i = 1; i < RECS_GAMMA_MAX_ITER; i++)
	{
		double		an = -i * (i - a);
		double		delta;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < RECS_GAMMA_TINY)
			d = RECS_GAMMA_TINY;
		c = b + an / c;
		if (fabs(c) < RECS_GAMMA_TINY)
			c = RECS_GAMMA_TINY;
		d = 1.0 / d;
		delta = d * c;
		f *= delta;
		if (fabs(delta - 1.0) < RECS_GAMMA_EPS)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * f;
}

/*
 * recs.chi2_sf(x, dof) = P(X >= x) for X chi-square with dof degrees of
 * freedom, i.e. Q(dof / 2, x / 2).
 */
Datum
recs_chi2_sf(PG_FUNCTION_ARGS)
{
	float8		x = PG_GETARG_FLOAT8(0);
	int32		dof = PG_GETARG_INT32(1);
	double		a;
	double		hx;

	if (dof < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("degrees of freedom must be positive, not %d", dof)));
	if (isnan(x))
		PG_RETURN_FLOAT8(get_float8_nan());
	if (x <= 0)
		PG_RETURN_FLOAT8(1.0);
	if (isinf(x))
		PG_RETURN_FLOAT8(0.0);

	a = dof / 2.0;
	hx = x / 2.0;
	if (hx < a + 1.0)
		PG_RETURN_FLOAT8(Max(0.0, 1.0 - GammaSeriesP(a, hx)));
	PG_RETURN_FLOAT8(GammaFractionQ(a, hx));
}

/* recs.note_unrecorded_exposure(): count one; returns the new count */
Datum
recs_note_unrecorded_exposure(PG_FUNCTION_ARGS)
{
	unrecorded_exposures++;
	PG_RETURN_INT64(unrecorded_exposures);
}

/* recs_experiment_unrecorded_exposures(): this backend's count */
Datum
recs_unrecorded_exposures(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(unrecorded_exposures);
}
