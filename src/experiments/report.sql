--
-- The experiment report and the statistics behind it.
--
-- Proportions (CTR per exposure, conversion per user) against the baseline:
--   lift = p1 / p0 - 1;
--   95% interval by the log-ratio normal approximation (Katz):
--     exp(ln(p1 / p0) +- 1.959964 * sqrt(1/x1 - 1/n1 + 1/x0 - 1/n0)) - 1;
--   p-value of the pooled two-proportion z-test:
--     z = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0)), p = (x1 + x0) / (n1 + n0),
--     two-sided p = 2 * Phi(-|z|).
-- Means (value per user) against the baseline: Welch's statistic with the
-- normal approximation, z = (m1 - m0) / sqrt(s1^2/n1 + s0^2/n0); the lift's
-- interval by the delta method on ln(m1 / m0), whose variance is about
-- s1^2 / (n1 m1^2) + s0^2 / (n0 m0^2).
-- Sample ratio mismatch: Pearson's chi-square of the users per variant
-- against the configured weights, k - 1 degrees of freedom.
--

CREATE FUNCTION recs_two_proportion_test(successes bigint, trials bigint,
										 baseline_successes bigint, baseline_trials bigint,
										 OUT rate double precision,
										 OUT baseline_rate double precision,
										 OUT lift double precision,
										 OUT lift_low double precision,
										 OUT lift_high double precision,
										 OUT z double precision,
										 OUT p_value double precision)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT r.p1, r.p0,
		   CASE WHEN r.p0 > 0 THEN r.p1 / r.p0 - 1 END,
		   CASE WHEN $1 > 0 AND $3 > 0
				THEN exp(ln(r.p1 / r.p0) - 1.959963984540054 * sqrt(1.0 / $1 - 1.0 / $2 + 1.0 / $3 - 1.0 / $4)) - 1 END,
		   CASE WHEN $1 > 0 AND $3 > 0
				THEN exp(ln(r.p1 / r.p0) + 1.959963984540054 * sqrt(1.0 / $1 - 1.0 / $2 + 1.0 / $3 - 1.0 / $4)) - 1 END,
		   s.z,
		   2 * recs.normal_cdf(-abs(s.z))
	FROM (SELECT CASE WHEN $2 > 0 THEN $1::float8 / $2 END AS p1,
				 CASE WHEN $4 > 0 THEN $3::float8 / $4 END AS p0,
				 CASE WHEN $2 + $4 > 0 THEN ($1 + $3)::float8 / ($2 + $4) END AS pooled) r,
		 LATERAL (SELECT CASE WHEN r.pooled > 0 AND r.pooled < 1 AND $2 > 0 AND $4 > 0
							  THEN (r.p1 - r.p0) / sqrt(r.pooled * (1 - r.pooled) * (1.0 / $2 + 1.0 / $4))
						 END AS z) s
	WHERE $1 BETWEEN 0 AND $2 AND $3 BETWEEN 0 AND $4
$$;
COMMENT ON FUNCTION recs_two_proportion_test(bigint, bigint, bigint, bigint) IS 'rates, relative lift with a 95% log-ratio (Katz) interval, and the pooled two-proportion z-test (two-sided p-value) of successes/trials against a baseline';

CREATE FUNCTION recs_srm_test(observed bigint[], weights numeric[],
							  OUT chi2 double precision, OUT p_value double precision)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT sum((o.n - e.expected) ^ 2 / e.expected),
		   recs.chi2_sf(sum((o.n - e.expected) ^ 2 / e.expected), count(*)::integer - 1)
	FROM unnest($1, $2) AS o(n, w),
		 LATERAL (SELECT (SELECT sum(x) FROM unnest($1) x)::float8 * o.w::float8
						 / (SELECT sum(x) FROM unnest($2) x)::float8 AS expected) e
	WHERE cardinality($1) = cardinality($2) AND cardinality($1) >= 2
	  AND (SELECT sum(x) FROM unnest($1) x) > 0
	  AND NOT EXISTS (SELECT 1 FROM unnest($1, $2) AS c(n, w)
					  WHERE c.w IS NULL OR c.w <= 0 OR c.n IS NULL OR c.n < 0)
$$;
COMMENT ON FUNCTION recs_srm_test(bigint[], numeric[]) IS 'sample ratio mismatch: Pearson chi-square of observed counts against the shares the weights configure, and its p-value (k - 1 degrees of freedom)';

CREATE FUNCTION recs_experiment_report(name text, click_event text DEFAULT 'click',
									   conversion_event text DEFAULT 'purchase',
									   value_event text DEFAULT 'purchase')
	RETURNS TABLE (variant text, model text, baseline boolean, weight numeric,
				   users bigint, exposures bigint, clicks bigint, clicked_exposures bigint,
				   ctr double precision, ctr_lift double precision,
				   ctr_lift_low double precision, ctr_lift_high double precision,
				   ctr_p_value double precision,
				   conversions bigint, conversion_rate double precision,
				   conversion_lift double precision, conversion_lift_low double precision,
				   conversion_lift_high double precision, conversion_p_value double precision,
				   value_per_user double precision, value_lift double precision,
				   value_lift_low double precision, value_lift_high double precision,
				   value_p_value double precision,
				   srm_users bigint, srm_expected double precision, srm_p_value double precision)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	x recs.experiments;
	base text;
BEGIN
	SELECT * INTO x FROM recs.experiments e WHERE e.name = recs_experiment_report.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'experiment "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	base := recs.baseline_variant(x.name);
	RETURN QUERY
	WITH v AS (
		SELECT ev.variant, ev.model, ev.weight
		FROM recs.experiment_variants ev WHERE ev.experiment = x.name
	), ex AS (
		SELECT e.id, e.variant, e.user_id, e.shown_at
		FROM recs.exposures e WHERE e.experiment = x.name AND NOT e.forced
	), per_exposure AS (
		SELECT ex.variant, ex.id, ex.user_id,
			   count(o.id) FILTER (WHERE o.event = click_event) AS clicks,
			   bool_or(o.event = conversion_event) AS converted,
			   coalesce(sum(o.value) FILTER (WHERE o.event = value_event), 0) AS value
		FROM ex LEFT JOIN recs.events o ON o.exposure_id = ex.id
		GROUP BY ex.variant, ex.id, ex.user_id
	), per_user AS (
		SELECT p.variant, p.user_id, coalesce(bool_or(p.converted), false) AS converted,
			   sum(p.value)::float8 AS value
		FROM per_exposure p GROUP BY p.variant, p.user_id
	), by_exposure AS (
		SELECT p.variant, count(*) AS exposures, sum(p.clicks)::bigint AS clicks,
			   count(*) FILTER (WHERE p.clicks > 0) AS clicked
		FROM per_exposure p GROUP BY p.variant
	), by_user AS (
		SELECT u.variant, count(*) AS users, count(*) FILTER (WHERE u.converted) AS conversions,
			   avg(u.value) AS vpu, coalesce(var_samp(u.value), 0) AS vvar
		FROM per_user u GROUP BY u.variant
	), first_seen AS (
		-- users first exposed since the weights last changed, by that first variant
		SELECT DISTINCT ON (ex.user_id) ex.user_id, ex.variant, ex.shown_at
		FROM ex ORDER BY ex.user_id, ex.shown_at, ex.id
	), srm_counts AS (
		SELECT v.variant, v.weight,
			   (SELECT count(*) FROM first_seen f
				WHERE f.variant = v.variant AND f.shown_at >= x.weights_changed_at) AS n
		FROM v
	), srm AS (
		SELECT t.p_value, (SELECT sum(c.n) FROM srm_counts c) AS total,
			   (SELECT sum(c.weight) FROM srm_counts c) AS total_weight
		FROM @extschema@.recs_srm_test((SELECT array_agg(c.n ORDER BY c.variant) FROM srm_counts c),
						   (SELECT array_agg(c.weight ORDER BY c.variant) FROM srm_counts c)) t
	), stats AS (
		SELECT v.variant, v.model, v.weight,
			   coalesce(u.users, 0) AS users, coalesce(u.conversions, 0) AS conversions,
			   u.vpu, u.vvar,
			   coalesce(b.exposures, 0) AS exposures, coalesce(b.clicks, 0) AS clicks,
			   coalesce(b.clicked, 0) AS clicked
		FROM v LEFT JOIN by_user u ON u.variant = v.variant
			   LEFT JOIN by_exposure b ON b.variant = v.variant
	)
	SELECT s.variant, s.model, s.variant = base, s.weight,
		   s.users, s.exposures, s.clicks, s.clicked,
		   ct.rate,
		   CASE WHEN s.variant <> base THEN ct.lift END,
		   CASE WHEN s.variant <> base THEN ct.lift_low END,
		   CASE WHEN s.variant <> base THEN ct.lift_high END,
		   CASE WHEN s.variant <> base THEN ct.p_value END,
		   s.conversions, cv.rate,
		   CASE WHEN s.variant <> base THEN cv.lift END,
		   CASE WHEN s.variant <> base THEN cv.lift_low END,
		   CASE WHEN s.variant <> base THEN cv.lift_high END,
		   CASE WHEN s.variant <> base THEN cv.p_value END,
		   s.vpu,
		   CASE WHEN s.variant <> base AND b.vpu > 0 THEN s.vpu / b.vpu - 1 END,
		   CASE WHEN s.variant <> base AND b.vpu > 0 AND s.vpu > 0 AND s.users > 0 AND b.users > 0
				THEN exp(ln(s.vpu / b.vpu) - 1.959963984540054
						 * sqrt(s.vvar / (s.users * s.vpu ^ 2) + b.vvar / (b.users * b.vpu ^ 2))) - 1 END,
		   CASE WHEN s.variant <> base AND b.vpu > 0 AND s.vpu > 0 AND s.users > 0 AND b.users > 0
				THEN exp(ln(s.vpu / b.vpu) + 1.959963984540054
						 * sqrt(s.vvar / (s.users * s.vpu ^ 2) + b.vvar / (b.users * b.vpu ^ 2))) - 1 END,
		   CASE WHEN s.variant <> base AND s.users > 0 AND b.users > 0
					 AND s.vvar / s.users + b.vvar / b.users > 0
				THEN 2 * recs.normal_cdf(-abs(s.vpu - b.vpu) / sqrt(s.vvar / s.users + b.vvar / b.users)) END,
		   c.n,
		   c.weight::float8 / srm.total_weight::float8 * srm.total::float8,
		   srm.p_value
	FROM stats s
	JOIN stats b ON b.variant = base
	JOIN srm_counts c ON c.variant = s.variant
	LEFT JOIN srm ON true
	LEFT JOIN LATERAL @extschema@.recs_two_proportion_test(s.clicked, s.exposures,
														   b.clicked, b.exposures) ct ON true
	LEFT JOIN LATERAL @extschema@.recs_two_proportion_test(s.conversions, s.users,
														   b.conversions, b.users) cv ON true
	ORDER BY s.variant COLLATE "C";
END
$$;
COMMENT ON FUNCTION recs_experiment_report(text, text, text, text) IS 'per variant of an experiment: users, exposures, clicks, CTR, conversion, value per user, lifts against the baseline with 95% intervals and p-values, and the sample-ratio-mismatch p-value (forced users excluded)';
