/*
 * connection.c
 *		One cached libmongoc client per user mapping, and the translation of
 *		libmongoc errors into PostgreSQL errors.
 *
 * A backend keeps one mongoc_client_t per (server, user mapping), created on
 * first use and reused by every later scan and modification, like
 * postgres_fdw's connection cache.  Creating a client does no I/O: libmongoc
 * connects (and authenticates) on the first command, so there is no ping
 * per connection.  Changing the server or the user mapping marks the client
 * invalid through syscache callbacks; it is destroyed and rebuilt at its
 * next use once no scan holds it (a reference count kept by the handles of
 * resource.c, which an ERROR releases through memory context callbacks).
 *
 * Connections without TLS use stream.c's sockets, whose reads give up as
 * soon as the query is canceled.
 *
 * Credentials are set with mongoc_uri_set_username/password on a parsed
 * URI: they are never formatted into a URI string, and no message repeats
 * them.  Every error raised here has an FDW SQLSTATE (class HV).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "recs_mongo_fdw.h"

PG_FUNCTION_INFO_V1(recs_mongo_fdw_get_connections);
PG_FUNCTION_INFO_V1(recs_mongo_fdw_disconnect_all);

typedef struct MongoConnectionKey
{
	Oid			serverid;
	Oid			umid;			/* InvalidOid: no user mapping applies */
} MongoConnectionKey;

struct MongoConnection
{
	MongoConnectionKey key;		/* hash key: must be first */
	mongoc_client_t *client;	/* NULL when closed */
	Oid			userid;			/* the mapping's user, InvalidOid for PUBLIC */
	bool		has_mapping;
	char	   *server_name;	/* in TopMemoryContext */
	int			refcount;		/* handles using the client */
	bool		invalidated;	/* server or mapping changed since */
	uint32		server_hashvalue;
	uint32		mapping_hashvalue;
};

static HTAB *ConnectionHash = NULL;

static void DestroyClient(MongoConnection *conn);

/* libmongoc's log goes nowhere: every failure reaches us as a bson_error_t. */
static void
DiscardLog(mongoc_log_level_t level, const char *domain, const char *message,
		   void *user_data)
{
}

static void
InvalidationCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	MongoConnection *conn;

	if (ConnectionHash == NULL)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = hash_seq_search(&scan)) != NULL)
	{
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && conn->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID &&
			 (conn->mapping_hashvalue == hashvalue || !conn->has_mapping)))
			conn->invalidated = true;
	}
}

void
MongoConnectionInit(void)
{
	mongoc_init();
	mongoc_log_set_handler(DiscardLog, NULL);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, InvalidationCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, InvalidationCallback, (Datum) 0);
}

static DefElem *
Option(List *options, const char *name)
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

static const char *
StringOption(List *options, const char *name)
{
	DefElem    *def = Option(options, name);

	return def ? defGetString(def) : NULL;
}

/*
 * Build the client for a server and (possibly NULL) user mapping.  All
 * option values are read (which may raise errors) before the first driver
 * object exists, and every driver object is destroyed before an error is
 * raised, so nothing leaks.
 */
static mongoc_client_t *
CreateClient(ForeignServer *server, UserMapping *mapping)
{
	const char *uri_string = StringOption(server->options, "uri");
	const char *host = StringOption(server->options, "host");
	const char *port = StringOption(server->options, "port");
	const char *replica_set = StringOption(server->options, "replica_set");
	const char *auth_source = StringOption(server->options, "auth_source");
	const char *auth_mechanism = StringOption(server->options, "auth_mechanism");
	const char *username = mapping ? StringOption(mapping->options, "username") : NULL;
	const char *password = mapping ? StringOption(mapping->options, "password") : NULL;
	static const struct
	{
		const char *option;
		const char *uri_option;
	}			int_options[] = {
		{"server_selection_timeout_ms", MONGOC_URI_SERVERSELECTIONTIMEOUTMS},
		{"connect_timeout_ms", MONGOC_URI_CONNECTTIMEOUTMS},
		{"socket_timeout_ms", MONGOC_URI_SOCKETTIMEOUTMS},
	}, bool_options[] = {
		{"tls", MONGOC_URI_TLS},
		{"tls_allow_invalid_certificates", MONGOC_URI_TLSALLOWINVALIDCERTIFICATES},
		{"tls_allow_invalid_hostnames", MONGOC_URI_TLSALLOWINVALIDHOSTNAMES},
	}, string_options[] = {
		{"tls_ca_file", MONGOC_URI_TLSCAFILE},
		{"tls_certificate_key_file", MONGOC_URI_TLSCERTIFICATEKEYFILE},
	};
	int32		int_values[lengthof(int_options)];
	bool		int_set[lengthof(int_options)];
	bool		bool_values[lengthof(bool_options)];
	bool		bool_set[lengthof(bool_options)];
	const char *string_values[lengthof(string_options)];
	mongoc_uri_t *uri;
	mongoc_client_t *client = NULL;
	bson_error_t error;
	const char *failure = NULL;
	bool		use_tls = false;

	for (size_t i = 0; i < lengthof(int_options); i++)
	{
		DefElem    *def = Option(server->options, int_options[i].option);

		int_set[i] = def != NULL;
		int_values[i] = def ? pg_strtoint32(defGetString(def)) : 0;
	}
	for (size_t i = 0; i < lengthof(bool_options); i++)
	{
		DefElem    *def = Option(server->options, bool_options[i].option);

		bool_set[i] = def != NULL;
		bool_values[i] = def ? defGetBoolean(def) : false;
	}
	for (size_t i = 0; i < lengthof(string_options); i++)
		string_values[i] = StringOption(server->options, string_options[i].option);

	/* From here on: no ereport until the driver objects are gone. */
	memset(&error, 0, sizeof(error));
	if (uri_string)
		uri = mongoc_uri_new_with_error(uri_string, &error);
	else
		uri = mongoc_uri_new_for_host_port(host ? host : "localhost",
										   port ? (uint16_t) atoi(port) : 27017);
	if (uri == NULL)
		failure = "invalid uri";
	else
	{
		if (replica_set && !mongoc_uri_set_option_as_utf8(uri, MONGOC_URI_REPLICASET, replica_set))
			failure = "invalid replica_set";
		if (username && !mongoc_uri_set_username(uri, username))
			failure = "invalid username";
		if (password && !mongoc_uri_set_password(uri, password))
			failure = "invalid password";
		if (auth_source && !mongoc_uri_set_auth_source(uri, auth_source))
			failure = "invalid auth_source";
		if (auth_mechanism && !mongoc_uri_set_auth_mechanism(uri, auth_mechanism))
			failure = "invalid auth_mechanism";
		for (size_t i = 0; i < lengthof(int_options); i++)
			if (int_set[i])
				mongoc_uri_set_option_as_int32(uri, int_options[i].uri_option, int_values[i]);
		for (size_t i = 0; i < lengthof(bool_options); i++)
			if (bool_set[i])
				mongoc_uri_set_option_as_bool(uri, bool_options[i].uri_option, bool_values[i]);
		for (size_t i = 0; i < lengthof(string_options); i++)
			if (string_values[i])
				mongoc_uri_set_option_as_utf8(uri, string_options[i].uri_option, string_values[i]);
		if (!mongoc_uri_get_option_as_utf8(uri, MONGOC_URI_APPNAME, NULL))
			mongoc_uri_set_appname(uri, "recs_mongo_fdw");

		use_tls = mongoc_uri_get_tls(uri);
		if (failure == NULL)
		{
			client = mongoc_client_new_from_uri_with_error(uri, &error);
			if (client == NULL)
				failure = "could not create the client";
		}
		mongoc_uri_destroy(uri);
	}

	if (client == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not set up a connection to MongoDB server \"%s\": %s",
						server->servername, failure),
				 error.message[0] ? errdetail("libmongoc: %s", error.message) : 0));

	mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
	/* Cancels interrupt waits for replies (stream.c); TLS keeps its streams. */
	if (!use_tls)
		mongoc_client_set_stream_initiator(client, MongoInterruptibleStreamInitiator, NULL);
	return client;
}

static void
DestroyClient(MongoConnection *conn)
{
	if (conn->client)
	{
		mongoc_client_t *client = conn->client;

		conn->client = NULL;
		mongoc_client_destroy(client);
	}
}

/*
 * The connection for the current user (or the given one) to a server.  The
 * caller must balance it with MongoRelease; resource.c's handles do that
 * even when an ERROR intervenes.
 */
MongoConnection *
MongoAcquire(Oid serverid, Oid userid)
{
	MongoConnectionKey key;
	MongoConnection *conn;
	HeapTuple	tuple;
	Oid			mapping_user = InvalidOid;
	bool		found;

	if (ConnectionHash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(MongoConnectionKey);
		ctl.entrysize = sizeof(MongoConnection);
		ConnectionHash = hash_create("recs_mongo_fdw connections", 8, &ctl,
									 HASH_ELEM | HASH_BLOBS);
	}

	/* The user's own mapping, else the PUBLIC one, else none. */
	memset(&key, 0, sizeof(key));
	key.serverid = serverid;
	tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							ObjectIdGetDatum(serverid));
	if (HeapTupleIsValid(tuple))
		mapping_user = userid;
	else
		tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
								ObjectIdGetDatum(serverid));
	if (HeapTupleIsValid(tuple))
	{
		key.umid = ((Form_pg_user_mapping) GETSTRUCT(tuple))->oid;
		ReleaseSysCache(tuple);
	}

	conn = hash_search(ConnectionHash, &key, HASH_ENTER, &found);
	if (!found)
	{
		conn->client = NULL;
		conn->refcount = 0;
		conn->invalidated = false;
		conn->server_name = NULL;
	}
	if (conn->client && conn->invalidated && conn->refcount == 0)
		DestroyClient(conn);

	if (conn->client == NULL)
	{
		ForeignServer *server = GetForeignServer(serverid);
		UserMapping *mapping = OidIsValid(key.umid) ? GetUserMapping(userid, serverid) : NULL;

		if (conn->server_name)
			pfree(conn->server_name);
		conn->server_name = MemoryContextStrdup(TopMemoryContext, server->servername);
		conn->has_mapping = mapping != NULL;
		conn->userid = mapping_user;
		conn->server_hashvalue = GetSysCacheHashValue1(FOREIGNSERVEROID,
													   ObjectIdGetDatum(serverid));
		conn->mapping_hashvalue = OidIsValid(key.umid) ?
			GetSysCacheHashValue1(USERMAPPINGOID, ObjectIdGetDatum(key.umid)) : 0;
		conn->invalidated = false;
		conn->client = CreateClient(server, mapping);
	}
	conn->refcount++;
	return conn;
}

void
MongoRelease(MongoConnection *conn)
{
	Assert(conn->refcount > 0);
	conn->refcount--;
}

mongoc_client_t *
MongoClient(MongoConnection *conn)
{
	return conn->client;
}

const char *
MongoServerName(MongoConnection *conn)
{
	return conn->server_name;
}

/*
 * Raise an error for a failed driver call.  doing says what we were doing
 * ("read collection \"db.events\"").  Connection-level failures are
 * HV00N, a missing namespace HV00R, anything else HV000; the driver's or
 * server's own text goes in the detail.
 */
void
MongoReportError(MongoConnection *conn, const bson_error_t *error, const char *doing)
{
	const char *server = conn ? conn->server_name : "?";

	/* A cancel that cut a read short is reported as the cancel it is. */
	CHECK_FOR_INTERRUPTS();

	switch (error->domain)
	{
		case MONGOC_ERROR_SERVER_SELECTION:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("could not connect to MongoDB server \"%s\"", server),
					 errdetail("libmongoc: %s", error->message),
					 errhint("Check the server's uri or host and port options; server_selection_timeout_ms and connect_timeout_ms bound the wait.")));
			break;
		case MONGOC_ERROR_CLIENT:
			if (error->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
						 errmsg("could not authenticate to MongoDB server \"%s\"", server),
						 errdetail("libmongoc: %s", error->message),
						 errhint("Check the username and password of the user mapping.")));
			break;
		case MONGOC_ERROR_SASL:
		case MONGOC_ERROR_SCRAM:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("could not authenticate to MongoDB server \"%s\"", server),
					 errdetail("libmongoc: %s", error->message),
					 errhint("Check the username and password of the user mapping.")));
			break;
		case MONGOC_ERROR_STREAM:
		case MONGOC_ERROR_PROTOCOL:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("lost connection to MongoDB server \"%s\" while trying to %s", server, doing),
					 errdetail("libmongoc: %s", error->message)));
			break;
		case MONGOC_ERROR_SERVER:
		case MONGOC_ERROR_QUERY:
			if (error->code == MONGOC_ERROR_COLLECTION_DOES_NOT_EXIST)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
						 errmsg("could not %s on MongoDB server \"%s\": namespace not found", doing, server),
						 errdetail("MongoDB error %u: %s", error->code, error->message)));
			if (error->code == 13 || error->code == 18)	/* Unauthorized,
														 * AuthenticationFailed */
				ereport(ERROR,
						(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
						 errmsg("MongoDB server \"%s\" refused to %s", server, doing),
						 errdetail("MongoDB error %u: %s", error->code, error->message),
						 errhint("Check the username and password of the user mapping and the user's roles.")));
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 errmsg("could not %s on MongoDB server \"%s\"", doing, server),
			 errdetail("MongoDB error %u: %s", error->code, error->message)));
}

/*
 * A scan that returned nothing: was the collection there at all?  MongoDB
 * answers a find on a missing collection with an empty result, which would
 * hide a typo in the collection option, so an empty scan asks
 * listCollections and raises HV00R when the collection does not exist.
 */
void
MongoCheckCollectionExists(MongoConnection *conn, const char *database,
						   const char *collection)
{
	mongoc_database_t *db;
	mongoc_cursor_t *cursor;
	bson_t	   *opts;
	const bson_t *doc;
	bson_error_t error;
	bool		exists;
	bool		failed;

	db = mongoc_client_get_database(conn->client, database);
	opts = BCON_NEW("filter", "{", "name", BCON_UTF8(collection), "}",
					"nameOnly", BCON_BOOL(true));
	cursor = mongoc_database_find_collections_with_opts(db, opts);
	exists = mongoc_cursor_next(cursor, &doc);
	failed = !exists && mongoc_cursor_error(cursor, &error);
	mongoc_cursor_destroy(cursor);
	bson_destroy(opts);
	mongoc_database_destroy(db);

	if (failed)
		MongoReportError(conn, &error, psprintf("list collections of database \"%s\"", database));
	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("collection \"%s\" does not exist in MongoDB database \"%s\" on server \"%s\"",
						collection, database, conn->server_name),
				 errhint("Check the foreign table's collection and database options.")));
}

/* ---- SQL-callable ------------------------------------------------------- */

/* recs_mongo_fdw_get_connections(): the cache, one row per connection. */
Datum
recs_mongo_fdw_get_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	MongoConnection *conn;

	InitMaterializedSRF(fcinfo, 0);
	if (ConnectionHash == NULL)
		PG_RETURN_VOID();
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = hash_seq_search(&scan)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (conn->client == NULL)
			continue;
		values[0] = CStringGetTextDatum(conn->server_name);
		if (!conn->has_mapping)
			nulls[1] = true;
		else if (!OidIsValid(conn->userid))
			values[1] = CStringGetTextDatum("public");
		else
			values[1] = CStringGetTextDatum(GetUserNameFromId(conn->userid, false));
		values[2] = BoolGetDatum(!conn->invalidated);
		values[3] = Int32GetDatum(conn->refcount);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

/* recs_mongo_fdw_disconnect_all(): close every idle cached client. */
Datum
recs_mongo_fdw_disconnect_all(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS scan;
	MongoConnection *conn;
	bool		closed = false;

	if (ConnectionHash == NULL)
		PG_RETURN_BOOL(false);
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = hash_seq_search(&scan)) != NULL)
	{
		if (conn->client && conn->refcount == 0)
		{
			DestroyClient(conn);
			closed = true;
		}
	}
	PG_RETURN_BOOL(closed);
}
