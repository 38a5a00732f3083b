--
-- Model monitoring: online and offline metrics as a time series, drift
-- (population stability index) and model health with NOTIFY on changes.
--
--
-- Online metrics come from experiment exposures (recs.exposures) and their
-- attributed events; offline metrics are each version's validation metrics.
-- Drift compares the model's source in two windows of equal length: the one
-- ending at the active version's trained_at (what it was trained on most
-- recently) and the one ending at as_of (now); equal lengths keep the
-- per-user activity counts comparable.  PSI = sum over bins of
-- (a - e) * ln(a / e), e and a the two windows' shares, each share at least
-- 0.0001 so that an empty bin does not make it infinite.
--

CREATE TABLE recs.model_metrics (
	model text NOT NULL REFERENCES recs.models (name) ON DELETE CASCADE,
	version integer NOT NULL,
	day date NOT NULL,
	scope text NOT NULL CHECK (scope IN ('online', 'offline')),
	metric text NOT NULL,
	value double precision,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (model, version, day, scope, metric)
);
COMMENT ON TABLE recs.model_metrics IS 'time series of model metrics: daily online metrics from experiment exposures and events, and each version''s offline (validation) metrics on its training day';

CREATE TABLE recs.model_health_state (
	model text PRIMARY KEY REFERENCES recs.models (name) ON DELETE CASCADE,
	version integer,
	status text NOT NULL,
	reason text NOT NULL,
	psi_item_popularity double precision,
	psi_user_activity double precision,
	psi_served_scores double precision,
	checked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE recs.model_health_state IS 'the last health status recs_check_health found for each model; a change is NOTIFYed on channel recs_model_health';

SELECT pg_catalog.pg_extension_config_dump('recs.model_metrics', '');
SELECT pg_catalog.pg_extension_config_dump('recs.model_health_state', '');

CREATE FUNCTION recs_psi(expected double precision[], actual double precision[])
	RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT sum((a.share - e.share) * ln(a.share / e.share))
	FROM unnest($1, $2) AS b(e, a),
		 LATERAL (SELECT greatest(b.e / (SELECT sum(x) FROM unnest($1) x), 0.0001) AS share) e,
		 LATERAL (SELECT greatest(b.a / (SELECT sum(x) FROM unnest($2) x), 0.0001) AS share) a
	WHERE cardinality($1) = cardinality($2)
	  AND (SELECT sum(x) FROM unnest($1) x) > 0 AND (SELECT sum(x) FROM unnest($2) x) > 0
	  AND NOT EXISTS (SELECT 1 FROM unnest($1) x WHERE x < 0 OR x IS NULL)
	  AND NOT EXISTS (SELECT 1 FROM unnest($2) x WHERE x < 0 OR x IS NULL)
$$;
COMMENT ON FUNCTION recs_psi(double precision[], double precision[]) IS 'population stability index of two histograms (counts per bin, same bins): sum of (a - e) ln(a / e) over the shares, each share floored at 0.0001; NULL for mismatched, empty or negative input';

CREATE FUNCTION recs_record_metrics(model text)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n_online integer;
	n_offline integer;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM recs.models m WHERE m.name = recs_record_metrics.model) THEN
		RAISE EXCEPTION 'model "%" does not exist', model
			USING ERRCODE = 'undefined_object';
	END IF;

	-- online, per day and version: exposures, CTR per exposure, conversion
	-- per exposed user, share of fallback rows, catalogue coverage
	WITH ex AS (
		SELECT e.id, e.model_version AS version, (e.shown_at AT TIME ZONE 'UTC')::date AS day,
			   e.user_id, e.items, e.fallback_rows
		FROM recs.exposures e
		WHERE e.model = recs_record_metrics.model AND e.model_version IS NOT NULL
	), per_exposure AS (
		SELECT ex.version, ex.day, ex.id, ex.user_id, cardinality(ex.items) AS n_items,
			   ex.fallback_rows,
			   EXISTS (SELECT 1 FROM recs.events o WHERE o.exposure_id = ex.id AND o.event = 'click') AS clicked,
			   EXISTS (SELECT 1 FROM recs.events o WHERE o.exposure_id = ex.id AND o.event = 'purchase') AS purchased
		FROM ex
	), daily AS (
		SELECT p.version, p.day,
			   count(*)::float8 AS exposures,
			   avg(p.clicked::int)::float8 AS ctr,
			   (count(DISTINCT p.user_id) FILTER (WHERE p.purchased))::float8
				   / count(DISTINCT p.user_id) AS conversion_rate,
			   sum(p.fallback_rows)::float8 / nullif(sum(p.n_items), 0) AS fallback_share
		FROM per_exposure p GROUP BY p.version, p.day
	), coverage AS (
		SELECT ex.version, ex.day,
			   count(DISTINCT i)::float8 / nullif(max(v.n_items), 0) AS coverage
		FROM ex CROSS JOIN LATERAL unnest(ex.items) i
		JOIN recs.model_versions v ON v.model = recs_record_metrics.model AND v.version = ex.version
		GROUP BY ex.version, ex.day
	), rows AS (
		SELECT d.version, d.day, m.metric, m.value
		FROM daily d
		LEFT JOIN coverage c ON c.version = d.version AND c.day = d.day
		CROSS JOIN LATERAL (VALUES ('exposures', d.exposures), ('ctr', d.ctr),
								   ('conversion_rate', d.conversion_rate),
								   ('fallback_share', d.fallback_share),
								   ('coverage', c.coverage)) AS m(metric, value)
	)
	INSERT INTO recs.model_metrics AS mm (model, version, day, scope, metric, value)
	SELECT recs_record_metrics.model, r.version, r.day, 'online', r.metric, r.value FROM rows r
	ON CONFLICT ON CONSTRAINT model_metrics_pkey
	DO UPDATE SET value = EXCLUDED.value, recorded_at = EXCLUDED.recorded_at;
	GET DIAGNOSTICS n_online = ROW_COUNT;

	-- offline: every numeric validation metric of every version
	INSERT INTO recs.model_metrics AS mm (model, version, day, scope, metric, value)
	SELECT v.model, v.version, (v.trained_at AT TIME ZONE 'UTC')::date, 'offline', j.key,
		   j.value::text::float8
	FROM recs.model_versions v, jsonb_each(v.metrics) j
	WHERE v.model = recs_record_metrics.model AND jsonb_typeof(j.value) = 'number'
	ON CONFLICT ON CONSTRAINT model_metrics_pkey
	DO UPDATE SET value = EXCLUDED.value, recorded_at = EXCLUDED.recorded_at;
	GET DIAGNOSTICS n_offline = ROW_COUNT;

	RETURN n_online + n_offline;
END
$$;
COMMENT ON FUNCTION recs_record_metrics(text) IS 'write a model''s daily online metrics (from experiment exposures and events; days in UTC) and every version''s offline metrics into recs.model_metrics; returns the rows written';

CREATE FUNCTION recs_model_drift(name text, recent interval DEFAULT '7 days',
								 as_of timestamptz DEFAULT now())
	RETURNS TABLE (model text, version integer, psi_item_popularity double precision,
				   psi_user_activity double precision, psi_served_scores double precision,
				   status text, reason text)
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m recs.models;
	trained timestamptz;
	ref_items double precision[];
	cur_items double precision[];
	ref_users double precision[];
	cur_users double precision[];
	worst double precision;
	why text[] := '{}';
	first_served timestamptz;
	ref_scores double precision[];
	cur_scores double precision[];
BEGIN
	SELECT * INTO m FROM recs.models x WHERE x.name = recs_model_drift.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', recs_model_drift.name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF recent IS NULL OR recent <= '0'::interval OR as_of IS NULL THEN
		RAISE EXCEPTION 'recent must be a positive interval and as_of must not be NULL'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	model := m.name;
	version := m.active_version;
	status := 'unknown';
	IF m.active_version IS NULL THEN
		reason := 'never trained';
		RETURN NEXT;
		RETURN;
	END IF;
	IF m.time_column IS NULL THEN
		reason := 'no time column: there are no windows to compare';
		RETURN NEXT;
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = m.source) THEN
		reason := 'the source no longer exists';
		RETURN NEXT;
		RETURN;
	END IF;
	SELECT v.trained_at INTO trained FROM recs.model_versions v
	WHERE v.model = m.name AND v.version = m.active_version;

	-- a source that cannot be read any more makes the status unknown, not
	-- an error, so that one broken model does not hide the others' health
	BEGIN
	-- item popularity: one bin for each of the training window's 20 most
	-- used items (ties: lower id), one bin for all other items
	EXECUTE format($q$
		WITH ref AS (
			SELECT %1$I::int8 AS i FROM %3$s
			WHERE %1$I IS NOT NULL AND %2$I > $1 AND %2$I <= $2
		), cur AS (
			SELECT %1$I::int8 AS i FROM %3$s
			WHERE %1$I IS NOT NULL AND %2$I > $3 AND %2$I <= $4
		), top AS (
			SELECT ref.i FROM ref GROUP BY ref.i ORDER BY count(*) DESC, ref.i LIMIT 20
		), bins AS (
			SELECT top.i AS bin, 0 AS other FROM top
			UNION ALL SELECT NULL, 1
		), rc AS (
			SELECT t.i AS bin, count(*) AS n FROM ref LEFT JOIN top t ON t.i = ref.i GROUP BY t.i
		), cc AS (
			SELECT t.i AS bin, count(*) AS n FROM cur LEFT JOIN top t ON t.i = cur.i GROUP BY t.i
		)
		SELECT array_agg(coalesce(rc.n, 0)::float8 ORDER BY b.other, b.bin),
			   array_agg(coalesce(cc.n, 0)::float8 ORDER BY b.other, b.bin)
		FROM bins b
		LEFT JOIN rc ON rc.bin IS NOT DISTINCT FROM b.bin
		LEFT JOIN cc ON cc.bin IS NOT DISTINCT FROM b.bin
		$q$, m.item_column, m.time_column, m.source::text)
	INTO ref_items, cur_items
	USING trained - recent, trained, as_of - recent, as_of;

	-- user activity: users by interactions in the window, in bins
	-- 1, 2, 3-4, 5-8, 9-16, 17+
	EXECUTE format($q$
		WITH ref AS (
			SELECT count(*) AS n FROM %3$s
			WHERE %1$I IS NOT NULL AND %2$I > $1 AND %2$I <= $2 GROUP BY %1$I
		), cur AS (
			SELECT count(*) AS n FROM %3$s
			WHERE %1$I IS NOT NULL AND %2$I > $3 AND %2$I <= $4 GROUP BY %1$I
		), binned AS (
			SELECT CASE WHEN ref.n <= 1 THEN 0 WHEN ref.n <= 2 THEN 1 WHEN ref.n <= 4 THEN 2
						WHEN ref.n <= 8 THEN 3 WHEN ref.n <= 16 THEN 4 ELSE 5 END AS bin,
				   true AS is_ref
			FROM ref
			UNION ALL
			SELECT CASE WHEN cur.n <= 1 THEN 0 WHEN cur.n <= 2 THEN 1 WHEN cur.n <= 4 THEN 2
						WHEN cur.n <= 8 THEN 3 WHEN cur.n <= 16 THEN 4 ELSE 5 END,
				   false
			FROM cur
		)
		SELECT array_agg((SELECT count(*) FROM binned x WHERE x.bin = b AND x.is_ref)::float8 ORDER BY b),
			   array_agg((SELECT count(*) FROM binned x WHERE x.bin = b AND NOT x.is_ref)::float8 ORDER BY b)
		FROM generate_series(0, 5) b
		$q$, m.user_column, m.time_column, m.source::text)
	INTO ref_users, cur_users
	USING trained - recent, trained, as_of - recent, as_of;
	EXCEPTION WHEN OTHERS THEN
		reason := 'cannot read the source: ' || SQLERRM;
		RETURN NEXT;
		RETURN;
	END;

	IF (SELECT sum(x) FROM unnest(ref_items) x) = 0 THEN
		reason := 'no interactions in the training window';
		RETURN NEXT;
		RETURN;
	END IF;
	IF (SELECT sum(x) FROM unnest(cur_items) x) = 0 THEN
		reason := 'no interactions in the recent window';
		RETURN NEXT;
		RETURN;
	END IF;
	psi_item_popularity := @extschema@.recs_psi(ref_items, cur_items);
	psi_user_activity := @extschema@.recs_psi(ref_users, cur_users);

	-- served scores of the active version (from experiment exposures): the
	-- deciles of its first window of scored exposures make 10 bins (bin =
	-- how many deciles are below the score); the window ending at as_of is
	-- compared with it when the two do not overlap
	SELECT min(e.shown_at) INTO first_served FROM recs.exposures e
	WHERE e.model = m.name AND e.model_version = m.active_version AND e.scores IS NOT NULL;
	IF first_served IS NOT NULL AND first_served + recent <= as_of - recent THEN
		WITH served AS (
			SELECT s.score, e.shown_at < first_served + recent AS is_ref
			FROM recs.exposures e, unnest(e.scores) AS s(score)
			WHERE e.model = m.name AND e.model_version = m.active_version
			  AND ((e.shown_at >= first_served AND e.shown_at < first_served + recent)
				   OR (e.shown_at > as_of - recent AND e.shown_at <= as_of))
		), deciles AS (
			SELECT percentile_disc(ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
				   WITHIN GROUP (ORDER BY s.score) AS bounds
			FROM served s WHERE s.is_ref
		), binned AS (
			SELECT (SELECT count(*) FROM unnest(d.bounds) b WHERE b < s.score) AS bin, s.is_ref
			FROM served s, deciles d
		)
		SELECT array_agg((SELECT count(*) FROM binned x WHERE x.bin = b AND x.is_ref)::float8 ORDER BY b),
			   array_agg((SELECT count(*) FROM binned x WHERE x.bin = b AND NOT x.is_ref)::float8 ORDER BY b)
		INTO ref_scores, cur_scores
		FROM generate_series(0, 9) b;
		psi_served_scores := @extschema@.recs_psi(ref_scores, cur_scores);
	END IF;

	worst := greatest(psi_item_popularity, psi_user_activity, psi_served_scores);
	status := CASE WHEN worst >= 0.25 THEN 'drifted' WHEN worst >= 0.1 THEN 'warning' ELSE 'ok' END;
	IF psi_item_popularity >= 0.1 THEN
		why := why || format('item popularity PSI %s >= %s', round(psi_item_popularity::numeric, 3),
							 CASE WHEN psi_item_popularity >= 0.25 THEN '0.25' ELSE '0.1' END);
	END IF;
	IF psi_user_activity >= 0.1 THEN
		why := why || format('user activity PSI %s >= %s', round(psi_user_activity::numeric, 3),
							 CASE WHEN psi_user_activity >= 0.25 THEN '0.25' ELSE '0.1' END);
	END IF;
	IF psi_served_scores >= 0.1 THEN
		why := why || format('served scores PSI %s >= %s', round(psi_served_scores::numeric, 3),
							 CASE WHEN psi_served_scores >= 0.25 THEN '0.25' ELSE '0.1' END);
	END IF;
	reason := CASE WHEN status = 'ok'
				   THEN format('PSI below 0.1 (item popularity %s, user activity %s%s)',
							   round(psi_item_popularity::numeric, 3), round(psi_user_activity::numeric, 3),
							   ', served scores ' || round(psi_served_scores::numeric, 3))
				   ELSE array_to_string(why, '; ') END;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION recs_model_drift(text, interval, timestamptz) IS 'drift of a model: PSI of its source''s item popularity and user activity between the window of length recent ending at the active version''s training and the one ending at as_of, and of the scores it served in experiments (first window against the latest); status ok (< 0.1), warning (< 0.25) or drifted, or unknown with the reason';

CREATE VIEW recs_model_health AS
	SELECT d.model, d.version, d.status, d.reason, d.psi_item_popularity, d.psi_user_activity,
		   d.psi_served_scores
	FROM recs.models m, LATERAL @extschema@.recs_model_drift(m.name) d;
COMMENT ON VIEW recs_model_health IS 'every model''s health now: drift of its source over the last 7 days against the 7 days before its active version was trained';

CREATE FUNCTION recs_check_health(recent interval DEFAULT '7 days', as_of timestamptz DEFAULT now())
	RETURNS TABLE (model text, status text, previous_status text, notified boolean, reason text)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d record;
	prev recs.model_health_state;
BEGIN
	FOR d IN SELECT h.* FROM recs.models m,
				 LATERAL @extschema@.recs_model_drift(m.name, recent, as_of) h
			 ORDER BY m.name LOOP
		SELECT * INTO prev FROM recs.model_health_state s WHERE s.model = d.model FOR UPDATE;
		INSERT INTO recs.model_health_state AS s (model, version, status, reason,
												  psi_item_popularity, psi_user_activity,
												  psi_served_scores, checked_at)
		VALUES (d.model, d.version, d.status, d.reason, d.psi_item_popularity,
				d.psi_user_activity, d.psi_served_scores, now())
		ON CONFLICT ON CONSTRAINT model_health_state_pkey
		DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,
					  reason = EXCLUDED.reason, psi_item_popularity = EXCLUDED.psi_item_popularity,
					  psi_user_activity = EXCLUDED.psi_user_activity,
					  psi_served_scores = EXCLUDED.psi_served_scores, checked_at = EXCLUDED.checked_at;
		model := d.model;
		status := d.status;
		previous_status := prev.status;
		reason := d.reason;
		-- a first check notifies only when the model is not ok
		notified := d.status IS DISTINCT FROM coalesce(prev.status, 'ok');
		IF notified THEN
			PERFORM pg_notify('recs_model_health',
							  jsonb_build_object('model', d.model, 'version', d.version,
												 'status', d.status, 'previous', prev.status,
												 'reason', d.reason,
												 'psi_item_popularity', round(d.psi_item_popularity::numeric, 6),
												 'psi_user_activity', round(d.psi_user_activity::numeric, 6),
												 'psi_served_scores', round(d.psi_served_scores::numeric, 6))::text);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION recs_check_health(interval, timestamptz) IS 'compute every model''s health, store it in recs.model_health_state and NOTIFY recs_model_health with a JSON payload for each model whose status changed';
