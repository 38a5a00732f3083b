/*
 * import.c
 *		IMPORT FOREIGN SCHEMA: one foreign table per collection of a MongoDB
 *		database, with columns inferred from a sample of its documents.
 *
 *	IMPORT FOREIGN SCHEMA "database" [LIMIT TO / EXCEPT (collections)]
 *		FROM SERVER s INTO local_schema
 *		[OPTIONS (sample_size '100', whole_document 'false')]
 *
 * The sample is the first sample_size documents in natural order, so that
 * importing the same data twice gives the same tables.  Each top-level
 * field becomes a column named after it, _id first, the others in order of
 * first appearance; its type is the narrowest that holds every value seen:
 *	int only -> integer; int and long -> bigint; with a double -> double
 *	precision; with a decimal -> numeric; string or ObjectId -> text;
 *	bool -> boolean; date -> timestamptz; binData of subtype 4 -> uuid,
 *	other binData -> bytea; an array whose elements all map to one scalar
 *	type -> that type's array; sub-documents, other arrays and mixtures of
 *	kinds -> jsonb; null only -> text.
 * Fields whose names cannot be column names as they are (longer than
 * NAMEDATALEN - 1 bytes, containing a dot, starting with '$') are skipped
 * with a NOTICE.  whole_document 'true' adds a jsonb column "document"
 * holding the whole document.  System collections (system.*) are skipped.
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "recs_mongo_fdw.h"

/* Kinds of values seen in a field, as bits. */
#define KIND_INT32		(1 << 0)
#define KIND_INT64		(1 << 1)
#define KIND_DOUBLE		(1 << 2)
#define KIND_DECIMAL	(1 << 3)
#define KIND_STRING		(1 << 4)	/* string or ObjectId */
#define KIND_BOOL		(1 << 5)
#define KIND_DATE		(1 << 6)
#define KIND_UUID		(1 << 7)
#define KIND_BINARY		(1 << 8)
#define KIND_ARRAY		(1 << 9)
#define KIND_OTHER		(1 << 10)	/* documents and anything else */

#define KIND_NUMBERS (KIND_INT32 | KIND_INT64 | KIND_DOUBLE | KIND_DECIMAL)

typedef struct InferredField
{
	char	   *name;
	int			kinds;			/* of the values */
	int			element_kinds;	/* of array elements */
} InferredField;

static int
KindOf(const bson_iter_t *iter)
{
	switch (bson_iter_type(iter))
	{
		case BSON_TYPE_INT32:
			return KIND_INT32;
		case BSON_TYPE_INT64:
			return KIND_INT64;
		case BSON_TYPE_DOUBLE:
			return KIND_DOUBLE;
		case BSON_TYPE_DECIMAL128:
			return KIND_DECIMAL;
		case BSON_TYPE_UTF8:
		case BSON_TYPE_OID:
		case BSON_TYPE_SYMBOL:
			return KIND_STRING;
		case BSON_TYPE_BOOL:
			return KIND_BOOL;
		case BSON_TYPE_DATE_TIME:
			return KIND_DATE;
		case BSON_TYPE_BINARY:
			{
				bson_subtype_t subtype;
				uint32_t	len;
				const uint8_t *data;

				bson_iter_binary(iter, &subtype, &len, &data);
				return (subtype == BSON_SUBTYPE_UUID ||
						subtype == BSON_SUBTYPE_UUID_DEPRECATED) && len == 16 ?
					KIND_UUID : KIND_BINARY;
			}
		case BSON_TYPE_ARRAY:
			return KIND_ARRAY;
		case BSON_TYPE_NULL:
		case BSON_TYPE_UNDEFINED:
			return 0;
		default:
			return KIND_OTHER;
	}
}

/* The SQL type for values of the given kinds, NULL if no scalar type fits. */
static const char *
ScalarType(int kinds)
{
	if (kinds == 0)
		return "text";
	if ((kinds & ~KIND_NUMBERS) == 0)
	{
		if (kinds & KIND_DECIMAL)
			return "numeric";
		if (kinds & KIND_DOUBLE)
			return "double precision";
		if (kinds & KIND_INT64)
			return "bigint";
		return "integer";
	}
	switch (kinds)
	{
		case KIND_STRING:
			return "text";
		case KIND_BOOL:
			return "boolean";
		case KIND_DATE:
			return "timestamp with time zone";
		case KIND_UUID:
			return "uuid";
		case KIND_BINARY:
		case KIND_BINARY | KIND_UUID:
			return "bytea";
	}
	return NULL;
}

static const char *
ColumnType(InferredField *f)
{
	const char *scalar;

	if (f->kinds == KIND_ARRAY)
	{
		if (f->element_kinds & KIND_ARRAY)
			return "jsonb";		/* nested arrays */
		scalar = ScalarType(f->element_kinds);
		return scalar ? psprintf("%s[]", scalar) : "jsonb";
	}
	if (f->kinds & KIND_ARRAY)
		return "jsonb";
	scalar = ScalarType(f->kinds);
	return scalar ? scalar : "jsonb";
}

static InferredField *
FindField(List **fields, const char *name)
{
	ListCell   *lc;
	InferredField *f;

	foreach(lc, *fields)
	{
		f = lfirst(lc);
		if (strcmp(f->name, name) == 0)
			return f;
	}
	f = palloc0(sizeof(InferredField));
	f->name = pstrdup(name);
	*fields = lappend(*fields, f);
	return f;
}

static bool
UsableColumnName(const char *name, const char *collection)
{
	const char *why = NULL;

	if (strlen(name) >= NAMEDATALEN)
		why = "it is longer than a column name can be";
	else if (strchr(name, '.'))
		why = "it contains a dot, which field paths use as separator";
	else if (name[0] == '$' || name[0] == '\0')
		why = "MongoDB cannot query it";
	if (why)
	{
		ereport(NOTICE,
				(errmsg("skipping field \"%.40s\" of collection \"%s\": %s", name, collection, why)));
		return false;
	}
	return true;
}

/* Sample a collection and return its CREATE FOREIGN TABLE statement. */
static char *
ImportCollection(MongoConnection *conn, const char *database, const char *collection,
				 int sample_size, bool whole_document, ImportForeignSchemaStmt *stmt)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "recs_mongo_fdw import",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	mongoc_collection_t *coll;
	mongoc_cursor_t *cursor;
	bson_t	   *filter;
	bson_t	   *opts;
	bson_t	   *sample;
	bson_iter_t outer;
	int			n = 0;
	bool		has_document = false;
	const bson_t *doc;
	bson_error_t error;
	bool		failed;
	List	   *fields = NIL;
	StringInfoData sql;
	ListCell   *lc;
	bool		first = true;
	char	   *result;

	/*
	 * Copy the sample (it is small) into a document owned by cxt, and free
	 * the cursor before anything that can raise an error.
	 */
	filter = MongoBsonCreate(cxt);
	opts = MongoBsonCreate(cxt);
	sample = MongoBsonCreate(cxt);
	BSON_APPEND_INT64(opts, "limit", sample_size);
	coll = mongoc_client_get_collection(MongoClient(conn), database, collection);
	cursor = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	while (mongoc_cursor_next(cursor, &doc))
	{
		char		key[16];

		snprintf(key, sizeof(key), "%d", n++);
		bson_append_document(sample, key, -1, doc);
	}
	failed = mongoc_cursor_error(cursor, &error);
	mongoc_cursor_destroy(cursor);
	mongoc_collection_destroy(coll);
	if (failed)
		MongoReportError(conn, &error,
						 psprintf("sample collection \"%s.%s\"", database, collection));

	if (bson_iter_init(&outer, sample))
	{
		while (bson_iter_next(&outer))
		{
			bson_iter_t iter;

			if (!bson_iter_recurse(&outer, &iter))
				continue;
			while (bson_iter_next(&iter))
			{
				InferredField *f = FindField(&fields, bson_iter_key(&iter));
				int			kind = KindOf(&iter);

				f->kinds |= kind;
				if (kind == KIND_ARRAY)
				{
					bson_iter_t elem;

					if (bson_iter_recurse(&iter, &elem))
						while (bson_iter_next(&elem))
							f->element_kinds |= KindOf(&elem);
				}
			}
		}
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE FOREIGN TABLE %s (",
					 quote_identifier(collection));
	/* _id first, even if the sample had none (every document has one) */
	{
		InferredField *id = FindField(&fields, "_id");

		fields = list_delete_ptr(fields, id);
		fields = lcons(id, fields);
	}
	foreach(lc, fields)
	{
		InferredField *f = lfirst(lc);

		if (!UsableColumnName(f->name, collection))
			continue;
		if (strcmp(f->name, "document") == 0)
			has_document = true;
		appendStringInfo(&sql, "%s%s %s", first ? "" : ", ",
						 quote_identifier(f->name), ColumnType(f));
		first = false;
	}
	if (whole_document)
		appendStringInfo(&sql, ", %s jsonb OPTIONS (whole_document 'true')",
						 has_document ? "document_" : "document");
	appendStringInfo(&sql, ") SERVER %s OPTIONS (database %s, collection %s)",
					 quote_identifier(stmt->server_name), quote_literal_cstr(database),
					 quote_literal_cstr(collection));

	MemoryContextSwitchTo(old);
	result = pstrdup(sql.data);
	MemoryContextDelete(cxt);
	return result;
}

static int
CompareNames(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

static bool
Wanted(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = lfirst(lc);

		if (strcmp(rv->relname, name) == 0)
			listed = true;
	}
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

List *
mongoImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	int			sample_size = MONGO_DEFAULT_SAMPLE_SIZE;
	bool		whole_document = false;
	MemoryContext cxt;
	MongoHandle *handle;
	mongoc_database_t *db;
	bson_error_t error;
	char	  **names;
	List	   *collections = NIL;
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "sample_size") == 0)
		{
			const char *value = defGetString(def);
			char	   *end;
			long		v;

			errno = 0;
			v = strtol(value, &end, 10);
			if (errno != 0 || end == value || *end != '\0' || v < 1 || v > 1000000)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"sample_size\": \"%s\"", value),
						 errdetail("It must be a number of documents from 1 to 1000000.")));
			sample_size = (int) v;
		}
		else if (strcmp(def->defname, "whole_document") == 0)
			whole_document = defGetBoolean(def);
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 errhint("Valid options for IMPORT FOREIGN SCHEMA are: sample_size, whole_document.")));
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "recs_mongo_fdw import schema",
								ALLOCSET_SMALL_SIZES);
	handle = MongoHandleCreate(cxt, serverOid, GetUserId(), NULL, NULL);

	/* Copy the names into palloc'd memory before anything can fail. */
	db = mongoc_client_get_database(MongoClient(handle->conn), stmt->remote_schema);
	names = mongoc_database_get_collection_names_with_opts(db, NULL, &error);
	mongoc_database_destroy(db);
	if (names == NULL)
		MongoReportError(handle->conn, &error,
						 psprintf("list collections of database \"%s\"", stmt->remote_schema));
	for (char **p = names; *p; p++)
		collections = lappend(collections, pstrdup(*p));
	bson_strfreev(names);

	if (collections == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("MongoDB database \"%s\" has no collections", stmt->remote_schema),
				 errhint("MongoDB creates a database with its first collection; check the name.")));

	list_sort(collections, CompareNames);
	foreach(lc, collections)
	{
		const char *name = lfirst(lc);

		if (strncmp(name, "system.", 7) == 0 || !Wanted(stmt, name))
			continue;
		CHECK_FOR_INTERRUPTS();
		commands = lappend(commands,
						   ImportCollection(handle->conn, stmt->remote_schema, name,
											sample_size, whole_document, stmt));
	}
	MemoryContextDelete(cxt);
	return commands;
}
