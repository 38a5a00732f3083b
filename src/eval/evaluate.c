/*
 * evaluate.c
 *		recs_evaluate: offline evaluation of a model on a split of its source.
 *
 * The model's source is read once and split into train and test parts
 * (protocols below); the model's algorithm is trained on the train part in
 * memory, through the same code as recs_train (RecsTrainArtifact,
 * RecsLoadArtifact), and every test user is ranked through the same code as
 * recs_topk (RecsRankForUser), seen train items excluded and the
 * popularity fallback included.  What is measured is what is served.
 *
 * Protocols:
 *	leave_one_out	each user with at least 2 interactions holds out one:
 *					the latest (ties: the highest item id), or a random one
 *					(seeded) when the model has no time column;
 *	random			each user with at least 2 interactions holds out
 *					round(test_fraction * n), at least 1 and at most n - 1,
 *					chosen at random (seeded);
 *	temporal		interactions at or after cutoff are the test part (cutoff
 *					defaults to the time leaving test_fraction of the data
 *					after it); users first seen after the cutoff are
 *					evaluated too, through the cold-start fallback.
 * Every held-out interaction counts as relevant.  With negatives = N > 0
 * each user's held-out items are ranked among N items sampled uniformly
 * from the items that user never interacted with (the NCF paper's protocol
 * with N = 100) instead of among the whole catalogue.
 *
 * Metrics are averaged over the users evaluated, computed by the same C
 * code as recs_*_at_k (metrics.c).  Coverage is the share of the training
 * catalogue that appears in at least one user's top k.  Everything is
 * deterministic for a given seed.
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "registry/registry.h"
#include "serve/recommend.h"

PG_FUNCTION_INFO_V1(recs_evaluate);
PG_FUNCTION_INFO_V1(recs_evaluate_split);

/* What the split decided: test[p] for each nonzero p of the full matrix. */
typedef struct EvalSplit
{
	bool	   *test;
	int64		n_test;
} EvalSplit;

static RecsEvalProtocol
ParseProtocol(const char *name)
{
	if (strcmp(name, "leave_one_out") == 0)
		return RECS_PROTOCOL_LEAVE_ONE_OUT;
	if (strcmp(name, "random") == 0)
		return RECS_PROTOCOL_RANDOM;
	if (strcmp(name, "temporal") == 0)
		return RECS_PROTOCOL_TEMPORAL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown evaluation protocol \"%s\"", name),
			 errhint("Protocols: leave_one_out, random, temporal.")));
	return RECS_PROTOCOL_LEAVE_ONE_OUT;	/* keep compiler quiet */
}

static void
SplitLeaveOneOut(const RecsInteractions *full, pg_prng_state *prng, EvalSplit *split)
{
	for (int32 u = 0; u < full->n_users; u++)
	{
		int64		begin = full->row_ptr[u];
		int64		end = full->row_ptr[u + 1];
		int64		held;

		if (end - begin < 2)
			continue;
		if (full->times)
		{
			/* latest; items are ascending, so >= keeps the highest id on ties */
			held = begin;
			for (int64 p = begin + 1; p < end; p++)
				if (full->times[p] >= full->times[held])
					held = p;
		}
		else
			held = begin + (int64) pg_prng_uint64_range(prng, 0, end - begin - 1);
		split->test[held] = true;
		split->n_test++;
	}
}

static void
SplitRandom(const RecsInteractions *full, double fraction, pg_prng_state *prng,
			EvalSplit *split)
{
	int64	   *order = palloc_extended(sizeof(int64) * Max(full->nnz, 1), MCXT_ALLOC_HUGE);

	for (int32 u = 0; u < full->n_users; u++)
	{
		int64		begin = full->row_ptr[u];
		int64		n = full->row_ptr[u + 1] - begin;
		int64		n_test;

		if (n < 2)
			continue;
		n_test = (int64) rint(fraction * n);
		n_test = Max(n_test, 1);
		n_test = Min(n_test, n - 1);

		/* partial Fisher-Yates: the first n_test of a random permutation */
		for (int64 i = 0; i < n; i++)
			order[i] = begin + i;
		for (int64 i = 0; i < n_test; i++)
		{
			int64		j = i + (int64) pg_prng_uint64_range(prng, 0, n - 1 - i);
			int64		tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
			split->test[order[i]] = true;
		}
		split->n_test += n_test;
	}
	pfree(order);
}

static int
CompareFloat8(const void *a, const void *b)
{
	float8		x = *(const float8 *) a;
	float8		y = *(const float8 *) b;

	return (x > y) - (x < y);
}

/* cutoff in epoch seconds; NaN means "choose from test_fraction" */
static float8
SplitTemporal(const RecsInteractions *full, float8 cutoff, double fraction,
			  EvalSplit *split)
{
	if (isnan(cutoff))
	{
		float8	   *sorted = palloc(sizeof(float8) * full->nnz);
		int64		index;

		memcpy(sorted, full->times, sizeof(float8) * full->nnz);
		qsort(sorted, full->nnz, sizeof(float8), CompareFloat8);
		index = (int64) floor((1.0 - fraction) * full->nnz);
		index = Min(Max(index, 0), full->nnz - 1);
		cutoff = sorted[index];
		pfree(sorted);
	}
	for (int64 p = 0; p < full->nnz; p++)
		if (full->times[p] >= cutoff)
		{
			split->test[p] = true;
			split->n_test++;
		}
	return cutoff;
}

/* The train part as triples, for RecsBuildInteractions. */
static RecsTriple *
TrainTriples(const RecsInteractions *full, const EvalSplit *split, int64 *n)
{
	RecsTriple *triples = palloc_extended(sizeof(RecsTriple) * Max(full->nnz, 1),
										  MCXT_ALLOC_HUGE);

	*n = 0;
	for (int32 u = 0; u < full->n_users; u++)
		for (int64 p = full->row_ptr[u]; p < full->row_ptr[u + 1]; p++)
		{
			if (split->test[p])
				continue;
			triples[*n].user_id = full->user_ids[u];
			triples[*n].item_id = full->item_ids[full->col_idx[p]];
			triples[*n].value = full->values[p];
			triples[*n].time = full->times ? full->times[p] : 0.0;
			(*n)++;
		}
	return triples;
}

typedef struct EvalTotals
{
	int32		users;
	double		precision;
	double		recall;
	double		ndcg;
	double		hit_rate;
	double		mrr;
	double		map;
} EvalTotals;

/* The held-out pairs of a split, as a matrix over the full data's ids. */
static RecsInteractions *
TestMatrix(const RecsInteractions *full, const EvalSplit *split)
{
	RecsTriple *triples = palloc_extended(sizeof(RecsTriple) * Max(split->n_test, 1),
										  MCXT_ALLOC_HUGE);
	int64		n = 0;
	RecsInteractions *test;

	for (int32 u = 0; u < full->n_users; u++)
		for (int64 p = full->row_ptr[u]; p < full->row_ptr[u + 1]; p++)
			if (split->test[p])
			{
				triples[n].user_id = full->user_ids[u];
				triples[n].item_id = full->item_ids[full->col_idx[p]];
				triples[n].value = full->values[p];
				triples[n].time = 0.0;
				n++;
			}
	test = RecsBuildInteractions(triples, n, false);
	pfree(triples);
	return test;
}

/*
 * For each test user, negatives items of the training catalogue that the
 * user never interacted with (in the full data), drawn uniformly; fewer
 * when the catalogue has fewer such items.
 */
static RecsInteractions *
SampleNegatives(const RecsInteractions *full, const RecsInteractions *train,
				const RecsInteractions *test, int negatives, pg_prng_state *prng)
{
	bool	   *taken = palloc0(sizeof(bool) * Max(train->n_items, 1));
	RecsTriple *triples = palloc_extended(mul_size(sizeof(RecsTriple),
												   Max((Size) test->n_users * negatives, 1)),
										  MCXT_ALLOC_HUGE);
	int64		n = 0;
	RecsInteractions *result;

	for (int32 t = 0; t < test->n_users; t++)
	{
		int64		user_id = test->user_ids[t];
		int32		u = RecsUserIndex(full, user_id);
		int			free_items = train->n_items;
		int			wanted;

		/* the user's whole history, in training-catalogue indices */
		for (int64 p = full->row_ptr[u]; p < full->row_ptr[u + 1]; p++)
		{
			int32		j = RecsItemIndex(train, full->item_ids[full->col_idx[p]]);

			if (j >= 0 && !taken[j])
			{
				taken[j] = true;
				free_items--;
			}
		}
		wanted = Min(negatives, free_items);
		for (int drawn = 0; drawn < wanted;)
		{
			int32		j = (int32) pg_prng_uint64_range(prng, 0, train->n_items - 1);

			if (taken[j])
				continue;
			taken[j] = true;
			triples[n].user_id = user_id;
			triples[n].item_id = train->item_ids[j];
			triples[n].value = 1.0f;
			triples[n].time = 0.0;
			n++;
			drawn++;
		}
		memset(taken, false, sizeof(bool) * train->n_items);
	}
	result = RecsBuildInteractions(triples, n, false);
	pfree(triples);
	pfree(taken);
	return result;
}

/*
 * Rank every user of test and add up the metrics.  The relevant items are
 * the user's items in test.  Candidates: with candidates, the user's items
 * there plus the relevant ones; without, the whole catalogue minus what the
 * user saw in training.  recommended_any[j] is set for every training item
 * j that appeared in some top k (for coverage).
 */
static void
EvaluateUsers(const RecsLoadedModel *model, const RecsInteractions *test,
			  const RecsInteractions *candidates, int k,
			  bool *recommended_any, EvalTotals *totals)
{
	const RecsInteractions *train = model->data;
	bool	   *excluded = palloc(sizeof(bool) * Max(train->n_items, 1));
	int64	   *recommended = palloc(sizeof(int64) * k);
	int64	   *relevant = palloc(sizeof(int64) * Max(test->n_items, 1));
	MemoryContext user_context;
	MemoryContext old;

	user_context = AllocSetContextCreate(CurrentMemoryContext, "recs evaluate user",
										 ALLOCSET_DEFAULT_SIZES);
	memset(totals, 0, sizeof(EvalTotals));

	for (int32 t = 0; t < test->n_users; t++)
	{
		int64		user_id = test->user_ids[t];
		int			n_relevant = 0;
		int32		train_user = RecsUserIndex(train, user_id);
		RecsRanking ranking;
		RecsTopKStats stats;

		CHECK_FOR_INTERRUPTS();
		for (int64 p = test->row_ptr[t]; p < test->row_ptr[t + 1]; p++)
			relevant[n_relevant++] = test->item_ids[test->col_idx[p]];

		if (candidates != NULL)
		{
			int32		c = RecsUserIndex(candidates, user_id);

			memset(excluded, true, sizeof(bool) * train->n_items);
			for (int i = 0; i < n_relevant; i++)
			{
				int32		j = RecsItemIndex(train, relevant[i]);

				if (j >= 0)
					excluded[j] = false;
			}
			if (c >= 0)
				for (int64 p = candidates->row_ptr[c]; p < candidates->row_ptr[c + 1]; p++)
				{
					int32		j = RecsItemIndex(train,
												  candidates->item_ids[candidates->col_idx[p]]);

					if (j >= 0)
						excluded[j] = false;
				}
		}
		else
		{
			memset(excluded, false, sizeof(bool) * train->n_items);
			if (train_user >= 0)
				for (int64 p = train->row_ptr[train_user];
					 p < train->row_ptr[train_user + 1]; p++)
					excluded[train->col_idx[p]] = true;
		}

		old = MemoryContextSwitchTo(user_context);
		RecsRankForUser(model, train_user, k, excluded, &ranking);
		for (int i = 0; i < ranking.n; i++)
		{
			recommended[i] = train->item_ids[ranking.items[i]];
			recommended_any[ranking.items[i]] = true;
		}
		RecsComputeTopKStats(recommended, ranking.n, relevant, NULL, n_relevant,
							 0.0, k, true, &stats);
		MemoryContextSwitchTo(old);
		MemoryContextReset(user_context);

		totals->users++;
		totals->precision += RecsPrecisionAtK(&stats);
		totals->recall += RecsRecallAtK(&stats);
		totals->ndcg += RecsNdcgAtK(&stats);
		totals->hit_rate += RecsHitRateAtK(&stats);
		totals->mrr += RecsReciprocalRankAtK(&stats);
		totals->map += RecsAveragePrecisionAtK(&stats);
	}
	MemoryContextDelete(user_context);
	pfree(excluded);
	pfree(recommended);
	pfree(relevant);
}

/*
 * Measure a trained model on test (and candidates, may be NULL) at k.
 */
void
RecsEvaluateModel(const RecsLoadedModel *model, const RecsInteractions *test,
				  const RecsInteractions *candidates, int k, RecsEvalResult *result)
{
	bool	   *recommended_any = palloc0(sizeof(bool) * Max(model->data->n_items, 1));
	EvalTotals	totals;
	int32		covered = 0;

	EvaluateUsers(model, test, candidates, k, recommended_any, &totals);
	for (int32 j = 0; j < model->data->n_items; j++)
		covered += recommended_any[j];
	pfree(recommended_any);

	result->users = totals.users;
	result->precision = totals.precision / Max(totals.users, 1);
	result->recall = totals.recall / Max(totals.users, 1);
	result->ndcg = totals.ndcg / Max(totals.users, 1);
	result->hit_rate = totals.hit_rate / Max(totals.users, 1);
	result->mrr = totals.mrr / Max(totals.users, 1);
	result->map = totals.map / Max(totals.users, 1);
	result->coverage = (double) covered / Max(model->data->n_items, 1);
	result->train_interactions = model->data->nnz;
	result->test_interactions = test->nnz;
}

/*
 * Train algorithm on full minus split's test pairs, rank the test users
 * (among negatives sampled items each, or the whole catalogue) and average
 * the metrics into result.  Frees split->test.  Returns false, with
 * result->failure set, when the split leaves nothing to train or test on.
 */
static bool
EvaluateSplit(const RecsInteractions *full, EvalSplit *split,
			  const RecsAlgorithm *algorithm, Jsonb *params, int k, int negatives,
			  pg_prng_state *prng, RecsEvalResult *result)
{
	RecsInteractions *train;
	RecsInteractions *test;
	RecsInteractions *candidates = NULL;
	RecsTriple *triples;
	int64		n_train;
	RecsLoadedModel *model;
	TimestampTz start;
	long		secs;
	int			usecs;

	triples = TrainTriples(full, split, &n_train);
	if (n_train == 0 || split->n_test == 0)
	{
		result->failure = n_train == 0 ? "nothing to train on" : "nothing to test on";
		pfree(triples);
		pfree(split->test);
		return false;
	}
	train = RecsBuildInteractions(triples, n_train, full->times != NULL);
	pfree(triples);
	/* a model with a catalogue knows every item, even the held-out ones */
	if (full->catalogue)
	{
		RecsAddItems(train, full->item_ids, full->n_items);
		train->catalogue = true;
	}
	test = TestMatrix(full, split);
	pfree(split->test);

	start = GetCurrentTimestamp();
	model = RecsLoadArtifact(RecsTrainArtifact(algorithm, train, params),
							 algorithm, params);
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);

	if (negatives > 0)
		candidates = SampleNegatives(full, model->data, test, negatives, prng);
	RecsEvaluateModel(model, test, candidates, k, result);
	result->train_seconds = secs + usecs / 1e6;
	return true;
}

/*
 * Split full per opts, train algorithm on the train part, rank the test
 * users and average the metrics into result.  Returns false, with
 * result->failure set, when the split leaves nothing to train or test on
 * (the caller decides whether that is an error).
 */
bool
RecsEvaluateOn(const RecsInteractions *full, const RecsAlgorithm *algorithm,
			   Jsonb *params, const RecsEvalOptions *opts, RecsEvalResult *result)
{
	EvalSplit	split;
	pg_prng_state prng;

	memset(result, 0, sizeof(RecsEvalResult));
	result->cutoff = opts->cutoff;

	pg_prng_seed(&prng, (uint64) (int64) opts->seed);
	split.test = palloc0(sizeof(bool) * Max(full->nnz, 1));
	split.n_test = 0;
	switch (opts->protocol)
	{
		case RECS_PROTOCOL_LEAVE_ONE_OUT:
			SplitLeaveOneOut(full, &prng, &split);
			break;
		case RECS_PROTOCOL_RANDOM:
			SplitRandom(full, opts->test_fraction, &prng, &split);
			break;
		case RECS_PROTOCOL_TEMPORAL:
			result->cutoff = SplitTemporal(full, opts->cutoff, opts->test_fraction, &split);
			break;
	}
	return EvaluateSplit(full, &split, algorithm, params, opts->k, opts->negatives,
						 &prng, result);
}

/*
 * k-fold cross-validation: each user's interactions are shuffled (seeded)
 * and dealt round-robin into folds, so every fold holds about 1/folds of
 * each user's history; fold f is tested against a model trained on the
 * others.  fold_results has folds entries.  Returns false (with the
 * failing fold's failure set) when a fold leaves nothing to train or test.
 */
bool
RecsCrossValidate(const RecsInteractions *full, const RecsAlgorithm *algorithm,
				  Jsonb *params, int folds, int k, int32 seed,
				  RecsEvalResult *fold_results)
{
	pg_prng_state prng;
	int16	   *fold_of = palloc_extended(sizeof(int16) * Max(full->nnz, 1), MCXT_ALLOC_HUGE);
	int64	   *order = palloc_extended(sizeof(int64) * Max(full->nnz, 1), MCXT_ALLOC_HUGE);

	pg_prng_seed(&prng, (uint64) (int64) seed);
	for (int32 u = 0; u < full->n_users; u++)
	{
		int64		begin = full->row_ptr[u];
		int64		n = full->row_ptr[u + 1] - begin;

		for (int64 i = 0; i < n; i++)
			order[i] = begin + i;
		for (int64 i = n - 1; i > 0; i--)
		{
			int64		j = (int64) pg_prng_uint64_range(&prng, 0, i);
			int64		tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		for (int64 i = 0; i < n; i++)
			fold_of[order[i]] = (int16) (i % folds);
	}
	pfree(order);

	for (int f = 0; f < folds; f++)
	{
		EvalSplit	split;

		CHECK_FOR_INTERRUPTS();
		memset(&fold_results[f], 0, sizeof(RecsEvalResult));
		split.test = palloc0(sizeof(bool) * Max(full->nnz, 1));
		split.n_test = 0;
		for (int64 p = 0; p < full->nnz; p++)
			if (fold_of[p] == f)
			{
				split.test[p] = true;
				split.n_test++;
			}
		if (!EvaluateSplit(full, &split, algorithm, params, k, 0, &prng, &fold_results[f]))
			return false;
	}
	pfree(fold_of);
	return true;
}

/*
 * recs_evaluate(model text, k integer, protocol text, test_fraction float8,
 *				 seed integer, negatives integer, cutoff timestamptz)
 */
Datum
recs_evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	char	   *name;
	char	   *protocol_name;
	RecsEvalOptions opts;
	RecsModelSpec *spec;
	const RecsAlgorithm *algorithm;
	RecsInteractions *full;
	int64		rows_read;
	int64		rows_skipped;
	RecsEvalResult result;
	Datum		values[14];
	bool		nulls[14] = {0};

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only cutoff may be NULL in recs_evaluate")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	opts.k = PG_GETARG_INT32(1);
	protocol_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	opts.protocol = ParseProtocol(protocol_name);
	opts.test_fraction = PG_GETARG_FLOAT8(3);
	opts.seed = PG_GETARG_INT32(4);
	opts.negatives = PG_GETARG_INT32(5);
	opts.cutoff = NAN;

	if (opts.k < 1 || opts.k > RECS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", RECS_MAX_K, opts.k)));
	if (!(opts.test_fraction > 0.0 && opts.test_fraction < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_fraction must be between 0 and 1 (exclusive), not %g",
						opts.test_fraction)));
	if (opts.negatives < 0 || opts.negatives > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("negatives must be between 0 and 100000, not %d", opts.negatives)));
	if (!PG_ARGISNULL(6))
	{
		if (opts.protocol != RECS_PROTOCOL_TEMPORAL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cutoff applies only to the temporal protocol")));
		/* epoch seconds, as the source's time column is read */
		opts.cutoff = (float8) (PG_GETARG_TIMESTAMPTZ(6) +
								((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)) /
			USECS_PER_SEC;
	}

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	spec = RecsLookupModelSpec(name, false, caller);
	algorithm = RecsFindAlgorithm(spec->algorithm, false);
	RecsCheckSource(spec->source, spec->source_name, spec->user_column,
					spec->item_column, spec->weight_column, spec->time_column);
	if (opts.protocol == RECS_PROTOCOL_TEMPORAL && spec->time_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the temporal protocol needs a time column"),
				 errdetail("Model \"%s\" was created without time_column.", name)));
	full = RecsReadSource(spec, caller, &rows_read, &rows_skipped);
	SPI_finish();

	if (full->nnz == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" of model \"%s\" has no interactions to evaluate on",
						spec->source_name, name)));

	if (!RecsEvaluateOn(full, algorithm, spec->params, &opts, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the %s split of model \"%s\" leaves %s", protocol_name, name,
						result.failure),
				 opts.protocol == RECS_PROTOCOL_TEMPORAL ?
				 errhint("Choose a cutoff with interactions on both sides.") :
				 errhint("Users need at least 2 interactions for leave_one_out and random.")));

	values[0] = CStringGetTextDatum(protocol_name);
	values[1] = Int32GetDatum(opts.k);
	values[2] = Int32GetDatum(opts.negatives);
	values[3] = Int32GetDatum(result.users);
	values[4] = Float8GetDatum(result.precision);
	values[5] = Float8GetDatum(result.recall);
	values[6] = Float8GetDatum(result.ndcg);
	values[7] = Float8GetDatum(result.hit_rate);
	values[8] = Float8GetDatum(result.mrr);
	values[9] = Float8GetDatum(result.map);
	values[10] = Float8GetDatum(result.coverage);
	values[11] = Int64GetDatum(result.train_interactions);
	values[12] = Int64GetDatum(result.test_interactions);
	values[13] = Float8GetDatum(result.train_seconds);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	return (Datum) 0;
}

/*
 * Read relid's pairs, named by the model's user and item columns, as a
 * matrix.  what names the argument in messages.
 */
static RecsInteractions *
ReadPairs(const RecsModelSpec *model, Oid relid, const char *what,
		  MemoryContext target)
{
	RecsModelSpec spec = *model;
	int64		rows_read;
	int64		rows_skipped;

	spec.source = relid;
	spec.source_name = psprintf("%s (%s)", get_rel_name(relid), what);
	spec.weight_column = NULL;
	spec.time_column = NULL;
	RecsCheckSource(spec.source, spec.source_name, spec.user_column,
					spec.item_column, NULL, NULL);
	return RecsReadSource(&spec, target, &rows_read, &rows_skipped);
}

/*
 * recs_evaluate_split(model text, test regclass, candidates regclass, k integer)
 *
 * An externally given split: the model's source is the training part, test
 * holds each user's held-out items, and candidates (optional) each user's
 * items to rank them among (e.g. the 99 sampled negatives of the NCF
 * paper's protocol).  Both tables use the model's user and item column names.
 */
Datum
recs_evaluate_split(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	char	   *name;
	int			k;
	RecsModelSpec *spec;
	const RecsAlgorithm *algorithm;
	RecsInteractions *train;
	RecsInteractions *test;
	RecsInteractions *candidates = NULL;
	RecsLoadedModel *model;
	RecsEvalResult result;
	int64		rows_read;
	int64		rows_skipped;
	TimestampTz start;
	long		secs;
	int			usecs;
	Datum		values[14];
	bool		nulls[14] = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("only candidates may be NULL in recs_evaluate_split")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	k = PG_GETARG_INT32(3);
	if (k < 1 || k > RECS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", RECS_MAX_K, k)));

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	spec = RecsLookupModelSpec(name, false, caller);
	algorithm = RecsFindAlgorithm(spec->algorithm, false);
	RecsCheckSource(spec->source, spec->source_name, spec->user_column,
					spec->item_column, spec->weight_column, spec->time_column);
	train = RecsReadSource(spec, caller, &rows_read, &rows_skipped);
	test = ReadPairs(spec, PG_GETARG_OID(1), "test", caller);
	if (!PG_ARGISNULL(2))
		candidates = ReadPairs(spec, PG_GETARG_OID(2), "candidates", caller);
	SPI_finish();

	if (train->nnz == 0 || test->nnz == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" has no %s interactions", name,
						train->nnz == 0 ? "training" : "test")));

	start = GetCurrentTimestamp();
	if (algorithm == &RecsFactorsAlgorithm)
	{
		/* trained elsewhere: evaluate the imported, active version as it is */
		SPI_connect();
		model = RecsLoadModelVersion(name, NULL, caller);
		SPI_finish();
	}
	else
		model = RecsLoadArtifact(RecsTrainArtifact(algorithm, train, spec->params),
								 algorithm, spec->params);
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);

	memset(&result, 0, sizeof(result));
	RecsEvaluateModel(model, test, candidates, k, &result);

	values[0] = CStringGetTextDatum(candidates ? "given split, given candidates" : "given split");
	values[1] = Int32GetDatum(k);
	values[2] = Int32GetDatum(0);
	if (candidates)
		values[2] = Int32GetDatum((int32) (candidates->nnz / Max(candidates->n_users, 1)));
	values[3] = Int32GetDatum(result.users);
	values[4] = Float8GetDatum(result.precision);
	values[5] = Float8GetDatum(result.recall);
	values[6] = Float8GetDatum(result.ndcg);
	values[7] = Float8GetDatum(result.hit_rate);
	values[8] = Float8GetDatum(result.mrr);
	values[9] = Float8GetDatum(result.map);
	values[10] = Float8GetDatum(result.coverage);
	values[11] = Int64GetDatum(result.train_interactions);
	values[12] = Int64GetDatum(result.test_interactions);
	values[13] = Float8GetDatum(secs + usecs / 1e6);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	return (Datum) 0;
}
