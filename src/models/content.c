/*
 * content.c
 *		The "content" algorithm: recommend items whose features resemble
 *		those of the items a user interacted with.
 *
 * Params:
 *   "item_table":      required; the table or view of item features, named
 *                      as for regclass input (optionally schema-qualified);
 *                      it is also the model's catalogue, so items nobody
 *                      has used yet are scored and have similar items;
 *   "item_id":         its id column (default "item_id");
 *   "features":        required, a non-empty object naming feature columns:
 *                      {"<column>": {"type": <type>, "weight": w, "config": c}}
 *                      or the short form {"<column>": "<type>"}; w >= 0
 *                      (default 1, not all 0); types:
 *       "categorical"  any scalar column, one dim per distinct value
 *                      (compared as text), named "<column>=<value>";
 *       "tags"         a text[] column, one dim per distinct tag,
 *                      "<column>=<tag>";
 *       "text"         free text, TF-IDF over the lexemes of
 *                      to_tsvector(c, column), c the text search
 *                      configuration "config" (default "english"), dims
 *                      "<column>:<lexeme>": with N the number of items
 *                      whose text is not NULL and df the number of those
 *                      whose tsvector has the lexeme,
 *                          tfidf(item, lexeme) = tf * ln(N / df),
 *                      tf being the number of positions of the lexeme in
 *                      the item's tsvector (a lexeme every item has weighs
 *                      0);
 *       "numeric"      a number column, one dim "<column>": its z-score
 *                      (x - mean) / sd over the items that have a value
 *                      (population sd; missing: 0; sd 0: 0);
 *       "embedding"    an embedding column (a vector computed elsewhere,
 *                      say from images or text), dims "<column>[1..d]";
 *                      all rows must have the same dimension;
 *   "half_life_days":  optional time decay of profile weights (needs a time
 *                      column): an interaction t days older than the user's
 *                      latest weighs 2^(-t / half_life_days) as much;
 *   "user_table":      optional table or view of user features, for users
 *                      with no interactions at all (cold start);
 *   "user_id":         its id column (default "user_id");
 *   "user_features":   like "features", types "categorical" and "numeric"
 *                      only (needed with "user_table", and the other way
 *                      round);
 *   "user_neighbours": how many trained users with the most similar user
 *                      features a new user borrows a profile from
 *                      (default 50).
 *
 * Item vectors: each column's block of dims is L2-normalised per item and
 * multiplied by its weight, so with cosine scoring a weight is the column's
 * share of the similarity; a numeric column is one number, which
 * normalising would reduce to its sign, so its block is weight * z
 * (content_features.c builds the vectors).  Items of the catalogue with no
 * features row (or only NULLs) have an empty vector.  User-feature vectors
 * are built the same way, one row per user.
 *
 * Serving:
 *   profile(u)       = sum_i w_ui x_i / sum_i w_ui over u's items with a
 *                      positive weight w_ui (the summed interaction weight,
 *                      decayed by "half_life_days");
 *   score_user(u)[j] = cos(profile(u), x_j) for every item j with a
 *                      vector (items without one stay unscored, so the
 *                      popularity fallback fills them); a user whose items
 *                      have no features gets no scores at all;
 *   score_history    = the same from a live history (no time decay);
 *   similar items    = cos(x_i, x_j), including catalogue items nobody has
 *                      used;
 *   cold user        = the user's user_table row is vectorised, the
 *                      "user_neighbours" trained users with the highest
 *                      positive cosine of user features are found, and
 *                      their unit-length profiles averaged, weighted by
 *                      that cosine; items are scored against the average;
 *   explain(u, j)    = the dims d where profile(u)_d x_jd > 0, heaviest
 *                      first, weight profile(u)_d x_jd / (|profile(u)| |x_j|)
 *                      (so all such terms sum to the score), evidence the
 *                      user's item contributing most to profile(u)_d.
 * Scoring a user is one pass over the item vectors (CSR) against a dense
 * profile: MovieLens 100K with genres (1682 items, 19 dims) takes a few
 * microseconds.
 *
 * Artifact sections, after the common ones:
 *   content.dims    int32[1]          D, dims of item vectors
 *   content.iptr    int64[n_items+1]  CSR of item vectors
 *   content.iidx    int32[]
 *   content.ival    float4[]
 *   content.inames  char[]            the D dim names, each NUL-ended
 *   content.udims   int32[1]          U, dims of user vectors (0: none)
 *   content.uptr    int64[n_users+1]  CSR of user vectors (U > 0 only,
 *   content.uidx    int32[]            like the next four)
 *   content.uval    float4[]
 *   content.unames  char[]
 *   content.ucenter float8[U]         new user: numeric dims (x - center)
 *   content.uscale  float8[U]          * scale, categorical dims scale
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "models/algorithm.h"
#include "models/content.h"
#include "serve/topk_heap.h"

#define CONTENT_USER_SOURCE "content_user_features"

static const char *const content_params[] = {
	"item_table", "item_id", "features", "half_life_days",
	"user_table", "user_id", "user_features", "user_neighbours", NULL
};

/*
 * A dense vector over D dims that remembers which dims it touched, so it
 * can be cleared (and its norm taken) at the cost of those dims alone.
 */
typedef struct DenseVector
{
	float8	   *x;				/* [D], all zero when cleared */
	bool	   *touched;		/* [D] */
	int32	   *list;			/* [D] */
	int32		n;
} DenseVector;

typedef struct ContentState
{
	ContentVectors items;
	float8	   *item_norm;		/* [n_items] |x_j|, 0 for an empty vector */
	ContentVectors users;		/* n_dims 0: no user features */
	float8	   *user_norm;		/* [n_users] */
	double		half_life_days; /* 0: no decay */
	int32		user_neighbours;
	ContentSpec user_spec;		/* valid when users.n_dims > 0 */
	/*
	 * Scratch profile, allocated once with the model and cleared after
	 * every use; nothing between filling and clearing can raise an ERROR.
	 */
	DenseVector profile;
} ContentState;

static bool
HasUserFeatures(Jsonb *params)
{
	char	   *s;

	return RecsParamString(params, "user_table", &s) ||
		RecsParamObject(params, "user_features") != NULL;
}

static double
ReadHalfLife(Jsonb *params)
{
	double		value = 0.0;

	if (RecsParamNumber(params, "half_life_days", &value) && value <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"half_life_days\" must be positive, not %g", value)));
	return value;
}

static void
ContentCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	ContentSpec spec;
	char	   *s;

	RecsCheckParamKeys(params, "content", content_params);
	ContentParseSpec(params, "item_table", "item_id", "item_id", "features",
					 false, true, &spec);
	if (ReadHalfLife(params) > 0 && !has_time)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"half_life_days\" needs a time column"),
				 errhint("Pass time_column to recs_create_model.")));
	if (HasUserFeatures(params))
	{
		ContentParseSpec(params, "user_table", "user_id", "user_id", "user_features",
						 true, true, &spec);
		(void) RecsParamCount(params, "user_neighbours", 50);
	}
	else if (RecsParamString(params, "user_id", &s) ||
			 RecsParamCount(params, "user_neighbours", 0) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameters \"user_id\" and \"user_neighbours\" need \"user_table\" and \"user_features\"")));
}

/* ---- artifact ---- */

static void
PutVectors(RecsArtifactWriter *out, const ContentVectors *v, const char *ptr,
		   const char *idx, const char *val, const char *names)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int32 d = 0; d < v->n_dims; d++)
		appendBinaryStringInfo(&buf, v->dim_names[d], strlen(v->dim_names[d]) + 1);
	RecsArtifactPut(out, ptr, v->ptr, v->n_rows + 1, sizeof(int64));
	RecsArtifactPut(out, idx, v->idx, v->ptr[v->n_rows], sizeof(int32));
	RecsArtifactPut(out, val, v->val, v->ptr[v->n_rows], sizeof(float4));
	RecsArtifactPut(out, names, buf.data, buf.len, 1);
	pfree(buf.data);
}

static void
GetVectors(RecsArtifactReader *in, ContentVectors *v, int32 n_rows, int32 n_dims,
		   const char *ptr, const char *idx, const char *val, const char *names)
{
	int64		nnz;
	int64		len;
	char	   *s;
	int32		d = 0;
	bool		ok;

	v->n_rows = n_rows;
	v->n_dims = n_dims;
	v->ptr = RecsArtifactGetExact(in, ptr, n_rows + 1, sizeof(int64));
	nnz = v->ptr[n_rows];
	v->idx = RecsArtifactGetExact(in, idx, nnz, sizeof(int32));
	v->val = RecsArtifactGetExact(in, val, nnz, sizeof(float4));
	s = RecsArtifactGet(in, names, &len, 1);
	v->dim_names = palloc(sizeof(char *) * Max(n_dims, 1));
	for (int64 p = 0; p < len && d < n_dims; d++)
	{
		v->dim_names[d] = s + p;
		p += strnlen(s + p, len - p) + 1;
	}
	/* every dim named, every entry on a dim, rows ascending */
	ok = d == n_dims && (len == 0 || s[len - 1] == '\0') && v->ptr[0] == 0;
	for (int32 r = 0; r < n_rows && ok; r++)
		ok = v->ptr[r] <= v->ptr[r + 1];
	for (int64 p = 0; p < nnz && ok; p++)
		ok = v->idx[p] >= 0 && v->idx[p] < n_dims;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model artifact is corrupt"),
				 errdetail("The feature vectors of the content model do not match their dims."),
				 errhint("Retrain the model with recs_train().")));
}

static void
ContentTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	ContentSpec spec;
	ContentVectors *items;
	int32		udims = 0;

	ContentParseSpec(params, "item_table", "item_id", "item_id", "features",
					 false, false, &spec);
	items = ContentVectorise(&spec, data->item_ids, data->n_items);
	RecsArtifactPutScalar(out, "content.dims", items->n_dims);
	PutVectors(out, items, "content.iptr", "content.iidx", "content.ival", "content.inames");

	if (HasUserFeatures(params))
	{
		ContentSpec uspec;
		ContentVectors *users;

		ContentParseSpec(params, "user_table", "user_id", "user_id", "user_features",
						 true, false, &uspec);
		users = ContentVectorise(&uspec, data->user_ids, data->n_users);
		udims = users->n_dims;
		RecsArtifactPutScalar(out, "content.udims", udims);
		if (udims > 0)
		{
			PutVectors(out, users, "content.uptr", "content.uidx", "content.uval",
					   "content.unames");
			RecsArtifactPut(out, "content.ucenter", users->center, udims, sizeof(float8));
			RecsArtifactPut(out, "content.uscale", users->scale, udims, sizeof(float8));
		}
	}
	else
		RecsArtifactPutScalar(out, "content.udims", udims);
}

static float8 *
RowNorms(const ContentVectors *v)
{
	float8	   *norms = palloc(sizeof(float8) * Max(v->n_rows, 1));

	for (int32 r = 0; r < v->n_rows; r++)
	{
		float8		ss = 0.0;

		for (int64 p = v->ptr[r]; p < v->ptr[r + 1]; p++)
			ss += (float8) v->val[p] * v->val[p];
		norms[r] = sqrt(ss);
	}
	return norms;
}

static void
InitDense(DenseVector *v, int32 n_dims)
{
	v->x = palloc0(sizeof(float8) * Max(n_dims, 1));
	v->touched = palloc0(sizeof(bool) * Max(n_dims, 1));
	v->list = palloc(sizeof(int32) * Max(n_dims, 1));
	v->n = 0;
}

static void *
ContentLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	ContentState *state = palloc0(sizeof(ContentState));
	int32	   *dims;

	dims = RecsArtifactGetExact(in, "content.dims", 1, sizeof(int32));
	GetVectors(in, &state->items, data->n_items, *dims, "content.iptr", "content.iidx",
			   "content.ival", "content.inames");
	state->item_norm = RowNorms(&state->items);

	dims = RecsArtifactGetExact(in, "content.udims", 1, sizeof(int32));
	state->users.n_dims = *dims;
	if (*dims > 0)
	{
		GetVectors(in, &state->users, data->n_users, *dims, "content.uptr",
				   "content.uidx", "content.uval", "content.unames");
		state->users.center = RecsArtifactGetExact(in, "content.ucenter", *dims, sizeof(float8));
		state->users.scale = RecsArtifactGetExact(in, "content.uscale", *dims, sizeof(float8));
		state->user_norm = RowNorms(&state->users);
		ContentParseSpec(params, "user_table", "user_id", "user_id", "user_features",
						 true, false, &state->user_spec);
		state->user_neighbours = RecsParamCount(params, "user_neighbours", 50);
	}
	state->half_life_days = ReadHalfLife(params);
	InitDense(&state->profile, state->items.n_dims);
	return state;
}

/* ---- scoring ---- */

static inline void
DenseAdd(DenseVector *v, int32 d, float8 value)
{
	v->x[d] += value;
	if (!v->touched[d])
	{
		v->touched[d] = true;
		v->list[v->n++] = d;
	}
}

static float8
DenseNorm(const DenseVector *v)
{
	float8		ss = 0.0;

	for (int32 t = 0; t < v->n; t++)
		ss += v->x[v->list[t]] * v->x[v->list[t]];
	return sqrt(ss);
}

static void
DenseClear(DenseVector *v)
{
	for (int32 t = 0; t < v->n; t++)
	{
		v->x[v->list[t]] = 0.0;
		v->touched[v->list[t]] = false;
	}
	v->n = 0;
}

/* add scale * x_i to v */
static inline void
AddItem(const ContentState *state, DenseVector *v, int32 i, float8 scale)
{
	const ContentVectors *items = &state->items;

	for (int64 p = items->ptr[i]; p < items->ptr[i + 1]; p++)
		DenseAdd(v, items->idx[p], scale * items->val[p]);
}

/*
 * The weight of each of a history's n interactions in its profile: the
 * positive summed weights, decayed by half_life_days when times are
 * given; non-positive ones count 0.
 */
static float8 *
HistoryWeights(const ContentState *state, const float4 *values, const float8 *times,
			   int64 n)
{
	float8	   *w = palloc(sizeof(float8) * Max(n, 1));
	float8		newest = -INFINITY;
	float8		decay = 0.0;

	if (times != NULL && state->half_life_days > 0)
	{
		for (int64 p = 0; p < n; p++)
			newest = Max(newest, times[p]);
		decay = log(2.0) / (state->half_life_days * 86400.0);
	}
	for (int64 p = 0; p < n; p++)
	{
		w[p] = values[p] > 0 ? values[p] : 0.0;
		if (decay > 0.0)
			w[p] *= exp(-decay * (newest - times[p]));
	}
	return w;
}

/* v := the weighted mean of the history's item vectors */
static void
BuildProfile(const ContentState *state, DenseVector *v, const int32 *items,
			 const float8 *w, int64 n)
{
	float8		total = 0.0;

	for (int64 p = 0; p < n; p++)
		total += w[p];
	if (!(total > 0.0))
		return;
	for (int64 p = 0; p < n; p++)
		if (w[p] > 0.0)
			AddItem(state, v, items[p], w[p] / total);
}

/* scores[j] = cos(v, x_j) for every item j with a vector */
static void
ScoreAgainst(const ContentState *state, const DenseVector *v, float4 *scores)
{
	const ContentVectors *items = &state->items;
	const float8 *x = v->x;
	float8		norm = DenseNorm(v);

	if (!(norm > 0.0))
		return;					/* no basis: the fallback fills the list */
	for (int32 j = 0; j < items->n_rows; j++)
	{
		float8		dot = 0.0;

		if (items->ptr[j] == items->ptr[j + 1])
			continue;
		for (int64 p = items->ptr[j]; p < items->ptr[j + 1]; p++)
			dot += x[items->idx[p]] * items->val[p];
		scores[j] = (float4) (dot / (norm * state->item_norm[j]));
	}
}

static void
ScoreHistory(const RecsLoadedModel *model, const int32 *items, const float4 *values,
			 const float8 *times, int64 n, float4 *scores)
{
	ContentState *state = model->state;
	float8	   *w = HistoryWeights(state, values, times, n);

	BuildProfile(state, &state->profile, items, w, n);
	ScoreAgainst(state, &state->profile, scores);
	DenseClear(&state->profile);
	pfree(w);
}

static void
ContentScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	const RecsInteractions *data = model->data;
	int64		begin = data->row_ptr[user];

	ScoreHistory(model, data->col_idx + begin, data->values + begin,
				 data->times ? data->times + begin : NULL,
				 data->row_ptr[user + 1] - begin, scores);
}

static void
ContentScoreHistory(const RecsLoadedModel *model, const int32 *items,
					const float4 *values, int n, float4 *scores)
{
	ScoreHistory(model, items, values, NULL, n, scores);
}

static bool
ContentSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	ContentState *state = model->state;

	AddItem(state, &state->profile, item, 1.0);
	ScoreAgainst(state, &state->profile, scores);
	DenseClear(&state->profile);
	return true;
}

/* x_id of item i (its dims are ascending), 0 when absent */
static float8
ItemValue(const ContentVectors *items, int32 i, int32 d)
{
	int64		lo = items->ptr[i];
	int64		hi = items->ptr[i + 1] - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (items->idx[mid] == d)
			return items->val[mid];
		if (items->idx[mid] < d)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0.0;
}

static int
ContentExplain(const RecsLoadedModel *model, int32 user, int32 item,
			   RecsEvidence *evidence, int max)
{
	ContentState *state = model->state;
	const ContentVectors *items = &state->items;
	const RecsInteractions *data = model->data;
	int64		begin = data->row_ptr[user];
	int64		n_hist = data->row_ptr[user + 1] - begin;
	float8	   *w = HistoryWeights(state, data->values + begin,
								   data->times ? data->times + begin : NULL, n_hist);
	float8	   *profile = palloc0(sizeof(float8) * Max(items->n_dims, 1));
	float8		norm;
	int			n = 0;

	/* a private copy of the profile: building the reasons may allocate */
	BuildProfile(state, &state->profile, data->col_idx + begin, w, n_hist);
	norm = DenseNorm(&state->profile);
	for (int32 t = 0; t < state->profile.n; t++)
		profile[state->profile.list[t]] = state->profile.x[state->profile.list[t]];
	DenseClear(&state->profile);

	if (!(norm > 0.0) || !(state->item_norm[item] > 0.0))
		return 0;
	for (int64 p = items->ptr[item]; p < items->ptr[item + 1]; p++)
	{
		int32		d = items->idx[p];
		float8		term = profile[d] * items->val[p] / (norm * state->item_norm[item]);
		RecsEvidence e;
		float8		best = 0.0;

		if (!(term > 0.0))
			continue;
		e.reason = psprintf("shares %s", items->dim_names[d]);
		e.evidence_item = -1;
		e.weight = term;
		/* the user's item that put the most of this dim in the profile */
		for (int64 q = 0; q < n_hist; q++)
		{
			float8		c = w[q] * ItemValue(items, data->col_idx[begin + q], d);

			if (c * items->val[p] > best)
			{
				best = c * items->val[p];
				e.evidence_item = data->item_ids[data->col_idx[begin + q]];
			}
		}
		n = RecsEvidenceAdd(evidence, n, max, &e);
	}
	return n;
}

/* ---- users with no interactions: user features ---- */

/* the user dim called name, or -1 */
static int32
FindUserDim(const ContentVectors *users, const char *name)
{
	for (int32 d = 0; d < users->n_dims; d++)
		if (strcmp(users->dim_names[d], name) == 0)
			return d;
	return -1;
}

/*
 * user_id's user-feature vector from its user_table row, dense over the
 * user dims; false when there is no row.  The caller is connected to SPI.
 */
static bool
ReadColdUser(const ContentState *state, int64 user_id, float8 *q)
{
	const ContentSpec *spec = &state->user_spec;
	const ContentVectors *users = &state->users;
	Oid			relid = ContentResolveTable(spec->table, false);
	StringInfoData sql;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(user_id)};
	HeapTuple	tuple;
	TupleDesc	desc;
	MemoryContext cxt = CurrentMemoryContext;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int c = 0; c < spec->n_features; c++)
		appendStringInfo(&sql, "%st.%s::%s", c > 0 ? ", " : "",
						 quote_identifier(spec->features[c].column),
						 spec->features[c].type == CONTENT_NUMERIC ? "float8" : "text");
	appendStringInfo(&sql, " FROM %s t WHERE t.%s = $1 LIMIT 1",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)),
					 quote_identifier(spec->id_column));
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\"", sql.data);
	/* SPI returns in its own context, which dies at SPI_finish */
	MemoryContextSwitchTo(cxt);
	if (SPI_processed == 0)
		return false;

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	for (int c = 0; c < spec->n_features; c++)
	{
		const ContentFeature *f = &spec->features[c];
		bool		isnull;
		Datum		v = SPI_getbinval(tuple, desc, c + 1, &isnull);
		int32		d;

		if (isnull || f->weight == 0.0)
			continue;			/* missing: nothing, or z = 0 */
		if (f->type == CONTENT_NUMERIC)
		{
			if ((d = FindUserDim(users, f->column)) >= 0 && isfinite(DatumGetFloat8(v)))
				q[d] = (DatumGetFloat8(v) - users->center[d]) * users->scale[d];
		}
		else if ((d = FindUserDim(users, psprintf("%s=%s", f->column,
												  TextDatumGetCString(v)))) >= 0)
			q[d] = users->scale[d];
		/* a value no trained user has shares nothing with them */
	}
	SPI_freetuptable(SPI_tuptable);
	return true;
}

static bool
ContentScoreColdUser(const RecsLoadedModel *model, int64 user_id, float4 *scores,
					 const char **source)
{
	ContentState *state = model->state;
	const ContentVectors *users = &state->users;
	const RecsInteractions *data = model->data;
	float8	   *q;
	float8		qnorm = 0.0;
	RecsTopK	heap;
	DenseVector avg;

	if (users->n_dims == 0 || data->n_users == 0)
		return false;
	q = palloc0(sizeof(float8) * users->n_dims);
	if (!ReadColdUser(state, user_id, q))
		return false;
	for (int32 d = 0; d < users->n_dims; d++)
		qnorm += q[d] * q[d];
	qnorm = sqrt(qnorm);
	if (!(qnorm > 0.0))
		return false;

	/* the trained users with the most similar user features */
	RecsTopKInit(&heap, Min(state->user_neighbours, data->n_users));
	for (int32 v = 0; v < users->n_rows; v++)
	{
		float8		dot = 0.0;
		float8		sim;

		if (!(state->user_norm[v] > 0.0))
			continue;
		for (int64 p = users->ptr[v]; p < users->ptr[v + 1]; p++)
			dot += q[users->idx[p]] * users->val[p];
		sim = dot / (qnorm * state->user_norm[v]);
		if (sim > 0.0)
			RecsTopKOffer(&heap, v, (float4) sim);
	}
	if (heap.n == 0)
		return false;

	/* their unit-length profiles, averaged with their similarities as weights */
	InitDense(&avg, state->items.n_dims);
	for (int i = 0; i < heap.n; i++)
	{
		int32		v = heap.items[i];
		int64		begin = data->row_ptr[v];
		int64		n = data->row_ptr[v + 1] - begin;
		float8	   *w = HistoryWeights(state, data->values + begin,
									   data->times ? data->times + begin : NULL, n);
		float8		norm;

		BuildProfile(state, &state->profile, data->col_idx + begin, w, n);
		norm = DenseNorm(&state->profile);
		if (norm > 0.0)
			for (int32 t = 0; t < state->profile.n; t++)
			{
				int32		d = state->profile.list[t];

				DenseAdd(&avg, d, heap.scores[i] * state->profile.x[d] / norm);
			}
		DenseClear(&state->profile);
		pfree(w);
	}
	if (!(DenseNorm(&avg) > 0.0))
		return false;
	ScoreAgainst(state, &avg, scores);
	*source = CONTENT_USER_SOURCE;
	return true;
}

const RecsAlgorithm RecsContentAlgorithm = {
	.name = "content",
	.scores_unseen_items = true,
	.check_params = ContentCheckParams,
	.train = ContentTrain,
	.load = ContentLoad,
	.score_user = ContentScoreUser,
	.score_history = ContentScoreHistory,
	.score_similar_items = ContentSimilarItems,
	.explain = ContentExplain,
	.score_cold_user = ContentScoreColdUser,
};
