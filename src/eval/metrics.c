/*
 * metrics.c
 *		Offline ranking metrics: precision, recall, hit rate, MRR, MAP and
 *		NDCG at k, for one user's recommended list against the items that
 *		user actually found relevant.
 *
 * Evaluation runs these once per user over a held-out set, usually with
 * avg() on top, so the rules for awkward input are part of the contract and
 * are the same for all six functions:
 *
 *	- Only the first k distinct recommended items count.  A recommended item
 *	  that appears again later is ignored and does not take a rank, so
 *	  {7,7,3} ranks 7 first and 3 second.
 *	- An item listed twice in relevant counts once.  With graded relevance
 *	  the grade of its first occurrence is used.
 *	- A recommended list shorter than k is fine; the missing ranks are
 *	  misses (precision still divides by k, as the textbook definition does).
 *	- An empty relevant list gives NULL: the metrics are undefined for a user
 *	  with nothing relevant, and NULL keeps such users out of avg().
 *	- NULL array elements, multidimensional arrays and k outside
 *	  1..RECS_METRICS_MAX_K are errors, not silently skipped: they point to a
 *	  bug in the query that built the arguments.
 *
 * Membership tests use simplehash sets keyed by item id, so one call is
 * O(n + m) expected time for n recommended and m relevant items (NDCG with
 * graded relevance adds an O(m log m) sort for the ideal ordering).  Every
 * metric is computed from one pass over the top k (RecsTopKStats in metrics.h).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "eval/metrics.h"

PG_FUNCTION_INFO_V1(recs_precision_at_k);
PG_FUNCTION_INFO_V1(recs_recall_at_k);
PG_FUNCTION_INFO_V1(recs_hit_rate_at_k);
PG_FUNCTION_INFO_V1(recs_mrr_at_k);
PG_FUNCTION_INFO_V1(recs_map_at_k);
PG_FUNCTION_INFO_V1(recs_ndcg_at_k);

/*
 * Largest k we accept.  No ranking is evaluated this deep; the limit catches
 * a k passed by mistake (a row count, an item id) and bounds the work.
 */
#define RECS_METRICS_MAX_K 1000000

/* A set of item ids; gain is used only by the relevant set in NDCG. */
typedef struct RecsIdEntry
{
	int64		id;
	double		gain;
	char		status;			/* used by simplehash */
} RecsIdEntry;

/*
 * Mix all 64 bits of the id (the MurmurHash3 finaliser, a bijection on
 * uint64) before keeping 32 of them.  Folding the halves together first, as
 * hashint8 does, would make composite ids like (shop << 32 | item) collide
 * in bulk and the hash table quadratic.
 */
static inline uint32
RecsHashId(int64 id)
{
	uint64		h = (uint64) id;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

#define SH_PREFIX recs_idset
#define SH_ELEMENT_TYPE RecsIdEntry
#define SH_KEY_TYPE int64
#define SH_KEY id
#define SH_HASH_KEY(tb, key) RecsHashId(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* sort gains in descending order, for the ideal DCG */
#define ST_SORT sort_gains_desc
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) (*(a) > *(b) ? -1 : *(a) < *(b) ? 1 : 0)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"


/* k counts ranks from the top: 1 .. RECS_METRICS_MAX_K */
static void
CheckK(int32 k)
{
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1"),
				 errdetail("k is %d.", k)));
	if (k > RECS_METRICS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at most %d", RECS_METRICS_MAX_K),
				 errdetail("k is %d.", k),
				 errhint("Rankings are evaluated at cut-offs like 10 or 100; a k this large is probably a mistake.")));
}

/*
 * Reject multidimensional arrays and NULL elements in the array argument
 * called name, and return its elements (int8 or float4) as datums.
 */
static Datum *
DeconstructMetricArray(ArrayType *array, Oid elemtype, const char *name,
					   int *nelems)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;

	if (elemtype == INT8OID)
	{
		typlen = sizeof(int64);
		typbyval = FLOAT8PASSBYVAL;
		typalign = TYPALIGN_DOUBLE;
	}
	else
	{
		Assert(elemtype == FLOAT4OID);
		typlen = sizeof(float4);
		typbyval = true;
		typalign = TYPALIGN_INT;
	}
	if (ARR_ELEMTYPE(array) != elemtype)
		elog(ERROR, "argument \"%s\" has element type %u, expected %u",
			 name, ARR_ELEMTYPE(array), elemtype);

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be a one-dimensional array",
						name),
				 errdetail("The array has %d dimensions.", ARR_NDIM(array))));

	if (array_contains_nulls(array))
	{
		bool	   *nulls;
		int			first = 0;

		/* find the first NULL, to say which element is wrong */
		deconstruct_array(array, elemtype, typlen, typbyval, typalign,
						  &elems, &nulls, nelems);
		while (first < *nelems && !nulls[first])
			first++;
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not contain nulls", name),
				 errdetail("Element %d is NULL.", first + 1)));
	}

	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, NULL, nelems);
	return elems;
}

/*
 * Check the n graded relevance values against relevant's element count and
 * return the largest.  Grades must be finite and non-negative: the gain
 * 2^rel - 1 of a negative grade would be negative, and NaN or infinity would
 * make every NDCG NaN.
 */
static double
CheckRelevance(const Datum *grades, int n, int nrelevant)
{
	double		max_grade = 0.0;

	if (n != nrelevant)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relevance must have one element per relevant item"),
				 errdetail("The relevant array's length is %d and the relevance array's length is %d.",
						   nrelevant, n)));

	for (int i = 0; i < n; i++)
	{
		float4		grade = DatumGetFloat4(grades[i]);

		if (isnan(grade) || isinf(grade))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relevance must be finite"),
					 errdetail("Element %d is %g.", i + 1, (double) grade)));
		if (grade < 0.0f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relevance must not be negative"),
					 errdetail("Element %d is %g.", i + 1, (double) grade)));
		max_grade = Max(max_grade, (double) grade);
	}

	return max_grade;
}

/*
 * Walk the top k distinct recommended items against the relevant ones,
 * filling stats.  grades is NULL for binary relevance, else the grade of
 * each relevant[i] (already checked; max_grade is the largest).  With
 * want_idcg the ideal DCG is computed too.  Returns false, leaving stats
 * unset, when relevant is empty and the metrics are undefined.
 *
 * Gains are 2^rel - 1 (1 for binary relevance).  For graded relevance they
 * are scaled by 2^-max_grade, computed as 2^(rel - max_grade) - 2^-max_grade:
 * the factor cancels in DCG / IDCG and keeps grades in the hundreds or more
 * from overflowing double precision.
 *
 * This is the C entry point recs_evaluate uses, so that offline evaluation
 * and the SQL metric functions cannot disagree.
 */
bool
RecsComputeTopKStats(const int64 *recommended, int nrec,
					 const int64 *relevant, const float4 *grades, int nrel,
					 double max_grade, int k, bool want_idcg,
					 RecsTopKStats *stats)
{
	double	   *distinct_gains = NULL;
	recs_idset_hash *relevant_set;
	recs_idset_hash *seen_set;
	int			rank;

	if (nrel == 0)
		return false;

	/* the distinct relevant items, with their gains */
	if (want_idcg && grades != NULL)
		distinct_gains = palloc(mul_size(sizeof(double), nrel));
	relevant_set = recs_idset_create(CurrentMemoryContext, nrel, NULL);
	stats->nrelevant = 0;
	for (int i = 0; i < nrel; i++)
	{
		bool		found;
		RecsIdEntry *entry = recs_idset_insert(relevant_set, relevant[i], &found);

		CHECK_FOR_INTERRUPTS();
		if (found)
			continue;			/* a repeat: the first grade stands */
		if (grades == NULL)
			entry->gain = 1.0;
		else
			entry->gain = exp2(grades[i] - max_grade) - exp2(-max_grade);
		if (distinct_gains != NULL)
			distinct_gains[stats->nrelevant] = entry->gain;
		stats->nrelevant++;
	}

	/* the top k distinct recommended items */
	stats->k = k;
	stats->nhits = 0;
	stats->first_hit = 0;
	stats->precision_sum = 0.0;
	stats->dcg = 0.0;
	seen_set = recs_idset_create(CurrentMemoryContext, Min(nrec, k), NULL);
	rank = 0;
	for (int i = 0; i < nrec && rank < k; i++)
	{
		bool		found;
		RecsIdEntry *hit;

		CHECK_FOR_INTERRUPTS();
		(void) recs_idset_insert(seen_set, recommended[i], &found);
		if (found)
			continue;			/* a repeat takes no rank */
		rank++;

		hit = recs_idset_lookup(relevant_set, recommended[i]);
		if (hit == NULL)
			continue;
		stats->nhits++;
		if (stats->first_hit == 0)
			stats->first_hit = rank;
		stats->precision_sum += (double) stats->nhits / rank;
		stats->dcg += hit->gain / log2(rank + 1.0);
	}

	/* the ideal ordering: the largest gains at the top min(m, k) ranks */
	stats->idcg = 0.0;
	if (want_idcg)
	{
		int			nideal = Min(stats->nrelevant, k);

		if (distinct_gains != NULL)
			sort_gains_desc(distinct_gains, stats->nrelevant);
		for (int i = 0; i < nideal; i++)
		{
			double		gain = distinct_gains ? distinct_gains[i] : 1.0;

			stats->idcg += gain / log2(i + 2.0);
		}
	}

	recs_idset_destroy(seen_set);
	recs_idset_destroy(relevant_set);
	if (distinct_gains != NULL)
		pfree(distinct_gains);
	return true;
}

/* Datums of an int8 or float4 array as a plain C array. */
static int64 *
DatumsToInt64(const Datum *datums, int n)
{
	int64	   *result = palloc(mul_size(sizeof(int64), Max(n, 1)));

	for (int i = 0; i < n; i++)
		result[i] = DatumGetInt64(datums[i]);
	return result;
}

/*
 * Validate the SQL arguments, then RecsComputeTopKStats.  relevance is
 * NULL for binary relevance.  Every check comes first, so an empty relevant
 * list never hides one.
 */
static bool
EvaluateTopK(ArrayType *recommended, ArrayType *relevant, int32 k,
			 ArrayType *relevance, bool want_idcg, RecsTopKStats *stats)
{
	int			nrec;
	int			nrel;
	Datum	   *rec_datums;
	Datum	   *rel_datums;
	int64	   *rec_ids;
	int64	   *rel_ids;
	float4	   *grades = NULL;
	double		max_grade = 0.0;
	bool		defined;

	CheckK(k);
	rec_datums = DeconstructMetricArray(recommended, INT8OID, "recommended", &nrec);
	rel_datums = DeconstructMetricArray(relevant, INT8OID, "relevant", &nrel);
	if (relevance != NULL)
	{
		int			ngrades;
		Datum	   *grade_datums;

		grade_datums = DeconstructMetricArray(relevance, FLOAT4OID, "relevance",
											  &ngrades);
		max_grade = CheckRelevance(grade_datums, ngrades, nrel);
		grades = palloc(mul_size(sizeof(float4), Max(ngrades, 1)));
		for (int i = 0; i < ngrades; i++)
			grades[i] = DatumGetFloat4(grade_datums[i]);
		pfree(grade_datums);
	}
	rec_ids = DatumsToInt64(rec_datums, nrec);
	rel_ids = DatumsToInt64(rel_datums, nrel);
	pfree(rec_datums);
	pfree(rel_datums);

	defined = RecsComputeTopKStats(rec_ids, nrec, rel_ids, grades, nrel,
								   max_grade, k, want_idcg, stats);

	if (grades != NULL)
		pfree(grades);
	pfree(rel_ids);
	pfree(rec_ids);
	return defined;
}

/*
 * EvaluateTopK for the STRICT, binary-relevance functions, whose arguments
 * are (recommended bigint[], relevant bigint[], k integer).
 */
static bool
EvaluateArgs(FunctionCallInfo fcinfo, RecsTopKStats *stats)
{
	ArrayType  *recommended = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *relevant = PG_GETARG_ARRAYTYPE_P(1);
	int32		k = PG_GETARG_INT32(2);
	bool		defined;

	defined = EvaluateTopK(recommended, relevant, k, NULL, false, stats);

	PG_FREE_IF_COPY(recommended, 0);
	PG_FREE_IF_COPY(relevant, 1);
	return defined;
}

/* hits in the top k / k */
Datum
recs_precision_at_k(PG_FUNCTION_ARGS)
{
	RecsTopKStats stats;

	if (!EvaluateArgs(fcinfo, &stats))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(RecsPrecisionAtK(&stats));
}

/* hits in the top k / number of distinct relevant items */
Datum
recs_recall_at_k(PG_FUNCTION_ARGS)
{
	RecsTopKStats stats;

	if (!EvaluateArgs(fcinfo, &stats))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(RecsRecallAtK(&stats));
}

/* 1 if any of the top k is relevant, else 0 */
Datum
recs_hit_rate_at_k(PG_FUNCTION_ARGS)
{
	RecsTopKStats stats;

	if (!EvaluateArgs(fcinfo, &stats))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(RecsHitRateAtK(&stats));
}

/* 1 / rank of the first relevant item in the top k, else 0 */
Datum
recs_mrr_at_k(PG_FUNCTION_ARGS)
{
	RecsTopKStats stats;

	if (!EvaluateArgs(fcinfo, &stats))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(RecsReciprocalRankAtK(&stats));
}

/* average precision: sum of precision@i over hit ranks / min(m, k) */
Datum
recs_map_at_k(PG_FUNCTION_ARGS)
{
	RecsTopKStats stats;

	if (!EvaluateArgs(fcinfo, &stats))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(RecsAveragePrecisionAtK(&stats));
}

/*
 * recs_ndcg_at_k(recommended, relevant, k, relevance real[] DEFAULT NULL)
 *
 * Not STRICT, because a NULL relevance means binary relevance; a NULL in
 * any of the other arguments gives NULL, as STRICT would.  When every
 * relevant item has grade 0 the ideal DCG is 0 and NDCG is undefined: NULL,
 * like an empty relevant list.
 */
Datum
recs_ndcg_at_k(PG_FUNCTION_ARGS)
{
	ArrayType  *recommended;
	ArrayType  *relevant;
	ArrayType  *relevance = NULL;
	int32		k;
	RecsTopKStats stats;
	bool		defined;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	recommended = PG_GETARG_ARRAYTYPE_P(0);
	relevant = PG_GETARG_ARRAYTYPE_P(1);
	k = PG_GETARG_INT32(2);
	if (!PG_ARGISNULL(3))
		relevance = PG_GETARG_ARRAYTYPE_P(3);

	defined = EvaluateTopK(recommended, relevant, k, relevance, true, &stats);

	PG_FREE_IF_COPY(recommended, 0);
	PG_FREE_IF_COPY(relevant, 1);
	if (relevance != NULL)
		PG_FREE_IF_COPY(relevance, 3);

	if (!defined || stats.idcg <= 0.0)
		PG_RETURN_NULL();

	/* DCG <= IDCG in exact arithmetic; keep rounding from exceeding 1 */
	PG_RETURN_FLOAT8(RecsNdcgAtK(&stats));
}
