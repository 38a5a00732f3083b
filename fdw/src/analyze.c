/*
 * analyze.c
 *		ANALYZE of a foreign table: the collection's document count and a
 *		random sample of its documents.
 *
 * The count is MongoDB's estimate (estimatedDocumentCount, from collection
 * metadata, not a scan); the sample comes from a $sample aggregation stage
 * projected to the mapped fields, so the server picks the rows and only
 * the sample travels.  The rows are converted exactly as a scan would
 * convert them, so a value that does not fit its column fails ANALYZE the
 * same way (or reads as NULL with on_mismatch 'null').  Like postgres_fdw,
 * ANALYZE connects with the table owner's user mapping.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "recs_mongo_fdw.h"

static int
AcquireSampleRows(Relation relation, int elevel, HeapTuple *rows, int targrows,
				  double *totalrows, double *totaldeadrows)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt;
	MemoryContext row_cxt;
	MongoTable *table = MongoGetTable(RelationGetRelid(relation));
	TupleDesc	tupdesc = RelationGetDescr(relation);
	MongoHandle *handle;
	bson_t	   *pipeline;
	bson_t	   *projection;
	bson_t		stage;
	bson_t		inner;
	bson_error_t error;
	List	   *attrs = NIL;
	int64		count;
	int			nrows = 0;
	const bson_t *doc;
	Datum	   *values = palloc(sizeof(Datum) * tupdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * tupdesc->natts);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "recs_mongo_fdw analyze",
								ALLOCSET_DEFAULT_SIZES);
	row_cxt = AllocSetContextCreate(cxt, "recs_mongo_fdw analyze row",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);

	handle = MongoHandleCreate(cxt, table->serverid, relation->rd_rel->relowner,
							   table->database, table->collection);
	count = mongoc_collection_estimated_document_count(handle->collection, NULL, NULL,
													   NULL, &error);
	if (count < 0)
		MongoReportError(handle->conn, &error,
						 psprintf("count documents of collection \"%s.%s\"",
								  table->database, table->collection));
	if (count == 0)
		MongoCheckCollectionExists(handle->conn, table->database, table->collection);

	/* [{$sample: {size: targrows}}, {$project: {fields}}] */
	for (int i = 0; i < table->ncolumns; i++)
		attrs = lappend_int(attrs, table->columns[i].attnum);
	projection = MongoBsonCreate(cxt);
	MongoBuildProjection(projection, table, attrs);
	pipeline = MongoBsonCreate(cxt);
	BSON_APPEND_DOCUMENT_BEGIN(pipeline, "0", &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$sample", &inner);
	BSON_APPEND_INT32(&inner, "size", targrows);
	bson_append_document_end(&stage, &inner);
	bson_append_document_end(pipeline, &stage);
	if (!bson_empty(projection))
	{
		BSON_APPEND_DOCUMENT_BEGIN(pipeline, "1", &stage);
		BSON_APPEND_DOCUMENT(&stage, "$project", projection);
		bson_append_document_end(pipeline, &stage);
	}
	handle->cursor = mongoc_collection_aggregate(handle->collection, MONGOC_QUERY_NONE,
												 pipeline, NULL, NULL);

	while (nrows < targrows && mongoc_cursor_next(handle->cursor, &doc))
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(row_cxt);
		MemoryContextSwitchTo(row_cxt);
		memset(nulls, true, sizeof(bool) * tupdesc->natts);
		MongoDocumentToValues(doc, table, attrs, values, nulls);
		MemoryContextSwitchTo(caller);
		rows[nrows++] = heap_form_tuple(tupdesc, values, nulls);
	}
	if (mongoc_cursor_error(handle->cursor, &error))
		MongoReportError(handle->conn, &error,
						 psprintf("sample documents of collection \"%s.%s\"",
								  table->database, table->collection));

	*totalrows = Max((double) count, (double) nrows);
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": MongoDB collection \"%s.%s\" holds about " INT64_FORMAT " documents; %d sampled",
					RelationGetRelationName(relation), table->database, table->collection,
					count, nrows)));

	MemoryContextSwitchTo(caller);
	MemoryContextDelete(cxt);
	return nrows;
}

bool
mongoAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	*func = AcquireSampleRows;
	*totalpages = 1;			/* documents have no pages; only reported */
	return true;
}
