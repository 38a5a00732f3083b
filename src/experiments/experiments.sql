--
-- A/B experiments: variants, deterministic assignment, serving with exposure
-- logging, outcome tracking with attribution, and the report.
--
-- Assignment: bucket = recs.assignment_bucket(coalesce(salt, name), user_id),
-- a hash defined by recs itself (experiment_stats.c) into 10,000 buckets.
-- Variants take consecutive bucket ranges in a fixed order (variant names in
-- "C" collation), sized by their weights, so changing weights moves only the
-- users whose bucket changes hands at a moved boundary.
--

CREATE TABLE recs.experiments (
	name text PRIMARY KEY
		CHECK (name <> '' AND octet_length(name) < 64),
	salt text,
	attribution_window interval NOT NULL DEFAULT '1 day'
		CHECK (attribution_window > '0'::interval),
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'stopped')),
	winner text,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user,
	weights_changed_at timestamptz NOT NULL DEFAULT now(),
	stopped_at timestamptz,
	-- bumped by every change to the experiment's variants or overrides, so
	-- that backends caching the definition (routing.c) see the change
	revision bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE recs.experiments IS 'A/B experiments: salt of the assignment hash, attribution window, running or stopped';

CREATE TABLE recs.experiment_variants (
	experiment text NOT NULL REFERENCES recs.experiments (name) ON DELETE CASCADE,
	variant text NOT NULL CHECK (variant <> ''),
	model text NOT NULL,
	weight numeric NOT NULL CHECK (weight > 0),
	PRIMARY KEY (experiment, variant)
);
COMMENT ON TABLE recs.experiment_variants IS 'the variants of each experiment: the model each serves and its share of traffic (weight)';

CREATE TABLE recs.experiment_overrides (
	experiment text NOT NULL,
	user_id bigint NOT NULL,
	variant text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (experiment, user_id),
	FOREIGN KEY (experiment, variant) REFERENCES recs.experiment_variants (experiment, variant)
		ON DELETE CASCADE
);
COMMENT ON TABLE recs.experiment_overrides IS 'users forced into a variant (QA allow-list); their exposures are kept out of the report';

CREATE TABLE recs.exposures (
	id bigserial PRIMARY KEY,
	experiment text NOT NULL REFERENCES recs.experiments (name) ON DELETE CASCADE,
	variant text NOT NULL,
	model text NOT NULL,
	model_version integer,
	user_id bigint NOT NULL,
	forced boolean NOT NULL DEFAULT false,
	items bigint[] NOT NULL,
	scores real[],
	fallback_rows integer NOT NULL DEFAULT 0,
	shown_at timestamptz NOT NULL DEFAULT now()
);
-- recs_track's attribution looks exposures up by user.  Nothing else is
-- indexed: every exposure pays for each index on its way in, and the
-- report and the monitoring functions read an experiment's or a model's
-- exposures whole (an index by experiment cost the writer a fifth more per
-- exposure, bench/experiments.sh).
CREATE INDEX ON recs.exposures (user_id, shown_at);
COMMENT ON TABLE recs.exposures IS 'one row per list served in an experiment: the items in rank order (position = array index), their scores, and how many came from the popularity fallback';
COMMENT ON SEQUENCE recs.exposures_id_seq IS 'order of exposures';

CREATE TABLE recs.events (
	id bigserial PRIMARY KEY,
	user_id bigint NOT NULL,
	item_id bigint NOT NULL,
	event text NOT NULL CHECK (event <> ''),
	value real NOT NULL,
	at timestamptz NOT NULL,
	exposure_id bigint REFERENCES recs.exposures (id) ON DELETE SET NULL,
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON recs.events (exposure_id);
CREATE INDEX ON recs.events (user_id, at);
COMMENT ON TABLE recs.events IS 'outcomes (clicks, purchases, watch time) reported by recs_track, with the exposure they are attributed to (NULL: none)';
COMMENT ON SEQUENCE recs.events_id_seq IS 'order of events';

SELECT pg_catalog.pg_extension_config_dump('recs.experiments', '');
SELECT pg_catalog.pg_extension_config_dump('recs.experiment_variants', '');
SELECT pg_catalog.pg_extension_config_dump('recs.experiment_overrides', '');
SELECT pg_catalog.pg_extension_config_dump('recs.exposures', '');
SELECT pg_catalog.pg_extension_config_dump('recs.exposures_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('recs.events', '');
SELECT pg_catalog.pg_extension_config_dump('recs.events_id_seq', '');

-- C helpers (experiment_stats.c)

CREATE FUNCTION recs.assignment_bucket(salt text, user_id bigint)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'recs_assignment_bucket' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs.assignment_bucket(text, bigint) IS 'the bucket (0-9999) of a user under a salt: FNV-1a 64 of "<salt>:<user_id>", MurmurHash3 fmix64, modulo 10000; the same on every server, version and platform';

CREATE FUNCTION recs.normal_cdf(x double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'recs_normal_cdf' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs.normal_cdf(double precision) IS 'standard normal cumulative distribution function, 0.5 * erfc(-x / sqrt 2)';

CREATE FUNCTION recs.chi2_sf(x double precision, dof integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'recs_chi2_sf' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs.chi2_sf(double precision, integer) IS 'upper tail P(X >= x) of the chi-square distribution with dof degrees of freedom (regularised incomplete gamma Q(dof/2, x/2))';

CREATE FUNCTION recs.note_unrecorded_exposure()
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'recs_note_unrecorded_exposure' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION recs.note_unrecorded_exposure() IS 'internal: count an exposure served but not recorded (read-only transaction or standby); returns the new count';

CREATE FUNCTION recs_experiment_unrecorded_exposures()
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'recs_unrecorded_exposures' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_experiment_unrecorded_exposures() IS 'exposures this session served in read-only transactions (e.g. on a standby) and could not record';

-- every change to variants or overrides touches the experiment's row
CREATE FUNCTION recs.touch_experiment()
	RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE recs.experiments x SET revision = x.revision + 1
	WHERE x.name = CASE WHEN TG_OP = 'DELETE' THEN OLD.experiment ELSE NEW.experiment END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION recs.touch_experiment() IS 'internal: bump an experiment''s revision when its variants or overrides change';
CREATE TRIGGER touch_experiment AFTER INSERT OR UPDATE OR DELETE ON recs.experiment_variants
	FOR EACH ROW EXECUTE FUNCTION recs.touch_experiment();
CREATE TRIGGER touch_experiment AFTER INSERT OR UPDATE OR DELETE ON recs.experiment_overrides
	FOR EACH ROW EXECUTE FUNCTION recs.touch_experiment();
-- and every change to recs.experiments tells backends' routing caches
CREATE TRIGGER announce_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recs.experiments
	FOR EACH STATEMENT EXECUTE FUNCTION recs.announce_change();

-- internal checks

-- the experiment's row, locked when for_update; undefined_object when absent
CREATE FUNCTION recs.experiment_row(experiment text, for_update boolean DEFAULT false)
	RETURNS recs.experiments
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r recs.experiments;
BEGIN
	IF for_update THEN
		SELECT * INTO r FROM recs.experiments x WHERE x.name = experiment FOR UPDATE;
	ELSE
		SELECT * INTO r FROM recs.experiments x WHERE x.name = experiment;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'experiment "%" does not exist', experiment
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN r;
END
$$;
COMMENT ON FUNCTION recs.experiment_row(text, boolean) IS 'internal: an experiment''s row, or an undefined_object error';

-- check a {"variant": weight, ...} or {"variant": {"weight": w, ...}} value
CREATE FUNCTION recs.check_weight(variant text, weight jsonb)
	RETURNS numeric
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w numeric;
BEGIN
	IF weight IS NULL OR jsonb_typeof(weight) <> 'number' THEN
		RAISE EXCEPTION 'weight of variant "%" must be a number, not %', variant,
			coalesce(weight::text, 'missing')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	w := weight::text::numeric;
	IF w <= 0 THEN
		RAISE EXCEPTION 'weight of variant "%" must be positive, not %', variant, w
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Weights are relative shares of traffic; to turn a variant off, stop the experiment.';
	END IF;
	RETURN w;
END
$$;
COMMENT ON FUNCTION recs.check_weight(text, jsonb) IS 'internal: a variant''s weight, checked to be a positive number';

-- the user's variant, its model and active version, and whether it was forced
CREATE FUNCTION recs.assign(experiment text, user_id bigint,
							OUT variant text, OUT model text, OUT model_version integer,
							OUT forced boolean)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql rather than sql so that these plans are cached per session
	SELECT o.variant, true INTO variant, forced
	FROM recs.experiment_overrides o
	WHERE o.experiment = assign.experiment AND o.user_id = assign.user_id;
	IF NOT FOUND THEN
		forced := false;
		SELECT r.variant INTO variant
		FROM (SELECT v.variant,
					 floor(10000 * sum(v.weight) OVER (ORDER BY v.variant COLLATE "C")
						   / sum(v.weight) OVER ()) AS upper_bucket
			  FROM recs.experiment_variants v
			  WHERE v.experiment = assign.experiment) r,
			 recs.experiments x
		WHERE x.name = assign.experiment
		  AND recs.assignment_bucket(coalesce(x.salt, x.name), assign.user_id) < r.upper_bucket
		ORDER BY r.upper_bucket
		LIMIT 1;
	END IF;
	SELECT v.model, m.active_version INTO model, model_version
	FROM recs.experiment_variants v
	LEFT JOIN recs.models m ON m.name = v.model
	WHERE v.experiment = assign.experiment AND v.variant = assign.variant;
END
$$;
COMMENT ON FUNCTION recs.assign(text, bigint) IS 'internal: a user''s variant in an experiment (forced or by bucket), with the variant''s model';

-- record what recs_topk(..., experiment => name) served; a read-only
-- transaction (a hot standby) serves and warns instead, and counts it
CREATE FUNCTION recs.record_exposure(experiment text, variant text, model text,
									 model_version integer, user_id bigint, forced boolean,
									 items bigint[], scores real[], fallback_rows integer)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF current_setting('transaction_read_only')::boolean THEN
		RAISE WARNING 'exposure of experiment "%" not recorded: the transaction is read-only', experiment
			USING DETAIL = format('user %s, variant %s, items %s; %s unrecorded in this session',
								  user_id, variant, items, recs.note_unrecorded_exposure()),
				  HINT = 'Serve experiments from the primary, or replay these log lines into recs.exposures.';
		RETURN;
	END IF;
	INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, forced,
								items, scores, fallback_rows)
	VALUES (experiment, variant, model, model_version, user_id, forced,
			items, scores, fallback_rows);
END
$$;
COMMENT ON FUNCTION recs.record_exposure(text, text, text, integer, bigint, boolean, bigint[], real[], integer) IS 'internal: record an exposure served by recs_topk through an experiment (warn instead when read-only)';

-- The exposure writer inserts exposures queued by recs_topk in bulk, in C
-- (exposure_table.c), then gives the events tracked while they were queued
-- (ids above after_id) the exposure recs_track's rule picks among those
-- just written (shown at or after shown_since): the latest that showed the
-- item within its experiment's window, when it is later than the event's
-- current one.  Each event looks only at its user's exposures since
-- shown_since: the work follows the new events and the new exposures.
CREATE FUNCTION recs.attribute_events_since(after_id bigint, shown_since timestamptz)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	attributed bigint;
BEGIN
	-- EXECUTE: planned for these values (a range scan of the newest event
	-- ids), not generically
	EXECUTE $q$
		UPDATE recs.events e SET exposure_id = w.id
		FROM recs.events e2
		CROSS JOIN LATERAL (
			SELECT x.id, x.shown_at
			FROM recs.exposures x
			JOIN recs.experiments xp ON xp.name = x.experiment
			WHERE x.user_id = e2.user_id
			  AND x.shown_at >= $2
			  AND x.shown_at <= e2.at
			  AND x.shown_at >= e2.at - xp.attribution_window
			  AND e2.item_id = ANY (x.items)
			ORDER BY x.shown_at DESC, x.id DESC
			LIMIT 1) w
		WHERE e2.id > $1 AND e.id = e2.id
		  AND e.exposure_id IS DISTINCT FROM w.id
		  AND (e.exposure_id IS NULL
			   OR (SELECT c.shown_at FROM recs.exposures c WHERE c.id = e.exposure_id) <= w.shown_at)
	$q$ USING after_id, shown_since;
	GET DIAGNOSTICS attributed = ROW_COUNT;
	RETURN attributed;
END
$$;
COMMENT ON FUNCTION recs.attribute_events_since(bigint, timestamptz) IS 'internal: after the exposure writer wrote exposures shown since shown_since, attribute the events with ids above after_id to them by recs_track''s rule; returns how many events it attributed';

CREATE FUNCTION recs_exposure_queue_stats(OUT enabled boolean, OUT capacity_bytes bigint,
										  OUT used_bytes bigint, OUT pending bigint,
										  OUT queued bigint, OUT written bigint,
										  OUT direct bigint, OUT discarded bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'recs_exposure_queue_stats' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_exposure_queue_stats() IS 'the shared-memory queue of exposures (preloaded recs with its exposure writer): size, use, exposures pending, queued and written since start, inserted directly because the queue was full, and discarded because their database or extension was gone';

-- the variant lifts and p-values are measured against
CREATE FUNCTION recs.baseline_variant(experiment text)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT v.variant FROM recs.experiment_variants v
	WHERE v.experiment = $1
	ORDER BY v.variant <> 'control', v.variant COLLATE "C"
	LIMIT 1
$$;
COMMENT ON FUNCTION recs.baseline_variant(text) IS 'internal: the baseline of an experiment: the variant named control, else the first by name';

-- the user-facing API

CREATE FUNCTION recs_create_experiment(name text, variants jsonb, salt text DEFAULT NULL,
									   attribution_window interval DEFAULT '1 day')
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
	spec jsonb;
	m text;
BEGIN
	IF name IS NULL OR name = '' THEN
		RAISE EXCEPTION 'experiment name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF octet_length(name) > 63 THEN
		RAISE EXCEPTION 'experiment name "%" is too long', name
			USING ERRCODE = 'name_too_long',
				  DETAIL = 'Experiment names are at most 63 bytes.';
	END IF;
	IF EXISTS (SELECT 1 FROM recs.experiments x WHERE x.name = recs_create_experiment.name) THEN
		RAISE EXCEPTION 'experiment "%" already exists', name
			USING ERRCODE = 'duplicate_object';
	END IF;
	IF attribution_window IS NULL OR attribution_window <= '0'::interval THEN
		RAISE EXCEPTION 'attribution window must be positive, not %',
			coalesce(attribution_window::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF variants IS NULL OR jsonb_typeof(variants) <> 'object' THEN
		RAISE EXCEPTION 'variants must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"control": {"model": "pop", "weight": 50}, "treatment": {"model": "ials", "weight": 50}}.';
	END IF;
	IF (SELECT count(*) FROM jsonb_object_keys(variants)) < 2 THEN
		RAISE EXCEPTION 'an experiment needs at least 2 variants'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO recs.experiments (name, salt, attribution_window)
	VALUES (name, salt, attribution_window);
	FOR v, spec IN SELECT e.key, e.value FROM jsonb_each(variants) e ORDER BY e.key COLLATE "C" LOOP
		IF v = '' THEN
			RAISE EXCEPTION 'variant names must not be empty'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF jsonb_typeof(spec) <> 'object' THEN
			RAISE EXCEPTION 'variant "%" must be a JSON object with "model" and "weight"', v
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF EXISTS (SELECT 1 FROM jsonb_object_keys(spec) k WHERE k NOT IN ('model', 'weight')) THEN
			RAISE EXCEPTION 'variant "%" has unknown keys', v
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A variant has exactly the keys "model" and "weight".';
		END IF;
		IF jsonb_typeof(spec->'model') IS DISTINCT FROM 'string' THEN
			RAISE EXCEPTION 'variant "%" must name a model', v
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		m := spec->>'model';
		IF NOT EXISTS (SELECT 1 FROM recs.models x WHERE x.name = m) THEN
			RAISE EXCEPTION 'model "%" of variant "%" does not exist', m, v
				USING ERRCODE = 'undefined_object';
		END IF;
		INSERT INTO recs.experiment_variants (experiment, variant, model, weight)
		VALUES (name, v, m, recs.check_weight(v, spec->'weight'));
	END LOOP;
END
$$;
COMMENT ON FUNCTION recs_create_experiment(text, jsonb, text, interval) IS 'start an A/B experiment: variants {"name": {"model": m, "weight": w}, ...}, an optional salt for the assignment hash (default: the name) and the attribution window of its outcomes';

CREATE FUNCTION recs_set_experiment_weights(name text, weights jsonb)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	x recs.experiments;
	v text;
	w jsonb;
BEGIN
	x := recs.experiment_row(name, true);
	IF x.status <> 'running' THEN
		RAISE EXCEPTION 'experiment "%" is stopped', name
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF weights IS NULL OR jsonb_typeof(weights) <> 'object' OR weights = '{}' THEN
		RAISE EXCEPTION 'weights must be a non-empty JSON object of variant weights'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"control": 80, "treatment": 20}.';
	END IF;
	FOR v, w IN SELECT e.key, e.value FROM jsonb_each(weights) e LOOP
		UPDATE recs.experiment_variants ev SET weight = recs.check_weight(v, w)
		WHERE ev.experiment = recs_set_experiment_weights.name AND ev.variant = v;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'experiment "%" has no variant "%"', name, v
				USING ERRCODE = 'undefined_object';
		END IF;
	END LOOP;
	UPDATE recs.experiments e SET weights_changed_at = now()
	WHERE e.name = recs_set_experiment_weights.name;
END
$$;
COMMENT ON FUNCTION recs_set_experiment_weights(text, jsonb) IS 'change the weights of some variants of a running experiment (ramp-up); only users at moved bucket boundaries change variant';

CREATE FUNCTION recs_variant(experiment text, user_id bigint)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM recs.experiments x WHERE x.name = experiment) THEN
		RAISE EXCEPTION 'experiment "%" does not exist', experiment
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN (recs.assign(experiment, user_id)).variant;
END
$$;
COMMENT ON FUNCTION recs_variant(text, bigint) IS 'the variant a user is assigned to in an experiment: forced by recs_force_variant, else by the stable hash of salt and user';

CREATE FUNCTION recs_force_variant(experiment text, user_id bigint, variant text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	x recs.experiments;
BEGIN
	x := recs.experiment_row(experiment, false);
	IF user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF x.status <> 'running' THEN
		RAISE EXCEPTION 'experiment "%" is stopped', experiment
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF variant IS NULL THEN
		DELETE FROM recs.experiment_overrides o
		WHERE o.experiment = recs_force_variant.experiment AND o.user_id = recs_force_variant.user_id;
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM recs.experiment_variants v
				   WHERE v.experiment = recs_force_variant.experiment
					 AND v.variant = recs_force_variant.variant) THEN
		RAISE EXCEPTION 'experiment "%" has no variant "%"', experiment, variant
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO recs.experiment_overrides (experiment, user_id, variant)
	VALUES (experiment, user_id, variant)
	ON CONFLICT ON CONSTRAINT experiment_overrides_pkey
	DO UPDATE SET variant = EXCLUDED.variant, created_at = EXCLUDED.created_at,
				  created_by = EXCLUDED.created_by;
END
$$;
COMMENT ON FUNCTION recs_force_variant(text, bigint, text) IS 'force a user into a variant for QA (NULL variant: remove the override); forced users are left out of the report';

CREATE FUNCTION recs_experiment_topk(experiment text, user_id bigint, k integer DEFAULT 10,
									 exclude_seen boolean DEFAULT true)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text,
				   variant text)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE ROWS 10
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- recs_topk serves, routes and records; its sources read
	-- '<variant>:<source>', split here on the longest variant name that fits
	RETURN QUERY
	SELECT t.item_id, t.score, t.rank, substr(t.source, length(v.variant) + 2), v.variant
	FROM @extschema@.recs_topk(recs_experiment_topk.user_id, k, exclude_seen => exclude_seen,
							   experiment => recs_experiment_topk.experiment) t
	CROSS JOIN LATERAL (
		SELECT ev.variant FROM recs.experiment_variants ev
		WHERE ev.experiment = recs_experiment_topk.experiment
		  AND starts_with(t.source, ev.variant || ':')
		ORDER BY length(ev.variant) DESC
		LIMIT 1) v
	ORDER BY t.rank;
END
$$;
COMMENT ON FUNCTION recs_experiment_topk(text, bigint, integer, boolean) IS 'recs_topk through an experiment: serves the user''s variant''s model, tags rows with the variant and records the exposure (a read-only transaction serves and warns instead)';

CREATE FUNCTION recs_track(user_id bigint, item_id bigint, event text, value real DEFAULT 1,
						   at timestamptz DEFAULT now())
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	exposure bigint;
BEGIN
	IF user_id IS NULL OR item_id IS NULL OR event IS NULL OR value IS NULL OR at IS NULL THEN
		RAISE EXCEPTION 'user_id, item_id, event, value and at must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF event = '' THEN
		RAISE EXCEPTION 'event must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF value = 'NaN'::real OR value IN ('Infinity'::real, '-Infinity'::real) THEN
		RAISE EXCEPTION 'value must be finite, not %', value
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the latest exposure that showed the item, within its experiment's window
	SELECT e.id INTO exposure
	FROM recs.exposures e
	JOIN recs.experiments x ON x.name = e.experiment
	WHERE e.user_id = recs_track.user_id
	  AND e.shown_at <= recs_track.at
	  AND e.shown_at >= recs_track.at - x.attribution_window
	  -- the longest window bounds the index scan of the user's exposures
	  AND e.shown_at >= recs_track.at - (SELECT max(w.attribution_window) FROM recs.experiments w)
	  AND recs_track.item_id = ANY (e.items)
	ORDER BY e.shown_at DESC, e.id DESC
	LIMIT 1;
	INSERT INTO recs.events (user_id, item_id, event, value, at, exposure_id)
	VALUES (user_id, item_id, event, value, at, exposure);
	RETURN exposure;
END
$$;
COMMENT ON FUNCTION recs_track(bigint, bigint, text, real, timestamptz) IS 'record an outcome (click, purchase, watch time...); attributed to the latest exposure that showed the item within the attribution window; returns that exposure''s id, NULL when unattributed';

CREATE FUNCTION recs_stop_experiment(name text, winner text DEFAULT NULL,
									 make_default boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	x recs.experiments;
	m text;
BEGIN
	x := recs.experiment_row(name, true);
	IF x.status <> 'running' THEN
		RAISE EXCEPTION 'experiment "%" is already stopped', name
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF winner IS NOT NULL THEN
		SELECT v.model INTO m FROM recs.experiment_variants v
		WHERE v.experiment = recs_stop_experiment.name AND v.variant = winner;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'experiment "%" has no variant "%"', name, winner
				USING ERRCODE = 'undefined_object';
		END IF;
	ELSIF make_default THEN
		RAISE EXCEPTION 'make_default needs a winner'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE recs.experiments e
	SET status = 'stopped', winner = recs_stop_experiment.winner, stopped_at = now()
	WHERE e.name = recs_stop_experiment.name;
	IF make_default THEN
		PERFORM @extschema@.recs_set_default_model(m);
	END IF;
END
$$;
COMMENT ON FUNCTION recs_stop_experiment(text, text, boolean) IS 'stop an experiment: no more exposures; recs_experiment_topk then serves the winner (else the baseline) to everyone; make_default makes the winner''s model the default';

CREATE FUNCTION recs_drop_experiment(name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM recs.experiments x WHERE x.name = recs_drop_experiment.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'experiment "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION recs_drop_experiment(text) IS 'drop an experiment with its variants, overrides and exposures; events stay, unattributed';
