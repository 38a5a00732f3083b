/*
 * hybrid.c
 *		The "hybrid" algorithm: a weighted ensemble of other models.
 *
 * Params:
 *   "members":         an object of model name -> weight (a finite number
 *                      >= 0, not all zero), e.g. {"ials_m": 0.7,
 *                      "content_m": 0.3}; at most RECS_HYBRID_MAX_MEMBERS;
 *                      each must exist, be trained when the hybrid is
 *                      created, and not be a hybrid itself;
 *   "normalize":       "zscore" (default), "minmax" or "rank": how each
 *                      member's scores for a user are put on one scale;
 *   "weights":         "learn" to learn the weights on a validation split
 *                      of the training data (hybrid_learn.c); the numbers
 *                      of "members" are then the prior that only clear
 *                      evidence moves;
 *   "learn_k":         the k of the NDCG@k that learning maximises
 *                      (default 10; only with "weights": "learn");
 *   "validation_seed": seed of the validation split of data without times
 *                      (default 42; only with "weights": "learn");
 *   "popularity":      h > 0, a popularity prior (default: none): the
 *                      model's fallback popularity joins the sum with
 *                      weight s 2^(-n / h), n the user's interactions, so
 *                      it speaks for users the members know little about
 *                      and halves with every h interactions;
 *   "popularity_weight": s > 0, the prior's weight for a user with no
 *                      interactions (default 1; only with "popularity");
 *   "interactions":    {"<member>": [min, max]}: the member takes part only
 *                      for users with min <= n <= max interactions (null:
 *                      unbounded), so that e.g. a neighbourhood model serves
 *                      users with a short history and a factor model the
 *                      others (switching by history size).
 *
 * Members whose algorithm gives no meaning to scores of items nobody has
 * used (all but content) leave those items unscored, so a catalogue item
 * is ranked by the members that know something about it.
 *
 * Members are recipes.  Training looks up each member's algorithm and
 * params in recs.models and trains it afresh, in memory, on the hybrid's
 * own data; the member's own versions are never used.  So a hybrid version
 * is self-contained and pinned (retraining or dropping a member later does
 * not change it), and recs_evaluate of a hybrid is honest: its members are
 * retrained on the evaluation's train split like any other model.  Member
 * item and user indices equal the hybrid's, since they trained on the same
 * matrix, and loaded members share the hybrid's matrix instead of carrying
 * a copy each (their artifacts hold only what their train() wrote).
 *
 * Artifact sections, after the common ones:
 *   hybrid.members    int32[1]   n, the number of members
 *   hybrid.norm       int32[1]   a RecsHybridNorm
 *   hybrid.weights    float8[n]  the final (given or learned) weights
 * then for each member i, in the order of "members" (jsonb's key order):
 *   hybrid.name.<i>   char[]     its model name
 *   hybrid.algo.<i>   char[]     its algorithm
 *   hybrid.par.<i>    char[]     its params, as jsonb text
 *   hybrid.art.<i>    bytea      what its train() wrote, as an artifact of
 *                                its own (no common sections)
 *
 * Serving.  For a user, each member with a positive weight that can score
 * the user scores every item; its finite scores are normalised over the
 * items it scores (RecsHybridNormalise); the hybrid's score of an item is
 * sum_m w_m norm_m(item) over the members that scored it, and an item no
 * member scores stays unscored (-infinity: popularity fallback).  Which
 * members take part depends on what is known about the user (switching):
 * every member for a user of the training data (score_user), the members
 * with score_history for a user known only by live interactions, the
 * members with score_cold_user for a user known by nothing but features.
 *
 * The scratch of normalised member scores lives in the loaded model and
 * keeps the last scoring, so that row_sources, which recs_topk calls right
 * after scoring, can name the members behind each row without scoring
 * again (and can for users scored from live interactions, whose history
 * it is not given).  A backend serves one call at a time, so one scratch
 * per loaded model suffices.
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "models/algorithm.h"
#include "models/hybrid.h"
#include "registry/registry.h"

static const char *const hybrid_params[] = {
	"members", "normalize", "weights", "learn_k", "validation_seed", "popularity",
	"popularity_weight", "interactions", NULL
};

typedef struct HybridParams
{
	int			n_members;
	char	   *names[RECS_HYBRID_MAX_MEMBERS];
	float8		weights[RECS_HYBRID_MAX_MEMBERS];
	RecsHybridNorm norm;
	bool		learn;
	int			learn_k;
	int32		seed;
} HybridParams;

/* what the scratch of normalised member scores holds */
typedef enum HybridScored
{
	HYBRID_SCORED_NONE,
	HYBRID_SCORED_USER,			/* score_user of last_user */
	HYBRID_SCORED_HISTORY,		/* score_history */
	HYBRID_SCORED_COLD,			/* score_cold_user */
	HYBRID_SCORED_SIMILAR		/* score_similar_items: not a user's scores */
} HybridScored;

typedef struct HybridState
{
	int			n_members;
	RecsHybridNorm norm;
	float8	   *weights;		/* [n_members] */
	RecsLoadedModel **members;	/* [n_members] */
	char	  **sources;		/* [n_members] "hybrid:<member>" */
	int32		n_items;
	float4	   *norms;			/* [n_members * n_items] last scoring */
	bool	   *active;			/* [n_members] took part in it */
	HybridScored scored;
	int32		last_user;
	float8		popularity;		/* param: the prior's half-life h, 0: none */
	float8		popularity_weight;	/* param: its weight s at n = 0 */
	float4	   *pop_norm;		/* [n_items] normalised popularity, the same
								 * for every user: computed on first use */
	bool		pop_norm_ready;
	float8		pop_weight;		/* s 2^(-n/h) in the last scoring */
	int64	   *min_n;			/* [n_members] param "interactions": the */
	int64	   *max_n;			/* users each member serves, by history size */
} HybridState;

/*
 * The param "interactions": {"<member>": [min, max]}, a member taking part
 * only for users with min <= n <= max interactions (null: unbounded).  Fills
 * min_n/max_n (indexed like names) and checks the param when names given.
 */
void
RecsHybridInteractionRanges(Jsonb *params, char **names, int n_members, int64 *min_n,
							int64 *max_n)
{
	Jsonb	   *ranges = RecsParamObject(params, "interactions");
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	for (int m = 0; m < n_members; m++)
	{
		min_n[m] = 0;
		max_n[m] = PG_INT64_MAX;
	}
	if (ranges == NULL)
		return;
	it = JsonbIteratorInit(&ranges->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			m;
		JsonbIterator *ait;
		JsonbValue	e;
		JsonbIteratorToken atok;
		int			count = 0;
		int64		bounds[2] = {0, PG_INT64_MAX};

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		for (m = 0; m < n_members; m++)
			if (strcmp(names[m], key) == 0)
				break;
		if (m == n_members)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"interactions\" names \"%s\", which is not a member", key)));
		if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the interactions of member \"%s\" must be [min, max]", key),
					 errhint("For example {\"knn_movies\": [0, 5], \"ease_movies\": [6, null]}.")));
		ait = JsonbIteratorInit(v.val.binary.data);
		while ((atok = JsonbIteratorNext(&ait, &e, true)) != WJB_DONE)
		{
			double		d;

			if (atok != WJB_ELEM)
				continue;
			if (count >= 2)
			{
				count++;
				break;
			}
			if (e.type == jbvNull)
			{
				count++;
				continue;
			}
			if (e.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the interactions of member \"%s\" must be [min, max]", key)));
			d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												   NumericGetDatum(e.val.numeric)));
			if (d != floor(d) || d < 0 || d > (double) PG_INT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the interactions of member \"%s\" must be whole numbers >= 0, not %g",
								key, d)));
			bounds[count++] = (int64) d;
		}
		if (count != 2 || bounds[0] > bounds[1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the interactions of member \"%s\" must be [min, max] with min <= max", key)));
		min_n[m] = bounds[0];
		max_n[m] = bounds[1];
	}
}

/* the share of the largest contribution within which members share a row */
#define HYBRID_SHARED_SOURCE 0.1

/*
 * Parse and check params (all but the members' state in recs.models).
 */
static void
ReadParams(Jsonb *params, HybridParams *p)
{
	Jsonb	   *members = RecsParamObject(params, "members");
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *text;
	char	   *key = NULL;
	bool		any_positive = false;
	double		ignored;

	memset(p, 0, sizeof(HybridParams));
	if (members == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"hybrid\" needs parameter \"members\""),
				 errhint("For example {\"members\": {\"ials_movies\": 0.7, \"content_movies\": 0.3}}.")));

	it = JsonbIteratorInit(&members->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		double		w;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (v.type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the weight of member \"%s\" must be a number", key)));
		w = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											   NumericGetDatum(v.val.numeric)));
		if (isnan(w) || isinf(w) || w < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the weight of member \"%s\" must be a finite number >= 0, not %g",
							key, w)));
		if (p->n_members == RECS_HYBRID_MAX_MEMBERS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a hybrid has at most %d members", RECS_HYBRID_MAX_MEMBERS)));
		p->names[p->n_members] = key;
		p->weights[p->n_members] = w;
		p->n_members++;
		any_positive |= w > 0;
	}
	if (p->n_members == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"members\" must name at least one model"),
				 errhint("For example {\"members\": {\"ials_movies\": 0.7, \"content_movies\": 0.3}}.")));
	if (!any_positive)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the weights of a hybrid's members must not all be zero"),
				 errdetail("A hybrid whose members all weigh 0 would score nothing.")));

	p->norm = RECS_HYBRID_ZSCORE;
	if (RecsParamString(params, "normalize", &text))
	{
		if (strcmp(text, "zscore") == 0)
			p->norm = RECS_HYBRID_ZSCORE;
		else if (strcmp(text, "minmax") == 0)
			p->norm = RECS_HYBRID_MINMAX;
		else if (strcmp(text, "rank") == 0)
			p->norm = RECS_HYBRID_RANK;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"normalize\" must be \"zscore\", \"minmax\" or \"rank\", not \"%s\"",
							text)));
	}

	if (RecsParamString(params, "weights", &text))
	{
		if (strcmp(text, "learn") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"weights\" must be \"learn\", not \"%s\"", text),
					 errhint("Fixed weights are the numbers of \"members\".")));
		p->learn = true;
	}
	if (!p->learn &&
		(RecsParamNumber(params, "learn_k", &ignored) ||
		 RecsParamNumber(params, "validation_seed", &ignored)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameters \"learn_k\" and \"validation_seed\" apply only with \"weights\": \"learn\"")));
	p->learn_k = (int) RecsParamInt(params, "learn_k", 10, 1, RECS_MAX_K);
	p->seed = (int32) RecsParamInt(params, "validation_seed", 42, PG_INT32_MIN, PG_INT32_MAX);
	if (RecsParamPositive(params, "popularity", 0.0) == 0.0 &&
		RecsParamPositive(params, "popularity_weight", 1.0) != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"popularity_weight\" applies only with \"popularity\"")));
	{
		int64		min_n[RECS_HYBRID_MAX_MEMBERS];
		int64		max_n[RECS_HYBRID_MAX_MEMBERS];

		RecsHybridInteractionRanges(params, p->names, p->n_members, min_n, max_n);
	}
}

/*
 * At recs_create_model: params, then each member's row in recs.models.
 * Members must be trained now, although training the hybrid retrains
 * them, so that a recipe that cannot train fails here and not later.
 */
static void
HybridCheckParams(Jsonb *params, bool has_weight, bool has_time)
{
	HybridParams p;

	RecsCheckParamKeys(params, "hybrid", hybrid_params);
	ReadParams(params, &p);

	SPI_connect();
	for (int i = 0; i < p.n_members; i++)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1] = {CStringGetTextDatum(p.names[i])};
		bool		isnull;
		char	   *algorithm;

		if (SPI_execute_with_args("SELECT algorithm, active_version IS NOT NULL"
								  " FROM recs.models WHERE name = $1",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read recs.models");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("member \"%s\" of the hybrid does not exist", p.names[i]),
					 errhint("Create and train it with recs_create_model() and recs_train() first.")));
		algorithm = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (strcmp(algorithm, "hybrid") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("member \"%s\" of the hybrid is itself a hybrid", p.names[i]),
					 errdetail("Hybrids cannot be nested."),
					 errhint("Name the other hybrid's members instead.")));
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										2, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("member \"%s\" of the hybrid has not been trained", p.names[i]),
					 errhint("Train it first with SELECT recs_train('%s').", p.names[i])));
	}
	SPI_finish();
}

/* errcontext of whatever fails while a member is looked up or trained */
static void
MemberErrorContext(void *arg)
{
	errcontext("member \"%s\" of the hybrid", (const char *) arg);
}

/*
 * Each member's recipe from recs.models, into CurrentMemoryContext.
 */
static void
LookupMembers(const HybridParams *p, RecsHybridMember *members)
{
	MemoryContext caller = CurrentMemoryContext;
	ErrorContextCallback context;

	context.callback = MemberErrorContext;
	context.previous = error_context_stack;
	error_context_stack = &context;
	SPI_connect();
	for (int i = 0; i < p->n_members; i++)
	{
		RecsModelSpec *spec;

		context.arg = p->names[i];
		spec = RecsLookupModelSpec(p->names[i], false, caller);

		/* a model re-created as a hybrid since the check would recurse */
		if (strcmp(spec->algorithm, "hybrid") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("member \"%s\" of the hybrid is itself a hybrid", p->names[i]),
					 errdetail("Hybrids cannot be nested.")));
		members[i].name = spec->name;
		members[i].algorithm = RecsFindAlgorithm(spec->algorithm, false);
		members[i].params = spec->params;
	}
	SPI_finish();
	error_context_stack = context.previous;
}

/*
 * A member trained on data: the artifact of what its train() writes,
 * without the common sections (the hybrid's own hold the matrix).
 */
bytea *
RecsHybridTrainMember(const RecsHybridMember *member, const RecsInteractions *data)
{
	RecsArtifactWriter writer;
	ErrorContextCallback context;

	context.callback = MemberErrorContext;
	context.arg = member->name;
	context.previous = error_context_stack;
	error_context_stack = &context;
	RecsArtifactBegin(&writer);
	member->algorithm->train(data, member->params, &writer);
	error_context_stack = context.previous;
	return RecsArtifactFinish(&writer);
}

/*
 * Load a member from what RecsHybridTrainMember wrote, sharing data (the
 * matrix it was trained on), in CurrentMemoryContext.
 */
RecsLoadedModel *
RecsHybridLoadMember(const RecsHybridMember *member, bytea *artifact,
					 RecsInteractions *data)
{
	RecsLoadedModel *model = palloc0(sizeof(RecsLoadedModel));
	RecsArtifactReader reader;

	RecsArtifactOpen(&reader, artifact);
	model->version = 0;
	model->name = pstrdup(member->name);
	model->algorithm = member->algorithm;
	model->params = member->params;
	model->data = data;
	model->popularity =
		RecsItemPopularity(data, member->algorithm == &RecsPopularAlgorithm ?
						   member->params :
						   RecsParamObject(member->params, "fallback"));
	model->context = CurrentMemoryContext;
	model->state = member->algorithm->load(&reader, data, member->params);
	return model;
}

static void
PutString(RecsArtifactWriter *out, const char *section, const char *value)
{
	RecsArtifactPut(out, section, value, strlen(value), 1);
}

static char *
GetString(RecsArtifactReader *in, const char *section)
{
	int64		n;
	char	   *raw = RecsArtifactGet(in, section, &n, 1);
	char	   *result = pnstrdup(raw, n);

	pfree(raw);
	return result;
}

static void
HybridTrain(const RecsInteractions *data, Jsonb *params, RecsArtifactWriter *out)
{
	HybridParams p;
	RecsHybridMember members[RECS_HYBRID_MAX_MEMBERS];
	int32		n;
	int32		norm;

	ReadParams(params, &p);
	LookupMembers(&p, members);
	if (p.learn)
		RecsHybridLearnWeights(data, params, members, p.n_members, p.norm,
							   p.learn_k, p.seed, p.weights);

	n = p.n_members;
	norm = (int32) p.norm;
	RecsArtifactPutScalar(out, "hybrid.members", n);
	RecsArtifactPutScalar(out, "hybrid.norm", norm);
	RecsArtifactPut(out, "hybrid.weights", p.weights, n, sizeof(float8));
	for (int i = 0; i < n; i++)
	{
		bytea	   *artifact = RecsHybridTrainMember(&members[i], data);

		PutString(out, psprintf("hybrid.name.%d", i), members[i].name);
		PutString(out, psprintf("hybrid.algo.%d", i), members[i].algorithm->name);
		PutString(out, psprintf("hybrid.par.%d", i),
				  JsonbToCString(NULL, &members[i].params->root,
								 VARSIZE(members[i].params)));
		RecsArtifactPut(out, psprintf("hybrid.art.%d", i), artifact,
						VARSIZE(artifact), 1);
		pfree(artifact);
	}
}

static void
CorruptHybrid(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model artifact is corrupted"),
			 errdetail("%s", detail),
			 errhint("Retrain the model with recs_train().")));
}

static void *
HybridLoad(RecsArtifactReader *in, const RecsInteractions *data, Jsonb *params)
{
	HybridState *state = palloc0(sizeof(HybridState));
	int32	   *n = RecsArtifactGetExact(in, "hybrid.members", 1, sizeof(int32));
	int32	   *norm = RecsArtifactGetExact(in, "hybrid.norm", 1, sizeof(int32));

	if (*n < 1 || *n > RECS_HYBRID_MAX_MEMBERS)
		CorruptHybrid(psprintf("The hybrid has %d members.", *n));
	if (*norm < RECS_HYBRID_ZSCORE || *norm > RECS_HYBRID_RANK)
		CorruptHybrid("The hybrid's normalisation is unknown.");
	state->n_members = *n;
	state->norm = (RecsHybridNorm) *norm;
	state->weights = RecsArtifactGetExact(in, "hybrid.weights", *n, sizeof(float8));
	state->members = palloc(sizeof(RecsLoadedModel *) * *n);
	state->sources = palloc(sizeof(char *) * *n);
	state->n_items = data->n_items;
	state->norms = palloc_extended(mul_size(mul_size(sizeof(float4), *n),
											Max(data->n_items, 1)),
								   MCXT_ALLOC_HUGE);
	state->active = palloc0(sizeof(bool) * *n);
	state->scored = HYBRID_SCORED_NONE;
	state->popularity = RecsParamPositive(params, "popularity", 0.0);
	state->popularity_weight = RecsParamPositive(params, "popularity_weight", 1.0);
	state->pop_norm = palloc(sizeof(float4) * Max(data->n_items, 1));
	state->pop_weight = 0.0;
	state->min_n = palloc(sizeof(int64) * *n);
	state->max_n = palloc(sizeof(int64) * *n);

	for (int i = 0; i < *n; i++)
	{
		RecsHybridMember member;
		char	   *algorithm;
		char	   *member_params;
		bytea	   *artifact;
		int64		bytes;

		member.name = GetString(in, psprintf("hybrid.name.%d", i));
		algorithm = GetString(in, psprintf("hybrid.algo.%d", i));
		member_params = GetString(in, psprintf("hybrid.par.%d", i));
		artifact = RecsArtifactGet(in, psprintf("hybrid.art.%d", i), &bytes, 1);
		if (bytes < VARHDRSZ)
			CorruptHybrid(psprintf("The artifact of member \"%s\" is truncated.", member.name));
		SET_VARSIZE(artifact, bytes);

		member.algorithm = RecsFindAlgorithm(algorithm, false);
		member.params = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														   CStringGetDatum(member_params)));
		state->members[i] = RecsHybridLoadMember(&member, artifact,
												 unconstify(RecsInteractions *, data));
		state->sources[i] = psprintf("hybrid:%s", member.name);
		pfree(artifact);
	}
	{
		char	  **names = palloc(sizeof(char *) * *n);

		for (int i = 0; i < *n; i++)
			names[i] = state->members[i]->name;
		RecsHybridInteractionRanges(params, names, *n, state->min_n, state->max_n);
		pfree(names);
	}
	return state;
}

static int
CompareScoreDesc(const void *a, const void *b)
{
	const float8 *x = a;
	const float8 *y = b;

	/* pairs (score, index): higher score first, then lower index */
	if (x[0] != y[0])
		return x[0] > y[0] ? -1 : 1;
	return (x[1] > y[1]) - (x[1] < y[1]);
}

/*
 * Normalise scores[0..n-1] in place over its finite entries; anything else
 * becomes -infinity (not scored).  With m the finite entries:
 *	zscore	(x - mean) / sd, population sd over m; 0 when sd = 0;
 *	minmax	(x - min) / (max - min); 1 when max = min;
 *	rank	1 - r / |m|, r the number of entries scoring strictly higher
 *			(so the best is 1 and ties share a value).
 */
void
RecsHybridNormalise(float4 *scores, int32 n, RecsHybridNorm norm)
{
	int32		count = 0;
	float8		sum = 0.0;
	float8		lo = INFINITY;
	float8		hi = -INFINITY;

	for (int32 j = 0; j < n; j++)
	{
		if (!isfinite(scores[j]))
		{
			scores[j] = -INFINITY;
			continue;
		}
		count++;
		sum += scores[j];
		lo = Min(lo, scores[j]);
		hi = Max(hi, scores[j]);
	}
	if (count == 0)
		return;

	switch (norm)
	{
		case RECS_HYBRID_ZSCORE:
			{
				float8		mean = sum / count;
				float8		squares = 0.0;
				float8		sd;

				for (int32 j = 0; j < n; j++)
					if (scores[j] != -INFINITY)
						squares += (scores[j] - mean) * (scores[j] - mean);
				sd = sqrt(squares / count);
				for (int32 j = 0; j < n; j++)
					if (scores[j] != -INFINITY)
						scores[j] = sd > 0 ? (float4) ((scores[j] - mean) / sd) : 0.0f;
				break;
			}
		case RECS_HYBRID_MINMAX:
			for (int32 j = 0; j < n; j++)
				if (scores[j] != -INFINITY)
					scores[j] = hi > lo ? (float4) ((scores[j] - lo) / (hi - lo)) : 1.0f;
			break;
		case RECS_HYBRID_RANK:
			{
				float8	   *pairs = palloc_extended(mul_size(sizeof(float8) * 2, count),
													MCXT_ALLOC_HUGE);
				int32		m = 0;
				int32		r = 0;

				for (int32 j = 0; j < n; j++)
					if (scores[j] != -INFINITY)
					{
						pairs[2 * m] = scores[j];
						pairs[2 * m + 1] = j;
						m++;
					}
				qsort(pairs, count, sizeof(float8) * 2, CompareScoreDesc);
				for (int32 i = 0; i < count; i++)
				{
					if (i > 0 && pairs[2 * i] != pairs[2 * (i - 1)])
						r = i;
					scores[(int32) pairs[2 * i + 1]] = (float4) (1.0 - (float8) r / count);
				}
				pfree(pairs);
				break;
			}
	}
}

typedef struct HybridRequest
{
	HybridScored kind;
	int32		user;			/* HYBRID_SCORED_USER */
	const int32 *items;			/* HYBRID_SCORED_HISTORY */
	const float4 *values;
	int			n;
	int64		user_id;		/* HYBRID_SCORED_COLD */
	int32		item;			/* HYBRID_SCORED_SIMILAR */
} HybridRequest;

/*
 * Score req with every member that has a positive weight and can serve
 * this kind of request, normalise each, and combine into scores: sum of
 * w_m * norm_m over the members that scored an item, -infinity where none
 * did.  Returns whether any member took part.
 */
static bool
ScoreMembers(const RecsLoadedModel *model, const HybridRequest *req, float4 *scores)
{
	HybridState *state = model->state;
	int32		n_items = state->n_items;
	bool		any = false;
	int64		n_user = 0;		/* the user's interactions */

	if (req->kind == HYBRID_SCORED_USER)
		n_user = model->data->row_ptr[req->user + 1] - model->data->row_ptr[req->user];
	else if (req->kind == HYBRID_SCORED_HISTORY)
		n_user = req->n;

	for (int m = 0; m < state->n_members; m++)
	{
		RecsLoadedModel *member = state->members[m];
		const RecsAlgorithm *a = member->algorithm;
		float4	   *x = state->norms + (Size) m * n_items;
		bool		ok = false;

		state->active[m] = false;
		if (!(state->weights[m] > 0))
			continue;
		/* switching by history size (param "interactions") */
		if (req->kind != HYBRID_SCORED_SIMILAR &&
			(n_user < state->min_n[m] || n_user > state->max_n[m]))
			continue;
		/* what serving knows about the hybrid, its members know too */
		member->source = model->source;
		member->user_column = model->user_column;
		member->item_column = model->item_column;
		member->weight_column = model->weight_column;
		for (int32 j = 0; j < n_items; j++)
			x[j] = -INFINITY;
		switch (req->kind)
		{
			case HYBRID_SCORED_USER:
				a->score_user(member, req->user, x);
				ok = true;
				break;
			case HYBRID_SCORED_HISTORY:
				if (a->score_history != NULL)
				{
					a->score_history(member, req->items, req->values, req->n, x);
					ok = true;
				}
				break;
			case HYBRID_SCORED_COLD:
				if (a->score_cold_user != NULL)
				{
					const char *ignored = NULL;

					ok = a->score_cold_user(member, req->user_id, x, &ignored);
				}
				break;
			case HYBRID_SCORED_SIMILAR:
				if (a->score_similar_items != NULL &&
					a->score_similar_items(member, req->item, x))
				{
					/* never a result, so not part of the scale either */
					x[req->item] = -INFINITY;
					ok = true;
				}
				break;
			case HYBRID_SCORED_NONE:
				break;
		}
		if (!ok)
			continue;
		/* a member's score of an item nobody has used may mean nothing */
		if (!a->scores_unseen_items && req->kind != HYBRID_SCORED_SIMILAR)
		{
			const int32 *users = RecsItemUsers(model);

			for (int32 j = 0; j < n_items; j++)
				if (users[j] == 0)
					x[j] = -INFINITY;
		}
		RecsHybridNormalise(x, n_items, state->norm);
		state->active[m] = true;
		any = true;
	}

	/*
	 * The popularity prior: popularity joins with weight s 2^(-n / h), n the
	 * user's interactions, h and s the params, so that it speaks for users
	 * the members know little about and halves with every h interactions.
	 */
	state->pop_weight = 0.0;
	if (state->popularity > 0 && req->kind != HYBRID_SCORED_SIMILAR &&
		req->kind != HYBRID_SCORED_NONE)
	{
		state->pop_weight = RecsHybridPriorWeight(state->popularity, state->popularity_weight,
												  n_user);
		if (!state->pop_norm_ready)
		{
			memcpy(state->pop_norm, model->popularity, sizeof(float4) * n_items);
			RecsHybridNormalise(state->pop_norm, n_items, state->norm);
			state->pop_norm_ready = true;
		}
	}

	for (int32 j = 0; j < n_items; j++)
		scores[j] = RecsHybridCombine(state->norms, n_items, j, state->n_members,
									  state->weights, state->active, state->pop_weight,
									  state->pop_norm);
	state->scored = req->kind;
	state->last_user = req->user;
	return any;
}

static void
HybridScoreUser(const RecsLoadedModel *model, int32 user, float4 *scores)
{
	HybridRequest req = {.kind = HYBRID_SCORED_USER, .user = user};

	(void) ScoreMembers(model, &req, scores);
}

/* a user only the live interactions know: the members that can fold in */
static void
HybridScoreHistory(const RecsLoadedModel *model, const int32 *items,
				   const float4 *values, int n, float4 *scores)
{
	HybridRequest req = {.kind = HYBRID_SCORED_HISTORY, .user = -1,
	.items = items, .values = values, .n = n};

	(void) ScoreMembers(model, &req, scores);
}

/* a user known by nothing but features: the members that use them */
static bool
HybridScoreColdUser(const RecsLoadedModel *model, int64 user_id, float4 *scores,
					const char **source)
{
	HybridState *state = model->state;
	HybridRequest req = {.kind = HYBRID_SCORED_COLD, .user = -1, .user_id = user_id};
	StringInfoData names;

	if (!ScoreMembers(model, &req, scores))
		return false;
	initStringInfo(&names);
	appendStringInfoString(&names, "hybrid:");
	for (int m = 0, k = 0; m < state->n_members; m++)
		if (state->active[m])
			appendStringInfo(&names, "%s%s", k++ > 0 ? "+" : "",
							 state->members[m]->name);
	*source = names.data;
	return true;
}

static bool
HybridSimilarItems(const RecsLoadedModel *model, int32 item, float4 *scores)
{
	HybridRequest req = {.kind = HYBRID_SCORED_SIMILAR, .user = -1, .item = item};

	return ScoreMembers(model, &req, scores);
}

/*
 * Name the members behind each ranked item: "hybrid:<member>" for the
 * member with the largest weighted normalised contribution w_m norm_m,
 * joined with '+' (largest first) by every other member whose contribution
 * is within 10% of it (c >= max - 0.1 |max|).  Rows no member scored are
 * fallback rows and keep their source.  Uses the scratch of the scoring
 * just done (see the file header); a known user whose scores it does not
 * hold is scored again.
 */
static void
HybridRowSources(const RecsLoadedModel *model, int32 user, const int32 *items,
				 int n, const char **sources)
{
	HybridState *state = model->state;
	int32		n_items = state->n_items;

	if (!(state->scored == HYBRID_SCORED_HISTORY ||
		  state->scored == HYBRID_SCORED_COLD ||
		  (state->scored == HYBRID_SCORED_USER && state->last_user == user)))
	{
		float4	   *scratch;

		if (user < 0)
			return;
		scratch = palloc(sizeof(float4) * Max(n_items, 1));
		HybridScoreUser(model, user, scratch);
		pfree(scratch);
	}

	for (int i = 0; i < n; i++)
	{
		int32		j = items[i];
		float8		contribution[RECS_HYBRID_MAX_MEMBERS];
		int			order[RECS_HYBRID_MAX_MEMBERS];
		int			n_order = 0;
		float8		best = -INFINITY;
		float8		threshold;
		float8		pop;

		if (sources[i] != NULL || j < 0 || j >= n_items)
			continue;
		for (int m = 0; m < state->n_members; m++)
		{
			float4		v = state->norms[(Size) m * n_items + j];

			contribution[m] = -INFINITY;
			if (state->active[m] && v != -INFINITY)
			{
				contribution[m] = state->weights[m] * v;
				best = Max(best, contribution[m]);
			}
		}
		pop = state->pop_weight > 0 && state->pop_norm[j] != -INFINITY ?
			state->pop_weight * state->pop_norm[j] : -INFINITY;
		best = Max(best, pop);
		if (best == -INFINITY)
			continue;
		threshold = best - HYBRID_SHARED_SOURCE * fabs(best);

		/* the sharing members, largest contribution first (insertion sort) */
		for (int m = 0; m < state->n_members; m++)
		{
			int			at;

			if (contribution[m] == -INFINITY || contribution[m] < threshold)
				continue;
			for (at = n_order; at > 0 && contribution[order[at - 1]] < contribution[m]; at--)
				order[at] = order[at - 1];
			order[at] = m;
			n_order++;
		}
		if (n_order == 1 && !(pop >= threshold))
			sources[i] = state->sources[order[0]];
		else if (n_order == 0)
			sources[i] = "hybrid:popularity";
		else
		{
			StringInfoData names;

			initStringInfo(&names);
			appendStringInfoString(&names, "hybrid:");
			for (int k = 0; k < n_order; k++)
				appendStringInfo(&names, "%s%s", k > 0 ? "+" : "",
								 state->members[order[k]]->name);
			if (pop >= threshold)
				appendStringInfoString(&names, "+popularity");
			sources[i] = names.data;
		}
	}
}

/*
 * Evidence of one member for (user, item): its own explain, or else the
 * user's items by their similarity to item, as recs_explain does.
 */
static int
MemberEvidence(RecsLoadedModel *member, int32 user, int32 item,
			   RecsEvidence *evidence, int max)
{
	if (member->algorithm->explain != NULL)
		return member->algorithm->explain(member, user, item, evidence, max);
	if (member->algorithm->score_similar_items == NULL)
		return 0;
	return RecsExplainBySimilarity(member, user, item, evidence, max);
}

/*
 * One row per member, its contribution w_m * norm_m(item) as weight
 * (heaviest first), then, while rows are left, the evidence of the member
 * with the largest contribution, its reasons prefixed with its name and
 * its weights on that member's own scale.
 */
static int
HybridExplain(const RecsLoadedModel *model, int32 user, int32 item,
			  RecsEvidence *evidence, int max)
{
	HybridState *state = model->state;
	float4	   *scores = palloc(sizeof(float4) * Max(state->n_items, 1));
	int			n = 0;
	int			best = -1;
	float8		best_weight = 0.0;

	HybridScoreUser(model, user, scores);
	pfree(scores);
	for (int m = 0; m < state->n_members; m++)
	{
		float4		v = state->norms[(Size) m * state->n_items + item];
		const char *name = state->members[m]->name;
		RecsEvidence e;

		e.evidence_item = -1;
		e.weight = 0.0;
		if (!(state->weights[m] > 0))
			e.reason = psprintf("member %s (weight 0) is not used", name);
		else if (!state->active[m] || v == -INFINITY)
			e.reason = psprintf("member %s (weight %.2f) does not score this item",
								name, state->weights[m]);
		else
		{
			e.reason = psprintf("member %s (weight %.2f, normalised score %.2f)",
								name, state->weights[m], v);
			e.weight = state->weights[m] * v;
			if (best < 0 || e.weight > best_weight)
			{
				best = m;
				best_weight = e.weight;
			}
		}
		n = RecsEvidenceAdd(evidence, n, max, &e);
	}

	if (best >= 0 && n < max)
	{
		RecsEvidence *more = palloc(sizeof(RecsEvidence) * (max - n));
		int			got = MemberEvidence(state->members[best], user, item, more, max - n);

		for (int i = 0; i < got; i++)
		{
			evidence[n] = more[i];
			evidence[n].reason = psprintf("%s: %s", state->members[best]->name,
										  more[i].reason);
			n++;
		}
		pfree(more);
	}
	return n;
}

const RecsAlgorithm RecsHybridAlgorithm = {
	.name = "hybrid",
	/* members that cannot score unseen items are masked in ScoreMembers */
	.scores_unseen_items = true,
	.check_params = HybridCheckParams,
	.train = HybridTrain,
	.load = HybridLoad,
	.score_user = HybridScoreUser,
	.score_history = HybridScoreHistory,
	.score_similar_items = HybridSimilarItems,
	.predict = NULL,
	.explain = HybridExplain,
	.score_cold_user = HybridScoreColdUser,
	.row_sources = HybridRowSources,
};
