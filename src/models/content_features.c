/*
 * content_features.c
 *		Feature specs of the "content" algorithm, and turning a table of
 *		items (or users) into sparse feature vectors.
 *
 * A spec names a table, its id column and feature columns, each with a
 * type and a weight (content.c's header documents the params).  Checking
 * resolves every name in the catalogs at recs_create_model time, so that
 * training only fails if the table changed since.
 *
 * Vectorising reads one column at a time with one SPI query (so each
 * column's SQL stays simple and the work of tokenising text stays in
 * PostgreSQL's to_tsvector), collects (row, key, value) entries, numbers
 * the distinct keys of a column in byte order (so dims, and thus models,
 * do not depend on the scan order), then builds one block per column:
 *   categorical  a dim "col=value" per distinct value, 1 where the row has it;
 *   tags         a dim "col=tag" per distinct tag, 1 where the row has it;
 *   text         a dim "col:lexeme" per lexeme, tf * ln(N / df) (see content.c);
 *   numeric      one dim "col", the z-score over the rows having a value;
 *   embedding    dims "col[1]" .. "col[d]", the vector itself.
 * Every block but numeric is L2-normalised per row and multiplied by the
 * column's weight, so a weight is the column's share of the cosine; a
 * numeric block is a single number, which normalising would reduce to its
 * sign, so it is weight * z instead.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "models/algorithm.h"
#include "models/content.h"
#include "types/embedding.h"

static const char *const type_names[] = {
	"categorical", "tags", "text", "numeric", "embedding"
};

const char *
ContentFeatureTypeName(ContentFeatureType type)
{
	return type_names[type];
}

/*
 * The relation named by table (text like regclass input: optionally
 * schema-qualified, quoted as SQL identifiers), InvalidOid if it does not
 * exist and missing_ok.
 */
Oid
ContentResolveTable(const char *table, bool missing_ok)
{
	List	   *names = stringToQualifiedNameList(table);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

	/*
	 * recs_create_model qualifies the names its caller's search_path
	 * resolves (recs.qualify_table_params); one still unqualified here was
	 * not on it, and is looked up with search_path pg_catalog, pg_temp.
	 */
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", table),
				 list_length(names) == 1 ?
				 errhint("Qualify the name with its schema, for example \"public.%s\", or put its schema on search_path.",
						 table) : 0));
	return relid;
}

/* a column of relid, or an error naming the param and the table */
static Oid
CheckColumn(Oid relid, const char *table, const char *column, const char *param)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", column, table),
				 errhint("Parameter \"%s\" must name columns of \"%s\".", param, table)));
	return getBaseType(get_atttype(relid, attnum));
}

static bool
IsEmbeddingType(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		result = strcmp(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname), "embedding") == 0;
		ReleaseSysCache(tup);
	}
	return result;
}

/* Does a column of type typid fit a feature of type type? */
static bool
TypeFits(ContentFeatureType type, Oid typid)
{
	switch (type)
	{
		case CONTENT_CATEGORICAL:
			return !type_is_array(typid) && !IsEmbeddingType(typid);
		case CONTENT_TAGS:
			return typid == TEXTARRAYOID || typid == VARCHARARRAYOID;
		case CONTENT_TEXT:
			return typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID;
		case CONTENT_NUMERIC:
			return typid == INT2OID || typid == INT4OID || typid == INT8OID ||
				typid == FLOAT4OID || typid == FLOAT8OID || typid == NUMERICOID;
		case CONTENT_EMBEDDING:
			return IsEmbeddingType(typid);
	}
	return false;
}

static const char *
TypeWants(ContentFeatureType type)
{
	switch (type)
	{
		case CONTENT_CATEGORICAL:
			return "A categorical feature needs a scalar column.";
		case CONTENT_TAGS:
			return "A tags feature needs a text[] or varchar[] column.";
		case CONTENT_TEXT:
			return "A text feature needs a text, varchar or char column.";
		case CONTENT_NUMERIC:
			return "A numeric feature needs a smallint, integer, bigint, real, double precision or numeric column.";
		case CONTENT_EMBEDDING:
			return "An embedding feature needs an embedding column.";
	}
	return NULL;
}

static ContentFeatureType
ParseType(const char *name, const char *column, bool user)
{
	for (int t = 0; t < (int) lengthof(type_names); t++)
		if (strcmp(type_names[t], name) == 0)
		{
			if (user && t != CONTENT_CATEGORICAL && t != CONTENT_NUMERIC)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("user feature \"%s\" must be \"categorical\" or \"numeric\", not \"%s\"",
								column, name)));
			return (ContentFeatureType) t;
		}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown feature type \"%s\" for column \"%s\"", name, column),
			 user ? errhint("User feature types are \"categorical\" and \"numeric\".") :
			 errhint("Feature types are \"categorical\", \"tags\", \"text\", \"numeric\" and \"embedding\".")));
	return CONTENT_CATEGORICAL; /* keep compiler quiet */
}

/* One feature from its value in the features object: a type name or an object. */
static void
ParseFeature(const char *column, JsonbValue *v, const char *features_key, bool user,
			 ContentFeature *f)
{
	static const char *const keys[] = {"type", "weight", "config", NULL};
	char	   *type_name;
	Jsonb	   *obj;
	JsonbIterator *it;
	JsonbValue	k;
	JsonbIteratorToken tok;

	f->column = pstrdup(column);
	f->weight = 1.0;
	f->config = NULL;
	if (v->type == jbvString)
	{
		f->type = ParseType(pnstrdup(v->val.string.val, v->val.string.len), column, user);
		if (f->type == CONTENT_TEXT)
			f->config = pstrdup("english");
		return;
	}
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" of parameter \"%s\" must be a type name or an object",
						column, features_key),
				 errhint("For example \"%s\": \"categorical\" or \"%s\": {\"type\": \"categorical\", \"weight\": 2}.",
						 column, column)));

	obj = JsonbValueToJsonb(v);
	it = JsonbIteratorInit(&obj->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;
		bool		found = false;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		for (const char *const *a = keys; *a != NULL; a++)
			found |= strcmp(*a, key) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%s\" in feature \"%s\"", key, column),
					 errhint("A feature may have \"type\", \"weight\" and \"config\".")));
	}
	if (!RecsParamString(obj, "type", &type_name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" needs a \"type\"", column)));
	f->type = ParseType(type_name, column, user);
	if (RecsParamNumber(obj, "weight", &f->weight) && f->weight < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight of feature \"%s\" must not be negative, not %g",
						column, f->weight)));
	if (RecsParamString(obj, "config", &f->config) && f->type != CONTENT_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" of type \"%s\" takes no \"config\"",
						column, type_names[f->type]),
				 errdetail("Only text features have a text search configuration.")));
	if (f->type == CONTENT_TEXT && f->config == NULL)
		f->config = pstrdup("english");
}

void
ContentParseSpec(Jsonb *params, const char *table_key, const char *id_key,
				 const char *default_id, const char *features_key, bool user,
				 bool check, ContentSpec *spec)
{
	Jsonb	   *features = RecsParamObject(params, features_key);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *column = NULL;
	int			capacity;
	bool		any_weight = false;
	Oid			relid = InvalidOid;

	if (!RecsParamString(params, table_key, &spec->table))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"content\" needs parameter \"%s\"", table_key),
				 errhint("Name the table or view of %s features, for example {\"%s\": \"%s\", \"%s\": {...}}.",
						 user ? "user" : "item", table_key, user ? "users" : "movies",
						 features_key)));
	if (!RecsParamString(params, id_key, &spec->id_column))
		spec->id_column = pstrdup(default_id);
	if (features == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"content\" needs parameter \"%s\"", features_key),
				 errhint("For example {\"%s\": {\"%s\": \"categorical\"}}.", features_key,
						 user ? "country" : "genre")));

	if (check)
	{
		Oid			id_type;

		relid = ContentResolveTable(spec->table, false);
		id_type = CheckColumn(relid, spec->table, spec->id_column, id_key);
		/* ids are matched to the model's bigint ids */
		if (id_type != INT2OID && id_type != INT4OID && id_type != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("id column \"%s\" of \"%s\" must be smallint, integer or bigint, not %s",
							spec->id_column, spec->table, format_type_be(id_type))));
	}

	capacity = 8;
	spec->n_features = 0;
	spec->features = palloc(sizeof(ContentFeature) * capacity);
	it = JsonbIteratorInit(&features->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		ContentFeature *f;

		if (tok == WJB_KEY)
		{
			column = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (spec->n_features == capacity)
		{
			capacity *= 2;
			spec->features = repalloc(spec->features, sizeof(ContentFeature) * capacity);
		}
		f = &spec->features[spec->n_features++];
		ParseFeature(column, &v, features_key, user, f);
		any_weight |= f->weight > 0;

		if (check)
		{
			Oid			typid = CheckColumn(relid, spec->table, f->column, features_key);

			if (!TypeFits(f->type, typid))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of type %s does not fit feature type \"%s\"",
								f->column, format_type_be(typid), type_names[f->type]),
						 errdetail("%s", TypeWants(f->type))));
			if (f->type == CONTENT_TEXT &&
				!OidIsValid(get_ts_config_oid(stringToQualifiedNameList(f->config), true)))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("text search configuration \"%s\" does not exist", f->config),
						 errhint("See \\dF in psql for the configurations available.")));
		}
	}
	if (spec->n_features == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must name at least one feature column", features_key)));
	if (!any_weight)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the weights of parameter \"%s\" are all zero", features_key),
				 errdetail("With no weight on any column every vector is zero, so nothing would be similar.")));
}

/* ---- vectorising ---- */

/* One value of one row, keyed by a string (key) or a dim of its block. */
typedef struct Entry
{
	int32		row;
	int32		dim;
	char	   *key;
	float8		value;
} Entry;

typedef struct EntryList
{
	Entry	   *e;
	int64		n;
	int64		capacity;
} EntryList;

static void
AddEntry(EntryList *list, int32 row, int32 dim, char *key, float8 value)
{
	if (list->n == list->capacity)
	{
		list->capacity = Max(1024, list->capacity * 2);
		list->e = repalloc_huge(list->e, mul_size(list->capacity, sizeof(Entry)));
	}
	list->e[list->n].row = row;
	list->e[list->n].dim = dim;
	list->e[list->n].key = key;
	list->e[list->n].value = value;
	list->n++;
}

static int
CompareKeyRow(const void *a, const void *b)
{
	const Entry *x = a;
	const Entry *y = b;
	int			c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->row > y->row) - (x->row < y->row);
}

static int
CompareRowDim(const void *a, const void *b)
{
	const Entry *x = a;
	const Entry *y = b;

	if (x->row != y->row)
		return (x->row > y->row) - (x->row < y->row);
	return (x->dim > y->dim) - (x->dim < y->dim);
}

/*
 * Number the distinct keys of entries[0..n-1] 0, 1, ... in byte order,
 * merging entries with the same key and row (a row listed twice, a tag
 * repeated in an array): the first one keeps the sum of their values when
 * sum is set, else its own, and the others get value NAN, for Compact to
 * drop; returns the number of dims and their keys in *keys.
 */
static int32
NumberKeys(Entry *entries, int64 n, bool sum, char ***keys)
{
	int32		n_dims = 0;
	int64		first = -1;

	qsort(entries, n, sizeof(Entry), CompareKeyRow);
	*keys = palloc(sizeof(char *) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
	{
		if (i == 0 || strcmp(entries[i].key, entries[i - 1].key) != 0)
			(*keys)[n_dims++] = entries[i].key;
		else if (entries[i].row == entries[first].row)
		{
			if (sum)
				entries[first].value += entries[i].value;
			entries[i].value = NAN;
			entries[i].dim = n_dims - 1;
			continue;
		}
		first = i;
		entries[i].dim = n_dims - 1;
	}
	return n_dims;
}

/* Drop the NAN entries NumberKeys left; returns the new count. */
static int64
Compact(Entry *entries, int64 n)
{
	int64		out = 0;

	for (int64 i = 0; i < n; i++)
		if (!isnan(entries[i].value))
			entries[out++] = entries[i];
	return out;
}

/* The row of id, or -1 when it is not among the rows wanted. */
static int32
RowOf(const int64 *ids, int32 n_ids, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, 1, &isnull);

	if (isnull)
		return -1;
	return RecsFindId(ids, n_ids, DatumGetInt64(d));
}

static void
RunQuery(const char *sql)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\"", sql);
	/* SPI returns in its own context, which dies at SPI_finish */
	MemoryContextSwitchTo(cxt);
}

/*
 * Read one feature column into block (entries with dims local to the
 * column); returns the column's dim names, *n_dims, and the center and
 * scale of its dims.
 */
static char **
ReadFeature(const ContentFeature *f, const char *table, const char *id,
			const int64 *ids, int32 n_ids, EntryList *block, int32 *n_dims,
			float8 **center, float8 **scale)
{
	const char *col = quote_identifier(f->column);
	char	  **names = NULL;
	bool	   *has_text = NULL;	/* text: has a text; embedding: seen */
	int32		d = 0;

	*center = NULL;
	*scale = NULL;
	switch (f->type)
	{
		case CONTENT_CATEGORICAL:
			RunQuery(psprintf("SELECT t.%s::int8, t.%s::text FROM %s t"
							  " WHERE t.%s IS NOT NULL AND t.%s IS NOT NULL",
							  id, col, table, id, col));
			break;
		case CONTENT_TAGS:
			RunQuery(psprintf("SELECT t.%s::int8, u.tag FROM %s t, unnest(t.%s::text[]) u(tag)"
							  " WHERE t.%s IS NOT NULL AND u.tag IS NOT NULL",
							  id, table, col, id));
			break;
		case CONTENT_TEXT:
			/* a row whose text has no lexemes still counts in N: lexeme NULL */
			RunQuery(psprintf("SELECT t.%s::int8, l.lexeme,"
							  " greatest(cardinality(l.positions), 1)::float8"
							  " FROM %s t LEFT JOIN LATERAL"
							  " unnest(to_tsvector(%s::regconfig, t.%s::text)) l ON true"
							  " WHERE t.%s IS NOT NULL AND t.%s IS NOT NULL",
							  id, table, quote_literal_cstr(f->config), col, id, col));
			has_text = palloc0(sizeof(bool) * Max(n_ids, 1));
			break;
		case CONTENT_NUMERIC:
			RunQuery(psprintf("SELECT t.%s::int8, t.%s::float8 FROM %s t"
							  " WHERE t.%s IS NOT NULL AND t.%s IS NOT NULL",
							  id, col, table, id, col));
			break;
		case CONTENT_EMBEDDING:
			RunQuery(psprintf("SELECT t.%s::int8, t.%s FROM %s t"
							  " WHERE t.%s IS NOT NULL AND t.%s IS NOT NULL",
							  id, col, table, id, col));
			has_text = palloc0(sizeof(bool) * Max(n_ids, 1));
			break;
	}

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int32		row = RowOf(ids, n_ids, tuple, desc);
		bool		isnull;
		Datum		v;

		if (row < 0)
			continue;
		v = SPI_getbinval(tuple, desc, 2, &isnull);
		switch (f->type)
		{
			case CONTENT_CATEGORICAL:
			case CONTENT_TAGS:
				AddEntry(block, row, 0, TextDatumGetCString(v), 1.0);
				break;
			case CONTENT_TEXT:
				has_text[row] = true;
				if (!isnull)
				{
					bool		tf_null;
					float8		tf = DatumGetFloat8(SPI_getbinval(tuple, desc, 3, &tf_null));

					AddEntry(block, row, 0, TextDatumGetCString(v), tf);
				}
				break;
			case CONTENT_NUMERIC:
				if (isfinite(DatumGetFloat8(v)))
					AddEntry(block, row, 0, NULL, DatumGetFloat8(v));
				break;
			case CONTENT_EMBEDDING:
				{
					Embedding  *e;

					/* a row listed twice keeps its first vector */
					if (has_text[row])
						break;
					has_text[row] = true;
					e = DatumGetEmbeddingP(v);
					if (d == 0)
						d = e->dim;
					else if (e->dim != d)
						ereport(ERROR,
								(errcode(ERRCODE_DATA_EXCEPTION),
								 errmsg("embeddings of column \"%s\" have different dimensions, %d and %d",
										f->column, d, e->dim),
								 errdetail("An embedding feature needs vectors of one dimension.")));
					for (int i = 0; i < e->dim; i++)
						if (e->x[i] != 0.0f)
							AddEntry(block, row, i, NULL, e->x[i]);
					/* a zero vector is no vector: leave the row empty */
					if ((Pointer) e != DatumGetPointer(v))
						pfree(e);
				}
				break;
		}
	}
	SPI_freetuptable(SPI_tuptable);

	switch (f->type)
	{
		case CONTENT_CATEGORICAL:
		case CONTENT_TAGS:
		case CONTENT_TEXT:
			{
				char	  **keys;
				const char *sep = f->type == CONTENT_TEXT ? ":" : "=";

				/* text sums term frequencies; a value or tag is there or not */
				*n_dims = NumberKeys(block->e, block->n, f->type == CONTENT_TEXT, &keys);
				block->n = Compact(block->e, block->n);
				names = palloc(sizeof(char *) * Max(*n_dims, 1));
				for (int32 k = 0; k < *n_dims; k++)
					names[k] = psprintf("%s%s%s", f->column, sep, keys[k]);
				*center = palloc0(sizeof(float8) * Max(*n_dims, 1));
				*scale = palloc(sizeof(float8) * Max(*n_dims, 1));
				for (int32 k = 0; k < *n_dims; k++)
					(*scale)[k] = f->weight;
				if (f->type == CONTENT_TEXT)
				{
					/* tf * ln(N / df); entries are one per (lexeme, row) now */
					int64	   *df = palloc0(sizeof(int64) * Max(*n_dims, 1));
					int64		n_docs = 0;

					for (int32 r = 0; r < n_ids; r++)
						n_docs += has_text[r];
					for (int64 i = 0; i < block->n; i++)
						df[block->e[i].dim]++;
					for (int64 i = 0; i < block->n; i++)
						block->e[i].value *= log((double) n_docs / (double) df[block->e[i].dim]);
					pfree(df);
				}
			}
			break;
		case CONTENT_NUMERIC:
			{
				/* z-score over rows with a value; a row listed twice keeps its first */
				float8		sum = 0.0;
				float8		sq = 0.0;
				float8		mean;
				float8		sd;
				int64		out = 0;

				qsort(block->e, block->n, sizeof(Entry), CompareRowDim);
				for (int64 i = 0; i < block->n; i++)
					if (out == 0 || block->e[out - 1].row != block->e[i].row)
						block->e[out++] = block->e[i];
				block->n = out;
				for (int64 i = 0; i < block->n; i++)
					sum += block->e[i].value;
				mean = block->n > 0 ? sum / block->n : 0.0;
				for (int64 i = 0; i < block->n; i++)
					sq += (block->e[i].value - mean) * (block->e[i].value - mean);
				sd = block->n > 0 ? sqrt(sq / block->n) : 0.0;
				for (int64 i = 0; i < block->n; i++)
					block->e[i].value = sd > 0.0 ?
						f->weight * (block->e[i].value - mean) / sd : 0.0;
				*n_dims = 1;
				names = palloc(sizeof(char *));
				names[0] = pstrdup(f->column);
				*center = palloc(sizeof(float8));
				*scale = palloc(sizeof(float8));
				(*center)[0] = mean;
				(*scale)[0] = sd > 0.0 ? f->weight / sd : 0.0;
			}
			return names;		/* not normalised: see the file header */
		case CONTENT_EMBEDDING:
			{
				*n_dims = d;
				names = palloc(sizeof(char *) * Max(d, 1));
				for (int i = 0; i < d; i++)
					names[i] = psprintf("%s[%d]", f->column, i + 1);
				*center = palloc0(sizeof(float8) * Max(d, 1));
				*scale = palloc(sizeof(float8) * Max(d, 1));
				for (int i = 0; i < d; i++)
					(*scale)[i] = f->weight;
			}
			break;
	}

	/* L2-normalise each row's block and weigh it */
	qsort(block->e, block->n, sizeof(Entry), CompareRowDim);
	for (int64 i = 0; i < block->n;)
	{
		int64		j = i;
		float8		ss = 0.0;

		while (j < block->n && block->e[j].row == block->e[i].row)
		{
			ss += block->e[j].value * block->e[j].value;
			j++;
		}
		for (int64 p = i; p < j; p++)
			block->e[p].value = ss > 0.0 ? f->weight * block->e[p].value / sqrt(ss) : 0.0;
		i = j;
	}
	return names;
}

ContentVectors *
ContentVectorise(const ContentSpec *spec, const int64 *ids, int32 n_ids)
{
	MemoryContext outer = CurrentMemoryContext;
	ContentVectors *result = palloc0(sizeof(ContentVectors));
	Oid			relid = ContentResolveTable(spec->table, false);
	char	   *table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid));
	const char *id = quote_identifier(spec->id_column);
	EntryList	all = {palloc(sizeof(Entry)), 0, 1};
	int32		n_dims = 0;
	int32		dims_capacity = 16;
	int64		nnz = 0;

	result->dim_names = palloc(sizeof(char *) * dims_capacity);
	result->center = palloc(sizeof(float8) * dims_capacity);
	result->scale = palloc(sizeof(float8) * dims_capacity);

	SPI_connect();
	/* everything below outlives SPI_finish; only tuple tables stay in SPI */
	MemoryContextSwitchTo(outer);
	for (int c = 0; c < spec->n_features; c++)
	{
		const ContentFeature *f = &spec->features[c];
		EntryList	block = {palloc(sizeof(Entry)), 0, 1};
		char	  **names;
		float8	   *center;
		float8	   *scale;
		int32		d = 0;

		if (f->weight == 0.0)
			continue;			/* contributes nothing */
		names = ReadFeature(f, table, id, ids, n_ids, &block, &d, &center, &scale);
		while (n_dims + d > dims_capacity)
		{
			dims_capacity *= 2;
			result->dim_names = repalloc(result->dim_names, sizeof(char *) * dims_capacity);
			result->center = repalloc(result->center, sizeof(float8) * dims_capacity);
			result->scale = repalloc(result->scale, sizeof(float8) * dims_capacity);
		}
		for (int32 k = 0; k < d; k++)
		{
			result->dim_names[n_dims + k] = names[k];
			result->center[n_dims + k] = center[k];
			result->scale[n_dims + k] = scale[k];
		}
		for (int64 i = 0; i < block.n; i++)
			if (block.e[i].value != 0.0)
				AddEntry(&all, block.e[i].row, n_dims + block.e[i].dim, NULL,
						 block.e[i].value);
		n_dims += d;
		pfree(block.e);
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);

	/* CSR by row, dims ascending */
	qsort(all.e, all.n, sizeof(Entry), CompareRowDim);
	result->n_rows = n_ids;
	result->n_dims = n_dims;
	result->ptr = palloc0(sizeof(int64) * (n_ids + 1));
	result->idx = palloc_extended(mul_size(Max(all.n, 1), sizeof(int32)), MCXT_ALLOC_HUGE);
	result->val = palloc_extended(mul_size(Max(all.n, 1), sizeof(float4)), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < all.n; i++)
	{
		result->ptr[all.e[i].row + 1]++;
		result->idx[nnz] = all.e[i].dim;
		result->val[nnz] = (float4) all.e[i].value;
		nnz++;
	}
	for (int32 r = 0; r < n_ids; r++)
		result->ptr[r + 1] += result->ptr[r];
	pfree(all.e);
	return result;
}
