-- Monitoring: PSI by hand, drift states of a model between its training
-- window and a recent one, the health view, recs_check_health's stored
-- state and notifications, and the metrics time series.

SET TIME ZONE 'UTC';

-- PSI = sum of (a - e) ln(a / e) over the shares, each at least 0.0001:
--   {50,30,20} -> {30,30,40}: -0.2 ln(0.6) + 0.2 ln 2 = 0.240795
--   {10,0} -> {5,5}: -0.5 ln 0.5 + 0.4999 ln(0.5 / 0.0001) = 4.604318
SELECT round(recs_psi('{50,30,20}', '{30,30,40}')::numeric, 6) AS psi,
	round(recs_psi('{5,3,2}', '{3,3,4}')::numeric, 6) AS scaled,
	recs_psi('{1,2,3}', '{2,4,6}') AS same_shares,
	round(recs_psi('{10,0}', '{5,5}')::numeric, 6) AS empty_bin;
-- undefined input is NULL
SELECT recs_psi('{1,2}', '{1,2,3}') AS lengths, recs_psi('{0,0}', '{1,2}') AS empty,
	recs_psi('{1,-1}', '{1,2}') AS negative, recs_psi('{1,NULL}', '{1,2}') AS null_count;

-- the training window: users 1-100 one interaction each, a day before
-- training; items 1 (50), 2 (30), 3 (20)
CREATE TABLE exp_m_log (user_id bigint, item_id bigint, at timestamptz);
INSERT INTO exp_m_log
SELECT u, CASE WHEN u <= 50 THEN 1 WHEN u <= 80 THEN 2 ELSE 3 END, now() - interval '1 day'
FROM generate_series(1, 100) u;
SELECT recs_create_model('exp_m', 'popular', 'exp_m_log', time_column => 'at');
SELECT recs_train('exp_m');
SELECT trained_at AS t0 FROM recs.model_versions WHERE model = 'exp_m' \gset
-- a model without a time column, and one never trained
SELECT recs_create_model('exp_m_notime', 'popular', 'exp_m_log');
SELECT recs_train('exp_m_notime');
SELECT recs_create_model('exp_m_untrained', 'popular', 'exp_m_log', time_column => 'at');

-- recent data, compared over 3-day windows (the training window is the 3
-- days up to training):
--   +5 days: the same as training                        -> ok
--   +20 days: items 30/30/40, users as before            -> item PSI 0.240795: warning
--   +40 days: users 1-50 twice each, items 30/30/20 and
--     20 of a new item 4 (the "other" bin)               -> drifted: item PSI
--     {50,30,20,0} -> {30,30,20,20} = 1.621586, user activity {100 users
--     with 1} -> {50 with 2} = 2 * 0.9999 * ln(1 / 0.0001) = 18.418839
INSERT INTO exp_m_log
SELECT u, CASE WHEN u <= 50 THEN 1 WHEN u <= 80 THEN 2 ELSE 3 END, :'t0'::timestamptz + interval '5 days'
FROM generate_series(1, 100) u;
INSERT INTO exp_m_log
SELECT u, CASE WHEN u <= 30 THEN 1 WHEN u <= 60 THEN 2 ELSE 3 END, :'t0'::timestamptz + interval '20 days'
FROM generate_series(1, 100) u;
INSERT INTO exp_m_log
SELECT (n + 1) / 2, CASE WHEN n <= 30 THEN 1 WHEN n <= 60 THEN 2 WHEN n <= 80 THEN 3 ELSE 4 END,
	:'t0'::timestamptz + interval '40 days'
FROM generate_series(1, 100) n;

SELECT d.model, d.version, round(d.psi_item_popularity::numeric, 6) AS psi_items,
	round(d.psi_user_activity::numeric, 6) AS psi_users, d.status, d.reason
FROM (VALUES (5), (20), (40), (60)) AS w(days),
	 LATERAL recs_model_drift('exp_m', '3 days', :'t0'::timestamptz + w.days * interval '1 day' + interval '1 hour') d
ORDER BY w.days;
SELECT status, reason FROM recs_model_drift('exp_m_notime');
SELECT status, reason FROM recs_model_drift('exp_m_untrained');

-- the view: now is the week the model was trained on, so ok
SELECT model, version, status, psi_item_popularity AS psi_items, psi_user_activity AS psi_users
FROM recs_model_health WHERE model LIKE 'exp_m%' ORDER BY model;

-- recs_check_health stores each status and notifies on changes (channel
-- recs_model_health, JSON payload); a first check notifies only if not ok
SELECT model, status, previous_status, notified
FROM recs_check_health('3 days', :'t0'::timestamptz + interval '5 days 1 hour')
WHERE model LIKE 'exp_m%' ORDER BY model;
SELECT model, status, previous_status, notified, reason
FROM recs_check_health('3 days', :'t0'::timestamptz + interval '20 days 1 hour')
WHERE model = 'exp_m';
SELECT model, status, previous_status, notified
FROM recs_check_health('3 days', :'t0'::timestamptz + interval '20 days 1 hour')
WHERE model = 'exp_m';
SELECT model, status, previous_status, notified
FROM recs_check_health('3 days', :'t0'::timestamptz + interval '40 days 1 hour')
WHERE model = 'exp_m';
SELECT model, version, status, round(psi_item_popularity::numeric, 6) AS psi_items
FROM recs.model_health_state WHERE model LIKE 'exp_m%' ORDER BY model;
-- a model whose source is gone is unknown, not an error
CREATE TABLE exp_m_gone (user_id bigint, item_id bigint, at timestamptz);
INSERT INTO exp_m_gone VALUES (1, 1, now());
SELECT recs_create_model('exp_m_gone', 'popular', 'exp_m_gone', time_column => 'at');
SELECT recs_train('exp_m_gone');
DROP TABLE exp_m_gone;
SELECT status, reason FROM recs_model_drift('exp_m_gone');

\set VERBOSITY sqlstate
SELECT * FROM recs_model_drift('no_such_model');
SELECT * FROM recs_model_drift('exp_m', '-1 day');
SELECT recs_record_metrics('no_such_model');
\set VERBOSITY default

-- online metrics from exposures and events, per UTC day and version:
-- day 1: users 1, 1, 2, 3 shown {1,2}, {1,3}, {2,3}, {1,2} with 0, 1, 2, 0
--   fallback rows; clicks on the first two; user 2 buys
--   -> exposures 4, ctr 0.5, conversion 1/3, fallback 3/8, coverage 3/3
-- day 2: user 4 shown {1} -> ctr 0, conversion 0, fallback 0, coverage 1/3
SELECT recs_create_experiment('exp_m_x', '{"control": {"model": "exp_m", "weight": 1},
	"treatment": {"model": "exp_m_notime", "weight": 1}}');
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items,
							fallback_rows, shown_at)
VALUES ('exp_m_x', 'control', 'exp_m', 1, 1, '{1,2}', 0, '2024-05-01 08:00'),
	   ('exp_m_x', 'control', 'exp_m', 1, 1, '{1,3}', 1, '2024-05-01 09:00'),
	   ('exp_m_x', 'control', 'exp_m', 1, 2, '{2,3}', 2, '2024-05-01 10:00'),
	   ('exp_m_x', 'control', 'exp_m', 1, 3, '{1,2}', 0, '2024-05-01 11:00'),
	   ('exp_m_x', 'control', 'exp_m', 1, 4, '{1}', 0, '2024-05-02 11:00');
SELECT recs_track(1, 2, 'click', at => '2024-05-01 08:30') IS NOT NULL,
	recs_track(1, 3, 'click', at => '2024-05-01 09:30') IS NOT NULL,
	recs_track(2, 3, 'purchase', 5, '2024-05-01 10:30') IS NOT NULL;
SELECT recs_record_metrics('exp_m') > 0 AS recorded;
SELECT version, day, metric, round(value::numeric, 6) AS value
FROM recs.model_metrics WHERE model = 'exp_m' AND scope = 'online' ORDER BY day, metric;
-- recording again updates rather than duplicates
SELECT recs_record_metrics('exp_m') = recs_record_metrics('exp_m') AS idempotent;
SELECT count(*) FROM recs.model_metrics WHERE model = 'exp_m' AND scope = 'online';
-- offline: each version's numeric validation metrics, on its training day
-- (exp_m has none: no user with two interactions to hold one out)
CREATE TABLE exp_m_off_log (user_id bigint, item_id bigint);
INSERT INTO exp_m_off_log VALUES (1, 1), (1, 2), (2, 1), (2, 3), (3, 1);
SELECT recs_create_model('exp_m_off', 'popular', 'exp_m_off_log');
SELECT recs_train('exp_m_off');
SELECT recs_record_metrics('exp_m_off') AS rows_written;
SELECT m.version, m.day = (v.trained_at AT TIME ZONE 'UTC')::date AS training_day,
	array_agg(m.metric ORDER BY m.metric) AS metrics,
	bool_and(m.value = (v.metrics->>m.metric)::float8) AS copied
FROM recs.model_metrics m JOIN recs.model_versions v USING (model, version)
WHERE m.model = 'exp_m_off' AND m.scope = 'offline' GROUP BY 1, 2;

-- served scores: the active version's scored exposures.  Its first 3 days
-- (from day 50) served scores 1-10, one per decile bin; days 54-57 serve the
-- same (PSI 0); days 64-67 serve only 10s, all in the top bin:
-- 9 * (0.0001 - 0.1) ln(0.0001 / 0.1) + (1 - 0.1) ln(1 / 0.1) = 8.283089.
-- The source behaves as in training in those weeks.  On day 52 the two
-- score windows would overlap: no score PSI (and the source is empty then).
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, scores, shown_at)
SELECT 'exp_m_x', 'control', 'exp_m', 1, 100 + n, '{1}', ARRAY[s]::real[],
	:'t0'::timestamptz + d * interval '1 day'
FROM (VALUES (50), (56), (66)) AS w(d), generate_series(1, 10) n,
	 LATERAL (SELECT CASE WHEN w.d = 66 THEN 10 ELSE n END AS s) x;
INSERT INTO exp_m_log
SELECT u, CASE WHEN u <= 50 THEN 1 WHEN u <= 80 THEN 2 ELSE 3 END, :'t0'::timestamptz + d * interval '1 day'
FROM generate_series(1, 100) u, (VALUES (56), (66)) AS w(d);
SELECT w.days, round(d.psi_served_scores::numeric, 6) AS psi_scores, d.status, d.reason
FROM (VALUES (52), (56), (66)) AS w(days),
	 LATERAL recs_model_drift('exp_m', '3 days', :'t0'::timestamptz + w.days * interval '1 day' + interval '1 hour') d
ORDER BY w.days;

-- clean up
DELETE FROM recs.events e USING recs.exposures x WHERE e.exposure_id = x.id AND x.experiment = 'exp_m_x';
SELECT recs_drop_experiment('exp_m_x');
SELECT recs_drop_model('exp_m'), recs_drop_model('exp_m_notime'),
	recs_drop_model('exp_m_untrained'), recs_drop_model('exp_m_gone'),
	recs_drop_model('exp_m_off');
SELECT count(*) FROM recs.model_metrics WHERE model LIKE 'exp_m%';
DROP TABLE exp_m_log, exp_m_off_log;
RESET TIME ZONE;
