/*
 * option.c
 *		The options of recs_mongo_fdw: one table, the validator, and the
 *		readers that turn a foreign table's options into a MongoTable.
 *
 * Every option is declared once in MongoOptions with the catalog it belongs
 * to and how its value is checked.  The validator rejects an unknown option
 * with the closest valid name as a hint ("did you mean"), and an option set
 * on the wrong object (a password on a server, say) with a hint naming the
 * right one.  Secrets (password) are accepted only on user mappings, and no
 * error message ever repeats a secret's value or a URI that could hold one.
 */
#include "postgres.h"

#include <limits.h>

#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "recs_mongo_fdw.h"

PG_FUNCTION_INFO_V1(recs_mongo_fdw_validator);

typedef enum MongoOptionType
{
	OPTION_STRING,
	OPTION_INT,
	OPTION_BOOL,
	OPTION_CHOICE,
	OPTION_URI,
	OPTION_FIELD
} MongoOptionType;

typedef struct MongoOption
{
	const char *name;
	Oid			context;		/* catalog of the object it belongs to */
	MongoOptionType type;
	int			min;			/* OPTION_INT bounds */
	int			max;
	const char *choices;		/* OPTION_CHOICE: comma-separated values */
	bool		superuser_only; /* names a file on the database server */
} MongoOption;

static const MongoOption MongoOptions[] = {
	/* servers */
	{.name = "uri", .context = ForeignServerRelationId, .type = OPTION_URI},
	{.name = "host", .context = ForeignServerRelationId, .type = OPTION_STRING},
	{.name = "port", .context = ForeignServerRelationId, .type = OPTION_INT, .min = 1, .max = 65535},
	{.name = "replica_set", .context = ForeignServerRelationId, .type = OPTION_STRING},
	{.name = "database", .context = ForeignServerRelationId, .type = OPTION_STRING},
	{.name = "auth_source", .context = ForeignServerRelationId, .type = OPTION_STRING},
	{.name = "auth_mechanism", .context = ForeignServerRelationId, .type = OPTION_CHOICE, .choices = "SCRAM-SHA-1,SCRAM-SHA-256,MONGODB-X509,PLAIN"},
	{.name = "server_selection_timeout_ms", .context = ForeignServerRelationId, .type = OPTION_INT, .min = 1, .max = INT_MAX},
	{.name = "connect_timeout_ms", .context = ForeignServerRelationId, .type = OPTION_INT, .min = 1, .max = INT_MAX},
	{.name = "socket_timeout_ms", .context = ForeignServerRelationId, .type = OPTION_INT, .min = 1, .max = INT_MAX},
	{.name = "tls", .context = ForeignServerRelationId, .type = OPTION_BOOL},
	{.name = "tls_ca_file", .context = ForeignServerRelationId, .type = OPTION_STRING, .superuser_only = true},
	{.name = "tls_certificate_key_file", .context = ForeignServerRelationId, .type = OPTION_STRING, .superuser_only = true},
	{.name = "tls_allow_invalid_certificates", .context = ForeignServerRelationId, .type = OPTION_BOOL},
	{.name = "tls_allow_invalid_hostnames", .context = ForeignServerRelationId, .type = OPTION_BOOL},

	/* user mappings: the only place for credentials */
	{.name = "username", .context = UserMappingRelationId, .type = OPTION_STRING},
	{.name = "password", .context = UserMappingRelationId, .type = OPTION_STRING},

	/* foreign tables */
	{.name = "database", .context = ForeignTableRelationId, .type = OPTION_STRING},
	{.name = "collection", .context = ForeignTableRelationId, .type = OPTION_STRING},
	{.name = "batch_size", .context = ForeignTableRelationId, .type = OPTION_INT, .min = 1, .max = 1000000},

	/* columns */
	{.name = "field", .context = AttributeRelationId, .type = OPTION_FIELD},
	{.name = "on_mismatch", .context = AttributeRelationId, .type = OPTION_CHOICE, .choices = "error,null"},
	{.name = "whole_document", .context = AttributeRelationId, .type = OPTION_BOOL},

	{NULL}
};

static const char *
ContextName(Oid context)
{
	switch (context)
	{
		case ForeignServerRelationId:
			return "foreign servers";
		case UserMappingRelationId:
			return "user mappings";
		case ForeignTableRelationId:
			return "foreign tables";
		case AttributeRelationId:
			return "foreign table columns";
		case ForeignDataWrapperRelationId:
			return "the foreign-data wrapper";
	}
	return "this object";
}

/* Comma-separated names of the options valid in a context. */
static char *
OptionsIn(Oid context)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (const MongoOption *opt = MongoOptions; opt->name; opt++)
	{
		if (opt->context != context)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, opt->name);
	}
	return buf.data;
}

/*
 * The valid option closest to name (Levenshtein distance), or NULL when
 * nothing is close enough to be a plausible typo.
 */
static const char *
ClosestOption(const char *name, Oid context)
{
	const char *best = NULL;
	int			best_distance = INT_MAX;
	int			len = strlen(name);
	int			limit = Max(2, len / 3);

	for (const MongoOption *opt = MongoOptions; opt->name; opt++)
	{
		int			d;

		if (opt->context != context)
			continue;
		d = varstr_levenshtein(name, len, opt->name, strlen(opt->name), 1, 1, 1, true);
		if (d < best_distance)
		{
			best_distance = d;
			best = opt->name;
		}
	}
	return best_distance <= limit ? best : NULL;
}

static void
RejectUnknownOption(const char *name, Oid context)
{
	const char *closest = ClosestOption(name, context);

	/* Known, but belonging to another kind of object? */
	for (const MongoOption *opt = MongoOptions; opt->name; opt++)
	{
		if (strcmp(opt->name, name) == 0 && opt->context != context)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" is not valid for %s", name, ContextName(context)),
					 opt->context == UserMappingRelationId ?
					 errhint("Credentials belong on a user mapping: CREATE USER MAPPING ... OPTIONS (%s '...').", name) :
					 errhint("Set it on %s.", ContextName(opt->context))));
	}

	if (closest)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", name),
				 errhint("Perhaps you meant the option \"%s\".", closest)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", name),
			 context == ForeignDataWrapperRelationId ?
			 errhint("The foreign-data wrapper itself takes no options.") :
			 errhint("Valid options for %s are: %s.", ContextName(context), OptionsIn(context))));
}

/*
 * A MongoDB field path: dot-separated, non-empty components that do not
 * start with '$'.
 */
bool
MongoValidFieldPath(const char *path)
{
	const char *p = path;

	if (*p == '\0')
		return false;
	for (;;)
	{
		const char *dot = strchr(p, '.');
		size_t		len = dot ? (size_t) (dot - p) : strlen(p);

		if (len == 0 || p[0] == '$')
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* Check that uri parses and carries no credentials; never echo it. */
static void
CheckUri(const char *value)
{
	mongoc_uri_t *uri;
	bson_error_t error;

	/*
	 * An '@' can only introduce credentials here.  Rejecting it before
	 * parsing also keeps libmongoc's messages, which may quote the string,
	 * free of secrets.
	 */
	if (strchr(value, '@') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("option \"uri\" must not contain credentials"),
				 errhint("Put username and password on a user mapping: CREATE USER MAPPING ... OPTIONS (username '...', password '...').")));
	uri = mongoc_uri_new_with_error(value, &error);
	if (uri == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"uri\""),
				 errdetail("libmongoc: %s", error.message),
				 errhint("Use the form mongodb://host[:port][,host...]/[database][?options].")));
	mongoc_uri_destroy(uri);
}

static void
CheckValue(const MongoOption *opt, DefElem *def)
{
	const char *value = defGetString(def);

	if (opt->superuser_only && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers can set option \"%s\"", opt->name),
				 errdetail("It names a file on the database server.")));

	switch (opt->type)
	{
		case OPTION_STRING:
			if (value[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", opt->name)));
			break;
		case OPTION_INT:
			{
				char	   *end;
				long		v;

				errno = 0;
				v = strtol(value, &end, 10);
				if (errno != 0 || end == value || *end != '\0' ||
					v < opt->min || v > opt->max)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", opt->name, value),
							 errdetail("It must be an integer from %d to %d.", opt->min, opt->max)));
				break;
			}
		case OPTION_BOOL:
			{
				bool		b;

				if (!parse_bool(value, &b))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", opt->name, value),
							 errdetail("It must be a boolean (true or false).")));
				break;
			}
		case OPTION_CHOICE:
			{
				char	   *copy = pstrdup(opt->choices);
				char	   *save = NULL;

				for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
				{
					if (strcmp(c, value) == 0)
						return;
				}
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", opt->name, value),
						 errdetail("Valid values are: %s.", opt->choices)));
				break;
			}
		case OPTION_URI:
			CheckUri(value);
			break;
		case OPTION_FIELD:
			if (!MongoValidFieldPath(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"field\": \"%s\"", value),
						 errdetail("A field is a dot-separated path of names that are not empty and do not start with \"$\", such as \"event.item_id\".")));
			break;
	}
}

static DefElem *
FindOption(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return def;
	}
	return NULL;
}

/*
 * recs_mongo_fdw_validator(options text[], catalog oid): called by CREATE
 * and ALTER of the wrapper, servers, user mappings, foreign tables and
 * columns, with the object's complete option list.
 */
Datum
recs_mongo_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			context = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);
		const MongoOption *found = NULL;

		for (const MongoOption *opt = MongoOptions; opt->name; opt++)
		{
			if (opt->context == context && strcmp(opt->name, def->defname) == 0)
			{
				found = opt;
				break;
			}
		}
		if (found == NULL)
			RejectUnknownOption(def->defname, context);
		CheckValue(found, def);
	}

	/* Combinations. */
	if (context == ForeignServerRelationId && FindOption(options, "uri"))
	{
		static const char *const exclusive[] = {"host", "port", "replica_set"};

		for (size_t i = 0; i < lengthof(exclusive); i++)
		{
			if (FindOption(options, exclusive[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("options \"uri\" and \"%s\" cannot both be set", exclusive[i]),
						 errhint("Give either a uri, or host, port and replica_set.")));
		}
	}
	if (context == UserMappingRelationId &&
		FindOption(options, "password") && !FindOption(options, "username"))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("option \"password\" requires option \"username\"")));
	if (context == AttributeRelationId && FindOption(options, "whole_document") &&
		defGetBoolean(FindOption(options, "whole_document")) &&
		FindOption(options, "field"))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("options \"whole_document\" and \"field\" cannot both be set")));

	PG_RETURN_VOID();
}

/* The database a server's tables default to: its option, its uri's, "test". */
const char *
MongoServerDatabase(ForeignServer *server)
{
	DefElem    *def = FindOption(server->options, "database");
	const char *result = "test";

	if (def)
		return defGetString(def);
	def = FindOption(server->options, "uri");
	if (def)
	{
		mongoc_uri_t *uri = mongoc_uri_new_with_error(defGetString(def), NULL);

		if (uri)
		{
			if (mongoc_uri_get_database(uri))
				result = pstrdup(mongoc_uri_get_database(uri));
			mongoc_uri_destroy(uri);
		}
	}
	return result;
}

/*
 * A foreign table's namespace and column mappings, from its options and its
 * server's.  The caller holds a lock on the table.
 */
MongoTable *
MongoGetTable(Oid relid)
{
	ForeignTable *ft = GetForeignTable(relid);
	ForeignServer *server = GetForeignServer(ft->serverid);
	MongoTable *table = palloc0(sizeof(MongoTable));
	Relation	rel;
	TupleDesc	tupdesc;
	DefElem    *def;

	table->relid = relid;
	table->relname = get_rel_name(relid);
	table->serverid = ft->serverid;
	def = FindOption(ft->options, "database");
	table->database = def ? defGetString(def) : (char *) MongoServerDatabase(server);
	def = FindOption(ft->options, "collection");
	table->collection = def ? defGetString(def) : table->relname;
	def = FindOption(ft->options, "batch_size");
	table->batch_size = def ? atoi(defGetString(def)) : MONGO_DEFAULT_BATCH_SIZE;

	rel = table_open(relid, NoLock);
	tupdesc = RelationGetDescr(rel);
	table->natts = tupdesc->natts;
	table->columns = palloc0(sizeof(MongoColumn) * Max(tupdesc->natts, 1));
	table->by_attnum = palloc0(sizeof(MongoColumn *) * Max(tupdesc->natts, 1));
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		MongoColumn *col;
		ListCell   *lc;

		if (att->attisdropped)
			continue;
		col = &table->columns[table->ncolumns++];
		col->attnum = att->attnum;
		col->attname = pstrdup(NameStr(att->attname));
		col->atttype = att->atttypid;
		col->atttypmod = att->atttypmod;
		col->attcollation = att->attcollation;
		col->field = col->attname;
		col->on_mismatch = MONGO_MISMATCH_ERROR;
		foreach(lc, GetForeignColumnOptions(relid, att->attnum))
		{
			DefElem    *opt = lfirst(lc);

			if (strcmp(opt->defname, "field") == 0)
				col->field = defGetString(opt);
			else if (strcmp(opt->defname, "on_mismatch") == 0)
				col->on_mismatch = strcmp(defGetString(opt), "null") == 0 ?
					MONGO_MISMATCH_NULL : MONGO_MISMATCH_ERROR;
			else if (strcmp(opt->defname, "whole_document") == 0)
				col->whole_document = defGetBoolean(opt);
		}
		if (col->whole_document)
		{
			col->field = NULL;
			if (col->atttype != JSONBOID)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("column \"%s\" of foreign table \"%s\" has option whole_document but type %s",
								col->attname, table->relname, format_type_be(col->atttype)),
						 errhint("A whole-document column must be of type jsonb.")));
		}
		else if (!MongoValidFieldPath(col->field))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("column \"%s\" of foreign table \"%s\" maps to the invalid field \"%s\"",
							col->attname, table->relname, col->field),
					 errhint("Set its field option to a dot path such as \"event.item_id\".")));
		table->by_attnum[att->attnum - 1] = col;
	}
	table_close(rel, NoLock);
	return table;
}

MongoColumn *
MongoTableColumn(MongoTable *table, AttrNumber attnum)
{
	if (attnum < 1 || attnum > table->natts)
		return NULL;
	return table->by_attnum[attnum - 1];
}

/* The column mapped to the document's _id, or NULL. */
MongoColumn *
MongoTableIdColumn(MongoTable *table)
{
	for (int i = 0; i < table->ncolumns; i++)
	{
		if (table->columns[i].field && strcmp(table->columns[i].field, "_id") == 0)
			return &table->columns[i];
	}
	return NULL;
}
