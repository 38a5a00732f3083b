-- Training honours statement_timeout (and so query cancel) between
-- batches, and a cancelled training leaves no version behind.

CREATE TABLE tc_events AS
SELECT u AS user_id, (u * 7 + n * 13) % 2000 AS item_id
FROM generate_series(1, 3000) u, generate_series(1, 30) n;
SELECT recs_create_model('tc_ials', 'ials', 'tc_events',
	params => '{"factors": 64, "iterations": 1000}');
SELECT recs_create_model('tc_bpr', 'bpr_mf', 'tc_events',
	params => '{"factors": 64, "epochs": 10000}');
SELECT recs_create_model('tc_ncf', 'ncf', 'tc_events', params => '{"epochs": 10000}');
SET client_min_messages = warning;
SET recs.validate_on_train = off;

-- each of these would train for minutes
SET statement_timeout = '300ms';
SELECT recs_train('tc_ials');
SELECT recs_train('tc_bpr');
SELECT recs_train('tc_ncf');
RESET statement_timeout;
SELECT count(*) AS versions_left_behind FROM recs.model_versions WHERE model LIKE 'tc\_%';

-- the session is fine afterwards, and a short training still works
UPDATE recs.models SET params = '{"factors": 8, "iterations": 2}' WHERE name = 'tc_ials';
SELECT recs_train('tc_ials') AS version;
SELECT count(*) AS rows FROM recs_topk(1, 5, 'tc_ials');

RESET client_min_messages;
RESET recs.validate_on_train;
SELECT recs_drop_model('tc_ials'), recs_drop_model('tc_bpr'), recs_drop_model('tc_ncf');
DROP TABLE tc_events;
