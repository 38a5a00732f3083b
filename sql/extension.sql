-- The extension as users meet it: schema layout, unqualified calls with the
-- default search_path, and catalog hygiene (comments, labels) on every object.

SHOW search_path;

-- user-facing objects land in the install schema, internals in "recs"
SELECT extnamespace::regnamespace AS install_schema, extversion, extrelocatable
FROM pg_extension WHERE extname = 'recs';
SELECT nspname, obj_description(oid, 'pg_namespace') IS NOT NULL AS has_comment
FROM pg_namespace WHERE nspname = 'recs';

-- unqualified calls resolve with the default search_path
SELECT recs_dims('[1,2,3]'), recs_norm('[3,4]');

-- every object the extension owns carries a COMMENT
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS missing_comment
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recs')
  AND d.deptype = 'e'
  AND NOT EXISTS (SELECT 1 FROM pg_description c
                  WHERE c.classoid = d.classid AND c.objoid = d.objid
                    AND c.objsubid = d.objsubid)
ORDER BY 1;

-- the functions that are not IMMUTABLE and PARALLEL SAFE, each on purpose:
-- they read or write the registry
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recs')
  AND (p.provolatile <> 'i' OR p.proparallel <> 's')
ORDER BY p.oid::regprocedure::text;

-- the type is stored out of line without compression, int4 aligned
SELECT typstorage, typalign, typlen FROM pg_type WHERE typname = 'embedding';

-- reinstalling works and the internal schema is recreated with it
DROP EXTENSION recs;
SELECT count(*) FROM pg_namespace WHERE nspname = 'recs';
CREATE EXTENSION recs;
SELECT count(*) FROM pg_namespace WHERE nspname = 'recs';

-- a misspelt recs.* setting is rejected rather than silently kept
SET recs.no_such_setting = 1;
