-- Outcomes and the report: recs_track's attribution (window, item shown,
-- latest exposure, unknown users), the statistics on a hand-made log with
-- values checked by hand, and the report's errors.

CREATE TABLE exp_r_log (user_id bigint, item_id bigint);
INSERT INTO exp_r_log VALUES (1, 1), (2, 1), (1, 2);
SELECT recs_create_model('exp_r_pop', 'popular', 'exp_r_log');
SELECT recs_create_model('exp_r_new', 'popular', 'exp_r_log');
SELECT recs_train('exp_r_pop'), recs_train('exp_r_new');
SELECT recs_create_experiment('exp_r', '{"control": {"model": "exp_r_pop", "weight": 50},
	"treatment": {"model": "exp_r_new", "weight": 50}}', attribution_window => '1 hour');

-- attribution, on users 5000+ (kept out of the numbers below)
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, shown_at)
VALUES ('exp_r', 'control', 'exp_r_pop', 1, 5000, '{1,2,3}', '2024-01-01 10:00+00'),
	   ('exp_r', 'control', 'exp_r_pop', 1, 5000, '{3,4}', '2024-01-01 10:20+00');
SET TIME ZONE 'UTC';
SELECT id AS first_exposure FROM recs.exposures WHERE user_id = 5000 ORDER BY id LIMIT 1 \gset
-- shown at 10:00 only: item 1 at 10:30 is the first exposure's
SELECT recs_track(5000, 1, 'click', at => '2024-01-01 10:30+00') - :first_exposure AS exposure;
-- shown at both: the latest exposure that showed it wins
SELECT recs_track(5000, 3, 'click', at => '2024-01-01 10:30+00') - :first_exposure AS exposure;
-- exactly at the window's end: attributed; a second later: not
SELECT recs_track(5000, 1, 'click', at => '2024-01-01 11:00+00') - :first_exposure AS exposure;
SELECT recs_track(5000, 1, 'click', at => '2024-01-01 11:00:01+00') AS exposure;
-- before any exposure, or an item never shown: not attributed
SELECT recs_track(5000, 1, 'click', at => '2024-01-01 09:59+00') AS exposure;
SELECT recs_track(5000, 99, 'click', at => '2024-01-01 10:30+00') AS exposure;
-- a user never exposed (or unknown altogether) is recorded, unattributed, not an error
SELECT recs_track(987654321, 1, 'purchase', 25, '2024-01-01 10:30+00') AS exposure;
SELECT user_id, item_id, event, value, at, exposure_id IS NOT NULL AS attributed
FROM recs.events WHERE user_id IN (5000, 987654321) ORDER BY id;
-- the default value is 1 and the default time now()
SELECT recs_track(987654321, 2, 'watch');
SELECT value, at <= now() AS past FROM recs.events WHERE user_id = 987654321 AND event = 'watch';
\set VERBOSITY sqlstate
SELECT recs_track(1, 1, NULL);
SELECT recs_track(1, NULL, 'click');
SELECT recs_track(1, 1, '');
SELECT recs_track(1, 1, 'watch', 'NaN');
SELECT recs_track(1, 1, 'watch', 'Infinity');
\set VERBOSITY default
DELETE FROM recs.events WHERE user_id IN (5000, 987654321);
DELETE FROM recs.exposures WHERE user_id = 5000;

-- The hand-made log.  Control: users 1-500, treatment: users 1001-1520, each
-- shown {1,2,3} at 10:00 and at 12:00 (1,000 and 1,040 exposures).
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, shown_at)
SELECT 'exp_r', CASE WHEN u < 1000 THEN 'control' ELSE 'treatment' END,
	   CASE WHEN u < 1000 THEN 'exp_r_pop' ELSE 'exp_r_new' END, 1, u, '{1,2,3}', t
FROM (SELECT generate_series(1, 500) UNION ALL SELECT generate_series(1001, 1520)) AS users(u),
	 (VALUES (timestamptz '2024-01-01 10:00+00'), ('2024-01-01 12:00+00')) AS times(t);
-- a forced QA user's exposure and click: left out of every number
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, forced, items, shown_at)
VALUES ('exp_r', 'treatment', 'exp_r_new', 1, 2000, true, '{1}', '2024-01-01 10:00+00');
SELECT recs_track(2000, 1, 'click', at => '2024-01-01 10:01+00') IS NOT NULL AS attributed;
-- clicks: control users 1-100 on their first exposure (users 1-10 twice on
-- it), treatment users 1001-1130 on their second
SELECT count(recs_track(u, 1, 'click', at => '2024-01-01 10:30+00')) FROM generate_series(1, 100) u;
SELECT count(recs_track(u, 2, 'click', at => '2024-01-01 10:40+00')) FROM generate_series(1, 10) u;
SELECT count(recs_track(u, 1, 'click', at => '2024-01-01 12:30+00')) FROM generate_series(1001, 1130) u;
-- purchases worth 10: control users 1-40, treatment users 1001-1060
SELECT count(recs_track(u, 3, 'purchase', 10, '2024-01-01 10:45+00')) FROM generate_series(1, 40) u;
SELECT count(recs_track(u, 3, 'purchase', 10, '2024-01-01 12:45+00')) FROM generate_series(1001, 1060) u;
-- a click outside every window: recorded, counted nowhere
SELECT recs_track(200, 1, 'click', at => '2024-01-01 11:30+00') AS exposure;
-- the log is from 2024: count every user for the sample-ratio check
UPDATE recs.experiments SET weights_changed_at = '2024-01-01' WHERE name = 'exp_r';

-- Expected, by hand (pooled z; Katz log-ratio interval; Welch, normal):
--   CTR: control 100/1000 = 0.1, treatment 130/1040 = 0.125, lift 0.25,
--     pooled p = 230/2040, z = 0.025 / sqrt(p(1-p)(1/1040 + 1/1000)) = 1.784714,
--     p-value = 2 Phi(-1.784714) = 0.074308;
--     CI = exp(ln 1.25 -+ 1.959964 sqrt(1/130 - 1/1040 + 1/100 - 1/1000)) - 1
--        = [-0.022425, 0.598342]
--   conversion: 40/500 = 0.08 vs 60/520 = 0.115385, lift 0.442308,
--     z = 1.899798, p = 0.057460, CI [-0.014427, 1.110702]
--   value per user: 0.8 vs 1.153846, lift 0.442308, Welch z gives p = 0.056474,
--     delta-method CI [-0.014797, 1.111495]
--   SRM: 500 vs 520 users against 50/50: chi2 = 2 * 10^2 / 510 = 0.392157,
--     1 dof, p = erfc(sqrt(0.392157 / 2)) = 0.531168
SELECT variant, model, baseline, weight, users, exposures, clicks, clicked_exposures,
	round(ctr::numeric, 6) AS ctr, round(ctr_lift::numeric, 6) AS ctr_lift,
	round(ctr_lift_low::numeric, 6) AS ctr_low, round(ctr_lift_high::numeric, 6) AS ctr_high,
	round(ctr_p_value::numeric, 6) AS ctr_p
FROM recs_experiment_report('exp_r');
SELECT variant, conversions, round(conversion_rate::numeric, 6) AS conversion_rate,
	round(conversion_lift::numeric, 6) AS lift, round(conversion_lift_low::numeric, 6) AS low,
	round(conversion_lift_high::numeric, 6) AS high, round(conversion_p_value::numeric, 6) AS p
FROM recs_experiment_report('exp_r');
SELECT variant, round(value_per_user::numeric, 6) AS value_per_user,
	round(value_lift::numeric, 6) AS lift, round(value_lift_low::numeric, 6) AS low,
	round(value_lift_high::numeric, 6) AS high, round(value_p_value::numeric, 6) AS p,
	srm_users, srm_expected, round(srm_p_value::numeric, 6) AS srm_p
FROM recs_experiment_report('exp_r');
-- other event names
SELECT variant, clicks, conversions, round(value_per_user::numeric, 6) AS value_per_user
FROM recs_experiment_report('exp_r', click_event => 'purchase', conversion_event => 'click',
							value_event => 'click');

-- the building blocks, against textbook values: 130/1000 vs 100/1000 gives
-- z = 2.102741, p = 0.035488; chi-square 3.841459 with 1 dof is p = 0.05,
-- 10 with 4 dof is 6 e^-5 = 0.040428, 0.5 with 3 dof is 0.918891
SELECT round(rate::numeric, 6) AS rate, round(lift::numeric, 6) AS lift,
	round(z::numeric, 6) AS z, round(p_value::numeric, 6) AS p
FROM recs_two_proportion_test(130, 1000, 100, 1000);
SELECT round(recs.chi2_sf(3.841458820694124, 1)::numeric, 6) AS p1,
	round(recs.chi2_sf(10, 4)::numeric, 6) AS p4, round(recs.chi2_sf(0.5, 3)::numeric, 6) AS p3,
	recs.chi2_sf(0, 2) AS at_zero, recs.chi2_sf('Infinity', 2) AS at_infinity,
	recs.chi2_sf(2000, 3) < 1e-300 AS far_tail;
SELECT round(recs.normal_cdf(1.959963984540054)::numeric, 6) AS phi_196,
	recs.normal_cdf(0) AS phi_0, recs.normal_cdf(-30) > 0 AS tail_kept;
-- three variants: chi-square with 2 dof (p = e^(-x/2)); 1000/1000/1200 vs
-- 1:1:1 gives x = 2 * 66.67^2/1066.67 + 133.33^2/1066.67 = 25, p = e^-12.5
SELECT round(chi2::numeric, 6) AS chi2, round((p_value / exp(-12.5))::numeric, 6) AS ratio
FROM recs_srm_test('{1000,1000,1200}', '{1,1,1}');
-- undefined cases are NULL, not errors
SELECT * FROM recs_two_proportion_test(0, 0, 0, 0);
SELECT lift_low IS NULL AS no_interval, p_value FROM recs_two_proportion_test(0, 100, 0, 100);
SELECT * FROM recs_srm_test('{10}', '{1}');
SELECT * FROM recs_srm_test('{10,10}', '{1,0}');

-- a variant nobody saw still gets a row
SELECT recs_create_experiment('exp_r_empty', '{"control": {"model": "exp_r_pop", "weight": 1},
	"treatment": {"model": "exp_r_new", "weight": 1}}');
SELECT variant, baseline, users, exposures, ctr, ctr_p_value, srm_users, srm_p_value
FROM recs_experiment_report('exp_r_empty');

\set VERBOSITY sqlstate
SELECT * FROM recs_experiment_report('no_such_experiment');
\set VERBOSITY default
SELECT * FROM recs_experiment_report('no_such_experiment');

-- clean up
SELECT recs_drop_experiment('exp_r'), recs_drop_experiment('exp_r_empty');
SELECT count(*) AS unattributed_left FROM recs.events WHERE exposure_id IS NULL AND user_id < 3000;
DELETE FROM recs.events WHERE user_id < 3000;
SELECT recs_drop_model('exp_r_pop'), recs_drop_model('exp_r_new');
DROP TABLE exp_r_log;
RESET TIME ZONE;
