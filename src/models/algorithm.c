/*
 * algorithm.c
 *		The table of algorithms and helpers for reading their params.
 *
 * params is a jsonb object given to recs_create_model.  Each algorithm
 * lists the keys it understands; anything else is an error at creation
 * time, so a typo ("neighbors" for "neighbours") never trains silently
 * with a default.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "models/algorithm.h"

static const RecsAlgorithm *const algorithms[] = {
	&RecsPopularAlgorithm,
	&RecsFactorsAlgorithm,
	&RecsBprMfAlgorithm,
	&RecsNcfAlgorithm,
	&RecsIalsAlgorithm,
	&RecsEaseAlgorithm,
	&RecsItemKnnAlgorithm,
	&RecsUserKnnAlgorithm,
	&RecsContentAlgorithm,
	&RecsHybridAlgorithm,
};

const RecsAlgorithm *
RecsFindAlgorithm(const char *name, bool missing_ok)
{
	StringInfoData names;

	for (size_t i = 0; i < lengthof(algorithms); i++)
		if (strcmp(algorithms[i]->name, name) == 0)
			return algorithms[i];
	if (missing_ok)
		return NULL;

	initStringInfo(&names);
	for (size_t i = 0; i < lengthof(algorithms); i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", algorithms[i]->name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown algorithm \"%s\"", name),
			 errhint("Available algorithms: %s.", names.data)));
	return NULL;				/* keep compiler quiet */
}

static JsonbValue *
FindParam(Jsonb *params, const char *key)
{
	JsonbValue	k;

	if (params == NULL || !JB_ROOT_IS_OBJECT(params))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&params->root, JB_FOBJECT, &k);
}

/*
 * params->key as a finite number; false when absent or JSON null.
 */
bool
RecsParamNumber(Jsonb *params, const char *key, double *value)
{
	JsonbValue *v = FindParam(params, key);

	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a number", key)));
	*value = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												NumericGetDatum(v->val.numeric)));
	if (isnan(*value) || isinf(*value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a finite number", key)));
	return true;
}

/*
 * params->key as an integer in [min, max], or default_value when absent or
 * JSON null.
 */
int64
RecsParamInt(Jsonb *params, const char *key, int64 default_value, int64 min, int64 max)
{
	double		value;

	if (!RecsParamNumber(params, key, &value))
		return default_value;
	if (value != floor(value) || value < (double) min || value > (double) max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be an integer between " INT64_FORMAT
						" and " INT64_FORMAT ", not %g", key, min, max, value)));
	return (int64) value;
}

/*
 * params->key as a count (an integer >= 1), or default_value when absent.
 */
int32
RecsParamCount(Jsonb *params, const char *key, int32 default_value)
{
	double		value;

	if (!RecsParamNumber(params, key, &value))
		return default_value;
	if (value < 1 || value > PG_INT32_MAX || value != floor(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a positive integer, not %g", key, value)));
	return (int32) value;
}

/*
 * params->key as a number > 0, or default_value when absent.
 */
double
RecsParamPositive(Jsonb *params, const char *key, double default_value)
{
	double		value = default_value;

	if (RecsParamNumber(params, key, &value) && value <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be positive, not %g", key, value)));
	return value;
}

/*
 * params->key as a number >= 0, or default_value when absent.
 */
double
RecsParamNonNegative(Jsonb *params, const char *key, double default_value)
{
	double		value = default_value;

	if (RecsParamNumber(params, key, &value) && value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must not be negative, not %g", key, value)));
	return value;
}

/*
 * params->key as a string; false when absent or JSON null.
 */
bool
RecsParamString(Jsonb *params, const char *key, char **value)
{
	JsonbValue *v = FindParam(params, key);

	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a string", key)));
	*value = pnstrdup(v->val.string.val, v->val.string.len);
	return true;
}

/*
 * params->key as a jsonb object of its own, or NULL when absent or JSON
 * null.
 */
Jsonb *
RecsParamObject(Jsonb *params, const char *key)
{
	JsonbValue *v = FindParam(params, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a JSON object", key)));
	return JsonbValueToJsonb(v);
}

/*
 * Keys every model understands, whatever its algorithm: how serving treats
 * users and items the model knows little about (serve/topk.c).
 */
static const char *const common_params[] = {
	"fallback",					/* popularity params of the cold-start fallback */
	"cold_start",				/* the chain of steps for users the model lacks */
	"exploration",				/* a slot for fresh items every N positions */
	"context_boost",			/* weight of recs_topk's context re-ranking */
	NULL
};

static void CheckKeys(Jsonb *params, const char *algorithm,
					  const char *const *allowed, bool allow_common);

static bool
IsCommonParam(const char *key)
{
	for (const char *const *c = common_params; *c != NULL; c++)
		if (strcmp(*c, key) == 0)
			return true;
	return false;
}

/*
 * Check the common keys (common_params); recs_create_model calls this for
 * every algorithm after the algorithm's own check_params.
 */
void
RecsCheckCommonParams(Jsonb *params, bool has_time)
{
	Jsonb	   *fallback = RecsParamObject(params, "fallback");
	Jsonb	   *exploration = RecsParamObject(params, "exploration");
	JsonbValue *chain = FindParam(params, "cold_start");

	if (fallback != NULL)
		RecsPopularAlgorithm.check_params(fallback, true, has_time);
	if (exploration != NULL)
	{
		static const char *const keys[] = {"every", "max_interactions", NULL};

		CheckKeys(exploration, "exploration", keys, false);
		if (RecsParamInt(exploration, "every", 0, 2, RECS_MAX_EXPLORATION_EVERY) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"exploration\" needs \"every\""),
					 errhint("For example {\"every\": 10} puts a fresh item at positions 10, 20, ...")));
		(void) RecsParamInt(exploration, "max_interactions", 0, 0, PG_INT32_MAX);
	}
	(void) RecsParamNonNegative(params, "context_boost", 0.0);
	if (chain != NULL && chain->type != jbvNull)
		(void) RecsColdStartChain(params);
}

/*
 * The cold-start chain of params: which steps recs_topk tries, in order,
 * for a user the model was not trained on.  "popular" always ends it, so
 * the result is never empty; it may be listed only last.
 */
int
RecsColdStartChain(Jsonb *params)
{
	JsonbValue *chain = FindParam(params, "cold_start");
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			steps = 0;
	bool		popular_seen = false;

	if (chain == NULL || chain->type == jbvNull)
		return RECS_COLD_FOLD_IN | RECS_COLD_USER_FEATURES | RECS_COLD_POPULAR;
	if (chain->type != jbvBinary || !JsonContainerIsArray(chain->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"cold_start\" must be an array of steps"),
				 errhint("For example [\"fold_in\", \"user_features\", \"popular\"].")));
	it = JsonbIteratorInit(chain->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *step;
		int			flag;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("steps of \"cold_start\" must be strings")));
		step = pnstrdup(v.val.string.val, v.val.string.len);
		if (strcmp(step, "fold_in") == 0)
			flag = RECS_COLD_FOLD_IN;
		else if (strcmp(step, "user_features") == 0)
			flag = RECS_COLD_USER_FEATURES;
		else if (strcmp(step, "popular") == 0)
			flag = RECS_COLD_POPULAR;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown cold-start step \"%s\"", step),
					 errhint("Steps are \"fold_in\", \"user_features\" and \"popular\".")));
		if (popular_seen)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cold-start step \"popular\" must come last"),
					 errdetail("Popularity always answers, so no step after it would run.")));
		if (steps & flag)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cold-start step \"%s\" is listed twice", step)));
		if (flag == RECS_COLD_POPULAR)
			popular_seen = true;
		steps |= flag;
	}
	/* popularity ends every chain */
	return steps | RECS_COLD_POPULAR;
}

/*
 * params must be an object whose keys all appear in allowed (NULL-ended),
 * or, when allow_common, among the keys every model understands.
 */
static void
CheckKeys(Jsonb *params, const char *algorithm, const char *const *allowed,
		  bool allow_common)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object")));

	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		StringInfoData names;
		char	   *key;
		bool		found = false;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				found = true;
		if (found || (allow_common && IsCommonParam(key)))
			continue;

		initStringInfo(&names);
		for (const char *const *a = allowed; *a != NULL; a++)
			appendStringInfo(&names, "%s%s", a == allowed ? "" : ", ", *a);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown parameter \"%s\" for algorithm \"%s\"", key, algorithm),
				 names.len > 0 ?
				 errhint("Parameters of \"%s\": %s.", algorithm, names.data) :
				 errhint("Algorithm \"%s\" takes no parameters.", algorithm)));
	}
}

/*
 * Insert e into evidence[0..n-1], kept heaviest first and at most max long
 * (a lighter entry than all of a full list is dropped; ties keep the
 * earlier entry first); returns the new length.
 */
int
RecsEvidenceAdd(RecsEvidence *evidence, int n, int max, const RecsEvidence *e)
{
	int			at;

	for (at = Min(n, max); at > 0 && evidence[at - 1].weight < e->weight; at--)
		if (at < max)
			evidence[at] = evidence[at - 1];
	if (at < max)
	{
		evidence[at] = *e;
		n = Min(n + 1, max);
	}
	return n;
}

/*
 * params (a model's) must be an object whose keys all appear in allowed
 * (NULL-ended) or among the keys every model understands.
 */
void
RecsCheckParamKeys(Jsonb *params, const char *algorithm, const char *const *allowed)
{
	CheckKeys(params, algorithm, allowed, true);
}

/* Users per item in the training data, computed once per loaded model. */
const int32 *
RecsItemUsers(const RecsLoadedModel *model)
{
	RecsLoadedModel *m = (RecsLoadedModel *) model;

	if (m->item_users == NULL)
	{
		int32	   *counts = MemoryContextAllocZero(GetMemoryChunkContext(m),
													sizeof(int32) * Max(m->data->n_items, 1));

		for (int64 p = 0; p < m->data->nnz; p++)
			counts[m->data->col_idx[p]]++;
		m->item_users = counts;
	}
	return m->item_users;
}

/*
 * Evidence from item similarity, for models that have it: the user's
 * items (an index) by their similarity to item times the user's weight for
 * them, heaviest first, at most max; returns how many.  recs_explain uses
 * it for models without an explain of their own, and hybrids for members.
 */
int
RecsExplainBySimilarity(const RecsLoadedModel *model, int32 user, int32 item,
						RecsEvidence *evidence, int max)
{
	const RecsInteractions *data = model->data;
	float4	   *sims = palloc(sizeof(float4) * Max(data->n_items, 1));
	int			n = 0;

	for (int32 j = 0; j < data->n_items; j++)
		sims[j] = -INFINITY;
	model->algorithm->score_similar_items(model, item, sims);
	for (int64 p = data->row_ptr[user]; p < data->row_ptr[user + 1]; p++)
	{
		int32		i = data->col_idx[p];
		RecsEvidence e;

		if (i == item || !(sims[i] > 0.0f) || isinf(sims[i]))
			continue;
		e.reason = "similar to an item the user interacted with";
		e.evidence_item = data->item_ids[i];
		e.weight = (float8) sims[i] * data->values[p];
		n = RecsEvidenceAdd(evidence, n, max, &e);
	}
	pfree(sims);
	return n;
}
