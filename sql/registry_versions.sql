-- Versions: validation metrics, activation, rollback, dropping versions,
-- retention, recs_models(), and activation being transactional.

CREATE TABLE rv_events (user_id int, item_id int, at timestamptz);
-- version 1 will see item 1 as the most popular
INSERT INTO rv_events VALUES (1, 1, '2024-01-01'), (2, 1, '2024-01-02'), (3, 1, '2024-01-03'),
	(1, 2, '2024-01-04'), (2, 3, '2024-01-05'), (3, 2, '2024-01-06');
SELECT recs_create_model('rv', 'popular', 'rv_events', time_column => 'at');
SELECT recs_train('rv') AS version;
-- version 2 will see item 9 as the most popular
INSERT INTO rv_events SELECT u, 9, '2024-02-01' FROM generate_series(1, 6) u;
SELECT recs_train('rv') AS version;

-- the first version became active; the second waits
SELECT model, algorithm, version, active, n_users, n_items, n_interactions,
	trained_by = current_user AS by_me, artifact_bytes > 0 AS has_artifact
FROM recs_models() WHERE model = 'rv';
SELECT item_id, source FROM recs_topk(100, 1, 'rv');

-- every version carries validation metrics: leave-one-out, k = 10, on its
-- own training data (version 2: users 1-3 hold out item 9 (latest) and
-- users 4-6 have a single interaction, so 3 users are evaluated)
SELECT version, metrics->>'validation' AS validation, metrics->'k' AS k,
	metrics->'users' AS users, (metrics->>'hit_rate@10')::float8 BETWEEN 0 AND 1 AS hit_rate_ok,
	metrics ? 'ndcg@10' AND metrics ? 'precision@10' AND metrics ? 'recall@10'
		AND metrics ? 'mrr@10' AND metrics ? 'map@10' AND metrics ? 'coverage@10' AS all_metrics
FROM recs_models() WHERE model = 'rv' ORDER BY version;
-- validation can be turned off
SET recs.validate_on_train = off;
SELECT recs_train('rv') AS version;
SELECT version, metrics FROM recs_models() WHERE model = 'rv' AND version = 3;
RESET recs.validate_on_train;
SELECT recs_drop_version('rv', 3);

-- activation is transactional: a rolled-back activation leaves version 1 serving
BEGIN;
SELECT recs_activate('rv', 2);
SELECT item_id, source FROM recs_topk(100, 1, 'rv');
ROLLBACK;
SELECT item_id, source FROM recs_topk(100, 1, 'rv');
SELECT version FROM recs_models() WHERE model = 'rv' AND active;

-- activate, then roll back to what was active before
SELECT recs_activate('rv', 2);
SELECT item_id, source FROM recs_topk(100, 1, 'rv');
SELECT recs_rollback('rv') AS now_active;
SELECT item_id, source FROM recs_topk(100, 1, 'rv');
-- nothing earlier than the first activation
SELECT recs_rollback('rv');

-- recs_train(..., activate => true) activates the new version at once
SELECT recs_train('rv', activate => true) AS version;
SELECT version FROM recs_models() WHERE model = 'rv' AND active;
SELECT item_id FROM recs_topk(100, 1, 'rv');
-- rollback walks the activation history back: 3 -> 1
SELECT recs_rollback('rv') AS now_active;
SELECT array_agg(version ORDER BY id) AS activation_history FROM recs.activations WHERE model = 'rv';

-- the active version cannot be dropped; others can
SELECT recs_drop_version('rv', 1);
SELECT recs_drop_version('rv', 2);
SELECT recs_drop_version('rv', 2);
SELECT array_agg(version ORDER BY version) AS versions FROM recs_models() WHERE model = 'rv';

-- retention keeps the newest n versions plus the active one
SELECT recs_train('rv'), recs_train('rv'), recs_train('rv');
SELECT array_agg(version ORDER BY version) AS versions FROM recs_models() WHERE model = 'rv';
SELECT recs_set_retention('rv', 2) AS dropped;
SELECT array_agg(version ORDER BY version) AS versions, max(version) FILTER (WHERE active) AS active
FROM recs_models() WHERE model = 'rv';
SELECT recs_train('rv');
SELECT array_agg(version ORDER BY version) AS versions FROM recs_models() WHERE model = 'rv';
SELECT recs_set_retention('rv', NULL) AS dropped;

-- a model without versions is listed too
SELECT recs_create_model('rv_empty', 'popular', 'rv_events');
SELECT model, version, active FROM recs_models() WHERE model = 'rv_empty';

-- errors
SELECT recs_activate('rv', 99);
SELECT recs_activate('nope', 1);
SELECT recs_rollback('nope');
SELECT recs_rollback('rv_empty');
SELECT recs_drop_version('nope', 1);
SELECT recs_set_retention('rv', 0);
SELECT recs_set_retention('nope', 3);

SELECT recs_drop_model(model) FROM (SELECT DISTINCT model FROM recs_models() WHERE model LIKE 'rv%' ORDER BY 1) m;
DROP TABLE rv_events;
