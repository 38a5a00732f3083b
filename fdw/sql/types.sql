--
-- types: every BSON type read as every supported column type, values that
-- do not fit (errors naming the field, the _id and both types, or NULL with
-- on_mismatch 'null'), and the jsonb rendering of documents.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- the fixtures: one document per kind of value, in field v
CREATE FOREIGN TABLE types_json (_id int, kind text, v jsonb)
  SERVER mongo OPTIONS (collection 'types');
SELECT _id, kind, v FROM types_json ORDER BY _id;

-- each column type, with mismatches read as NULL so that every row shows
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE FOREIGN TABLE types_read (
  _id int,
  kind text,
  v_int2 smallint OPTIONS (field 'v', on_mismatch 'null'),
  v_int4 integer OPTIONS (field 'v', on_mismatch 'null'),
  v_int8 bigint OPTIONS (field 'v', on_mismatch 'null'),
  v_float4 real OPTIONS (field 'v', on_mismatch 'null'),
  v_float8 double precision OPTIONS (field 'v', on_mismatch 'null'),
  v_numeric numeric OPTIONS (field 'v', on_mismatch 'null'),
  v_bool boolean OPTIONS (field 'v', on_mismatch 'null'),
  v_text text OPTIONS (field 'v', on_mismatch 'null'),
  v_tstz timestamptz OPTIONS (field 'v', on_mismatch 'null'),
  v_ts timestamp OPTIONS (field 'v', on_mismatch 'null'),
  v_date date OPTIONS (field 'v', on_mismatch 'null'),
  v_uuid uuid OPTIONS (field 'v', on_mismatch 'null'),
  v_bytea bytea OPTIONS (field 'v', on_mismatch 'null'),
  v_int4a integer[] OPTIONS (field 'v', on_mismatch 'null'),
  v_texta text[] OPTIONS (field 'v', on_mismatch 'null'),
  v_domain positive_int OPTIONS (field 'v', on_mismatch 'null'),
  v_json json OPTIONS (field 'v', on_mismatch 'null')
) SERVER mongo OPTIONS (collection 'types');

SELECT _id, kind, v_int2, v_int4, v_int8 FROM types_read ORDER BY _id;
SELECT _id, kind, v_float4, v_float8, v_numeric FROM types_read ORDER BY _id;
SELECT _id, kind, v_bool, v_text FROM types_read ORDER BY _id;
SELECT _id, kind, v_tstz, v_ts, v_date FROM types_read ORDER BY _id;
SELECT _id, kind, v_bytea, v_int4a, v_texta FROM types_read ORDER BY _id;
SELECT _id, kind, v_uuid FROM types_read WHERE _id IN (13, 14, 15, 16, 20) ORDER BY _id;
-- a string goes through uuid's input function, whose errors on_mismatch
-- cannot turn into NULL
SELECT _id, kind, v_uuid FROM types_read WHERE _id = 7;
SELECT _id, kind, v_domain, v_json FROM types_read ORDER BY _id;

-- other types go through their input function, from strings
CREATE FOREIGN TABLE types_input (
  _id int,
  name name OPTIONS (field 'kind'),
  short varchar(6) OPTIONS (field 'kind'),
  padded char(8) OPTIONS (field 'kind'),
  m mood OPTIONS (field 'kind', on_mismatch 'null')
) SERVER mongo OPTIONS (collection 'types');
SELECT _id, name, padded FROM types_input WHERE _id IN (1, 7, 8) ORDER BY _id;
SELECT short FROM types_input WHERE _id = 1;
SELECT short FROM types_input WHERE _id = 3;
SELECT m FROM types_input WHERE _id = 1;

-- mismatches are errors by default: they name the field, the document's
-- _id, the BSON type and the column's type
CREATE FOREIGN TABLE types_strict (
  _id int,
  i2 smallint OPTIONS (field 'v'),
  i4 integer OPTIONS (field 'v'),
  f4 real OPTIONS (field 'v'),
  n62 numeric(6,2) OPTIONS (field 'v'),
  b boolean OPTIONS (field 'v'),
  t text OPTIONS (field 'v'),
  ts timestamptz OPTIONS (field 'v'),
  u uuid OPTIONS (field 'v'),
  ia integer[] OPTIONS (field 'v'),
  d positive_int OPTIONS (field 'v')
) SERVER mongo OPTIONS (collection 'types');
SELECT i4 FROM types_strict WHERE _id = 7;    -- string
SELECT i4 FROM types_strict WHERE _id = 3;    -- 2.5
SELECT i4 FROM types_strict WHERE _id = 2;    -- int64 beyond integer
SELECT i2 FROM types_strict WHERE _id = 1 OR _id = 22;
SELECT f4 FROM types_strict WHERE _id = 23;   -- 1e300
SELECT n62 FROM types_strict WHERE _id = 5;   -- too many digits for numeric(6,2)
SELECT b FROM types_strict WHERE _id = 1;
SELECT t FROM types_strict WHERE _id = 12;    -- a document
SELECT ts FROM types_strict WHERE _id = 7;
SELECT u FROM types_strict WHERE _id = 15;    -- 4 bytes of binData
SELECT ia FROM types_strict WHERE _id = 21;   -- nested array
SELECT ia FROM types_strict WHERE _id = 1;    -- a scalar for an array
SELECT d FROM types_strict WHERE _id = 1;
CREATE FOREIGN TABLE types_neg (_id int, v positive_int) SERVER mongo OPTIONS (collection 'big');
SELECT count(*) FROM types_neg;
-- ObjectId and string _ids are named in their own form
CREATE FOREIGN TABLE mismatch (_id text OPTIONS (on_mismatch 'null'), n integer,
  ts timestamptz, flag boolean)
  SERVER mongo OPTIONS (collection 'mismatch');
SELECT n FROM mismatch;
SELECT n FROM mismatch WHERE _id = '65a000000000000000000003';
SELECT n FROM mismatch WHERE _id = 'four';
SELECT ts FROM mismatch WHERE _id = 'four';
SELECT flag FROM mismatch WHERE ts IS NULL;
-- with on_mismatch 'null' the same rows read as NULL
ALTER FOREIGN TABLE mismatch ALTER COLUMN n OPTIONS (ADD on_mismatch 'null'),
  ALTER COLUMN ts OPTIONS (ADD on_mismatch 'null'),
  ALTER COLUMN flag OPTIONS (ADD on_mismatch 'null');
SELECT _id, n, ts, flag FROM mismatch ORDER BY _id;

-- the whole document as jsonb, and sub-documents by path
CREATE FOREIGN TABLE people_doc (
  _id int,
  doc jsonb OPTIONS (whole_document 'true'),
  city text OPTIONS (field 'address.city'),
  zip text OPTIONS (field 'address.zip'),
  first_tag text OPTIONS (field 'tags.0'),
  address jsonb
) SERVER mongo OPTIONS (collection 'people');
SELECT _id, city, zip, first_tag, address FROM people_doc ORDER BY _id;
SELECT doc FROM people_doc WHERE _id IN (1, 5, 8, 11) ORDER BY _id;
SELECT doc->>'name' AS name, (doc->'joined'->>'$date')::timestamptz AS joined
FROM people_doc WHERE _id = 3;
