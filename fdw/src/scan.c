/*
 * scan.c
 *		Executing a foreign scan: a streaming find with the pushed-down
 *		filter, projection and limit.
 *
 * The cursor asks for batch_size documents per reply, so the backend holds
 * one reply at a time whatever the collection's size; each document is
 * converted into the scan slot in the per-tuple memory context, which the
 * executor resets for every row.  The cursor, its collection and its BSON
 * documents live in a memory context of their own (cursor_cxt) whose reset
 * callback destroys them (resource.c): a rescan resets it, the end of the
 * scan deletes it, and so does an ERROR or a cancel, through the executor's
 * context.  A cursor destroyed before its end sends killCursors; one cut
 * off by a cancel while waiting for a reply (stream.c drops that
 * connection) is left to the server's cursor timeout instead, so that a
 * cancel never waits for a stalled server.
 */
#include "postgres.h"

#include "common/int.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "recs_mongo_fdw.h"

typedef struct MongoScanState
{
	MongoTable *table;
	List	   *retrieved_attrs;
	List	   *quals;			/* pushed-down quals (Expr) */
	MongoParamSource params;	/* their Params' ExprStates */
	ExprState  *limit_count;	/* NULL if no limit was pushed down */
	ExprState  *limit_offset;
	Oid			userid;

	MemoryContext cursor_cxt;	/* owns everything below */
	MongoHandle *handle;		/* NULL until the first fetch */
	bool		done;			/* LIMIT 0: nothing to fetch */
	bool		any_rows;		/* the cursor returned a document */
	char	   *filter_json;	/* what was sent, for EXPLAIN ANALYZE */
	char	   *projection_json;
	char	   *limit_text;
} MongoScanState;

void
mongoBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	MongoScanState *ss = palloc0(sizeof(MongoScanState));
	int			nquals = intVal(list_nth(fsplan->fdw_private, MongoPrivateNumRemoteQuals));
	int			nlimit = intVal(list_nth(fsplan->fdw_private, MongoPrivateLimitExprs));

	node->fdw_state = ss;
	ss->table = MongoGetTable(RelationGetRelid(node->ss.ss_currentRelation));
	ss->retrieved_attrs = list_nth(fsplan->fdw_private, MongoPrivateRetrievedAttrs);
	ss->userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	ss->quals = list_copy_head(fsplan->fdw_exprs, nquals);
	ss->params.ps = &node->ss.ps;
	ss->params.param_states = ExecInitExprList(MongoCollectParams(ss->quals), &node->ss.ps);
	if (nlimit >= 1)
		ss->limit_count = ExecInitExpr(list_nth(fsplan->fdw_exprs, nquals), &node->ss.ps);
	if (nlimit >= 2)
		ss->limit_offset = ExecInitExpr(list_nth(fsplan->fdw_exprs, nquals + 1), &node->ss.ps);
	ss->cursor_cxt = AllocSetContextCreate(estate->es_query_cxt,
										   "recs_mongo_fdw cursor",
										   ALLOCSET_DEFAULT_SIZES);
	/* Nothing is fetched, nor any connection made, until the first row. */
}

static int64
EvalLimit(ExprState *state, ExprContext *econtext, bool *isnull)
{
	Datum		d = ExecEvalExprSwitchContext(state, econtext, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/* Open the cursor, with the parameters' current values. */
static void
OpenCursor(ForeignScanState *node, MongoScanState *ss)
{
	MemoryContext old = MemoryContextSwitchTo(ss->cursor_cxt);
	bson_t	   *filter;
	bson_t	   *projection;
	bson_t	   *opts;
	int64		limit = 0;

	/* count + offset documents at most, when the limit was pushed down */
	if (ss->limit_count)
	{
		ExprContext *econtext = node->ss.ps.ps_ExprContext;
		bool		count_null;
		bool		offset_null = true;
		int64		count = EvalLimit(ss->limit_count, econtext, &count_null);
		int64		offset = ss->limit_offset ?
			EvalLimit(ss->limit_offset, econtext, &offset_null) : 0;

		/* Negative values: the Limit node reports them; fetch normally. */
		if (!count_null && count >= 0 && offset >= 0 &&
			!pg_add_s64_overflow(count, offset_null ? 0 : offset, &limit))
		{
			if (limit == 0)
				ss->done = true;
			ss->limit_text = psprintf(INT64_FORMAT, limit);
		}
		else
			limit = 0;
	}

	filter = MongoBsonCreate(ss->cursor_cxt);
	MongoBuildFilter(filter, ss->table, ss->quals, &ss->params);
	projection = MongoBsonCreate(ss->cursor_cxt);
	MongoBuildProjection(projection, ss->table, ss->retrieved_attrs);
	opts = MongoBsonCreate(ss->cursor_cxt);
	if (!bson_empty(projection))
		BSON_APPEND_DOCUMENT(opts, "projection", projection);
	BSON_APPEND_INT32(opts, "batchSize", ss->table->batch_size);
	if (limit > 0)
		BSON_APPEND_INT64(opts, "limit", limit);
	ss->filter_json = MongoBsonToJsonText(filter);
	ss->projection_json = bson_empty(projection) ? pstrdup("(whole documents)") :
		MongoBsonToJsonText(projection);

	ss->handle = MongoHandleCreate(ss->cursor_cxt, ss->table->serverid, ss->userid,
								   ss->table->database, ss->table->collection);
	if (!ss->done)
		ss->handle->cursor = mongoc_collection_find_with_opts(ss->handle->collection,
															  filter, opts, NULL);
	MemoryContextSwitchTo(old);
}

TupleTableSlot *
mongoIterateForeignScan(ForeignScanState *node)
{
	MongoScanState *ss = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	const bson_t *doc;
	bson_error_t error;

	if (ss->handle == NULL)
		OpenCursor(node, ss);
	ExecClearTuple(slot);
	if (ss->done)
		return slot;

	if (mongoc_cursor_next(ss->handle->cursor, &doc))
	{
		MemoryContext old;
		int			natts = slot->tts_tupleDescriptor->natts;

		old = MemoryContextSwitchTo(node->ss.ps.ps_ExprContext->ecxt_per_tuple_memory);
		memset(slot->tts_isnull, true, sizeof(bool) * natts);
		MongoDocumentToValues(doc, ss->table, ss->retrieved_attrs,
							  slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(old);
		ss->any_rows = true;
		return ExecStoreVirtualTuple(slot);
	}

	ss->done = true;
	if (mongoc_cursor_error(ss->handle->cursor, &error))
		MongoReportError(ss->handle->conn, &error,
						 psprintf("read collection \"%s.%s\"",
								  ss->table->database, ss->table->collection));
	if (!ss->any_rows)
		MongoCheckCollectionExists(ss->handle->conn, ss->table->database,
								   ss->table->collection);
	return slot;
}

void
mongoReScanForeignScan(ForeignScanState *node)
{
	MongoScanState *ss = node->fdw_state;

	/* Destroys the cursor (killCursors if unfinished); the next fetch reopens. */
	MemoryContextReset(ss->cursor_cxt);
	ss->handle = NULL;
	ss->done = false;
	ss->any_rows = false;
	ss->filter_json = NULL;
	ss->projection_json = NULL;
	ss->limit_text = NULL;
}

void
mongoEndForeignScan(ForeignScanState *node)
{
	MongoScanState *ss = node->fdw_state;

	if (ss && ss->cursor_cxt)
	{
		MemoryContextDelete(ss->cursor_cxt);
		ss->cursor_cxt = NULL;
		ss->handle = NULL;
	}
}

/*
 * What EXPLAIN shows: what was sent when the scan ran (EXPLAIN ANALYZE),
 * else the filter with parameters as placeholders.
 */
void
MongoScanDescribe(ForeignScanState *node, char **ns, char **filter,
				  char **projection, char **limit)
{
	MongoScanState *ss = node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	int			nlimit = intVal(list_nth(fsplan->fdw_private, MongoPrivateLimitExprs));

	*ns = psprintf("%s.%s", ss->table->database, ss->table->collection);
	if (ss->filter_json)
	{
		*filter = pstrdup(ss->filter_json);
		*projection = pstrdup(ss->projection_json);
		*limit = ss->limit_text ? pstrdup(ss->limit_text) : NULL;
		return;
	}
	else
	{
		MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
												  "recs_mongo_fdw explain",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(tmp);
		MongoParamSource placeholders = {NULL, NIL, 0};
		bson_t	   *f = MongoBsonCreate(tmp);
		bson_t	   *p = MongoBsonCreate(tmp);
		char	   *ftext;
		char	   *ptext;

		MongoBuildFilter(f, ss->table, ss->quals, &placeholders);
		MongoBuildProjection(p, ss->table, ss->retrieved_attrs);
		ftext = MongoBsonToJsonText(f);
		ptext = bson_empty(p) ? "(whole documents)" : MongoBsonToJsonText(p);
		MemoryContextSwitchTo(old);
		*filter = pstrdup(ftext);
		*projection = pstrdup(ptext);
		MemoryContextDelete(tmp);
	}

	*limit = NULL;
	if (nlimit > 0)
	{
		Node	   *count = list_nth(fsplan->fdw_exprs, list_length(ss->quals));
		Node	   *offset = nlimit > 1 ? list_nth(fsplan->fdw_exprs, list_length(ss->quals) + 1) : NULL;

		if (IsA(count, Const) && !((Const *) count)->constisnull &&
			(offset == NULL || (IsA(offset, Const) && !((Const *) offset)->constisnull)))
			*limit = psprintf(INT64_FORMAT,
							  DatumGetInt64(((Const *) count)->constvalue) +
							  (offset ? DatumGetInt64(((Const *) offset)->constvalue) : 0));
		else
			*limit = pstrdup(offset ? "count + offset (parameters)" : "count (parameter)");
	}
}
