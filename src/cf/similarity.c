/*
 * similarity.c
 *		Similarity of sparse rating vectors (formulas in similarity.h), the
 *		all-pairs top-N neighbours that item_knn and user_knn train, and the
 *		SQL helpers recs_similarity and recs_item_similarity.
 *
 * The all-pairs computation never visits a pair of rows that share no
 * column: for each row r it walks r's columns and, through the transposed
 * matrix, every other row present in those columns, accumulating the sums
 * of RecsOverlap in one dense array indexed by row that is reused (and
 * cleared only where touched) from one r to the next.  The cost is the sum
 * over columns of their length squared, not n_rows^2.  Each row's best
 * neighbours are kept in a bounded heap.
 *
 * The SQL helpers compute the raw similarity of one pair from a model's
 * training matrix: any model will do, since every loaded model has it.  They
 * apply none of a model's min_overlap, shrinkage or significance.
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "cf/similarity.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(recs_similarity);
PG_FUNCTION_INFO_V1(recs_item_similarity);

typedef struct Candidate
{
	int32		idx;
	float8		sim;
} Candidate;

/* best first: higher similarity, then lower index */
static inline int
CompareCandidates(const Candidate *a, const Candidate *b)
{
	if (a->sim != b->sim)
		return a->sim > b->sim ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

#define ST_SORT sort_candidates
#define ST_ELEMENT_TYPE Candidate
#define ST_COMPARE(a, b) CompareCandidates(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static const struct
{
	const char *name;
	RecsSimilarity method;
}			similarity_names[] = {
	{"cosine", RECS_SIM_COSINE},
	{"adjusted_cosine", RECS_SIM_ADJUSTED_COSINE},
	{"pearson", RECS_SIM_PEARSON},
	{"jaccard", RECS_SIM_JACCARD},
};

static void *
HugeAlloc(Size count, Size size)
{
	return palloc_extended(mul_size(Max(count, 1), size), MCXT_ALLOC_HUGE);
}

bool
RecsParseSimilarity(const char *name, RecsSimilarity *method)
{
	for (size_t i = 0; i < lengthof(similarity_names); i++)
		if (strcmp(similarity_names[i].name, name) == 0)
		{
			*method = similarity_names[i].method;
			return true;
		}
	return false;
}

static RecsSparseVector
RowVector(const RecsInteractions *m, int32 row)
{
	RecsSparseVector v;

	v.n = (int32) (m->row_ptr[row + 1] - m->row_ptr[row]);
	v.idx = m->col_idx + m->row_ptr[row];
	v.val = m->values + m->row_ptr[row];
	return v;
}

void
RecsSummariseVector(const RecsSparseVector *v, RecsVectorSummary *s)
{
	float8		sum = 0.0;
	float8		squares = 0.0;

	for (int32 k = 0; k < v->n; k++)
	{
		sum += v->val[k];
		squares += (float8) v->val[k] * v->val[k];
	}
	s->n = v->n;
	s->mean = v->n > 0 ? sum / v->n : 0.0;
	s->norm = sqrt(squares);
}

/*
 * The similarity of a and b from the sums over their shared columns; false
 * when there is none (no shared column, or a zero denominator).  This is
 * the only place the formulas are written.
 */
bool
RecsSimilarityFromOverlap(RecsSimilarity method, const RecsOverlap *o,
						  const RecsVectorSummary *a, const RecsVectorSummary *b,
						  float8 *sim)
{
	float8		denominator;

	if (o->n <= 0)
		return false;
	switch (method)
	{
		case RECS_SIM_COSINE:
			denominator = a->norm * b->norm;
			break;
		case RECS_SIM_ADJUSTED_COSINE:
		case RECS_SIM_PEARSON:
			denominator = sqrt(o->xx) * sqrt(o->yy);
			break;
		case RECS_SIM_JACCARD:
			*sim = (float8) o->n / (float8) (a->n + b->n - o->n);
			return true;
		default:
			elog(ERROR, "unknown similarity method %d", (int) method);
	}
	if (!(denominator > 0.0))
		return false;
	/* rounding can step just outside [-1, 1] */
	*sim = Max(-1.0, Min(1.0, o->xy / denominator));
	return true;
}

/*
 * Similarity of two vectors whose indices are columns of one matrix;
 * column_means (indexed by column) is read only for adjusted_cosine.
 */
bool
RecsPairSimilarity(RecsSimilarity method, const RecsSparseVector *a,
				   const RecsSparseVector *b, const float8 *column_means,
				   float8 *sim)
{
	RecsVectorSummary sa;
	RecsVectorSummary sb;
	RecsOverlap o = {0.0, 0.0, 0.0, 0};
	int32		i = 0;
	int32		j = 0;

	RecsSummariseVector(a, &sa);
	RecsSummariseVector(b, &sb);
	while (i < a->n && j < b->n)
	{
		if (a->idx[i] < b->idx[j])
			i++;
		else if (a->idx[i] > b->idx[j])
			j++;
		else
		{
			float8		column_mean = column_means ? column_means[a->idx[i]] : 0.0;
			float8		x = RecsCentred(method, a->val[i], sa.mean, column_mean);
			float8		y = RecsCentred(method, b->val[j], sb.mean, column_mean);

			o.xy += x * y;
			o.xx += x * x;
			o.yy += y * y;
			o.n++;
			i++;
			j++;
		}
	}
	return RecsSimilarityFromOverlap(method, &o, &sa, &sb, sim);
}

/*
 * A model's damping of a similarity built on n_common shared columns:
 * shrinkage toward zero, sim * n / (n + shrinkage), and significance
 * weighting, sim * min(n, significance) / significance.
 */
float8
RecsWeightSimilarity(const RecsNeighbourOptions *opt, float8 sim, int32 n_common)
{
	if (opt->shrinkage > 0.0)
		sim *= n_common / (n_common + opt->shrinkage);
	if (opt->significance > 0.0)
		sim *= Min((float8) n_common, opt->significance) / opt->significance;
	return sim;
}

/* position of col in the ascending col_idx[lo .. hi-1], or -1 */
static int64
FindInRow(const int32 *col_idx, int64 lo, int64 hi, int32 col)
{
	hi--;
	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (col_idx[mid] < col)
			lo = mid + 1;
		else if (col_idx[mid] > col)
			hi = mid - 1;
		else
			return mid;
	}
	return -1;
}

int64
RecsFindEntry(const RecsInteractions *m, int32 row, int32 col)
{
	return FindInRow(m->col_idx, m->row_ptr[row], m->row_ptr[row + 1], col);
}

float8 *
RecsRowMeans(const RecsInteractions *m)
{
	float8	   *means = HugeAlloc(m->n_users, sizeof(float8));

	for (int32 r = 0; r < m->n_users; r++)
	{
		RecsSparseVector v = RowVector(m, r);
		RecsVectorSummary s;

		RecsSummariseVector(&v, &s);
		means[r] = s.mean;
	}
	return means;
}

float8 *
RecsColumnMeans(const RecsInteractions *m)
{
	float8	   *means = HugeAlloc(m->n_items, sizeof(float8));
	int64	   *counts = HugeAlloc(m->n_items, sizeof(int64));

	memset(means, 0, sizeof(float8) * m->n_items);
	memset(counts, 0, sizeof(int64) * m->n_items);
	for (int64 p = 0; p < m->nnz; p++)
	{
		means[m->col_idx[p]] += m->values[p];
		counts[m->col_idx[p]]++;
	}
	for (int32 c = 0; c < m->n_items; c++)
		if (counts[c] > 0)
			means[c] /= counts[c];
	pfree(counts);
	return means;
}

/* true when candidate a ranks below b */
static inline bool
Worse(const Candidate *a, const Candidate *b)
{
	return CompareCandidates(a, b) > 0;
}

/*
 * Offer c to the bounded min-heap heap[0..*n-1] of capacity k, whose root
 * is the worst entry kept.
 */
static void
HeapOffer(Candidate *heap, int32 *n, int32 k, Candidate c)
{
	int32		i;

	if (*n < k)
	{
		i = (*n)++;
		while (i > 0 && Worse(&c, &heap[(i - 1) / 2]))
		{
			heap[i] = heap[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		heap[i] = c;
		return;
	}
	if (k == 0 || !Worse(&heap[0], &c))
		return;
	i = 0;
	for (;;)
	{
		int32		worst = i;
		int32		left = 2 * i + 1;
		int32		right = left + 1;
		const Candidate *w = &c;

		if (left < *n && Worse(&heap[left], w))
		{
			worst = left;
			w = &heap[left];
		}
		if (right < *n && Worse(&heap[right], w))
			worst = right;
		if (worst == i)
			break;
		heap[i] = heap[worst];
		i = worst;
	}
	heap[i] = c;
}

/*
 * For every row of rows, its opt->neighbours most similar other rows.  cols
 * is the transpose of rows.  Allocated in CurrentMemoryContext.
 */
RecsNeighbours *
RecsNearestRows(const RecsInteractions *rows, const RecsInteractions *cols,
				const RecsNeighbourOptions *opt)
{
	int32		n_rows = rows->n_users;
	int32		keep = Min(opt->neighbours, Max(n_rows - 1, 0));
	RecsSimilarity method = opt->method;
	RecsVectorSummary *summary = HugeAlloc(n_rows, sizeof(RecsVectorSummary));
	float8	   *column_means = NULL;
	float8	   *centred = HugeAlloc(cols->nnz, sizeof(float8));
	RecsOverlap *acc = HugeAlloc(n_rows, sizeof(RecsOverlap));
	int32	   *touched = HugeAlloc(n_rows, sizeof(int32));
	Candidate  *heap = HugeAlloc(keep, sizeof(Candidate));
	RecsNeighbours *nb = palloc0(sizeof(RecsNeighbours));
	int64		capacity = Max(n_rows, 1024);
	int64		used = 0;

	for (int32 r = 0; r < n_rows; r++)
	{
		RecsSparseVector v = RowVector(rows, r);

		RecsSummariseVector(&v, &summary[r]);
	}
	if (method == RECS_SIM_ADJUSTED_COSINE)
		column_means = RecsRowMeans(cols);

	/* the entries of the transpose, centred once */
	for (int32 c = 0; c < cols->n_users; c++)
		for (int64 q = cols->row_ptr[c]; q < cols->row_ptr[c + 1]; q++)
			centred[q] = RecsCentred(method, cols->values[q],
									 summary[cols->col_idx[q]].mean,
									 column_means ? column_means[c] : 0.0);

	memset(acc, 0, sizeof(RecsOverlap) * n_rows);
	nb->n_rows = n_rows;
	nb->ptr = HugeAlloc((Size) n_rows + 1, sizeof(int64));
	nb->idx = HugeAlloc(capacity, sizeof(int32));
	nb->sim = HugeAlloc(capacity, sizeof(float8));
	nb->ptr[0] = 0;

	for (int32 r = 0; r < n_rows; r++)
	{
		int32		n_touched = 0;
		int32		n_kept = 0;

		CHECK_FOR_INTERRUPTS();

		/* sums over the columns r shares with each other row */
		for (int64 p = rows->row_ptr[r]; p < rows->row_ptr[r + 1]; p++)
		{
			int32		c = rows->col_idx[p];
			float8		x = RecsCentred(method, rows->values[p], summary[r].mean,
										column_means ? column_means[c] : 0.0);
			float8		x2 = x * x;

			for (int64 q = cols->row_ptr[c]; q < cols->row_ptr[c + 1]; q++)
			{
				int32		s = cols->col_idx[q];
				float8		y = centred[q];
				RecsOverlap *o = &acc[s];

				if (o->n == 0)
					touched[n_touched++] = s;
				o->n++;
				o->xy += x * y;
				o->xx += x2;
				o->yy += y * y;
			}
		}

		/* similarities, best kept; clear what was touched */
		for (int32 t = 0; t < n_touched; t++)
		{
			int32		s = touched[t];
			RecsOverlap *o = &acc[s];
			float8		sim;

			if (s != r && o->n >= opt->min_overlap &&
				RecsSimilarityFromOverlap(method, o, &summary[r], &summary[s], &sim))
			{
				Candidate	c;

				c.idx = s;
				c.sim = RecsWeightSimilarity(opt, sim, o->n);
				if (c.sim > 0.0)
					HeapOffer(heap, &n_kept, keep, c);
			}
			o->n = 0;
			o->xy = o->xx = o->yy = 0.0;
		}

		sort_candidates(heap, n_kept);
		if (used + n_kept > capacity)
		{
			while (used + n_kept > capacity)
				capacity *= 2;
			nb->idx = repalloc_huge(nb->idx, mul_size(capacity, sizeof(int32)));
			nb->sim = repalloc_huge(nb->sim, mul_size(capacity, sizeof(float8)));
		}
		for (int32 t = 0; t < n_kept; t++)
		{
			nb->idx[used] = heap[t].idx;
			nb->sim[used] = heap[t].sim;
			used++;
		}
		nb->ptr[r + 1] = used;
	}

	pfree(summary);
	if (column_means)
		pfree(column_means);
	pfree(centred);
	pfree(acc);
	pfree(touched);
	pfree(heap);
	return nb;
}

void
RecsPutNeighbours(RecsArtifactWriter *w, const char *prefix, const RecsNeighbours *nb)
{
	int64		n = nb->ptr[nb->n_rows];

	RecsArtifactPut(w, psprintf("%s.ptr", prefix), nb->ptr, (int64) nb->n_rows + 1,
					sizeof(int64));
	RecsArtifactPut(w, psprintf("%s.idx", prefix), nb->idx, n, sizeof(int32));
	RecsArtifactPut(w, psprintf("%s.sim", prefix), nb->sim, n, sizeof(float8));
}

static void
CorruptNeighbours(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model artifact is corrupted"),
			 errdetail("%s", detail),
			 errhint("Retrain the model with recs_train().")));
}

/*
 * Read back what RecsPutNeighbours wrote for n_rows rows, checking every
 * offset and index so that a damaged artifact is an error, not a crash.
 */
RecsNeighbours *
RecsGetNeighbours(RecsArtifactReader *r, const char *prefix, int32 n_rows)
{
	RecsNeighbours *nb = palloc0(sizeof(RecsNeighbours));
	int64		n_ptr;
	int64		n_idx;
	int64		n_sim;

	nb->n_rows = n_rows;
	nb->ptr = RecsArtifactGet(r, psprintf("%s.ptr", prefix), &n_ptr, sizeof(int64));
	nb->idx = RecsArtifactGet(r, psprintf("%s.idx", prefix), &n_idx, sizeof(int32));
	nb->sim = RecsArtifactGet(r, psprintf("%s.sim", prefix), &n_sim, sizeof(float8));

	if (n_ptr != (int64) n_rows + 1 || nb->ptr[0] != 0 ||
		nb->ptr[n_rows] != n_idx || n_idx != n_sim)
		CorruptNeighbours(psprintf("The neighbour lists do not fit %d rows.", n_rows));
	for (int32 i = 0; i < n_rows; i++)
		if (nb->ptr[i + 1] < nb->ptr[i])
			CorruptNeighbours("The neighbour list offsets decrease.");
	for (int64 p = 0; p < n_idx; p++)
	{
		if (nb->idx[p] < 0 || nb->idx[p] >= n_rows)
			CorruptNeighbours("A neighbour index is out of range.");
		if (isnan(nb->sim[p]))
			CorruptNeighbours("A neighbour similarity is not a number.");
	}
	return nb;
}

/*
 * SQL helpers
 */

static RecsSimilarity
MethodArg(text *arg, bool for_items)
{
	char	   *name = text_to_cstring(arg);
	RecsSimilarity method;

	if (!RecsParseSimilarity(name, &method) ||
		(!for_items && method != RECS_SIM_PEARSON && method != RECS_SIM_COSINE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %s similarity method \"%s\"",
						for_items ? "item" : "user", name),
				 errhint("Methods: %s.", for_items ?
						 "cosine, adjusted_cosine, pearson, jaccard" :
						 "pearson, cosine")));
	return method;
}

/* a growable sparse vector, for gathering an item's column of ratings */
typedef struct GrowVector
{
	int32		n;
	int32		capacity;
	int32	   *idx;
	float4	   *val;
} GrowVector;

static void
GrowAppend(GrowVector *g, int32 idx, float4 val)
{
	if (g->n == g->capacity)
	{
		g->capacity = g->capacity == 0 ? 64 : g->capacity * 2;
		g->idx = g->idx ? repalloc_huge(g->idx, sizeof(int32) * (Size) g->capacity) :
			HugeAlloc(g->capacity, sizeof(int32));
		g->val = g->val ? repalloc_huge(g->val, sizeof(float4) * (Size) g->capacity) :
			HugeAlloc(g->capacity, sizeof(float4));
	}
	g->idx[g->n] = idx;
	g->val[g->n] = val;
	g->n++;
}

/*
 * recs_similarity(user_a bigint, user_b bigint, method text, model text):
 * pearson or cosine similarity of two users' rating vectors in the model's
 * training matrix; NULL when a user is unknown to the model, when they have
 * rated no item in common, or when the similarity is undefined.
 */
Datum
recs_similarity(PG_FUNCTION_ARGS)
{
	RecsSimilarity method;
	char	   *name;
	RecsLoadedModel *model;
	const RecsInteractions *data;
	int32		a;
	int32		b;
	float8		sim = 0.0;
	bool		found = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_a, user_b and method must not be NULL")));
	method = MethodArg(PG_GETARG_TEXT_PP(2), false);
	name = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	SPI_connect();
	model = RecsGetModel(name);
	data = model->data;
	a = RecsUserIndex(data, PG_GETARG_INT64(0));
	b = RecsUserIndex(data, PG_GETARG_INT64(1));
	if (a >= 0 && b >= 0)
	{
		RecsSparseVector va = RowVector(data, a);
		RecsSparseVector vb = RowVector(data, b);

		found = RecsPairSimilarity(method, &va, &vb, NULL, &sim);
	}
	SPI_finish();

	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sim);
}

/*
 * recs_item_similarity(item_a bigint, item_b bigint, method text, model
 * text): cosine, adjusted_cosine, pearson or jaccard similarity of two
 * items' rating vectors (over users) in the model's training matrix; NULL
 * as for recs_similarity.  The matrix is stored by user, so the two item
 * vectors are gathered with a binary search in each user's row.
 */
Datum
recs_item_similarity(PG_FUNCTION_ARGS)
{
	RecsSimilarity method;
	char	   *name;
	RecsLoadedModel *model;
	const RecsInteractions *data;
	int32		a;
	int32		b;
	float8		sim = 0.0;
	bool		found = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item_a, item_b and method must not be NULL")));
	method = MethodArg(PG_GETARG_TEXT_PP(2), true);
	name = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	SPI_connect();
	model = RecsGetModel(name);
	data = model->data;
	a = RecsItemIndex(data, PG_GETARG_INT64(0));
	b = RecsItemIndex(data, PG_GETARG_INT64(1));
	if (a >= 0 && b >= 0)
	{
		GrowVector ga = {0, 0, NULL, NULL};
		GrowVector gb = {0, 0, NULL, NULL};
		float8	   *user_means = NULL;
		RecsSparseVector va;
		RecsSparseVector vb;

		/* only the users who rated both are read: their means suffice */
		if (method == RECS_SIM_ADJUSTED_COSINE)
		{
			user_means = HugeAlloc(data->n_users, sizeof(float8));
			memset(user_means, 0, sizeof(float8) * data->n_users);
		}
		for (int32 u = 0; u < data->n_users; u++)
		{
			int64		lo = data->row_ptr[u];
			int64		hi = data->row_ptr[u + 1];
			int64		pa = FindInRow(data->col_idx, lo, hi, a);
			int64		pb = FindInRow(data->col_idx, lo, hi, b);

			if (pa >= 0)
				GrowAppend(&ga, u, data->values[pa]);
			if (pb >= 0)
				GrowAppend(&gb, u, data->values[pb]);
			if (user_means && pa >= 0 && pb >= 0)
			{
				RecsSparseVector row = RowVector(data, u);
				RecsVectorSummary s;

				RecsSummariseVector(&row, &s);
				user_means[u] = s.mean;
			}
			if ((u & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		va.n = ga.n;
		va.idx = ga.idx;
		va.val = ga.val;
		vb.n = gb.n;
		vb.idx = gb.idx;
		vb.val = gb.val;
		found = RecsPairSimilarity(method, &va, &vb, user_means, &sim);
	}
	SPI_finish();

	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sim);
}
