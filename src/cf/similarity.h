/*
 * similarity.h
 *		Similarity of sparse rating vectors, pair by pair and all-pairs top-N.
 *
 * A vector is one row of a RecsInteractions matrix: an item's ratings by
 * users (item_knn) or a user's ratings of items (user_knn).  Its entries
 * are the (row, column) pairs present in the matrix, whatever their value;
 * a missing entry is "not rated".  The formulas live in one place,
 * RecsSimilarityFromOverlap(), and are fed by two producers of the same
 * sums: RecsPairSimilarity() for one pair (the SQL helpers) and
 * RecsNearestRows() for every pair at once (training).
 *
 * With x = a's entry and y = b's entry after centring (RecsCentred), and
 * sums running over the columns both vectors have:
 *   cosine           sum(a*b) / (|a| * |b|), norms over ALL entries of
 *                    each vector (missing entries are zeros), no centring;
 *   adjusted_cosine  sum(x*y) / (sqrt(sum x^2) * sqrt(sum y^2)) with each
 *                    entry minus its COLUMN's mean (for items: the user's
 *                    mean over all the user's items);
 *   pearson          the same with each entry minus its own VECTOR's mean
 *                    over all its entries (for users: the classic
 *                    formulation, mean_u over all of u's items, not only
 *                    the co-rated ones);
 *   jaccard          |A and B| / |A or B| over the sets of entries.
 * A pair with no column in common, or whose denominator is zero (e.g. a
 * constant vector under pearson), has no similarity.
 */
#ifndef RECS_SIMILARITY_H
#define RECS_SIMILARITY_H

#include "postgres.h"

#include "cf/interactions.h"
#include "registry/artifact.h"

typedef enum RecsSimilarity
{
	RECS_SIM_COSINE,
	RECS_SIM_ADJUSTED_COSINE,
	RECS_SIM_PEARSON,
	RECS_SIM_JACCARD
} RecsSimilarity;

/* n entries with strictly ascending column indices */
typedef struct RecsSparseVector
{
	int32		n;
	const int32 *idx;
	const float4 *val;
} RecsSparseVector;

/* what the formulas need to know about one vector on its own */
typedef struct RecsVectorSummary
{
	int32		n;				/* entries */
	float8		mean;			/* mean of its entries */
	float8		norm;			/* Euclidean norm of the raw entries */
} RecsVectorSummary;

/* sums over the columns two vectors share, of centred entries x and y */
typedef struct RecsOverlap
{
	float8		xy;
	float8		xx;
	float8		yy;
	int32		n;				/* shared columns */
} RecsOverlap;

/* options of the all-pairs computation */
typedef struct RecsNeighbourOptions
{
	RecsSimilarity method;
	int32		neighbours;		/* kept per row, >= 1 */
	int32		min_overlap;	/* fewer shared columns: no similarity */
	float8		shrinkage;		/* sim * n / (n + shrinkage); 0: off */
	float8		significance;	/* sim * min(n, s) / s; 0: off */
} RecsNeighbourOptions;

/*
 * Each row's nearest other rows, best first (ties by lower index), as CSR:
 * the neighbours of row r are idx/sim[ptr[r] .. ptr[r+1]-1].  Only positive
 * similarities are kept.
 */
typedef struct RecsNeighbours
{
	int32		n_rows;
	int64	   *ptr;			/* [n_rows + 1] */
	int32	   *idx;			/* [ptr[n_rows]] */
	float8	   *sim;			/* [ptr[n_rows]] */
} RecsNeighbours;

/*
 * An entry r of a vector with mean vector_mean, in a column whose mean is
 * column_mean, centred as method wants.
 */
static inline float8
RecsCentred(RecsSimilarity method, float8 r, float8 vector_mean, float8 column_mean)
{
	switch (method)
	{
		case RECS_SIM_PEARSON:
			return r - vector_mean;
		case RECS_SIM_ADJUSTED_COSINE:
			return r - column_mean;
		default:
			return r;
	}
}

extern bool RecsParseSimilarity(const char *name, RecsSimilarity *method);
extern void RecsSummariseVector(const RecsSparseVector *v, RecsVectorSummary *s);
extern bool RecsSimilarityFromOverlap(RecsSimilarity method, const RecsOverlap *o,
									  const RecsVectorSummary *a,
									  const RecsVectorSummary *b, float8 *sim);
extern bool RecsPairSimilarity(RecsSimilarity method, const RecsSparseVector *a,
							   const RecsSparseVector *b, const float8 *column_means,
							   float8 *sim);
extern float8 RecsWeightSimilarity(const RecsNeighbourOptions *opt, float8 sim,
								   int32 n_common);

extern RecsNeighbours *RecsNearestRows(const RecsInteractions *rows,
									   const RecsInteractions *cols,
									   const RecsNeighbourOptions *opt);
extern void RecsPutNeighbours(RecsArtifactWriter *w, const char *prefix,
							  const RecsNeighbours *nb);
extern RecsNeighbours *RecsGetNeighbours(RecsArtifactReader *r, const char *prefix,
										 int32 n_rows);

/* position of (row, col) in m's arrays, or -1 when m has no such entry */
extern int64 RecsFindEntry(const RecsInteractions *m, int32 row, int32 col);

/* means of each row / column of m over its entries (0 when empty) */
extern float8 *RecsRowMeans(const RecsInteractions *m);
extern float8 *RecsColumnMeans(const RecsInteractions *m);

#endif							/* RECS_SIMILARITY_H */
