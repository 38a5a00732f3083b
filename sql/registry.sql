-- The model registry: recs_create_model, recs_train, versions, the default
-- model, recs_drop_model, and every way a model or its source can be wrong.

CREATE TABLE events (user_id integer, item_id bigint, rating real, seen_at timestamptz,
	label text);
INSERT INTO events VALUES
	(1, 10, 5, '2024-01-01', 'a'), (1, 20, 3, '2024-01-02', 'a'),
	(2, 10, 4, '2024-01-01', 'a'), (2, 30, 2, '2024-01-03', 'a'),
	(3, 20, 1, '2024-01-05', 'a'), (3, 30, 5, '2024-01-04', 'a'),
	(3, 40, 4, '2024-01-06', 'a'),
	(1, 10, 1, '2024-01-07', 'a'),			-- a duplicate pair: summed
	(NULL, 10, 1, '2024-01-07', 'a'),		-- NULL user: skipped
	(4, NULL, 1, '2024-01-07', 'a');		-- NULL item: skipped

SELECT recs_create_model('pop', 'popular', 'events');
SELECT name, algorithm, source, source_name, user_column, item_column, weight_column,
	time_column, params, active_version, created_by = current_user AS by_me
FROM recs.models;

-- the first version becomes active; later ones are stored beside it
SELECT recs_train('pop') AS version;
SELECT recs_train('pop') AS version;
SELECT model, version, algorithm, source_name, source_rows, skipped_rows, n_users, n_items,
	n_interactions, trained_by = current_user AS by_me, train_seconds >= 0 AS timed,
	octet_length(artifact) > 0 AS has_artifact
FROM recs.model_versions ORDER BY model, version;
SELECT active_version FROM recs.models WHERE name = 'pop';

-- a view works as a source, ids may be smallint, integer or bigint
CREATE VIEW recent AS SELECT user_id::smallint AS u, item_id AS i, rating FROM events
	WHERE seen_at >= '2024-01-02';
SELECT recs_create_model('pop_view', 'popular', 'recent', 'u', 'i', 'rating',
	params => '{"weighting": "weight"}');
SELECT recs_train('pop_view');
SELECT * FROM recs_topk(99, 10, 'pop_view');

-- training is all or nothing: a failed transaction leaves no version behind
BEGIN;
SELECT recs_train('pop');
ROLLBACK;
SELECT max(version) FROM recs.model_versions WHERE model = 'pop';

-- default model
SELECT * FROM recs_topk(1, 3);
SELECT recs_set_default_model('pop');
SELECT * FROM recs_topk(1, 3);
SELECT recs_set_default_model('pop_view');
SELECT value FROM recs.config WHERE key = 'default_model';

-- dropping a model drops its versions and clears it as default
SELECT recs_drop_model('pop_view');
SELECT count(*) FROM recs.model_versions WHERE model = 'pop_view';
SELECT count(*) FROM recs.config;
SELECT recs_drop_model('pop_view');

-- bad definitions fail at creation, each with its own SQLSTATE
\set VERBOSITY sqlstate
SELECT recs_create_model('pop', 'popular', 'events');
SELECT recs_create_model('', 'popular', 'events');
SELECT recs_create_model(repeat('x', 64), 'popular', 'events');
SELECT recs_create_model('m', NULL, 'events');
SELECT recs_create_model('m', 'popular', NULL);
SELECT recs_create_model('m', 'popular', 'no_such_table');
SELECT recs_create_model('m', 'no_such_algorithm', 'events');
SELECT recs_create_model('m', 'popular', 'events', user_column => 'nope');
SELECT recs_create_model('m', 'popular', 'events', user_column => 'rating');
SELECT recs_create_model('m', 'popular', 'events', item_column => 'label');
SELECT recs_create_model('m', 'popular', 'events', weight_column => 'label');
SELECT recs_create_model('m', 'popular', 'events', time_column => 'label');
SELECT recs_create_model('m', 'popular', 'events', params => '[1]');
SELECT recs_create_model('m', 'popular', 'events', params => '{"weighting": "loud"}');
SELECT recs_create_model('m', 'popular', 'events', params => '{"weighting": 1}');
SELECT recs_create_model('m', 'popular', 'events', params => '{"half_life_days": 3}');
SELECT recs_create_model('m', 'popular', 'events', time_column => 'seen_at',
	params => '{"half_life_days": -1}');
SELECT recs_create_model('m', 'popular', 'events', params => '{"weigthing": "count"}');
CREATE SEQUENCE not_a_table;
SELECT recs_create_model('m', 'popular', 'not_a_table');
\set VERBOSITY default
-- and the messages say what is wrong
SELECT recs_create_model('m', 'popular', 'events', user_column => 'rating');
SELECT recs_create_model('m', 'popular', 'events', params => '{"weigthing": "count"}');
\set VERBOSITY terse
SELECT recs_create_model('m', 'no_such_algorithm', 'events');
\set VERBOSITY default
SELECT recs_create_model('pop', 'popular', 'events');
SELECT count(*) AS models FROM recs.models;

-- training errors
SELECT recs_train('no_such_model');
SELECT recs_train(NULL);
CREATE TABLE empty_events (user_id int, item_id int);
SELECT recs_create_model('empty', 'popular', 'empty_events');
SELECT recs_train('empty');
INSERT INTO empty_events VALUES (NULL, 1), (1, NULL);
SELECT recs_train('empty');
CREATE TABLE bad_weights (user_id int, item_id int, w float8);
INSERT INTO bad_weights VALUES (1, 1, 'NaN');
SELECT recs_create_model('bad_w', 'popular', 'bad_weights', weight_column => 'w');
SELECT recs_train('bad_w');

-- a source altered or dropped after the model was created
CREATE TABLE moving (user_id int, item_id int);
INSERT INTO moving VALUES (1, 1);
SELECT recs_create_model('moving', 'popular', 'moving');
ALTER TABLE moving RENAME COLUMN item_id TO thing_id;
SELECT recs_train('moving');
ALTER TABLE moving RENAME COLUMN thing_id TO item_id;
ALTER TABLE moving ALTER COLUMN item_id TYPE text;
SELECT recs_train('moving');
DROP TABLE moving;
SELECT recs_train('moving');
-- a renamed source is followed (models refer to it by OID)
CREATE TABLE renamed (user_id int, item_id int);
INSERT INTO renamed VALUES (1, 1), (2, 1), (2, 2);
SELECT recs_create_model('renamed', 'popular', 'renamed');
ALTER TABLE renamed RENAME TO renamed_again;
SELECT recs_train('renamed');

-- a model never trained
SELECT recs_create_model('untrained', 'popular', 'events');
SELECT * FROM recs_topk(1, 3, 'untrained');

-- the backend's cached model never outlives a rolled-back version
SELECT * FROM recs_topk(1, 2, 'renamed');
BEGIN;
SELECT recs_drop_model('renamed');
CREATE TABLE other (user_id int, item_id int);
INSERT INTO other VALUES (1, 500), (2, 500), (3, 600);
SELECT recs_create_model('renamed', 'popular', 'other');
SELECT recs_train('renamed');
SELECT * FROM recs_topk(7, 2, 'renamed');
ROLLBACK;
SELECT * FROM recs_topk(7, 2, 'renamed');

SELECT recs_drop_model(name) FROM recs.models ORDER BY name;
DROP TABLE events CASCADE;
DROP TABLE empty_events, bad_weights, renamed_again;
DROP SEQUENCE not_a_table;
