--
-- import: IMPORT FOREIGN SCHEMA makes one foreign table per collection,
-- with columns and types inferred from a sample of its documents.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA imported;
IMPORT FOREIGN SCHEMA recs_fdw_import FROM SERVER mongo INTO imported;
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'imported'::regnamespace AND a.attnum > 0
ORDER BY c.relname, a.attnum;
SELECT c.relname, ft.ftoptions
FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
WHERE c.relnamespace = 'imported'::regnamespace ORDER BY 1;
SELECT * FROM imported.clicks ORDER BY _id LIMIT 3;
SELECT * FROM imported.users ORDER BY _id;
SELECT * FROM imported."Odd Name";

-- LIMIT TO, EXCEPT, options
CREATE SCHEMA imported2;
IMPORT FOREIGN SCHEMA recs_fdw_import LIMIT TO (users) FROM SERVER mongo INTO imported2
  OPTIONS (whole_document 'true', sample_size '2');
\d imported2.users
SELECT _id, document FROM imported2.users ORDER BY _id;
CREATE SCHEMA imported3;
IMPORT FOREIGN SCHEMA recs_fdw_import EXCEPT (clicks, "Odd Name") FROM SERVER mongo INTO imported3;
SELECT relname FROM pg_class WHERE relnamespace = 'imported3'::regnamespace;
-- a small sample sees fewer kinds of values
CREATE SCHEMA imported4;
IMPORT FOREIGN SCHEMA recs_fdw_import LIMIT TO (clicks) FROM SERVER mongo INTO imported4
  OPTIONS (sample_size '1');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'imported4.clicks'::regclass AND attnum > 0 AND attname = 'mixed';

-- errors
IMPORT FOREIGN SCHEMA recs_fdw_import FROM SERVER mongo INTO imported4 OPTIONS (sample '5');
IMPORT FOREIGN SCHEMA recs_fdw_import FROM SERVER mongo INTO imported4 OPTIONS (sample_size '0');
IMPORT FOREIGN SCHEMA no_such_database FROM SERVER mongo INTO imported4;
IMPORT FOREIGN SCHEMA recs_fdw_import FROM SERVER mongo INTO imported;

SET client_min_messages = warning;
DROP SCHEMA imported, imported2, imported3, imported4 CASCADE;
RESET client_min_messages;
