/*
 * tune.c
 *		recs.cross_validate: the measurement behind recs_tune.
 *
 * recs_tune (tune.sql) expands the search space and records trials in SQL;
 * each trial's measurement is this function: k-fold cross-validation of
 * the model's algorithm with the trial's params on the model's source
 * (RecsCrossValidate in evaluate.c), returning one metric value per fold.
 * Tuning sees only the model's source, never a test split kept elsewhere.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "eval/evaluate.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(recs_cross_validate);

/* metric name without "@k" -> value in r */
static double
MetricValue(const char *metric, const RecsEvalResult *r)
{
	if (strcmp(metric, "precision") == 0)
		return r->precision;
	if (strcmp(metric, "recall") == 0)
		return r->recall;
	if (strcmp(metric, "ndcg") == 0)
		return r->ndcg;
	if (strcmp(metric, "hit_rate") == 0)
		return r->hit_rate;
	if (strcmp(metric, "mrr") == 0)
		return r->mrr;
	if (strcmp(metric, "map") == 0)
		return r->map;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown metric \"%s\"", metric),
			 errhint("Metrics: precision, recall, ndcg, hit_rate, mrr, map, each as name@k, e.g. ndcg@10.")));
	return 0.0;					/* keep compiler quiet */
}

/*
 * recs.cross_validate(model text, params jsonb, folds integer, k integer,
 *					   metric text, seed integer) RETURNS float8[]
 */
Datum
recs_cross_validate(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *params = PG_GETARG_JSONB_P(1);
	int			folds = PG_GETARG_INT32(2);
	int			k = PG_GETARG_INT32(3);
	char	   *metric = text_to_cstring(PG_GETARG_TEXT_PP(4));
	int32		seed = PG_GETARG_INT32(5);
	RecsModelSpec *spec;
	const RecsAlgorithm *algorithm;
	RecsInteractions *full;
	RecsEvalResult *results;
	Datum	   *values;
	int64		rows_read;
	int64		rows_skipped;

	if (folds < 2 || folds > 20)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("folds must be between 2 and 20, not %d", folds)));
	if (k < 1 || k > RECS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", RECS_MAX_K, k)));
	(void) MetricValue(metric, &(RecsEvalResult) {0});

	SPI_connect();
	spec = RecsLookupModelSpec(name, false, caller);
	algorithm = RecsFindAlgorithm(spec->algorithm, false);
	algorithm->check_params(params, spec->weight_column != NULL, spec->time_column != NULL);
	RecsCheckSource(spec->source, spec->source_name, spec->user_column,
					spec->item_column, spec->weight_column, spec->time_column);
	full = RecsReadSource(spec, caller, &rows_read, &rows_skipped);
	SPI_finish();

	results = palloc0(sizeof(RecsEvalResult) * folds);
	if (!RecsCrossValidate(full, algorithm, params, folds, k, seed, results))
	{
		const char *failure = "nothing to test on";

		for (int f = 0; f < folds; f++)
			if (results[f].failure)
				failure = results[f].failure;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%d-fold cross-validation of model \"%s\" leaves %s in a fold",
						folds, name, failure),
				 errhint("Use fewer folds, or more data per user.")));
	}

	values = palloc(sizeof(Datum) * folds);
	for (int f = 0; f < folds; f++)
		values[f] = Float8GetDatum(MetricValue(metric, &results[f]));
	PG_RETURN_ARRAYTYPE_P(construct_array(values, folds, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
