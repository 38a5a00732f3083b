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

-- through the list caches (recs.local_cache_size, on by default): a call
-- served from the cache still records its exposure, with the same rows,
-- and its sources are tagged once, not twice
SELECT local_hits AS hits_before FROM recs_cache_stats() \gset
SELECT array_agg(item_id ORDER BY rank) AS first_items FROM recs_topk(7, 3, experiment => 'es') \gset
SELECT array_agg(source ORDER BY rank) AS sources, array_agg(item_id ORDER BY rank) = :'first_items' AS same_rows
FROM recs_topk(7, 3, experiment => 'es');
SELECT local_hits - :hits_before AS cache_hits FROM recs_cache_stats();
SELECT count(*) AS exposures, bool_and(items = :'first_items') AS same_items
FROM (SELECT items FROM recs.exposures WHERE experiment = 'es' AND user_id = 7 ORDER BY id DESC LIMIT 2) x;

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
-- it, the exposure writer inserts queued ones in bulk (t/020_exposure_writer.pl)
SELECT enabled FROM recs_exposure_queue_stats();
-- After writing queued exposures it gives the events tracked while they
-- waited the exposure recs_track's rule picks now.  Here the writer's
-- inserts are made by hand: user 7 clicks item 3 at 12:00:05 and item 9 at
-- 12:00:06 before any exposure is written; user 8 clicks item 3.
SELECT recs_create_experiment('es2', '{"a": {"model": "es_pop", "weight": 1}, "b": {"model": "es_knn", "weight": 1}}');
SELECT coalesce(max(id), 0) AS events_before FROM recs.events \gset
SELECT recs_track(7, 3, 'click', 1, '2024-05-01 12:00:05+00') AS attributed_at_track_time;
SELECT recs_track(7, 9, 'click', 1, '2024-05-01 12:00:06+00') AS attributed_at_track_time;
SELECT recs_track(8, 3, 'click', 1, '2024-05-01 12:00:05+00') AS attributed_at_track_time;
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, shown_at)
VALUES ('es2', 'a', 'es_pop', 1, 7, '{3,4}', '2024-05-01 12:00:00+00'),
	   ('es2', 'a', 'es_pop', 1, 7, '{5,3}', '2024-05-01 12:00:02+00'),	-- the latest: wins
	   ('es2', 'a', 'es_pop', 1, 7, '{3}', '2024-05-01 12:00:10+00'),	-- after the click
	   ('es2', 'b', 'es_knn', 1, 8, '{3}', '2024-04-29 12:00:00+00');	-- outside the 1-day window
SELECT recs.attribute_events_since(:events_before, '2024-05-01 00:00:00+00') AS attributed;
SELECT e.user_id, e.item_id, x.items, x.shown_at
FROM recs.events e LEFT JOIN recs.exposures x ON x.id = e.exposure_id
WHERE e.id > :events_before ORDER BY e.id;
-- again: nothing changes
SELECT recs.attribute_events_since(:events_before, '2024-05-01 00:00:00+00') AS attributed;
-- a later exposure showing item 3 (12:00:04) is written: events up to the
-- id given are left alone, those after it move to the new exposure
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, shown_at)
VALUES ('es2', 'a', 'es_pop', 1, 7, '{3}', '2024-05-01 12:00:04+00');
SELECT recs.attribute_events_since((SELECT max(id) FROM recs.events), '2024-05-01 00:00:00+00') AS attributed;
SELECT recs.attribute_events_since(:events_before, '2024-05-01 00:00:00+00') AS attributed;
SELECT x.shown_at FROM recs.events e JOIN recs.exposures x ON x.id = e.exposure_id
WHERE e.id > :events_before;
-- only exposures shown since shown_since (those just written) are candidates
INSERT INTO recs.exposures (experiment, variant, model, model_version, user_id, items, shown_at)
VALUES ('es2', 'a', 'es_pop', 1, 7, '{9}', '2024-05-01 12:00:03+00');
SELECT recs.attribute_events_since(:events_before, '2024-05-01 12:00:04+00') AS attributed;
SELECT recs.attribute_events_since(:events_before, '2024-05-01 12:00:03+00') AS attributed;
