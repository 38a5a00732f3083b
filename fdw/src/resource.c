/*
 * resource.c
 *		Driver objects whose lifetime is a PostgreSQL memory context's.
 *
 * libmongoc and libbson allocate with malloc, and an ERROR (or a cancel)
 * longjmps past any code that would free what they returned.  Every
 * cursor, collection and bson_t this extension keeps across a call that can
 * raise an error is therefore registered with
 * MemoryContextRegisterResetCallback on the context that matches its
 * lifetime (a scan's cursor context, the query's executor context), so that
 * resetting or deleting the context, including during abort, destroys it.
 * A handle also holds its connection's reference, released the same way.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "recs_mongo_fdw.h"

static void
HandleReset(void *arg)
{
	MongoHandle *handle = arg;

	/*
	 * Destroying a cursor that the server still holds sends killCursors, so
	 * a scan cut short by an ERROR or a cancel frees the server side too.
	 */
	if (handle->cursor)
	{
		mongoc_cursor_destroy(handle->cursor);
		handle->cursor = NULL;
	}
	if (handle->collection)
	{
		mongoc_collection_destroy(handle->collection);
		handle->collection = NULL;
	}
	if (handle->conn)
	{
		MongoRelease(handle->conn);
		handle->conn = NULL;
	}
}

/*
 * A handle holding the connection of userid to serverid and, when database
 * and collection are given, that collection; all destroyed with cxt.  The
 * handle is registered before the connection is taken, so that no error
 * can leave a reference behind.
 */
MongoHandle *
MongoHandleCreate(MemoryContext cxt, Oid serverid, Oid userid,
				  const char *database, const char *collection)
{
	MongoHandle *handle = MemoryContextAllocZero(cxt, sizeof(MongoHandle));

	handle->callback.func = HandleReset;
	handle->callback.arg = handle;
	MemoryContextRegisterResetCallback(cxt, &handle->callback);
	handle->conn = MongoAcquire(serverid, userid);
	if (database && collection)
		handle->collection = mongoc_client_get_collection(MongoClient(handle->conn),
														  database, collection);
	return handle;
}

typedef struct BsonHolder
{
	bson_t	   *bson;
	MemoryContextCallback callback;
} BsonHolder;

static void
BsonReset(void *arg)
{
	BsonHolder *holder = arg;

	bson_destroy(holder->bson);
}

/* An empty bson_t destroyed with cxt. */
bson_t *
MongoBsonCreate(MemoryContext cxt)
{
	BsonHolder *holder = MemoryContextAlloc(cxt, sizeof(BsonHolder));

	holder->callback.func = BsonReset;
	holder->callback.arg = holder;
	holder->bson = bson_new();
	MemoryContextRegisterResetCallback(cxt, &holder->callback);
	return holder->bson;
}
