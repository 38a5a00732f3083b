--
-- modify: INSERT (so applications can log events through PostgreSQL), and
-- UPDATE and DELETE of documents by _id.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE FOREIGN TABLE writes (
  _id text,
  user_id bigint OPTIONS (field 'user.id'),
  item_id integer OPTIONS (field 'event.item_id'),
  kind text OPTIONS (field 'event.kind'),
  at timestamptz,
  weight double precision,
  tags text[],
  extra jsonb,
  doc jsonb OPTIONS (whole_document 'true')
) SERVER mongo OPTIONS (collection 'writes');

-- without an _id, MongoDB's kind is generated here, so RETURNING shows it
INSERT INTO writes (user_id, item_id, kind, at, weight)
  VALUES (1, 10, 'view', '2024-05-01 10:00:00.123456', 1.5)
  RETURNING length(_id) AS id_length, user_id, item_id;
INSERT INTO writes (_id, user_id, item_id, kind, tags, extra) VALUES
  ('a', 2, 20, 'buy', '{x,y}', '{"coupon": "SPRING", "n": [1, 2.5]}'),
  ('b', 3, 30, NULL, NULL, NULL),
  ('c', 4, 40, 'view', '{}', 'null');
-- sub-documents are built from the dotted fields; NULLs are left out
SELECT _id, doc FROM writes WHERE _id IN ('a', 'b', 'c') ORDER BY _id;
SELECT user_id, item_id, kind, at, weight FROM writes WHERE _id NOT IN ('a', 'b', 'c');

-- INSERT ... SELECT and COPY
INSERT INTO writes (_id, user_id, item_id, kind)
  SELECT 'g' || i, 100 + i, i, 'click' FROM generate_series(1, 5) i;
COPY writes (_id, user_id, item_id, kind) FROM stdin;
h1	200	1	view
h2	201	2	buy
\.
SELECT count(*), sum(user_id) FROM writes WHERE user_id >= 100;

-- duplicate _id: MongoDB's error (its text, in the detail, differs between
-- servers), in the FDW class
\set VERBOSITY terse
INSERT INTO writes (_id, user_id) VALUES ('a', 99);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

-- UPDATE sets the changed fields and unsets the ones set to NULL
UPDATE writes SET kind = 'click', weight = 2, at = NULL WHERE _id = 'a';
SELECT doc FROM writes WHERE _id = 'a';
UPDATE writes SET item_id = item_id + 1000 WHERE user_id BETWEEN 100 AND 102;
SELECT _id, item_id FROM writes WHERE user_id >= 100 ORDER BY _id;
-- a row the filter could not push down is still updated by _id
UPDATE writes SET extra = '{"seen": true}' WHERE lower(_id) = 'c';
SELECT extra FROM writes WHERE _id = 'c';
-- nothing to update: no document changes
UPDATE writes SET kind = 'x' WHERE _id = 'nope';

-- DELETE by _id
DELETE FROM writes WHERE _id = 'b';
DELETE FROM writes WHERE user_id >= 200;
SELECT CASE WHEN length(_id) = 24 THEN '(ObjectId)' ELSE _id END FROM writes ORDER BY 1;

-- what cannot be done
UPDATE writes SET _id = 'z' WHERE _id = 'a';
UPDATE writes SET doc = '{}' WHERE _id = 'a';
INSERT INTO writes (_id, doc) VALUES ('d', '{"a": 1}');
UPDATE writes SET kind = 'x' WHERE _id = 'a' RETURNING kind;
DELETE FROM writes WHERE _id = 'a' RETURNING _id;
INSERT INTO writes (_id) VALUES ('e') ON CONFLICT DO NOTHING;
INSERT INTO writes (_id, at) VALUES ('e', 'infinity');
CREATE FOREIGN TABLE writes_noid (user_id bigint OPTIONS (field 'user.id'))
  SERVER mongo OPTIONS (collection 'writes');
INSERT INTO writes_noid VALUES (7);
DELETE FROM writes_noid WHERE user_id = 7;
UPDATE writes_noid SET user_id = 8;
-- two columns cannot write the same field twice
CREATE FOREIGN TABLE writes_overlap (_id text, event jsonb,
  item_id int OPTIONS (field 'event.item_id')) SERVER mongo OPTIONS (collection 'writes');
INSERT INTO writes_overlap VALUES ('o', '{"kind": "view"}', 1);
INSERT INTO writes_overlap VALUES ('o', NULL, 1);
INSERT INTO writes_overlap VALUES ('p', '{"kind": "view"}', NULL);
SELECT _id, event, item_id FROM writes_overlap WHERE _id IN ('o', 'p') ORDER BY _id;

-- an ObjectId _id, read as text, finds its document again
CREATE FOREIGN TABLE writes_ids (_id text, user_id bigint OPTIONS (field 'user.id'))
  SERVER mongo OPTIONS (collection 'writes');
UPDATE writes_ids SET user_id = 11 WHERE user_id = 1;
SELECT length(_id), user_id FROM writes_ids WHERE user_id = 11;
DELETE FROM writes_ids WHERE user_id = 11;
SELECT count(*) FROM writes_ids WHERE user_id = 11;
-- EXPLAIN names the collection written to
EXPLAIN (VERBOSE, COSTS OFF) DELETE FROM writes WHERE _id = 'a';
SELECT _id, kind FROM writes WHERE length(_id) < 24 ORDER BY _id;
