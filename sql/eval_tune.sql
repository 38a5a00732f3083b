-- recs_tune: grid and random search with k-fold cross-validation.

-- 40 users; old interactions favour items 1-5, recent ones items 6-10, so a
-- short half-life predicts held-out (random, across time) items worse or
-- better depending on the fold: what matters here is that every trial is
-- measured, recorded, and the best one is trained.
CREATE TABLE tu_events AS
SELECT u AS user_id, 1 + ((u + n) % 10) AS item_id,
	timestamptz '2024-01-01' + ((u * 7 + n * 13) % 60 || ' days')::interval AS at
FROM generate_series(1, 40) u, generate_series(1, 6) n;
SELECT recs_create_model('tu_pop', 'popular', 'tu_events', time_column => 'at',
	params => '{"weighting": "count"}');

-- the grid: 2 x 2 = 4 trials, each measured on 3 folds
SELECT trial, params, round(score::numeric, 6) = round((SELECT avg(s) FROM unnest(fold_scores) s)::numeric, 6) AS score_is_mean,
	cardinality(fold_scores) AS folds, best, version
FROM recs_tune('tu_pop', '{"half_life_days": [1, 1000], "weighting": ["count", "weight"]}');
-- the best trial has the highest mean score (ties: the earliest trial)
SELECT trial = (SELECT trial FROM recs.tuning_trials WHERE model = 'tu_pop' ORDER BY score DESC, trial LIMIT 1) AS best_is_max
FROM recs.tuning_trials WHERE model = 'tu_pop' AND best;
-- its params became the model's (base params overlaid with the trial's) and
-- were trained as version 1, which is active (the first version)
SELECT m.params = t.params AS model_has_best_params, m.active_version
FROM recs.models m JOIN recs.tuning_trials t ON t.model = m.name AND t.best
WHERE m.name = 'tu_pop';
-- cross-validation is deterministic for a seed
SELECT recs.cross_validate('tu_pop', '{"half_life_days": 10}', 3, 5, 'hit_rate', 7) =
	   recs.cross_validate('tu_pop', '{"half_life_days": 10}', 3, 5, 'hit_rate', 7) AS deterministic;

-- random search: a seeded sample of 2 of the 6 grid points
SELECT count(*) AS trials, count(*) FILTER (WHERE best) AS best, max(version) AS version
FROM recs_tune('tu_pop', '{"half_life_days": [1, 10, 100], "weighting": ["count", "weight"]}',
	metric => 'hit_rate@5', folds => 2, trials => 2, activate => true);
SELECT active_version FROM recs.models WHERE name = 'tu_pop';
SELECT count(*) AS recorded_trials FROM recs.tuning_trials WHERE model = 'tu_pop';

-- errors
SELECT * FROM recs_tune('nope', '{"half_life_days": [1]}');
SELECT * FROM recs_tune('tu_pop', NULL);
SELECT * FROM recs_tune('tu_pop', '{}');
SELECT * FROM recs_tune('tu_pop', '[1, 2]');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": []}');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": 3}');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [-1]}');
SELECT * FROM recs_tune('tu_pop', '{"neighbours": [1]}');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [1]}', metric => 'auc');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [1]}', metric => 'ndcg@0');
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [1]}', folds => 1);
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [1]}', folds => 21);
SELECT * FROM recs_tune('tu_pop', '{"half_life_days": [1]}', trials => 0);
-- a failed run records nothing
SELECT count(*) AS recorded_trials FROM recs.tuning_trials WHERE model = 'tu_pop';

SELECT recs_drop_model('tu_pop');
SELECT count(*) AS trials_dropped_with_model FROM recs.tuning_trials WHERE model = 'tu_pop';
DROP TABLE tu_events;
