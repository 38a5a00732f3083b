-- The background worker's SQL side, without preloading: recs_worker_status,
-- recs_schedule / recs_unschedule and their errors, the retraining job's
-- activation rules and error log (called directly, as the worker would),
-- and the cache functions with the cache off.

-- not preloaded here: the status says so and how to enable it
SELECT running, pid, database, message FROM recs_worker_status();

CREATE TABLE worker_events (user_id bigint, item_id bigint);
INSERT INTO worker_events
SELECT u, (u * 7 + i * 13) % 50 FROM generate_series(1, 60) u, generate_series(1, 8) i;
SELECT recs_create_model('wk', 'popular', 'worker_events');

-- recs_schedule errors
SELECT recs_schedule('no_such_model', '1 hour');
SELECT recs_schedule('wk', '0.5 seconds');
SELECT recs_schedule('wk', '-1 hour');
SELECT recs_schedule('wk', '1 hour', 'sometimes');
SELECT recs_schedule('wk', NULL);
SELECT recs_schedule(NULL, '1 hour');
SELECT recs_schedule('wk', '1 hour', NULL);
SELECT count(*) FROM recs.schedules;

-- scheduling twice updates the schedule
SELECT recs_schedule('wk', '1 hour', 'never');
SELECT recs_schedule('wk', '2 hours');
SELECT model, every, activate, tolerance, warm_k,
	   next_run > now() + interval '119 minutes' AS next_run_later
FROM recs.schedules;

-- the retraining job: the first version is activated whatever the rule
SELECT recs.run_retrain('wk');
-- a worse version (the active one claims a better ndcg@10) is not activated
UPDATE recs.model_versions SET metrics = jsonb_set(metrics, '{ndcg@10}', '0.99')
WHERE model = 'wk' AND version = 1;
SELECT recs.run_retrain('wk');
-- one within the tolerance is
UPDATE recs.model_versions v SET metrics = jsonb_set(v.metrics, '{ndcg@10}',
	to_jsonb((w.metrics ->> 'ndcg@10')::float8 + 0.005))
FROM recs.model_versions w
WHERE v.model = 'wk' AND v.version = 1 AND w.model = 'wk' AND w.version = 2;
SELECT recs.run_retrain('wk');
-- activate = never and always
UPDATE recs.schedules SET activate = 'never';
SELECT recs.run_retrain('wk');
UPDATE recs.schedules SET activate = 'always';
SELECT recs.run_retrain('wk');
-- a failing training is logged with its error, and the schedule moves on
ALTER TABLE worker_events RENAME COLUMN user_id TO uid;
SELECT recs.run_retrain('wk');
ALTER TABLE worker_events RENAME COLUMN uid TO user_id;
SELECT id, job, model, outcome, version,
	   regexp_replace(detail, '[0-9]+\.[0-9]+', 'N', 'g') AS detail,
	   finished >= started AS timed
FROM recs.worker_jobs ORDER BY id;
SELECT active_version FROM recs.models WHERE name = 'wk';
SELECT last_run IS NOT NULL AS ran, next_run > now() AS next_run_later FROM recs.schedules;
-- a model that is not scheduled (any more) is left alone
SELECT recs.run_retrain('no_such_model');
SELECT count(*) FROM recs.worker_jobs;

-- cache warming with the cache off fills recs.precomputed only
SHOW recs.redis_url;
SELECT * FROM recs.warm_due();
SELECT recs.run_warm('wk');
SELECT job, outcome, version, detail FROM recs.worker_jobs WHERE job = 'warm';
SELECT * FROM recs.warm_due();
SELECT count(*), min(version), max(version), min(cardinality(items)), max(cardinality(scores))
FROM recs.precomputed WHERE model = 'wk';
-- the precomputed lists are what recs_topk returns
SELECT p.user_id, bool_and(p.items = t.items) AS same
FROM recs.precomputed p,
	 LATERAL (SELECT array_agg(item_id ORDER BY rank) AS items
			  FROM recs_topk(p.user_id, 10, 'wk')) t
WHERE p.model = 'wk' GROUP BY p.user_id HAVING NOT bool_and(p.items = t.items);
SET recs.cache_warm_users = 5;
SELECT * FROM recs_precompute('wk', 3);
SELECT user_id, items FROM recs.precomputed WHERE model = 'wk' ORDER BY user_id;
RESET recs.cache_warm_users;
SELECT * FROM recs_precompute('wk', 0);
SELECT * FROM recs_precompute('wk', 10001);
SELECT * FROM recs_precompute('wk', NULL);
SELECT * FROM recs_precompute('no_such_model', 10);
SELECT * FROM recs.cache_lookup(1, 10, 'wk', true);

-- the counters with the cache off
SELECT * FROM recs_cache_stats();

-- the Redis URL (it may hold a password) is for superusers only
CREATE ROLE recs_worker_sql_user;
SET ROLE recs_worker_sql_user;
SHOW recs.redis_url;
SELECT count(*) FROM pg_settings WHERE name = 'recs.redis_url';
SET recs.redis_url = 'redis://localhost';
RESET ROLE;
DROP ROLE recs_worker_sql_user;

-- settings and their limits
SET recs.redis_timeout_ms = 0;
SET recs.worker_naptime = 5;
SHOW recs.worker_database;
SHOW recs.worker_naptime;
SHOW recs.cache_ttl;
SHOW recs.redis_timeout_ms;
SHOW recs.cache_breaker_seconds;

-- recs_unschedule
SELECT recs_unschedule('wk');
SELECT recs_unschedule('wk');
SELECT recs_unschedule(NULL);
SELECT count(*) FROM recs.schedules;
-- dropping a model drops its schedule and precomputed lists
SELECT recs_schedule('wk', '1 day');
SELECT recs_drop_model('wk');
SELECT count(*) FROM recs.schedules;
SELECT count(*) FROM recs.precomputed;
DROP TABLE worker_events;
