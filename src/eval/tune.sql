--
-- Hyperparameter tuning with k-fold cross-validation.
--

CREATE TABLE recs.tuning_trials (
	id bigserial PRIMARY KEY,
	model text NOT NULL REFERENCES recs.models (name) ON DELETE CASCADE,
	run_at timestamptz NOT NULL,
	trial integer NOT NULL,
	params jsonb NOT NULL,
	metric text NOT NULL,
	folds integer NOT NULL,
	fold_scores double precision[] NOT NULL,
	score double precision NOT NULL,
	seconds double precision NOT NULL,
	best boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE recs.tuning_trials IS 'every trial of every recs_tune run: params, per-fold and mean score';
COMMENT ON SEQUENCE recs.tuning_trials_id_seq IS 'order of tuning trials';
SELECT pg_catalog.pg_extension_config_dump('recs.tuning_trials', '');
SELECT pg_catalog.pg_extension_config_dump('recs.tuning_trials_id_seq', '');

CREATE FUNCTION recs.cross_validate(model text, params jsonb, folds integer, k integer,
									metric text, seed integer)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'recs_cross_validate' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs.cross_validate(text, jsonb, integer, integer, text, integer) IS 'internal: per-fold metric of a model''s algorithm with params under k-fold cross-validation of its source';

CREATE FUNCTION recs_tune(name text, search jsonb, metric text DEFAULT 'ndcg@10',
						  folds integer DEFAULT 3, trials integer DEFAULT NULL,
						  seed integer DEFAULT 42, activate boolean DEFAULT false)
	RETURNS TABLE (trial integer, params jsonb, score double precision,
				   fold_scores double precision[], best boolean, version integer)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base jsonb;
	key text;
	candidates jsonb[] := ARRAY['{}'::jsonb];
	config jsonb;
	metric_name text;
	metric_k integer;
	scores double precision[];
	started timestamptz := clock_timestamp();
	t timestamptz;
	n integer := 0;
	best_id bigint;
	new_version integer;
BEGIN
	SELECT m.params INTO base FROM recs.models m WHERE m.name = recs_tune.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF search IS NULL OR jsonb_typeof(search) <> 'object' OR search = '{}' THEN
		RAISE EXCEPTION 'search must be a non-empty JSON object of parameter value lists'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"neighbours": [20, 50, 100], "shrinkage": [0, 10]}.';
	END IF;
	IF metric IS NULL OR metric !~ '^(precision|recall|ndcg|hit_rate|mrr|map)@[1-9][0-9]*$' THEN
		RAISE EXCEPTION 'metric must look like ndcg@10, not "%"', metric
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Metrics: precision, recall, ndcg, hit_rate, mrr, map.';
	END IF;
	IF trials IS NOT NULL AND trials < 1 THEN
		RAISE EXCEPTION 'trials must be at least 1, not %', trials
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	metric_name := split_part(metric, '@', 1);
	metric_k := split_part(metric, '@', 2)::integer;

	-- the grid: the Cartesian product of every key's values
	FOR key IN SELECT jsonb_object_keys(search) ORDER BY 1 LOOP
		IF jsonb_typeof(search -> key) <> 'array' OR jsonb_array_length(search -> key) = 0 THEN
			RAISE EXCEPTION 'search values must be non-empty arrays; "%" is not', key
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT array_agg(c || jsonb_build_object(key, v) ORDER BY ci, vi)
		INTO candidates
		FROM unnest(candidates) WITH ORDINALITY AS cs(c, ci),
			 jsonb_array_elements(search -> key) WITH ORDINALITY AS vs(v, vi);
	END LOOP;
	-- random search: a seeded sample of the grid
	IF trials IS NOT NULL AND trials < cardinality(candidates) THEN
		SELECT array_agg(c ORDER BY ci) INTO candidates
		FROM (SELECT c, ci FROM unnest(candidates) WITH ORDINALITY AS cs(c, ci)
			  ORDER BY md5(seed::text || ':' || c::text) LIMIT trials) sample;
	END IF;

	FOREACH config IN ARRAY candidates LOOP
		n := n + 1;
		t := clock_timestamp();
		scores := recs.cross_validate(name, base || config, folds, metric_k, metric_name, seed);
		INSERT INTO recs.tuning_trials (model, run_at, trial, params, metric, folds, fold_scores,
										score, seconds)
		VALUES (name, started, n, base || config, metric, folds, scores,
				(SELECT avg(s) FROM unnest(scores) s),
				extract(epoch FROM clock_timestamp() - t));
	END LOOP;

	SELECT tt.id INTO best_id FROM recs.tuning_trials tt
	WHERE tt.model = recs_tune.name AND tt.run_at = started
	ORDER BY tt.score DESC, tt.trial LIMIT 1;
	UPDATE recs.tuning_trials tt SET best = true WHERE tt.id = best_id;

	-- the best params become the model's, and are trained as a new version
	UPDATE recs.models m SET params = tt.params
	FROM recs.tuning_trials tt WHERE tt.id = best_id AND m.name = recs_tune.name;
	new_version := @extschema@.recs_train(name, activate);

	RETURN QUERY
		SELECT tt.trial, tt.params, tt.score, tt.fold_scores, tt.best,
			   CASE WHEN tt.best THEN new_version END
		FROM recs.tuning_trials tt
		WHERE tt.model = recs_tune.name AND tt.run_at = started
		ORDER BY tt.trial;
END
$$;
COMMENT ON FUNCTION recs_tune(text, jsonb, text, integer, integer, integer, boolean) IS 'grid (or, with trials, seeded random) search over params with k-fold cross-validation on the model''s source; records every trial in recs.tuning_trials, makes the best params the model''s and trains them as a new version';
