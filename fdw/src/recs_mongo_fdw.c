/*
 * recs_mongo_fdw.c
 *		Entry points of recs_mongo_fdw: _PG_init and the handler.
 *
 * This file only wires the callbacks together; each concern lives in its
 * own file (see recs_mongo_fdw.h).  The module can be loaded without the
 * extension being created (by pg_regress --load-extension, or a plain LOAD),
 * so _PG_init touches no catalog.
 */
#include "postgres.h"

#include "fmgr.h"

#include "recs_mongo_fdw.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(recs_mongo_fdw_handler);

void		_PG_init(void);

void
_PG_init(void)
{
	MongoConnectionInit();
}

/*
 * The FdwRoutine: scans with pushdown, LIMIT pushdown through the final
 * upper rel, INSERT/UPDATE/DELETE, ANALYZE and IMPORT FOREIGN SCHEMA.
 */
Datum
recs_mongo_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = mongoGetForeignRelSize;
	routine->GetForeignPaths = mongoGetForeignPaths;
	routine->GetForeignPlan = mongoGetForeignPlan;
	routine->GetForeignUpperPaths = mongoGetForeignUpperPaths;
	routine->BeginForeignScan = mongoBeginForeignScan;
	routine->IterateForeignScan = mongoIterateForeignScan;
	routine->ReScanForeignScan = mongoReScanForeignScan;
	routine->EndForeignScan = mongoEndForeignScan;
	routine->ExplainForeignScan = mongoExplainForeignScan;

	routine->AddForeignUpdateTargets = mongoAddForeignUpdateTargets;
	routine->PlanForeignModify = mongoPlanForeignModify;
	routine->BeginForeignModify = mongoBeginForeignModify;
	routine->ExecForeignInsert = mongoExecForeignInsert;
	routine->ExecForeignUpdate = mongoExecForeignUpdate;
	routine->ExecForeignDelete = mongoExecForeignDelete;
	routine->EndForeignModify = mongoEndForeignModify;
	routine->BeginForeignInsert = mongoBeginForeignInsert;
	routine->EndForeignInsert = mongoEndForeignInsert;
	routine->IsForeignRelUpdatable = mongoIsForeignRelUpdatable;
	routine->ExplainForeignModify = mongoExplainForeignModify;

	routine->AnalyzeForeignTable = mongoAnalyzeForeignTable;
	routine->ImportForeignSchema = mongoImportForeignSchema;

	PG_RETURN_POINTER(routine);
}
