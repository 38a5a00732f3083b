-- recs_topk(..., experiment => name): the variant routing in C
-- (src/experiments/routing.c) agrees with recs_variant for every user, sees
-- ramp-ups, overrides and stops at once, and records one exposure per list.

CREATE TABLE es_events (user_id int, item_id int);
INSERT INTO es_events SELECT u, (u * 5 + i) % 30 FROM generate_series(1, 200) u, generate_series(1, 4) i;
SELECT recs_create_model('es_pop', 'popular', 'es_events');
SELECT recs_create_model('es_knn', 'item_knn', 'es_events');
SELECT recs_train('es_pop'), recs_train('es_knn');
SELECT recs_create_experiment('es', '{"control": {"model": "es_pop", "weight": 70},
	"treatment": {"model": "es_knn", "weight": 30}}', salt => 'es-salt');

CREATE FUNCTION es_served_variant(u bigint) RETURNS text LANGUAGE sql AS $$
	SELECT DISTINCT split_part(source, ':', 1) FROM recs_topk(u, 3, experiment => 'es')
$$;

-- every user's served variant is recs_variant's, and the rows come from its model
SELECT count(*) AS users, count(*) FILTER (WHERE es_served_variant(u) = recs_variant('es', u)) AS agree
FROM generate_series(1, 200) u;
SELECT variant, count(*) AS exposures, count(DISTINCT user_id) AS users, bool_and(NOT forced) AS hashed,
	min(model) AS model
FROM recs.exposures WHERE experiment = 'es' GROUP BY variant ORDER BY variant;
SELECT bool_and(t.source = 'treatment:item_knn' OR t.source = 'treatment:popular_fallback')
FROM generate_series(1, 200) u, recs_topk(u, 3, experiment => 'es') t
WHERE recs_variant('es', u) = 'treatment';

-- a ramp-up is seen by the next call in this session (the definition is cached)
SELECT recs_set_experiment_weights('es', '{"control": 30, "treatment": 70}');
SELECT count(*) FILTER (WHERE es_served_variant(u) = recs_variant('es', u)) AS agree,
	count(*) FILTER (WHERE es_served_variant(u) = 'treatment') AS treatment
FROM generate_series(1, 200) u;

-- an override, and its removal
SELECT u AS control_user FROM generate_series(1, 200) u WHERE recs_variant('es', u) = 'control' LIMIT 1 \gset
SELECT recs_force_variant('es', :control_user, 'treatment');
SELECT es_served_variant(:control_user), recs_variant('es', :control_user);
SELECT forced FROM recs.exposures WHERE experiment = 'es' AND user_id = :control_user ORDER BY id DESC LIMIT 1;
SELECT recs_force_variant('es', :control_user, NULL);
SELECT es_served_variant(:control_user);

-- stopped: everyone gets the winner, nothing is recorded
SELECT count(*) AS exposures_before FROM recs.exposures WHERE experiment = 'es' \gset
SELECT recs_stop_experiment('es', winner => 'treatment');
SELECT count(DISTINCT es_served_variant(u)) AS variants, min(es_served_variant(u)) AS served
FROM generate_series(1, 50) u;
SELECT count(*) - :exposures_before AS new_exposures FROM recs.exposures WHERE experiment = 'es';

-- errors
SELECT * FROM recs_topk(1, 3, experiment => 'es_nope');
SELECT * FROM recs_topk(1, 3, experiment => repeat('x', 100));
SELECT * FROM recs_topk(1, 3, 'es_pop', experiment => 'es');
-- a dropped experiment is gone for this session's cache too
SELECT recs_drop_experiment('es');
SELECT * FROM recs_topk(1, 3, experiment => 'es');

-- Without preloading (as here) exposures are inserted synchronously; with
-- it, the worker writes queued ones through recs.write_queued_exposures,
-- which also attributes events tracked before the exposure was written.
SELECT enabled FROM recs_exposure_queue_stats();
SELECT recs_create_experiment('es2', '{"a": {"model": "es_pop", "weight": 1}, "b": {"model": "es_knn", "weight": 1}}');
-- user 7 clicks item 3 at 12:00:05; the exposure showing it (12:00:00) is
-- written afterwards, with another one for user 8 and one of a dropped experiment
SELECT recs_track(7, 3, 'click', 1, '2024-05-01 12:00:05+00') AS attributed_at_track_time;
SELECT recs.write_queued_exposures(
	ARRAY['es2', 'es2', 'gone'], ARRAY['a', 'b', 'a'], ARRAY['es_pop', 'es_knn', 'es_pop'],
	ARRAY[1, 1, 1], ARRAY[7, 8, 7]::bigint[], ARRAY[false, true, false],
	ARRAY[0, 2, 3, 4], ARRAY[3, 4, 5, 6]::bigint[], ARRAY[0.9, 0.8, 0.7, 0.6]::real[],
	ARRAY[0, 1, 0], ARRAY['2024-05-01 12:00:00+00', '2024-05-01 12:00:01+00',
						  '2024-05-01 12:00:02+00']::timestamptz[]) AS written;
SELECT user_id, variant, items, scores, forced, fallback_rows, shown_at
FROM recs.exposures WHERE experiment = 'es2' ORDER BY id;
SELECT e.user_id, e.item_id, x.user_id AS exposure_user, x.items
FROM recs.events e JOIN recs.exposures x ON x.id = e.exposure_id
WHERE e.at = '2024-05-01 12:00:05+00';
