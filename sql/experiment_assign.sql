-- Experiments: creation and its errors, the assignment hash, ramp-up,
-- forced variants, serving with exposure logging, read-only transactions,
-- stopping.

CREATE TABLE exp_a_log (user_id bigint, item_id bigint, at timestamptz);
-- exp_a_pop ranks 1, 2, 3; exp_a_alt ranks 30, 20, 10
INSERT INTO exp_a_log VALUES (1, 1, '2024-01-01'), (2, 1, '2024-01-01'), (3, 1, '2024-01-01'),
	(1, 2, '2024-01-01'), (2, 2, '2024-01-01'), (1, 3, '2024-01-01');
CREATE TABLE exp_a_alt_log (user_id bigint, item_id bigint);
INSERT INTO exp_a_alt_log VALUES (1, 30), (2, 30), (3, 30), (1, 20), (2, 20), (1, 10);
SELECT recs_create_model('exp_a_pop', 'popular', 'exp_a_log');
SELECT recs_create_model('exp_a_alt', 'popular', 'exp_a_alt_log');
SELECT recs_train('exp_a_pop'), recs_train('exp_a_alt');

-- errors in the definition, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '[1, 2]');
SELECT recs_create_experiment('exp_bad', NULL);
SELECT recs_create_experiment('', '{}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 50},
	"treatment": {"model": "no_such_model", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 0},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": -5},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": "50"},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop"},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 1, "colour": "red"},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": 7, "weight": 1},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 1},
	"treatment": {"model": "exp_a_alt", "weight": 1}}', attribution_window => '-1 hour');
\set VERBOSITY default
SELECT recs_create_experiment('exp_bad', '{"control": {"model": "exp_a_pop", "weight": 0},
	"treatment": {"model": "exp_a_alt", "weight": 50}}');
-- nothing was left behind by the failures
SELECT count(*) FROM recs.experiments WHERE name = 'exp_bad';

SELECT recs_create_experiment('exp_ab', '{"treatment": {"model": "exp_a_alt", "weight": 10},
	"control": {"model": "exp_a_pop", "weight": 90}}');
SELECT recs_create_experiment('exp_ab', '{"a": {"model": "exp_a_pop", "weight": 1},
	"b": {"model": "exp_a_alt", "weight": 1}}');
SELECT name, salt, attribution_window, status FROM recs.experiments WHERE name = 'exp_ab';
SELECT variant, model, weight FROM recs.experiment_variants WHERE experiment = 'exp_ab' ORDER BY variant;

-- the bucket is FNV-1a 64 of '<salt>:<user_id>', fmix64, mod 10000: fixed
-- values, computed independently (Python) from that definition
SELECT u, recs.assignment_bucket('exp_ab', u)
FROM unnest(ARRAY[1, 2, 3, -5, 9223372036854775807]::bigint[]) u;
SELECT recs.assignment_bucket('', 0) AS empty_salt, recs.assignment_bucket('é', 1) AS utf8_salt;
-- control holds buckets 0-8999 (first by name), treatment 9000-9999
SELECT recs_variant('exp_ab', 1) AS user_1, recs_variant('exp_ab', 2) AS user_2,
	recs_variant('exp_ab', 3) AS user_3;
-- buckets are uniform enough: 20,000 users split close to 90/10
SELECT recs_variant('exp_ab', u) AS variant, count(*)
FROM generate_series(1, 20000) u GROUP BY 1 ORDER BY 1;
-- the same in every session: recs_variant is a function of its arguments only
SELECT recs_variant('exp_ab', 1) = recs_variant('exp_ab', 1);

-- ramp-up from 10% to 20%: only users in buckets 8000-8999 move, all of
-- them from control to treatment
CREATE TEMP TABLE exp_a_before AS
	SELECT u, recs_variant('exp_ab', u) AS v FROM generate_series(1, 20000) u;
SELECT recs_set_experiment_weights('exp_ab', '{"control": 80, "treatment": 20}');
SELECT b.v AS before, recs_variant('exp_ab', b.u) AS after, count(*)
FROM exp_a_before b GROUP BY 1, 2 ORDER BY 1, 2;
\set VERBOSITY sqlstate
SELECT recs_set_experiment_weights('exp_ab', '{"control": 0}');
SELECT recs_set_experiment_weights('exp_ab', '{"nope": 5}');
SELECT recs_set_experiment_weights('exp_ab', '{}');
SELECT recs_set_experiment_weights('no_such_experiment', '{"control": 1}');
\set VERBOSITY default

-- a salt replaces the name in the hash: same salt, same assignment
SELECT recs_create_experiment('exp_salted', '{"control": {"model": "exp_a_pop", "weight": 80},
	"treatment": {"model": "exp_a_alt", "weight": 20}}', salt => 'exp_ab');
SELECT count(*) FILTER (WHERE recs_variant('exp_salted', u) = recs_variant('exp_ab', u)) AS same
FROM generate_series(1, 1000) u;
-- a different salt reshuffles: agreement is about 0.8^2 + 0.2^2 = 68%
SELECT recs_create_experiment('exp_other', '{"control": {"model": "exp_a_pop", "weight": 80},
	"treatment": {"model": "exp_a_alt", "weight": 20}}');
SELECT count(*) FILTER (WHERE recs_variant('exp_other', u) = recs_variant('exp_ab', u)) AS same
FROM generate_series(1, 1000) u;

-- forced assignment (QA allow-list)
SELECT recs_variant('exp_ab', 1);
SELECT recs_force_variant('exp_ab', 1, 'treatment');
SELECT recs_variant('exp_ab', 1);
SELECT recs_force_variant('exp_ab', 1, 'control');
SELECT recs_variant('exp_ab', 1);
SELECT recs_force_variant('exp_ab', 1, NULL);
SELECT recs_variant('exp_ab', 1);
SELECT recs_force_variant('exp_ab', 5, 'treatment');
\set VERBOSITY sqlstate
SELECT recs_force_variant('exp_ab', 1, 'nope');
SELECT recs_force_variant('no_such_experiment', 1, 'control');
SELECT recs_variant('no_such_experiment', 1);
\set VERBOSITY default
SELECT recs_variant('no_such_experiment', 1);

-- serving: the variant's model, rows tagged, one exposure per call
SELECT * FROM recs_experiment_topk('exp_ab', 4, 3);
SELECT * FROM recs_experiment_topk('exp_ab', 5, 2);
SELECT experiment, variant, model, model_version, user_id, forced, items, fallback_rows,
	shown_at <= now() AS shown
FROM recs.exposures WHERE experiment = 'exp_ab' ORDER BY id;
-- exclude_seen passes through (user 1, in treatment, has used all of exp_a_alt's items)
SELECT recs_variant('exp_ab', 1);
SELECT item_id, variant FROM recs_experiment_topk('exp_ab', 1, 3);
SELECT item_id, variant FROM recs_experiment_topk('exp_ab', 1, 3, exclude_seen => false);
-- an empty list is served but is no exposure: only the second call logged one
SELECT count(*) FROM recs.exposures WHERE experiment = 'exp_ab' AND user_id = 1;
\set VERBOSITY sqlstate
SELECT * FROM recs_experiment_topk('no_such_experiment', 1);
SELECT * FROM recs_experiment_topk('exp_ab', NULL);
SELECT * FROM recs_experiment_topk('exp_ab', 4, 0);
\set VERBOSITY default

-- a read-only transaction (as on a hot standby) serves, warns with the
-- exposure in the log and counts it in the session
SELECT recs_experiment_unrecorded_exposures();
BEGIN TRANSACTION READ ONLY;
SELECT * FROM recs_experiment_topk('exp_ab', 4, 2);
COMMIT;
SELECT recs_experiment_unrecorded_exposures();
SELECT count(*) FROM recs.exposures WHERE experiment = 'exp_ab';

-- stopping: no more exposures; the winner (else the baseline) for everyone
\set VERBOSITY sqlstate
SELECT recs_stop_experiment('exp_ab', 'nope');
SELECT recs_stop_experiment('exp_ab', make_default => true);
SELECT recs_stop_experiment('no_such_experiment');
\set VERBOSITY default
SELECT recs_stop_experiment('exp_ab', 'treatment', make_default => true);
SELECT value FROM recs.config WHERE key = 'default_model';
SELECT status, winner, stopped_at IS NOT NULL AS stopped FROM recs.experiments WHERE name = 'exp_ab';
SELECT * FROM recs_experiment_topk('exp_ab', 4, 2);
SELECT count(*) FROM recs.exposures WHERE experiment = 'exp_ab';
SELECT recs_stop_experiment('exp_ab');
SELECT recs_force_variant('exp_ab', 9, 'control');
SELECT recs_set_experiment_weights('exp_ab', '{"control": 1}');
-- stopped without a winner: the baseline (the variant named control)
SELECT recs_stop_experiment('exp_other');
SELECT item_id, variant FROM recs_experiment_topk('exp_other', 4, 2);

-- clean up
DELETE FROM recs.config WHERE key = 'default_model' AND value = 'exp_a_alt';
SELECT recs_drop_experiment('exp_ab'), recs_drop_experiment('exp_salted'),
	recs_drop_experiment('exp_other');
SELECT recs_drop_experiment('exp_ab');
SELECT count(*) FROM recs.exposures WHERE experiment = 'exp_ab';
SELECT recs_drop_model('exp_a_pop'), recs_drop_model('exp_a_alt');
DROP TABLE exp_a_log, exp_a_alt_log;
