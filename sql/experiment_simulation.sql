-- Simulations that check the statistics end to end (seeded, a few seconds):
-- synthetic users with known click probabilities, assigned by the
-- experiment hash.  An A/A test repeated 200 times must reject at about the
-- nominal 5% (and its intervals cover 0 about 95% of the time), the
-- sample-ratio check too; an A/B test with a planted 10% relative lift must
-- be detected and its interval must cover 10%.

-- A/A: 200 experiments of 4,000 users, split 50/50 by the hash with salt
-- 'aa<r>'; user u clicks with probability 0.05 + 0.1 * uniform (mean 0.1),
-- the same in both arms
SELECT setseed(0.42);
CREATE TEMP TABLE exp_s_aa AS
WITH users AS (
	SELECT r, u, recs.assignment_bucket('aa' || r, u) < 5000 AS treated,
		   random() < 0.05 + 0.1 * random() AS clicked
	FROM generate_series(1, 200) r, generate_series(1, 4000) u
), arms AS (
	SELECT r, count(*) FILTER (WHERE treated) AS n1,
		   count(*) FILTER (WHERE treated AND clicked) AS x1,
		   count(*) FILTER (WHERE NOT treated) AS n0,
		   count(*) FILTER (WHERE NOT treated AND clicked) AS x0
	FROM users GROUP BY r
)
SELECT a.r, t.p_value, t.lift_low, t.lift_high, s.p_value AS srm_p
FROM arms a,
	 LATERAL recs_two_proportion_test(a.x1, a.n1, a.x0, a.n0) t,
	 LATERAL recs_srm_test(ARRAY[a.n0, a.n1], '{50,50}') s;
SELECT count(*) AS experiments,
	avg((p_value < 0.05)::int) BETWEEN 0.02 AND 0.09 AS z_test_rejects_about_5pct,
	avg((lift_low <= 0 AND 0 <= lift_high)::int) BETWEEN 0.91 AND 0.98 AS interval_covers_0_about_95pct,
	avg((srm_p < 0.05)::int) BETWEEN 0.02 AND 0.09 AS srm_rejects_about_5pct
FROM exp_s_aa;
-- p-values of a true null are uniform: about a tenth in each decile
SELECT min(n) >= 10 AND max(n) <= 32 AS p_values_uniform
FROM (SELECT width_bucket(p_value, 0, 1, 10) AS decile, count(*) AS n
	  FROM exp_s_aa GROUP BY 1) d;

-- A/B through the whole pipeline: exposures and recs_track, then the report.
-- 100,000 users, one exposure each; treatment users click with 1.1 times
-- their probability (a planted 10% relative lift).
CREATE TABLE exp_s_log (user_id bigint, item_id bigint);
INSERT INTO exp_s_log VALUES (1, 1), (2, 1), (1, 2);
SELECT recs_create_model('exp_s_pop', 'popular', 'exp_s_log');
SELECT recs_create_model('exp_s_new', 'popular', 'exp_s_log');
SELECT recs_train('exp_s_pop'), recs_train('exp_s_new');
SELECT recs_create_experiment('exp_s', '{"control": {"model": "exp_s_pop", "weight": 50},
	"treatment": {"model": "exp_s_new", "weight": 50}}');
-- a 50/50 split puts buckets 0-4999 in control, as recs_variant does
SELECT count(*) FILTER (WHERE recs_variant('exp_s', u)
						= CASE WHEN recs.assignment_bucket('exp_s', u) < 5000
							   THEN 'control' ELSE 'treatment' END) AS agree
FROM generate_series(1, 1000) u;
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items)
SELECT 'exp_s', v, CASE v WHEN 'control' THEN 'exp_s_pop' ELSE 'exp_s_new' END, 1, u, '{1,2}'
FROM generate_series(1, 100000) u,
	 LATERAL (SELECT CASE WHEN recs.assignment_bucket('exp_s', u) < 5000
						  THEN 'control' ELSE 'treatment' END AS v) a;
-- who clicks is drawn in user order (not in the table's scan order, which
-- may change), so the draw is the same on every run
SELECT setseed(0.17);
CREATE TEMP TABLE exp_s_clickers AS
SELECT u FROM generate_series(1, 100000) u
WHERE random() < (0.05 + 0.1 * random())
				 * CASE WHEN recs.assignment_bucket('exp_s', u) < 5000 THEN 1 ELSE 1.1 END;
SELECT count(*) BETWEEN 9500 AND 11500 AS about_10pct_click,
	count(*) FILTER (WHERE t.exposure IS NULL) AS unattributed
FROM (SELECT recs_track(c.u, 1, 'click') AS exposure FROM exp_s_clickers c) t;
SELECT variant, users BETWEEN 49000 AND 51000 AS about_half,
	ctr_p_value < 0.05 AS detected,
	ctr_lift_low <= 0.10 AND 0.10 <= ctr_lift_high AS interval_covers_10pct,
	ctr_lift BETWEEN 0.03 AND 0.17 AS lift_near_10pct,
	srm_p_value > 0.001 AS no_srm
FROM recs_experiment_report('exp_s');

-- clean up
DELETE FROM recs.events e USING recs.exposures x WHERE e.exposure_id = x.id AND x.experiment = 'exp_s';
SELECT recs_drop_experiment('exp_s');
SELECT recs_drop_model('exp_s_pop'), recs_drop_model('exp_s_new');
DROP TABLE exp_s_log;
