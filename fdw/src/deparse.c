/*
 * deparse.c
 *		Which quals MongoDB can evaluate, and their translation into a BSON
 *		filter; the projection document.
 *
 * A qual is shippable when it is built from AND, OR, NOT, comparisons on
 * shippable.c's allow-list, IN / = ANY and <> ALL over lists, IS [NOT] NULL
 * and boolean columns, where one side is a mapped column and the other a
 * constant or a parameter.  The planner decides this (MongoQualIsShippable)
 * and keeps the Expr trees; the executor turns them into BSON once the
 * parameters have values (MongoBuildFilter), and EXPLAIN prints them with
 * placeholders.
 *
 * SQL's three-valued logic and MongoDB's two-valued matching differ: a
 * MongoDB $ne matches a missing field, where SQL's <> yields NULL.  So every
 * node is translated into the documents for which it is TRUE, or, under a
 * NOT, those for which it is FALSE (never NULL); for example x <> 5 becomes
 * {x: {$nin: [5, null]}}, and NOT (x = 5) the same.  For columns whose
 * values do not fit their type, a mismatch reads as NULL with on_mismatch
 * 'null', which MongoDB cannot know about: quals on such columns are sent
 * in a form that matches a superset of the right rows (forms that would
 * need to match the mismatched values are not sent at all) and are checked
 * again locally.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "recs_mongo_fdw.h"

/* ---- shippability ------------------------------------------------------- */

typedef struct ShipContext
{
	MongoTable *table;
	Index		relid;
	bool		recheck;		/* a column reads mismatches as NULL */
} ShipContext;

static Node *
StripRelabel(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/* The mapped column node refers to, or NULL (relid 0: any range table entry). */
static MongoColumn *
ColumnOf(Node *node, MongoTable *table, Index relid)
{
	Var		   *var;
	MongoColumn *col;

	node = StripRelabel(node);
	if (node == NULL || !IsA(node, Var))
		return NULL;
	var = (Var *) node;
	if ((relid != 0 && (Index) var->varno != relid) || var->varlevelsup != 0 || var->varattno <= 0)
		return NULL;
	col = MongoTableColumn(table, var->varattno);
	if (col == NULL || col->whole_document)
		return NULL;
	return col;
}

/* A constant, or a parameter known when the scan starts. */
static bool
IsValueNode(Node *node)
{
	node = StripRelabel(node);
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return true;
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		return p->paramkind == PARAM_EXTERN || p->paramkind == PARAM_EXEC;
	}
	return false;
}

static bool
CollationIsSafe(Oid collid)
{
	return !OidIsValid(collid) || get_collation_isdeterministic(collid);
}

static bool
Shippable(Node *node, bool want_true, ShipContext *cx)
{
	if (node == NULL)
		return false;

	switch (nodeTag(node))
	{
		case T_BoolExpr:
			{
				BoolExpr   *b = (BoolExpr *) node;
				ListCell   *lc;

				if (b->boolop == NOT_EXPR)
					return Shippable(linitial(b->args), !want_true, cx);
				foreach(lc, b->args)
				{
					if (!Shippable(lfirst(lc), want_true, cx))
						return false;
				}
				return true;
			}
		case T_OpExpr:
			{
				OpExpr	   *op = (OpExpr *) node;
				MongoTypeClass cls;
				MongoColumn *col;
				Node	   *value;

				if (list_length(op->args) != 2 ||
					MongoShippableOperator(op->opno, &cls) == MONGO_OP_NONE)
					return false;
				if ((col = ColumnOf(linitial(op->args), cx->table, cx->relid)) != NULL)
					value = lsecond(op->args);
				else if ((col = ColumnOf(lsecond(op->args), cx->table, cx->relid)) != NULL)
					value = linitial(op->args);
				else
					return false;
				if (!IsValueNode(value) || MongoColumnClass(col->atttype) != cls ||
					!CollationIsSafe(op->inputcollid))
					return false;
				value = StripRelabel(value);
				if (IsA(value, Const) && ((Const *) value)->constisnull)
					return false;
				if (col->on_mismatch == MONGO_MISMATCH_NULL)
					cx->recheck = true;
				return true;
			}
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) node;
				MongoTypeClass cls;
				MongoOpKind kind = MongoShippableOperator(saop->opno, &cls);
				MongoColumn *col;
				Node	   *array;

				if (!((kind == MONGO_OP_EQ && saop->useOr) ||
					  (kind == MONGO_OP_NE && !saop->useOr)))
					return false;
				col = ColumnOf(linitial(saop->args), cx->table, cx->relid);
				array = StripRelabel(lsecond(saop->args));
				if (col == NULL || MongoColumnClass(col->atttype) != cls ||
					!CollationIsSafe(saop->inputcollid))
					return false;
				if (IsA(array, ArrayExpr))
				{
					ListCell   *lc;

					if (((ArrayExpr *) array)->multidims)
						return false;
					foreach(lc, ((ArrayExpr *) array)->elements)
					{
						if (!IsValueNode(lfirst(lc)))
							return false;
					}
				}
				else if (!IsValueNode(array))
					return false;
				if (col->on_mismatch == MONGO_MISMATCH_NULL)
					cx->recheck = true;
				return true;
			}
		case T_NullTest:
			{
				NullTest   *nt = (NullTest *) node;
				MongoColumn *col = ColumnOf((Node *) nt->arg, cx->table, cx->relid);
				bool		matches_null;

				if (col == NULL || nt->argisrow)
					return false;
				if (col->on_mismatch == MONGO_MISMATCH_NULL)
				{
					/*
					 * {x: null} cannot match the mismatched values that read
					 * as NULL here.
					 */
					matches_null = (nt->nulltesttype == IS_NULL) == want_true;
					if (matches_null)
						return false;
					cx->recheck = true;
				}
				return true;
			}
		case T_Var:
			{
				MongoColumn *col = ColumnOf(node, cx->table, cx->relid);

				if (col == NULL || MongoColumnClass(col->atttype) != MONGO_CLASS_BOOL)
					return false;
				if (col->on_mismatch == MONGO_MISMATCH_NULL)
					cx->recheck = true;
				return true;
			}
		default:
			return false;
	}
}

/*
 * Can MongoDB evaluate qual (a restriction of the foreign table with range
 * table index relid)?  *recheck is set when the qual must also be checked
 * locally.
 */
bool
MongoQualIsShippable(MongoTable *table, Index relid, Expr *qual, bool *recheck)
{
	ShipContext cx = {table, relid, false};

	if (!Shippable((Node *) qual, true, &cx))
		return false;
	*recheck = cx.recheck;
	return true;
}

/* ---- parameters --------------------------------------------------------- */

static bool
CollectParamsWalker(Node *node, List **params)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
	{
		*params = lappend(*params, node);
		return false;
	}
	return expression_tree_walker(node, CollectParamsWalker, params);
}

/* The Param nodes of quals, for the executor to prepare ExprStates. */
List *
MongoCollectParams(List *quals)
{
	List	   *params = NIL;

	CollectParamsWalker((Node *) quals, &params);
	return params;
}

/* ---- building the filter ------------------------------------------------ */

typedef struct BuildContext
{
	MongoTable *table;
	MongoParamSource *params;
	List	   *param_nodes;	/* Param nodes, parallel to params->param_states */
} BuildContext;

/*
 * The value of a Const or Param.  Returns false in EXPLAIN mode for a
 * Param, after setting *placeholder to its name.
 */
static bool
ValueOf(Node *node, BuildContext *cx, Datum *value, bool *isnull, Oid *type,
		char **placeholder)
{
	node = StripRelabel(node);
	if (IsA(node, Const))
	{
		Const	   *c = (Const *) node;

		*value = c->constvalue;
		*isnull = c->constisnull;
		*type = c->consttype;
		return true;
	}
	else
	{
		Param	   *p = (Param *) node;
		ListCell   *lc1;
		ListCell   *lc2;

		*type = p->paramtype;
		if (cx->params == NULL || cx->params->ps == NULL)
		{
			*placeholder = p->paramkind == PARAM_EXTERN ?
				psprintf("$%d", p->paramid) : psprintf("$exec%d", p->paramid);
			return false;
		}
		forboth(lc1, cx->param_nodes, lc2, cx->params->param_states)
		{
			if (lfirst(lc1) == (void *) p)
			{
				ExprState  *state = lfirst(lc2);

				*value = ExecEvalExpr(state, cx->params->ps->ps_ExprContext, isnull);
				return true;
			}
		}
		elog(ERROR, "recs_mongo_fdw: parameter %d was not prepared", p->paramid);
		return false;			/* keep compiler quiet */
	}
}

static const char *
OperatorName(MongoOpKind kind)
{
	switch (kind)
	{
		case MONGO_OP_EQ:
			return "$eq";
		case MONGO_OP_NE:
			return "$ne";
		case MONGO_OP_LT:
			return "$lt";
		case MONGO_OP_LE:
			return "$lte";
		case MONGO_OP_GT:
			return "$gt";
		case MONGO_OP_GE:
			return "$gte";
		default:
			return "?";
	}
}

static MongoOpKind
NegateOpKind(MongoOpKind kind)
{
	switch (kind)
	{
		case MONGO_OP_EQ:
			return MONGO_OP_NE;
		case MONGO_OP_NE:
			return MONGO_OP_EQ;
		case MONGO_OP_LT:
			return MONGO_OP_GE;
		case MONGO_OP_LE:
			return MONGO_OP_GT;
		case MONGO_OP_GT:
			return MONGO_OP_LE;
		case MONGO_OP_GE:
			return MONGO_OP_LT;
		default:
			return kind;
	}
}

/* Matches no document. */
static void
AppendNothing(bson_t *doc)
{
	bson_t		child;
	bson_t		empty;

	BSON_APPEND_DOCUMENT_BEGIN(doc, "_id", &child);
	BSON_APPEND_ARRAY_BEGIN(&child, "$in", &empty);
	bson_append_array_end(&child, &empty);
	bson_append_document_end(doc, &child);
}

/*
 * A text value that is also the hex form of an ObjectId: the column reads
 * ObjectIds as lower-case hex, so the filter must match both.
 */
static bool
ObjectIdAlternative(const char *s, bson_oid_t *oid)
{
	if (strlen(s) != 24)
		return false;
	for (const char *p = s; *p; p++)
	{
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	}
	bson_oid_init_from_string(oid, s);
	return true;
}

/*
 * Append a non-null value of a column class under key; *exact reports
 * whether a timestamp kept its sub-millisecond part (it cannot).  For a
 * text value that reads like an ObjectId, *oid_alt is set too.
 */
static void
AppendClassValue(bson_t *doc, const char *key, int keylen, MongoTypeClass cls,
				 Datum value, Oid type, bool *exact, bson_oid_t *oid, bool *has_oid)
{
	*exact = true;
	*has_oid = false;
	switch (cls)
	{
		case MONGO_CLASS_INT:
			{
				int64		v = type == INT2OID ? DatumGetInt16(value) :
					type == INT4OID ? DatumGetInt32(value) : DatumGetInt64(value);

				if (v >= PG_INT32_MIN && v <= PG_INT32_MAX)
					bson_append_int32(doc, key, keylen, (int32) v);
				else
					bson_append_int64(doc, key, keylen, v);
				break;
			}
		case MONGO_CLASS_FLOAT8:
			bson_append_double(doc, key, keylen, DatumGetFloat8(value));
			break;
		case MONGO_CLASS_TEXT:
			{
				char	   *s = TextDatumGetCString(value);

				MongoAppendDatum(doc, key, keylen, value, TEXTOID);
				*has_oid = ObjectIdAlternative(s, oid);
				break;
			}
		case MONGO_CLASS_BOOL:
			bson_append_bool(doc, key, keylen, DatumGetBool(value));
			break;
		case MONGO_CLASS_TIMESTAMPTZ:
		case MONGO_CLASS_TIMESTAMP:
			bson_append_date_time(doc, key, keylen,
								  MongoTimestampToMillis(DatumGetTimestamp(value), exact));
			break;
		case MONGO_CLASS_NONE:
			elog(ERROR, "recs_mongo_fdw: no BSON form for this comparison");
	}
}

/* field: {kind: value}, for one comparison (already negated if wanted). */
static void
AppendComparison(bson_t *doc, MongoColumn *col, MongoOpKind kind, Node *value_node,
				 BuildContext *cx)
{
	MongoTypeClass cls = MongoColumnClass(col->atttype);
	Datum		value;
	bool		isnull;
	Oid			type;
	char	   *placeholder = NULL;
	bson_t		cond;
	bson_t		list;
	bson_t	   *scratch;
	bool		exact;
	bson_oid_t	oid;
	bool		has_oid;
	bson_iter_t iter;

	if (!ValueOf(value_node, cx, &value, &isnull, &type, &placeholder))
	{
		/* EXPLAIN: name the parameter. */
		BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
		bson_append_utf8(&cond, OperatorName(kind), -1, placeholder, -1);
		bson_append_document_end(doc, &cond);
		return;
	}
	if (isnull)
	{
		AppendNothing(doc);		/* a comparison with NULL is never true */
		return;
	}

	/*
	 * Convert the value first, into a scratch document owned by the current
	 * memory context (the conversion can raise an error).
	 */
	scratch = MongoBsonCreate(CurrentMemoryContext);
	AppendClassValue(scratch, "v", 1, cls, value, type, &exact, &oid, &has_oid);
	bson_iter_init_find(&iter, scratch, "v");

	if (!exact)
	{
		/*
		 * A timestamp with microseconds, or an infinite one: dates in
		 * MongoDB are whole milliseconds, so x = c is never true and x < c is
		 * x <= floor(c); every date is below infinity.
		 */
		bool		below_all = false;	/* c = -infinity */
		bool		above_all = false;	/* c = +infinity */
		bool		all = false;

		if (bson_iter_date_time(&iter) == PG_INT64_MIN)
			below_all = true;
		else if (bson_iter_date_time(&iter) == PG_INT64_MAX)
			above_all = true;
		switch (kind)
		{
			case MONGO_OP_EQ:
				AppendNothing(doc);
				return;
			case MONGO_OP_NE:
				all = true;
				break;
			case MONGO_OP_LT:
			case MONGO_OP_LE:
				if (below_all)
				{
					AppendNothing(doc);
					return;
				}
				all = above_all;
				kind = MONGO_OP_LE;
				break;
			case MONGO_OP_GT:
			case MONGO_OP_GE:
				if (above_all)
				{
					AppendNothing(doc);
					return;
				}
				all = below_all;
				kind = MONGO_OP_GT;
				break;
			default:
				break;
		}
		if (all)
		{
			/* every document with a value */
			BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
			BSON_APPEND_NULL(&cond, "$ne");
			bson_append_document_end(doc, &cond);
			return;
		}
	}

	BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
	if (kind == MONGO_OP_NE)
	{
		/* Not equal and not null: SQL's <> is never true for NULL. */
		BSON_APPEND_ARRAY_BEGIN(&cond, "$nin", &list);
		bson_append_iter(&list, "0", 1, &iter);
		if (has_oid)
			BSON_APPEND_OID(&list, "1", &oid);
		bson_append_null(&list, has_oid ? "2" : "1", 1);
		bson_append_array_end(&cond, &list);
	}
	else if (kind == MONGO_OP_EQ && has_oid)
	{
		BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &list);
		bson_append_iter(&list, "0", 1, &iter);
		BSON_APPEND_OID(&list, "1", &oid);
		bson_append_array_end(&cond, &list);
	}
	else
		bson_append_iter(&cond, OperatorName(kind), -1, &iter);
	bson_append_document_end(doc, &cond);
}

/* The non-null elements of an IN list, and whether a NULL was among them. */
static List *
ArrayValues(Node *array, BuildContext *cx, bool *has_null, bool *array_null,
			Oid *elemtype, char **placeholder)
{
	List	   *values = NIL;

	*has_null = false;
	*array_null = false;
	array = StripRelabel(array);
	if (IsA(array, ArrayExpr))
	{
		ListCell   *lc;

		*elemtype = ((ArrayExpr *) array)->element_typeid;
		foreach(lc, ((ArrayExpr *) array)->elements)
		{
			Datum		v;
			bool		isnull;
			Oid			type;

			if (!ValueOf(lfirst(lc), cx, &v, &isnull, &type, placeholder))
				return NIL;
			if (isnull)
				*has_null = true;
			else
				values = lappend(values, (void *) DatumGetPointer(v));
		}
		return values;
	}
	else
	{
		Datum		v;
		bool		isnull;
		Oid			type;
		ArrayType  *arr;
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (!ValueOf(array, cx, &v, &isnull, &type, placeholder))
			return NIL;
		if (isnull)
		{
			*array_null = true;
			return NIL;
		}
		arr = DatumGetArrayTypeP(v);
		*elemtype = ARR_ELEMTYPE(arr);
		get_typlenbyvalalign(*elemtype, &elmlen, &elmbyval, &elmalign);
		deconstruct_array(arr, *elemtype, elmlen, elmbyval, elmalign, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				*has_null = true;
			else
				values = lappend(values, (void *) DatumGetPointer(elems[i]));
		}
		return values;
	}
}

/* field: {$in or $nin: [...]} for a list; with_null adds null to the list. */
static void
AppendList(bson_t *doc, MongoColumn *col, const char *op, List *values, Oid elemtype,
		   bool with_null)
{
	MongoTypeClass cls = MongoColumnClass(col->atttype);
	bson_t		cond;
	bson_t		list;
	int			n = 0;
	ListCell   *lc;

	BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
	bson_append_array_begin(&cond, op, -1, &list);
	foreach(lc, values)
	{
		char		key[16];
		bson_t	   *scratch = MongoBsonCreate(CurrentMemoryContext);
		bson_iter_t iter;
		bool		exact;
		bson_oid_t	oid;
		bool		has_oid;

		AppendClassValue(scratch, "v", 1, cls, PointerGetDatum(lfirst(lc)), elemtype,
						 &exact, &oid, &has_oid);
		if (exact && bson_iter_init_find(&iter, scratch, "v"))
		{
			snprintf(key, sizeof(key), "%d", n++);
			bson_append_iter(&list, key, -1, &iter);
			if (has_oid)
			{
				snprintf(key, sizeof(key), "%d", n++);
				BSON_APPEND_OID(&list, key, &oid);
			}
		}
	}
	if (with_null)
	{
		char		key[16];

		snprintf(key, sizeof(key), "%d", n++);
		bson_append_null(&list, key, -1);
	}
	bson_append_array_end(&cond, &list);
	bson_append_document_end(doc, &cond);
}

static void FilterBody(bson_t *doc, Node *node, bool want_true, BuildContext *cx);

/* {op: [body of each arg]}, for $and and $or. */
static void
AppendLogical(bson_t *doc, const char *op, List *args, bool want_true, BuildContext *cx)
{
	bson_t		list;
	int			i = 0;
	ListCell   *lc;

	bson_append_array_begin(doc, op, -1, &list);
	foreach(lc, args)
	{
		char		key[16];
		bson_t		elem;

		snprintf(key, sizeof(key), "%d", i++);
		bson_append_document_begin(&list, key, -1, &elem);
		FilterBody(&elem, lfirst(lc), want_true, cx);
		bson_append_document_end(&list, &elem);
	}
	bson_append_array_end(doc, &list);
}

/*
 * Append to doc the conditions matching the documents for which node is
 * TRUE (want_true) or FALSE.  Appending nothing matches every document.
 */
static void
FilterBody(bson_t *doc, Node *node, bool want_true, BuildContext *cx)
{
	switch (nodeTag(node))
	{
		case T_BoolExpr:
			{
				BoolExpr   *b = (BoolExpr *) node;

				if (b->boolop == NOT_EXPR)
					FilterBody(doc, linitial(b->args), !want_true, cx);
				else if ((b->boolop == AND_EXPR) == want_true)
					AppendLogical(doc, "$and", b->args, want_true, cx);
				else
					AppendLogical(doc, "$or", b->args, want_true, cx);
				break;
			}
		case T_OpExpr:
			{
				OpExpr	   *op = (OpExpr *) node;
				MongoTypeClass cls;
				MongoOpKind kind = MongoShippableOperator(op->opno, &cls);
				MongoColumn *col = ColumnOf(linitial(op->args), cx->table, 0);
				Node	   *value = lsecond(op->args);

				if (col == NULL || !IsA(StripRelabel(linitial(op->args)), Var))
				{
					col = ColumnOf(lsecond(op->args), cx->table, 0);
					value = linitial(op->args);
					kind = MongoCommuteOpKind(kind);
				}
				if (!want_true)
					kind = NegateOpKind(kind);
				AppendComparison(doc, col, kind, value, cx);
				break;
			}
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) node;
				MongoColumn *col = ColumnOf(linitial(saop->args), cx->table, 0);
				bool		has_null;
				bool		array_null;
				Oid			elemtype = InvalidOid;
				char	   *placeholder = NULL;
				List	   *values;
				bool		in_list;	/* want the documents in the list? */

				values = ArrayValues(lsecond(saop->args), cx, &has_null, &array_null,
									 &elemtype, &placeholder);
				if (placeholder)
				{
					bson_t		cond;

					BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
					bson_append_utf8(&cond, saop->useOr == want_true ? "$in" : "$nin", -1,
									 placeholder, -1);
					bson_append_document_end(doc, &cond);
					break;
				}
				if (array_null)
				{
					AppendNothing(doc);
					break;
				}

				/*
				 * x = ANY(list) is TRUE when x is in the list, FALSE when x
				 * is not null, not in the list, and the list has no NULL;
				 * x <> ALL(list) the other way round.
				 */
				in_list = saop->useOr == want_true;
				if (in_list)
				{
					if (values == NIL)
						AppendNothing(doc);
					else
						AppendList(doc, col, "$in", values, elemtype, false);
				}
				else if (has_null)
					AppendNothing(doc);
				else if (values != NIL)
					AppendList(doc, col, "$nin", values, elemtype, true);
				/* else: an empty list, nothing is in it: every document */
				break;
			}
		case T_NullTest:
			{
				NullTest   *nt = (NullTest *) node;
				MongoColumn *col = ColumnOf((Node *) nt->arg, cx->table, 0);
				bson_t		cond;

				BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
				if ((nt->nulltesttype == IS_NULL) == want_true)
					BSON_APPEND_NULL(&cond, "$eq");
				else
					BSON_APPEND_NULL(&cond, "$ne");
				bson_append_document_end(doc, &cond);
				break;
			}
		case T_Var:
			{
				MongoColumn *col = ColumnOf(node, cx->table, 0);
				bson_t		cond;

				BSON_APPEND_DOCUMENT_BEGIN(doc, col->field, &cond);
				BSON_APPEND_BOOL(&cond, "$eq", want_true);
				bson_append_document_end(doc, &cond);
				break;
			}
		default:
			elog(ERROR, "recs_mongo_fdw: unexpected node %d in a pushed-down qual",
				 (int) nodeTag(node));
	}
}

/*
 * Build the filter for quals (all shippable) into filter.  params gives
 * the values of Params, or prints placeholders when params->ps is NULL
 * (or params itself is NULL).  Run it in a memory context that is reset
 * soon: scratch documents are tied to it (resource.c), and filter must be
 * owned the same way, so that an ERROR leaks nothing.
 */
void
MongoBuildFilter(bson_t *filter, MongoTable *table, List *quals,
				 MongoParamSource *params)
{
	BuildContext cx;

	cx.table = table;
	cx.params = params;
	cx.param_nodes = MongoCollectParams(quals);

	if (quals == NIL)
		return;
	if (list_length(quals) == 1)
		FilterBody(filter, linitial(quals), true, &cx);
	else
		AppendLogical(filter, "$and", quals, true, &cx);
}

/*
 * A field path cut before its first numeric component: "tags.0" reads an
 * array element, which a projection cannot select (it would look for a
 * field named "0" in each element), so the projection keeps "tags".
 */
static char *
ProjectablePath(const char *field)
{
	char	   *path = pstrdup(field);
	char	   *part = path;

	for (;;)
	{
		char	   *dot = strchr(part, '.');
		size_t		len = dot ? (size_t) (dot - part) : strlen(part);

		if (part != path && strspn(part, "0123456789") == len)
		{
			part[-1] = '\0';
			break;
		}
		if (!dot)
			break;
		part = dot + 1;
	}
	return path;
}

/*
 * The projection for the attributes fetched: their fields and _id, leaving
 * out any path below another one (MongoDB rejects {a: 1, "a.b": 1}).  No
 * projection when a whole-document column is fetched.
 */
void
MongoBuildProjection(bson_t *projection, MongoTable *table, List *retrieved_attrs)
{
	List	   *paths = list_make1("_id");
	ListCell   *lc;

	foreach(lc, retrieved_attrs)
	{
		MongoColumn *col = MongoTableColumn(table, lfirst_int(lc));

		if (col == NULL)
			continue;
		if (col->whole_document)
			return;
		paths = lappend(paths, ProjectablePath(col->field));
	}
	foreach(lc, paths)
	{
		const char *path = lfirst(lc);
		bool		covered = false;
		ListCell   *lc2;

		foreach(lc2, paths)
		{
			const char *other = lfirst(lc2);
			size_t		len = strlen(other);

			if (lc2 == lc)
				continue;
			/* covered by a shorter path, or a duplicate seen earlier */
			if ((strncmp(path, other, len) == 0 && path[len] == '.') ||
				(strcmp(path, other) == 0 && foreach_current_index(lc2) < foreach_current_index(lc)))
			{
				covered = true;
				break;
			}
		}
		if (!covered)
			bson_append_int32(projection, path, -1, 1);
	}
}
