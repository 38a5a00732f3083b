/*
 * modify.c
 *		INSERT into a foreign table, and UPDATE and DELETE of documents by
 *		their _id.
 *
 * INSERT builds one document per row: each column's value under its field
 * path (columns mapped to "event.item_id" and "event.kind" share one
 * sub-document), NULLs left out.  A row without an _id gets an ObjectId
 * generated here, so that RETURNING can show it.  COPY into a foreign table
 * goes the same way.
 *
 * UPDATE and DELETE need a column mapped to _id: the scan fetches it as the
 * row identity, and each row becomes an updateOne ({$set, $unset} of the
 * updated columns; NULL unsets the field) or a deleteOne on that _id.  A
 * document that is gone by then counts as not updated or deleted, like a
 * row deleted by a concurrent transaction.  MongoDB has no transactions
 * here: each row is written when the executor produces it, and a later
 * ERROR does not undo the rows already written.  RETURNING is supported for
 * INSERT; for UPDATE and DELETE the old or new document is not fetched
 * back, so RETURNING is rejected at planning.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/inherit.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "recs_mongo_fdw.h"

/* The name of the row identity junk column. */
#define MONGO_ROWID_NAME "recs_mongo_id"

enum MongoModifyPrivate
{
	MongoModifyTargetAttrs,		/* Integer list of the columns written */
	MongoModifyNum
};

typedef struct MongoModifyState
{
	MongoTable *table;
	CmdType		operation;
	List	   *target_attrs;
	AttrNumber	rowid_attno;	/* junk column holding _id (UPDATE, DELETE) */
	MongoColumn *id_column;
	MemoryContext cxt;			/* owns the handle */
	MemoryContext row_cxt;		/* reset for every row */
	MongoHandle *handle;
} MongoModifyState;

static MongoColumn *
RequireIdColumn(MongoTable *table)
{
	MongoColumn *col = MongoTableIdColumn(table);

	if (col == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no column mapped to _id", table->relname),
				 errdetail("UPDATE and DELETE find documents by their _id."),
				 errhint("Add a column named _id, or one with OPTIONS (field '_id').")));
	return col;
}

void
mongoAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
							 RangeTblEntry *target_rte, Relation target_relation)
{
	MongoTable *table = MongoGetTable(RelationGetRelid(target_relation));
	MongoColumn *col = RequireIdColumn(table);
	Var		   *var;

	var = makeVar(rtindex, col->attnum, col->atttype, col->atttypmod,
				  col->attcollation, 0);
	add_row_identity_var(root, var, rtindex, MONGO_ROWID_NAME);
}

List *
mongoPlanForeignModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					   int subplan_index)
{
	CmdType		operation = plan->operation;
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	MongoTable *table = MongoGetTable(rte->relid);
	List	   *target_attrs = NIL;

	if (plan->returningLists && operation != CMD_INSERT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s ... RETURNING is not supported on MongoDB foreign table \"%s\"",
						operation == CMD_UPDATE ? "UPDATE" : "DELETE", table->relname),
				 errdetail("Only INSERT ... RETURNING is.")));
	if (plan->onConflictAction != ONCONFLICT_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT is not supported on MongoDB foreign table \"%s\"",
						table->relname)));

	if (operation == CMD_INSERT)
	{
		for (int i = 0; i < table->ncolumns; i++)
			target_attrs = lappend_int(target_attrs, table->columns[i].attnum);
	}
	else if (operation == CMD_UPDATE)
	{
		RelOptInfo *rel = find_base_rel(root, resultRelation);
		Bitmapset  *cols = get_rel_all_updated_cols(root, rel);
		MongoColumn *idcol = RequireIdColumn(table);
		int			col = -1;

		while ((col = bms_next_member(cols, col)) >= 0)
		{
			AttrNumber	attno = col + FirstLowInvalidHeapAttributeNumber;
			MongoColumn *mc = MongoTableColumn(table, attno);

			if (mc == NULL)
				continue;
			if (mc == idcol)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot update column \"%s\" of foreign table \"%s\"",
								mc->attname, table->relname),
						 errdetail("It holds the document's _id, which MongoDB does not let change.")));
			if (mc->whole_document)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot update column \"%s\" of foreign table \"%s\"",
								mc->attname, table->relname),
						 errdetail("It shows the whole document and is read-only; update the columns of the fields instead.")));
			target_attrs = lappend_int(target_attrs, attno);
		}
	}
	return list_make1(target_attrs);
}

static MongoModifyState *
CreateModifyState(EState *estate, ResultRelInfo *rinfo, CmdType operation,
				  List *target_attrs, Plan *subplan)
{
	MongoModifyState *ms = palloc0(sizeof(MongoModifyState));
	RangeTblEntry *rte = exec_rt_fetch(rinfo->ri_RangeTableIndex, estate);
	Oid			userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();

	ms->table = MongoGetTable(RelationGetRelid(rinfo->ri_RelationDesc));
	ms->operation = operation;
	ms->target_attrs = target_attrs;
	ms->id_column = MongoTableIdColumn(ms->table);
	if (operation == CMD_UPDATE || operation == CMD_DELETE)
	{
		ms->rowid_attno = ExecFindJunkAttributeInTlist(subplan->targetlist, MONGO_ROWID_NAME);
		if (!AttributeNumberIsValid(ms->rowid_attno))
			elog(ERROR, "recs_mongo_fdw: could not find the row identity column");
	}
	ms->cxt = AllocSetContextCreate(estate->es_query_cxt, "recs_mongo_fdw modify",
									ALLOCSET_SMALL_SIZES);
	ms->row_cxt = AllocSetContextCreate(ms->cxt, "recs_mongo_fdw modify row",
										ALLOCSET_DEFAULT_SIZES);
	ms->handle = MongoHandleCreate(ms->cxt, ms->table->serverid, userid,
								   ms->table->database, ms->table->collection);
	return ms;
}

void
mongoBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						List *fdw_private, int subplan_index, int eflags)
{
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	rinfo->ri_FdwState = CreateModifyState(mtstate->ps.state, rinfo, mtstate->operation,
										   linitial(fdw_private),
										   outerPlanState(mtstate)->plan);
}

void
mongoBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	MongoTable *table = MongoGetTable(RelationGetRelid(rinfo->ri_RelationDesc));
	List	   *target_attrs = NIL;

	for (int i = 0; i < table->ncolumns; i++)
		target_attrs = lappend_int(target_attrs, table->columns[i].attnum);
	rinfo->ri_FdwState = CreateModifyState(mtstate->ps.state, rinfo, CMD_INSERT,
										   target_attrs, NULL);
}

/* ---- building documents ------------------------------------------------- */

/* A node of the field tree of one row: a sub-document or a value. */
typedef struct FieldNode
{
	char	   *name;
	List	   *children;		/* FieldNodes; NIL for a value */
	MongoColumn *column;		/* for a value */
	Datum		value;
} FieldNode;

static FieldNode *
ChildNamed(FieldNode *parent, const char *name)
{
	ListCell   *lc;
	FieldNode  *child;

	foreach(lc, parent->children)
	{
		child = lfirst(lc);
		if (strcmp(child->name, name) == 0)
			return child;
	}
	child = palloc0(sizeof(FieldNode));
	child->name = pstrdup(name);
	parent->children = lappend(parent->children, child);
	return child;
}

static void pg_attribute_noreturn()
ReportOverlap(MongoTable *table, MongoColumn *a, MongoColumn *b)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("columns \"%s\" and \"%s\" of foreign table \"%s\" write overlapping fields \"%s\" and \"%s\"",
					a->attname, b->attname, table->relname, a->field, b->field),
			 errhint("Leave one of them NULL, or map them to separate fields.")));
}

/* Put value under column's field path in the tree rooted at root. */
static void
AddField(FieldNode *root, MongoTable *table, MongoColumn *column, Datum value)
{
	char	   *path = pstrdup(column->field);
	char	   *part;
	char	   *next;
	FieldNode  *node = root;

	for (part = path; part; part = next)
	{
		next = strchr(part, '.');
		if (next)
			*next++ = '\0';
		if (node->column)
			ReportOverlap(table, node->column, column);
		node = ChildNamed(node, part);
		if (next && node->column)
			ReportOverlap(table, node->column, column);
	}
	if (node->column || node->children)
		ReportOverlap(table, node->column ? node->column : column, column);
	node->column = column;
	node->value = value;
}

static void
AppendTree(bson_t *doc, FieldNode *node)
{
	ListCell   *lc;

	foreach(lc, node->children)
	{
		FieldNode  *child = lfirst(lc);

		if (child->column)
			MongoAppendDatum(doc, child->name, -1, child->value, child->column->atttype);
		else
		{
			bson_t		sub;

			bson_append_document_begin(doc, child->name, -1, &sub);
			AppendTree(&sub, child);
			bson_append_document_end(doc, &sub);
		}
	}
}

/*
 * The filter {_id: value} for a row identity; a text _id that reads like an
 * ObjectId matches the ObjectId too, as the scan does.
 */
static void
AppendIdFilter(bson_t *filter, MongoColumn *idcol, Datum id)
{
	if (idcol->atttype == TEXTOID || idcol->atttype == VARCHAROID)
	{
		char	   *s = TextDatumGetCString(id);
		bool		hex = strlen(s) == 24;

		for (const char *p = s; hex && *p; p++)
			hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
		if (hex)
		{
			bson_t		cond;
			bson_t		list;
			bson_oid_t	oid;

			bson_oid_init_from_string(&oid, s);
			BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &cond);
			BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &list);
			MongoAppendDatum(&list, "0", 1, id, idcol->atttype);
			BSON_APPEND_OID(&list, "1", &oid);
			bson_append_array_end(&cond, &list);
			bson_append_document_end(filter, &cond);
			return;
		}
	}
	MongoAppendDatum(filter, "_id", 3, id, idcol->atttype);
}

static const char *
Doing(MongoModifyState *ms, const char *verb)
{
	return psprintf("%s documents of collection \"%s.%s\"", verb,
					ms->table->database, ms->table->collection);
}

/* ---- executing ---------------------------------------------------------- */

TupleTableSlot *
mongoExecForeignInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	MongoModifyState *ms = rinfo->ri_FdwState;
	MemoryContext old;
	FieldNode	root = {0};
	bson_t	   *doc;
	bson_error_t error;
	ListCell   *lc;
	bool		ok;

	MemoryContextReset(ms->row_cxt);
	old = MemoryContextSwitchTo(ms->row_cxt);
	slot_getallattrs(slot);

	foreach(lc, ms->target_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		MongoColumn *col = MongoTableColumn(ms->table, attnum);

		if (col == NULL || slot->tts_isnull[attnum - 1])
			continue;
		if (col->whole_document)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot insert into column \"%s\" of foreign table \"%s\"",
							col->attname, ms->table->relname),
					 errdetail("It shows the whole document and is read-only; leave it NULL.")));
		AddField(&root, ms->table, col, slot->tts_values[attnum - 1]);
	}

	doc = MongoBsonCreate(ms->row_cxt);
	if (ms->id_column == NULL || slot->tts_isnull[ms->id_column->attnum - 1])
	{
		/* Generate the ObjectId here, so that RETURNING shows it. */
		bson_oid_t	oid;
		char		hex[25];

		bson_oid_init(&oid, NULL);
		BSON_APPEND_OID(doc, "_id", &oid);
		if (ms->id_column &&
			(ms->id_column->atttype == TEXTOID || ms->id_column->atttype == VARCHAROID))
		{
			bson_oid_to_string(&oid, hex);
			MemoryContextSwitchTo(old);
			slot->tts_values[ms->id_column->attnum - 1] = CStringGetTextDatum(hex);
			slot->tts_isnull[ms->id_column->attnum - 1] = false;
			MemoryContextSwitchTo(ms->row_cxt);
		}
	}
	AppendTree(doc, &root);

	ok = mongoc_collection_insert_one(ms->handle->collection, doc, NULL, NULL, &error);
	if (!ok)
		MongoReportError(ms->handle->conn, &error, Doing(ms, "insert"));
	MemoryContextSwitchTo(old);
	return slot;
}

/* Run an updateOne or deleteOne; true if a document matched. */
static bool
WriteOne(MongoModifyState *ms, bson_t *filter, bson_t *update)
{
	bson_t		reply;
	bson_error_t error;
	bson_iter_t iter;
	bool		ok;
	int64		matched = 0;

	if (update)
		ok = mongoc_collection_update_one(ms->handle->collection, filter, update, NULL,
										  &reply, &error);
	else
		ok = mongoc_collection_delete_one(ms->handle->collection, filter, NULL,
										  &reply, &error);
	if (ok && bson_iter_init_find(&iter, &reply, update ? "matchedCount" : "deletedCount"))
		matched = bson_iter_as_int64(&iter);
	bson_destroy(&reply);
	if (!ok)
		MongoReportError(ms->handle->conn, &error, Doing(ms, update ? "update" : "delete"));
	return matched > 0;
}

TupleTableSlot *
mongoExecForeignUpdate(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	MongoModifyState *ms = rinfo->ri_FdwState;
	MemoryContext old;
	bson_t	   *filter;
	bson_t	   *update;
	bson_t		set;
	bson_t		unset;
	Datum		id;
	bool		isnull;
	bool		any_set = false;
	bool		any_unset = false;
	ListCell   *lc;
	bool		found;

	MemoryContextReset(ms->row_cxt);
	old = MemoryContextSwitchTo(ms->row_cxt);
	id = ExecGetJunkAttribute(planSlot, ms->rowid_attno, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_USE_OF_NULL_POINTER),
				 errmsg("cannot update a document of foreign table \"%s\" without an _id",
						ms->table->relname)));
	slot_getallattrs(slot);

	filter = MongoBsonCreate(ms->row_cxt);
	AppendIdFilter(filter, ms->id_column, id);

	/* {$set: {non-null columns}, $unset: {null columns}} */
	update = MongoBsonCreate(ms->row_cxt);
	bson_append_document_begin(update, "$set", 4, &set);
	foreach(lc, ms->target_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		MongoColumn *col = MongoTableColumn(ms->table, attnum);

		if (!slot->tts_isnull[attnum - 1])
		{
			MongoAppendDatum(&set, col->field, -1, slot->tts_values[attnum - 1], col->atttype);
			any_set = true;
		}
	}
	bson_append_document_end(update, &set);
	bson_append_document_begin(update, "$unset", 6, &unset);
	foreach(lc, ms->target_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		MongoColumn *col = MongoTableColumn(ms->table, attnum);

		if (slot->tts_isnull[attnum - 1])
		{
			bson_append_utf8(&unset, col->field, -1, "", 0);
			any_unset = true;
		}
	}
	bson_append_document_end(update, &unset);

	if (!any_set || !any_unset)
	{
		/* MongoDB rejects an empty $set or $unset: rebuild without it. */
		bson_t	   *trimmed = MongoBsonCreate(ms->row_cxt);
		bson_iter_t iter;

		bson_iter_init(&iter, update);
		while (bson_iter_next(&iter))
		{
			if ((strcmp(bson_iter_key(&iter), "$set") == 0 && any_set) ||
				(strcmp(bson_iter_key(&iter), "$unset") == 0 && any_unset))
				bson_append_iter(trimmed, NULL, 0, &iter);
		}
		update = trimmed;
	}
	found = bson_empty(update) || WriteOne(ms, filter, update);
	MemoryContextSwitchTo(old);
	return found ? slot : NULL;
}

TupleTableSlot *
mongoExecForeignDelete(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	MongoModifyState *ms = rinfo->ri_FdwState;
	MemoryContext old;
	bson_t	   *filter;
	Datum		id;
	bool		isnull;
	bool		found;

	MemoryContextReset(ms->row_cxt);
	old = MemoryContextSwitchTo(ms->row_cxt);
	id = ExecGetJunkAttribute(planSlot, ms->rowid_attno, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_USE_OF_NULL_POINTER),
				 errmsg("cannot delete a document of foreign table \"%s\" without an _id",
						ms->table->relname)));
	filter = MongoBsonCreate(ms->row_cxt);
	AppendIdFilter(filter, ms->id_column, id);
	found = WriteOne(ms, filter, NULL);
	MemoryContextSwitchTo(old);
	return found ? slot : NULL;
}

void
mongoEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	MongoModifyState *ms = rinfo->ri_FdwState;

	if (ms && ms->cxt)
	{
		MemoryContextDelete(ms->cxt);
		ms->cxt = NULL;
	}
}

void
mongoEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	mongoEndForeignModify(estate, rinfo);
}

int
mongoIsForeignRelUpdatable(Relation rel)
{
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

void
mongoExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						  List *fdw_private, int subplan_index, ExplainState *es)
{
	if (es->verbose)
	{
		MongoTable *table = MongoGetTable(RelationGetRelid(rinfo->ri_RelationDesc));

		ExplainPropertyText("MongoDB Namespace",
							psprintf("%s.%s", table->database, table->collection), es);
	}
}
