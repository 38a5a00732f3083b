/*
 * planner.c
 *		Planning of foreign scans, LIMIT pushdown, and EXPLAIN.
 *
 * GetForeignRelSize splits the restriction clauses into those MongoDB will
 * evaluate (deparse.c decides) and those PostgreSQL evaluates, and notes
 * which columns the query needs, so that only their fields are fetched.
 * No remote round trip happens while planning: row counts come from
 * ANALYZE when it has run, else from PostgreSQL's default guess.
 *
 * LIMIT is pushed down when the scan is the whole query below the Limit
 * node (no join, grouping, sort, DISTINCT, window, set-returning function
 * or row locking) and every restriction went to MongoDB: then the scan
 * itself asks for at most count + offset documents.  The final upper rel's
 * callback records the limit on the base rel; GetForeignPlan, which runs
 * after all paths are chosen, decides.
 */
#include "postgres.h"

#include "commands/explain.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"

#include "recs_mongo_fdw.h"

/* Planner state of one foreign base rel (RelOptInfo.fdw_private). */
typedef struct MongoPlanState
{
	MongoTable *table;
	List	   *remote_conds;	/* RestrictInfos MongoDB evaluates */
	List	   *local_conds;	/* RestrictInfos PostgreSQL evaluates */
	Bitmapset  *attrs_used;		/* columns the query needs locally */
	Node	   *limit_count;	/* from the final upper rel, or NULL */
	Node	   *limit_offset;
} MongoPlanState;

/* Round trip and per-document costs, relative to cpu_tuple_cost. */
#define MONGO_STARTUP_COST 100.0
#define MONGO_PER_DOCUMENT_COST (cpu_tuple_cost * 4)

void
mongoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	MongoPlanState *ps = palloc0(sizeof(MongoPlanState));
	ListCell   *lc;

	ps->table = MongoGetTable(foreigntableid);
	baserel->fdw_private = ps;

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		bool		recheck = false;

		if (MongoQualIsShippable(ps->table, baserel->relid, ri->clause, &recheck))
		{
			ps->remote_conds = lappend(ps->remote_conds, ri);
			if (recheck)
				ps->local_conds = lappend(ps->local_conds, ri);
		}
		else
			ps->local_conds = lappend(ps->local_conds, ri);
	}

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &ps->attrs_used);
	foreach(lc, ps->local_conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) ri->clause, baserel->relid, &ps->attrs_used);
	}

	/*
	 * Without ANALYZE, assume a small collection, as postgres_fdw does; with
	 * it, reltuples holds MongoDB's document count.
	 */
	if (baserel->tuples < 0)
	{
		baserel->pages = 10;
		baserel->tuples = 1000;
	}
	set_baserel_size_estimates(root, baserel);
}

void
mongoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Cost		startup_cost = MONGO_STARTUP_COST;
	Cost		total_cost;

	/* The server scans every document; only matching ones travel. */
	total_cost = startup_cost + baserel->tuples * cpu_operator_cost +
		baserel->rows * MONGO_PER_DOCUMENT_COST;
	add_path(baserel, (Path *) create_foreignscan_path(root, baserel, NULL,
													   baserel->rows,
													   startup_cost, total_cost,
													   NIL, NULL, NULL, NIL));
}

/* The attribute numbers to fetch: every column if a whole row is needed. */
static List *
RetrievedAttrs(MongoPlanState *ps)
{
	List	   *attrs = NIL;
	bool		whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										  ps->attrs_used);

	for (int i = 0; i < ps->table->ncolumns; i++)
	{
		AttrNumber	attnum = ps->table->columns[i].attnum;

		if (whole_row ||
			bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, ps->attrs_used))
			attrs = lappend_int(attrs, attnum);
	}
	return attrs;
}

ForeignScan *
mongoGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
					ForeignPath *best_path, List *tlist, List *scan_clauses,
					Plan *outer_plan)
{
	MongoPlanState *ps = baserel->fdw_private;
	List	   *remote_exprs = NIL;
	List	   *local_exprs = NIL;
	List	   *fdw_exprs;
	int			nlimit = 0;
	ListCell   *lc;

	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		/* Pseudoconstants are handled by a gating Result node. */
		if (ri->pseudoconstant)
			continue;
		if (list_member_ptr(ps->remote_conds, ri))
			remote_exprs = lappend(remote_exprs, ri->clause);
		if (list_member_ptr(ps->local_conds, ri) || !list_member_ptr(ps->remote_conds, ri))
			local_exprs = lappend(local_exprs, ri->clause);
	}

	fdw_exprs = list_copy(remote_exprs);
	if (ps->limit_count && local_exprs == NIL)
	{
		fdw_exprs = lappend(fdw_exprs, ps->limit_count);
		nlimit = 1;
		if (ps->limit_offset)
		{
			fdw_exprs = lappend(fdw_exprs, ps->limit_offset);
			nlimit = 2;
		}
	}

	return make_foreignscan(tlist, local_exprs, baserel->relid, fdw_exprs,
							list_make3(RetrievedAttrs(ps),
									   makeInteger(list_length(remote_exprs)),
									   makeInteger(nlimit)),
							NIL, remote_exprs, outer_plan);
}

/* A LIMIT or OFFSET expression the scan can evaluate itself. */
static bool
IsLimitValue(Node *node)
{
	if (node == NULL)
		return true;
	if (IsA(node, Const))
		return true;
	return IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN;
}

void
mongoGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	FinalPathExtraData *fextra = extra;
	Query	   *parse = root->parse;
	MongoPlanState *ps;

	if (stage != UPPERREL_FINAL || !fextra->limit_needed || parse->limitCount == NULL)
		return;
	if (parse->commandType != CMD_SELECT || parse->limitOption != LIMIT_OPTION_COUNT ||
		parse->rowMarks != NIL || parse->hasTargetSRFs)
		return;

	/*
	 * The input must be the scan itself: with a join, grouping, sort,
	 * DISTINCT or window it would be a join or upper rel.
	 */
	if (input_rel->reloptkind != RELOPT_BASEREL || input_rel->fdw_private == NULL)
		return;
	if (!IsLimitValue(parse->limitCount) || !IsLimitValue(parse->limitOffset))
		return;

	ps = input_rel->fdw_private;
	ps->limit_count = copyObject(parse->limitCount);
	ps->limit_offset = copyObject(parse->limitOffset);
}

void
mongoExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	char	   *filter;
	char	   *projection;
	char	   *limit;
	char	   *ns;

	if (!es->verbose)
		return;
	MongoScanDescribe(node, &ns, &filter, &projection, &limit);
	ExplainPropertyText("MongoDB Namespace", ns, es);
	ExplainPropertyText("MongoDB Filter", filter, es);
	ExplainPropertyText("MongoDB Projection", projection, es);
	if (limit)
		ExplainPropertyText("MongoDB Limit", limit, es);
}
