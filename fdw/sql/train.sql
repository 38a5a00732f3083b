--
-- train: a recs model trained from a foreign table gives the same
-- recommendations as the same data in a local table.
--
CREATE EXTENSION recs;
CREATE FOREIGN TABLE mongo_interactions (
  _id integer,
  user_id bigint OPTIONS (field 'user.id'),
  item_id integer OPTIONS (field 'event.item_id'),
  kind text OPTIONS (field 'event.kind'),
  weight double precision,
  at timestamptz
) SERVER mongo OPTIONS (collection 'events');
CREATE TABLE local_interactions AS SELECT * FROM mongo_interactions;
SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM local_interactions;

SELECT recs_create_model('pop_mongo', 'popular', 'mongo_interactions');
SELECT recs_create_model('pop_local', 'popular', 'local_interactions');
SELECT recs_train('pop_mongo'), recs_train('pop_local');
-- training read only the fields it needs
SELECT projection FROM last_find('events');

-- the same top 5 for every user, item by item and score by score
SELECT count(*) AS users_compared,
       count(*) FILTER (WHERE m IS NOT DISTINCT FROM l) AS identical
FROM (SELECT u,
             (SELECT array_agg(item_id || ':' || round(score::numeric, 6) ORDER BY rank)
              FROM recs_topk(u, 5, 'pop_mongo')) AS m,
             (SELECT array_agg(item_id || ':' || round(score::numeric, 6) ORDER BY rank)
              FROM recs_topk(u, 5, 'pop_local')) AS l
      FROM generate_series(1, 32) u) s;
SELECT item_id, rank, source FROM recs_topk(3, 5, 'pop_mongo');

-- with weights and times, and a neighbourhood model
SELECT recs_create_model('knn_mongo', 'item_knn', 'mongo_interactions',
                         weight_column => 'weight', time_column => 'at');
SELECT recs_create_model('knn_local', 'item_knn', 'local_interactions',
                         weight_column => 'weight', time_column => 'at');
SELECT recs_train('knn_mongo'), recs_train('knn_local');
SELECT count(*) AS users_compared,
       count(*) FILTER (WHERE m IS NOT DISTINCT FROM l) AS identical
FROM (SELECT u,
             (SELECT array_agg(item_id || ':' || round(score::numeric, 6) ORDER BY rank)
              FROM recs_topk(u, 5, 'knn_mongo')) AS m,
             (SELECT array_agg(item_id || ':' || round(score::numeric, 6) ORDER BY rank)
              FROM recs_topk(u, 5, 'knn_local')) AS l
      FROM generate_series(1, 32) u) s;

-- new events written through PostgreSQL reach the next training
INSERT INTO mongo_interactions (_id, user_id, item_id, kind, weight, at)
  SELECT 1000 + u, u, 99, 'buy', 1, '2024-06-01' FROM generate_series(1, 30) u;
SELECT recs_train('pop_mongo', activate => true);
SELECT item_id, rank FROM recs_topk(31, 3, 'pop_mongo');
DELETE FROM mongo_interactions WHERE _id > 1000;

SELECT recs_drop_model('pop_mongo'), recs_drop_model('pop_local'),
       recs_drop_model('knn_mongo'), recs_drop_model('knn_local');
DROP EXTENSION recs;
