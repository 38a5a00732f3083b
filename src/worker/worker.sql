
--
-- The background worker (src/worker/): schedules, the job log, and the job
-- functions the worker calls, one transaction per job.  The worker runs
-- only with shared_preload_libraries = 'recs'; recs_worker_status() says
-- whether it runs.
--

CREATE TABLE recs.schedules (
	model text PRIMARY KEY REFERENCES recs.models (name) ON DELETE CASCADE,
	every interval NOT NULL CHECK (every >= interval '1 second'),
	activate text NOT NULL DEFAULT 'if_better'
		CHECK (activate IN ('always', 'never', 'if_better')),
	-- if_better: the new version's validation ndcg@10 may be this much worse
	tolerance double precision NOT NULL DEFAULT 0.01 CHECK (tolerance >= 0),
	-- k of the lists cache warming precomputes (recs_topk's default)
	warm_k integer NOT NULL DEFAULT 10 CHECK (warm_k BETWEEN 1 AND 10000),
	next_run timestamptz NOT NULL,
	last_run timestamptz,
	warmed_version bigint,		-- recs.model_versions.id last warmed
	warmed_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE recs.schedules IS 'models the background worker retrains every so often, and whose cache it warms';
SELECT pg_catalog.pg_extension_config_dump('recs.schedules', '');

CREATE TABLE recs.worker_jobs (
	id bigserial PRIMARY KEY,
	job text NOT NULL CHECK (job IN ('retrain', 'warm', 'invalidate')),
	model text,
	started timestamptz NOT NULL,
	finished timestamptz,
	outcome text NOT NULL CHECK (outcome IN ('ok', 'error', 'skipped')),
	version integer,
	detail text
);
CREATE INDEX ON recs.worker_jobs (model, id);
COMMENT ON SEQUENCE recs.worker_jobs_id_seq IS 'order of the worker''s jobs';
COMMENT ON TABLE recs.worker_jobs IS 'log of the background worker''s jobs: one row per retraining or cache warming, with its outcome and error text';

CREATE FUNCTION recs.worker_preloaded()
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'recs_worker_preloaded' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION recs.worker_preloaded() IS 'internal: whether recs was in shared_preload_libraries at server start, so that the worker was registered';

CREATE FUNCTION recs_worker_status(OUT running boolean, OUT pid integer, OUT database text,
								   OUT naptime text, OUT last_job timestamptz,
								   OUT message text)
	RETURNS record
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	preloaded boolean := recs.worker_preloaded();	-- loads recs: its settings exist
BEGIN
	database := current_setting('recs.worker_database');
	naptime := current_setting('recs.worker_naptime');
	SELECT a.pid INTO pid FROM pg_stat_activity a
	WHERE a.backend_type OPERATOR(pg_catalog.=) 'recs worker' LIMIT 1;
	running := pid IS NOT NULL;
	SELECT max(j.started) INTO last_job FROM recs.worker_jobs j;
	IF running THEN
		message := format('the recs worker is running in database "%s"', database);
	ELSIF NOT preloaded THEN
		message := 'the recs worker is not running: recs is not in shared_preload_libraries; '
				   'to enable it, set shared_preload_libraries = ''recs'' in postgresql.conf '
				   '(and recs.worker_database) and restart the server';
	ELSE
		message := 'the recs worker is not running: the server restarts it within 10 seconds '
				   'of its exit; see the server log for why it exited';
	END IF;
END
$$;
COMMENT ON FUNCTION recs_worker_status() IS 'whether the recs background worker runs, where, and how to enable it when it does not';

CREATE FUNCTION recs_schedule(model text, every interval, activate text DEFAULT 'if_better')
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF model IS NULL OR every IS NULL OR activate IS NULL THEN
		RAISE EXCEPTION 'model, every and activate must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM recs.models m WHERE m.name OPERATOR(pg_catalog.=) model) THEN
		RAISE EXCEPTION 'model "%" does not exist', model
			USING ERRCODE = 'undefined_object';
	END IF;
	IF every OPERATOR(pg_catalog.<) interval '1 second' THEN
		RAISE EXCEPTION 'every must be at least 1 second, not "%"', every
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF activate NOT IN ('always', 'never', 'if_better') THEN
		RAISE EXCEPTION 'invalid activate "%"', activate
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use ''always'', ''never'' or ''if_better''.';
	END IF;
	INSERT INTO recs.schedules AS s (model, every, activate, next_run)
	VALUES (model, every, activate, now() OPERATOR(pg_catalog.+) every)
	ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE
		SET every = excluded.every, activate = excluded.activate,
			next_run = excluded.next_run;
END
$$;
COMMENT ON FUNCTION recs_schedule(text, interval, text) IS 'have the background worker retrain a model every so often, activating the new version always, never or if_better (validation ndcg@10 not worse than the active version''s by more than recs.schedules.tolerance)';

CREATE FUNCTION recs_unschedule(model text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF model IS NULL THEN
		RAISE EXCEPTION 'model must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	DELETE FROM recs.schedules s WHERE s.model OPERATOR(pg_catalog.=) recs_unschedule.model;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" has no schedule', model
			USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION recs_unschedule(text) IS 'stop retraining a model on a schedule';

-- the worker's jobs

CREATE FUNCTION recs.run_retrain(model_name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s recs.schedules;
	started timestamptz := clock_timestamp();
	old_version integer;
	new_version integer;
	now_active integer;
	old_ndcg double precision;
	new_ndcg double precision;
	result text := 'ok';
	info text;
	activate_it boolean;
BEGIN
	SELECT * INTO s FROM recs.schedules WHERE model = model_name FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;		-- unscheduled meanwhile, or being changed
	END IF;
	BEGIN
		SELECT active_version INTO old_version FROM recs.models WHERE name = model_name;
		new_version := @extschema@.recs_train(model_name, false);
		SELECT active_version INTO now_active FROM recs.models WHERE name = model_name;
		SELECT (metrics ->> 'ndcg@10')::double precision INTO new_ndcg
		FROM recs.model_versions WHERE model = model_name AND version = new_version;
		SELECT (metrics ->> 'ndcg@10')::double precision INTO old_ndcg
		FROM recs.model_versions WHERE model = model_name AND version = old_version;

		IF now_active = new_version THEN
			activate_it := false;
			info := format('version %s trained and activated: the first version', new_version);
		ELSIF s.activate = 'never' THEN
			activate_it := false;
			info := format('version %s trained, not activated (activate = never)', new_version);
		ELSIF s.activate = 'always' THEN
			activate_it := true;
			info := format('version %s trained and activated (activate = always)', new_version);
		ELSIF old_version IS NULL OR old_ndcg IS NULL THEN
			activate_it := true;
			info := format('version %s trained and activated: the active version has no validation ndcg@10',
						   new_version);
		ELSIF new_ndcg IS NULL THEN
			activate_it := false;
			info := format('version %s trained, not activated: it has no validation ndcg@10',
						   new_version);
		ELSIF new_ndcg >= old_ndcg - s.tolerance THEN
			activate_it := true;
			info := format('version %s trained and activated: ndcg@10 %s, active version %s had %s (tolerance %s)',
						   new_version, round(new_ndcg::numeric, 6), old_version,
						   round(old_ndcg::numeric, 6), s.tolerance);
		ELSE
			activate_it := false;
			info := format('version %s trained, not activated: ndcg@10 %s is worse than active version %s''s %s by more than %s',
						   new_version, round(new_ndcg::numeric, 6), old_version,
						   round(old_ndcg::numeric, 6), s.tolerance);
		END IF;
		IF activate_it THEN
			PERFORM @extschema@.recs_activate(model_name, new_version);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- the subtransaction of this block is rolled back: log the error
		GET STACKED DIAGNOSTICS info = MESSAGE_TEXT;
		result := 'error';
		new_version := NULL;
	END;
	INSERT INTO recs.worker_jobs (job, model, started, finished, outcome, version, detail)
	VALUES ('retrain', model_name, started, clock_timestamp(), result, new_version, info);
	UPDATE recs.schedules SET last_run = started, next_run = started + every
	WHERE model = model_name;
END
$$;
COMMENT ON FUNCTION recs.run_retrain(text) IS 'internal: the worker''s retraining job for one scheduled model; logs to recs.worker_jobs';

-- scheduled models whose active version is not warm, or was warmed more
-- than half a cache TTL (at least a minute) ago
CREATE FUNCTION recs.warm_due()
	RETURNS SETOF text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.model
	FROM recs.schedules s
	JOIN recs.models m ON m.name = s.model
	JOIN recs.model_versions v ON v.model = m.name AND v.version = m.active_version
	WHERE s.warmed_version IS DISTINCT FROM v.id
	   OR s.warmed_at < now() - greatest(current_setting('recs.cache_ttl')::interval / 2,
										 interval '1 minute')
$$;
COMMENT ON FUNCTION recs.warm_due() IS 'internal: the scheduled models whose cache the worker should warm now';

CREATE FUNCTION recs.run_warm(model_name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s recs.schedules;
	version_id bigint;
	started timestamptz := clock_timestamp();
	r record;
	result text := 'ok';
	info text;
	warmed integer;
BEGIN
	SELECT * INTO s FROM recs.schedules WHERE model = model_name FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT v.id INTO version_id
	FROM recs.models m JOIN recs.model_versions v ON v.model = m.name AND v.version = m.active_version
	WHERE m.name = model_name;
	BEGIN
		SELECT * INTO r FROM @extschema@.recs_precompute(model_name, s.warm_k);
		warmed := r.version;
		info := format('version %s: top-%s lists of %s users precomputed, %s cached in Redis',
					   r.version, s.warm_k, r.users, r.cached);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS info = MESSAGE_TEXT;
		result := 'error';
	END;
	INSERT INTO recs.worker_jobs (job, model, started, finished, outcome, version, detail)
	VALUES ('warm', model_name, started, clock_timestamp(), result, warmed, info);
	-- also after an error, so that a failing model is retried later, not every round
	UPDATE recs.schedules SET warmed_version = version_id, warmed_at = now()
	WHERE model = model_name;
END
$$;
COMMENT ON FUNCTION recs.run_warm(text) IS 'internal: the worker''s cache warming job for one scheduled model; logs to recs.worker_jobs';

-- models with users whose interactions changed and whose cached lists the
-- worker has not dropped yet
CREATE FUNCTION recs.invalidate_due()
	RETURNS SETOF text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT u.model FROM recs.user_updates u
	JOIN recs.models m ON m.name = u.model AND m.online AND m.active_version IS NOT NULL
	WHERE NOT u.invalidated
$$;
COMMENT ON FUNCTION recs.invalidate_due() IS 'internal: the models with online updates whose users'' cached lists the worker should drop';

CREATE FUNCTION recs.run_invalidate(model_name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := clock_timestamp();
	users bigint[];
	dropped bigint;
	result text := 'ok';
	info text;
BEGIN
	-- SKIP LOCKED: rows a concurrent trigger is updating wait for the next round
	SELECT array_agg(u.user_id ORDER BY u.user_id) INTO users
	FROM (SELECT user_id FROM recs.user_updates
		  WHERE model = model_name AND NOT invalidated
		  FOR UPDATE SKIP LOCKED) u;
	IF users IS NULL THEN
		RETURN;
	END IF;
	BEGIN
		dropped := @extschema@.recs_cache_invalidate(model_name, users);
		info := format('%s users with new interactions: cached lists of %s dropped',
					   cardinality(users), dropped);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS info = MESSAGE_TEXT;
		result := 'error';
	END;
	UPDATE recs.user_updates SET invalidated = true
	WHERE model = model_name AND user_id = ANY (users);
	INSERT INTO recs.worker_jobs (job, model, started, finished, outcome, detail)
	VALUES ('invalidate', model_name, started, clock_timestamp(), result, info);
END
$$;
COMMENT ON FUNCTION recs.run_invalidate(text) IS 'internal: the worker''s job dropping the cached lists of users with online updates; logs to recs.worker_jobs';
