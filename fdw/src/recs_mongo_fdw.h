/*
 * recs_mongo_fdw.h
 *		Declarations shared by the files of recs_mongo_fdw.
 *
 * One file per concern, as in contrib/postgres_fdw:
 *	recs_mongo_fdw.c	_PG_init and the handler (the callback table)
 *	option.c			option table, validator, reading options
 *	connection.c		one cached mongoc_client_t per user mapping
 *	resource.c			driver objects tied to memory contexts
 *	stream.c			socket streams that give up when a query is canceled
 *	shippable.c			the operator allow-list, by OID
 *	deparse.c			quals to a BSON filter, projection
 *	bson_convert.c		BSON values to Datums and back
 *	planner.c			planning and EXPLAIN
 *	scan.c				streaming scans
 *	modify.c			INSERT, UPDATE and DELETE
 *	analyze.c			ANALYZE
 *	import.c			IMPORT FOREIGN SCHEMA
 */
#ifndef RECS_MONGO_FDW_H
#define RECS_MONGO_FDW_H

#include "postgres.h"

#include <mongoc/mongoc.h>

#include "access/tupdesc.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"

/* Batch size when a table sets none: documents per find/getMore reply. */
#define MONGO_DEFAULT_BATCH_SIZE 1000
/* Documents IMPORT FOREIGN SCHEMA samples per collection by default. */
#define MONGO_DEFAULT_SAMPLE_SIZE 100

/* ---- option.c ---- */

/* What a column does with a value that does not fit its type. */
typedef enum MongoMismatch
{
	MONGO_MISMATCH_ERROR,		/* raise an error (the default) */
	MONGO_MISMATCH_NULL			/* read it as NULL */
} MongoMismatch;

/* One column of a foreign table and the document field it maps. */
typedef struct MongoColumn
{
	AttrNumber	attnum;
	char	   *attname;
	Oid			atttype;
	int32		atttypmod;
	Oid			attcollation;
	char	   *field;			/* dot path; NULL for a whole-document column */
	bool		whole_document; /* jsonb column holding the whole document */
	MongoMismatch on_mismatch;
} MongoColumn;

/* A foreign table: its namespace and its columns (dropped ones left out). */
typedef struct MongoTable
{
	Oid			relid;
	char	   *relname;
	Oid			serverid;
	char	   *database;
	char	   *collection;
	int			batch_size;
	int			ncolumns;
	MongoColumn *columns;		/* in attnum order */
	MongoColumn **by_attnum;	/* attnum - 1 -> column, NULL if dropped */
	int			natts;			/* length of by_attnum */
} MongoTable;

extern MongoTable *MongoGetTable(Oid relid);
extern MongoColumn *MongoTableColumn(MongoTable *table, AttrNumber attnum);
extern MongoColumn *MongoTableIdColumn(MongoTable *table);
extern const char *MongoServerDatabase(ForeignServer *server);
extern bool MongoValidFieldPath(const char *path);

/* ---- connection.c ---- */

typedef struct MongoConnection MongoConnection;

extern void MongoConnectionInit(void);
extern MongoConnection *MongoAcquire(Oid serverid, Oid userid);
extern void MongoRelease(MongoConnection *conn);
extern mongoc_client_t *MongoClient(MongoConnection *conn);
extern const char *MongoServerName(MongoConnection *conn);
extern void MongoReportError(MongoConnection *conn, const bson_error_t *error,
							 const char *doing) pg_attribute_noreturn();
extern void MongoCheckCollectionExists(MongoConnection *conn, const char *database,
									   const char *collection);

/* ---- stream.c ---- */

extern mongoc_stream_t *MongoInterruptibleStreamInitiator(const mongoc_uri_t *uri,
														   const mongoc_host_list_t *host,
														   void *user_data,
														   bson_error_t *error);

/* ---- resource.c ---- */

/*
 * A cursor, or any other driver object, whose lifetime is a memory
 * context's: resetting or deleting the context (including when an ERROR
 * aborts the query) destroys the objects and releases the connection.
 */
typedef struct MongoHandle
{
	MongoConnection *conn;		/* released at reset, may be NULL */
	mongoc_collection_t *collection;
	mongoc_cursor_t *cursor;
	MemoryContextCallback callback;
} MongoHandle;

extern MongoHandle *MongoHandleCreate(MemoryContext cxt, Oid serverid, Oid userid,
									  const char *database, const char *collection);
extern bson_t *MongoBsonCreate(MemoryContext cxt);

/* ---- shippable.c ---- */

/* What a shippable operator does, once its operands are put in order. */
typedef enum MongoOpKind
{
	MONGO_OP_NONE = 0,
	MONGO_OP_EQ,
	MONGO_OP_NE,
	MONGO_OP_LT,
	MONGO_OP_LE,
	MONGO_OP_GT,
	MONGO_OP_GE
} MongoOpKind;

/* Families of column types whose comparisons MongoDB can evaluate. */
typedef enum MongoTypeClass
{
	MONGO_CLASS_NONE = 0,
	MONGO_CLASS_INT,			/* smallint, integer, bigint */
	MONGO_CLASS_FLOAT8,			/* double precision */
	MONGO_CLASS_TEXT,			/* text, varchar (equality only) */
	MONGO_CLASS_BOOL,
	MONGO_CLASS_TIMESTAMPTZ,
	MONGO_CLASS_TIMESTAMP
} MongoTypeClass;

extern MongoTypeClass MongoColumnClass(Oid typid);
extern MongoOpKind MongoShippableOperator(Oid opno, MongoTypeClass *cls);
extern MongoOpKind MongoCommuteOpKind(MongoOpKind kind);

/* ---- deparse.c ---- */

/* A qual classified for pushdown by the planner. */
extern bool MongoQualIsShippable(MongoTable *table, Index relid, Expr *qual,
								 bool *recheck);

/* How the filter builder gets a Param's value: at run time or for EXPLAIN. */
typedef struct MongoParamSource
{
	PlanState  *ps;				/* NULL: print placeholders (EXPLAIN) */
	List	   *param_states;	/* ExprStates of the Params, in walk order */
	int			next;			/* position in param_states */
} MongoParamSource;

extern List *MongoCollectParams(List *quals);
extern void MongoBuildFilter(bson_t *filter, MongoTable *table, List *quals,
							 MongoParamSource *params);
extern void MongoBuildProjection(bson_t *projection, MongoTable *table,
								 List *retrieved_attrs);
extern char *MongoBsonToJsonText(const bson_t *doc);

/* ---- bson_convert.c ---- */

extern Datum MongoValueToDatum(const bson_iter_t *iter, MongoColumn *column,
							   const bson_t *doc, bool *isnull);
extern void MongoDocumentToValues(const bson_t *doc, MongoTable *table,
								  List *retrieved_attrs, Datum *values, bool *nulls);
extern bool MongoAppendDatum(bson_t *bson, const char *key, int keylen,
							 Datum value, Oid typid);
extern char *MongoDescribeId(const bson_t *doc);
extern const char *MongoBsonTypeName(bson_type_t type);
extern int64 MongoTimestampToMillis(int64 timestamp, bool *exact);
extern char *MongoBsonValueToJson(const bson_iter_t *iter);

/* ---- planner.c ---- */

extern void mongoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								   Oid foreigntableid);
extern void mongoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern ForeignScan *mongoGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses, Plan *outer_plan);
extern void mongoGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
									  RelOptInfo *input_rel, RelOptInfo *output_rel,
									  void *extra);
extern void mongoExplainForeignScan(ForeignScanState *node, struct ExplainState *es);

/*
 * ForeignScan.fdw_private, a list indexed by this enum (as postgres_fdw
 * does).  fdw_exprs holds the pushed-down quals, then the LIMIT and OFFSET
 * expressions when a limit was pushed down.
 */
enum MongoScanPrivate
{
	MongoPrivateRetrievedAttrs, /* Integer list of the attnums fetched */
	MongoPrivateNumRemoteQuals, /* Integer: how many of fdw_exprs are quals */
	MongoPrivateLimitExprs,		/* Integer: 0 (no limit), 1 (count) or 2
								 * (count and offset) */
	MongoPrivateNum
};

/* ---- scan.c ---- */

extern void mongoBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *mongoIterateForeignScan(ForeignScanState *node);
extern void mongoReScanForeignScan(ForeignScanState *node);
extern void mongoEndForeignScan(ForeignScanState *node);
extern void MongoScanDescribe(ForeignScanState *node, char **ns, char **filter,
							  char **projection, char **limit);

/* ---- modify.c ---- */

extern void mongoAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
										 RangeTblEntry *target_rte,
										 Relation target_relation);
extern List *mongoPlanForeignModify(PlannerInfo *root, ModifyTable *plan,
									Index resultRelation, int subplan_index);
extern void mongoBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
									List *fdw_private, int subplan_index, int eflags);
extern TupleTableSlot *mongoExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot,
											  TupleTableSlot *planSlot);
extern TupleTableSlot *mongoExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot,
											  TupleTableSlot *planSlot);
extern TupleTableSlot *mongoExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot,
											  TupleTableSlot *planSlot);
extern void mongoEndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void mongoBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern void mongoEndForeignInsert(EState *estate, ResultRelInfo *rinfo);
extern int	mongoIsForeignRelUpdatable(Relation rel);
extern void mongoExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
									  List *fdw_private, int subplan_index,
									  struct ExplainState *es);

/* ---- analyze.c ---- */

extern bool mongoAnalyzeForeignTable(Relation relation,
									 AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* ---- import.c ---- */

extern List *mongoImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid);

#endif							/* RECS_MONGO_FDW_H */
