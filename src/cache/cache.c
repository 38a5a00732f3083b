/*
 * cache.c
 *		Recommendation lists in Redis: the read-through cache used by
 *		recs_topk, recs_precompute (cache warming, also into the table
 *		recs.precomputed), recs_cache_stats and the recs.* cache settings.
 *
 * Each user's lists under one model version are one Redis hash,
 *		key   recs:<database oid>:<model>:<version id>:<user id>
 *		field <k>:<e|a>
 * where the version id is recs.model_versions.id (never reused), so that
 * activating another version or rolling back never serves a stale list, and
 * e/a is exclude_seen true/false.  One key per user lets an online update
 * drop all of that user's lists with one DEL (recs_cache_invalidate), and
 * the TTL (recs.cache_ttl) applies to the key.  Values are a compact binary
 * list (see EncodeList); anything that does not decode exactly is counted
 * as an error and treated as a miss.
 *
 * Redis problems never raise an ERROR here: see redis.c.  The counters are
 * per backend (no shared memory, so that they work without preloading).
 */
#include "postgres.h"

#include <limits.h>
#include <hiredis.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache/cache.h"
#include "registry/registry.h"
#include "serve/serve.h"

PG_FUNCTION_INFO_V1(recs_cache_stats);
PG_FUNCTION_INFO_V1(recs_precompute);
PG_FUNCTION_INFO_V1(recs_cache_lookup);
PG_FUNCTION_INFO_V1(recs_cache_invalidate);

char	   *recs_redis_url = NULL;
int			recs_cache_ttl = 3600;
int			recs_cache_warm_users = 1000;
int			recs_redis_timeout_ms = 50;
int			recs_cache_breaker_seconds = 30;

#define RECS_CACHE_MAGIC "RCL1"
#define RECS_CACHE_MAX_SOURCES 16
/* lists per pipeline when warming (an HSET and an EXPIRE each) */
#define RECS_WARM_BATCH 256

void
RecsCacheInit(void)
{
	DefineCustomStringVariable("recs.redis_url",
							   "Redis server for the recommendation cache (redis://[:password@]host[:port][/db]).",
							   "Empty turns the cache off.  Visible to superusers only, as it may hold a password.",
							   &recs_redis_url,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("recs.cache_ttl",
							"How long cached recommendation lists live in Redis.",
							"0 keeps them until a new version makes them unused.",
							&recs_cache_ttl,
							3600, 0, INT_MAX / 1000,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("recs.cache_warm_users",
							"How many of the most active users cache warming precomputes per model.",
							NULL,
							&recs_cache_warm_users,
							1000, 1, 10000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("recs.redis_timeout_ms",
							"Connect and command timeout for Redis.",
							"A query waits at most this long for Redis before computing the answer itself.",
							&recs_redis_timeout_ms,
							50, 1, 60000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	RecsLocalCacheInit();
	DefineCustomIntVariable("recs.cache_breaker_seconds",
							"How long to leave Redis alone after a failure.",
							NULL,
							&recs_cache_breaker_seconds,
							30, 0, 86400,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

static char *
CacheKey(const RecsLoadedModel *model, int64 user_id)
{
	return psprintf("recs:%u:%s:" INT64_FORMAT ":" INT64_FORMAT,
					MyDatabaseId, model->name, model->version_id, user_id);
}

static char *
CacheField(int k, bool exclude_seen)
{
	return psprintf("%d:%c", k, exclude_seen ? 'e' : 'a');
}

/*
 * The value: "RCL1", uint32 n, uint8 number of distinct sources, each as
 * uint8 length + bytes, then n entries of int64 item id, float4 score,
 * uint8 source index.  Host byte order: the cache is private to one
 * installation.  Returns NULL when the list cannot be encoded (more than
 * RECS_CACHE_MAX_SOURCES distinct sources or a source longer than 255).
 */
static char *
EncodeList(const int64 *item_ids, const float4 *scores, const char *const *sources,
		   int n, size_t *len)
{
	const char *names[RECS_CACHE_MAX_SOURCES];
	uint8		index[RECS_MAX_K];
	int			nnames = 0;
	StringInfoData buf;
	uint32		n32 = (uint32) n;

	Assert(n >= 0 && n <= RECS_MAX_K);
	for (int i = 0; i < n; i++)
	{
		int			j;

		for (j = 0; j < nnames; j++)
			if (strcmp(names[j], sources[i]) == 0)
				break;
		if (j == nnames)
		{
			if (nnames == RECS_CACHE_MAX_SOURCES || strlen(sources[i]) > 255)
				return NULL;
			names[nnames++] = sources[i];
		}
		index[i] = (uint8) j;
	}

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, RECS_CACHE_MAGIC, 4);
	appendBinaryStringInfo(&buf, (char *) &n32, sizeof(n32));
	appendStringInfoChar(&buf, (char) nnames);
	for (int j = 0; j < nnames; j++)
	{
		appendStringInfoChar(&buf, (char) strlen(names[j]));
		appendBinaryStringInfo(&buf, names[j], strlen(names[j]));
	}
	for (int i = 0; i < n; i++)
	{
		appendBinaryStringInfo(&buf, (char *) &item_ids[i], sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) &scores[i], sizeof(float4));
		appendStringInfoChar(&buf, (char) index[i]);
	}
	*len = buf.len;
	return buf.data;
}

/* Decode a value; false if it is not exactly a list of at most k entries. */
static bool
DecodeList(const char *v, size_t len, int k, int64 **item_ids, float4 **scores,
		   char ***sources, int *n)
{
	const char *p = v;
	const char *end = v + len;
	uint32		n32;
	int			nnames;
	char	   *names[RECS_CACHE_MAX_SOURCES];
	const size_t entry = sizeof(int64) + sizeof(float4) + 1;

	if (len < 9 || memcmp(p, RECS_CACHE_MAGIC, 4) != 0)
		return false;
	p += 4;
	memcpy(&n32, p, sizeof(n32));
	p += sizeof(n32);
	nnames = (uint8) *p++;
	if (n32 > (uint32) k || nnames > RECS_CACHE_MAX_SOURCES)
		return false;
	for (int j = 0; j < nnames; j++)
	{
		int			l;

		if (p >= end)
			return false;
		l = (uint8) *p++;
		if (end - p < l)
			return false;
		names[j] = pnstrdup(p, l);
		p += l;
	}
	if ((size_t) (end - p) != (size_t) n32 * entry)
		return false;

	*item_ids = palloc(sizeof(int64) * Max(n32, 1));
	*scores = palloc(sizeof(float4) * Max(n32, 1));
	*sources = palloc(sizeof(char *) * Max(n32, 1));
	for (uint32 i = 0; i < n32; i++)
	{
		int			j;

		memcpy(&(*item_ids)[i], p, sizeof(int64));
		p += sizeof(int64);
		memcpy(&(*scores)[i], p, sizeof(float4));
		p += sizeof(float4);
		j = (uint8) *p++;
		if (j >= nnames)
			return false;
		(*sources)[i] = names[j];
	}
	*n = (int) n32;
	return true;
}

bool
RecsCacheGet(const RecsLoadedModel *model, int64 user_id, int k, bool exclude_seen,
			 int64 **item_ids, float4 **scores, char ***sources, int *n)
{
	RecsRedisCommand cmd;
	char	   *key;
	char	   *field;

	if (!RecsRedisEnabled())
		return false;
	key = CacheKey(model, user_id);
	field = CacheField(k, exclude_seen);
	memset(&cmd, 0, sizeof(cmd));
	cmd.argc = 3;
	cmd.argv[0] = "HGET";
	cmd.argvlen[0] = 4;
	cmd.argv[1] = key;
	cmd.argvlen[1] = strlen(key);
	cmd.argv[2] = field;
	cmd.argvlen[2] = strlen(field);
	if (!RecsRedisRun(&cmd, 1))
		return false;
	if (cmd.reply_type == REDIS_REPLY_NIL)
	{
		RecsRedis.misses++;
		return false;
	}
	if (cmd.reply_type != REDIS_REPLY_STRING ||
		!DecodeList(cmd.reply_str, cmd.reply_len, k, item_ids, scores, sources, n))
	{
		/* garbage: count it, compute instead; the Put that follows replaces it */
		RecsRedis.errors++;
		RecsRedis.misses++;
		snprintf(RecsRedis.last_error, sizeof(RecsRedis.last_error),
				 "Redis returned a value that is not a recs list for key \"%s\" field \"%s\"",
				 key, field);
		return false;
	}
	RecsRedis.hits++;
	return true;
}

/*
 * Fill cmds[0..1] with HSET key field value and EXPIRE key ttl; returns how
 * many commands (1 without a TTL).  ttl_text must outlive the commands.
 */
static int
MakeStore(RecsRedisCommand *cmds, const char *key, const char *field,
		  const char *value, size_t len, const char *ttl_text)
{
	memset(&cmds[0], 0, sizeof(RecsRedisCommand));
	cmds[0].argc = 4;
	cmds[0].argv[0] = "HSET";
	cmds[0].argvlen[0] = 4;
	cmds[0].argv[1] = key;
	cmds[0].argvlen[1] = strlen(key);
	cmds[0].argv[2] = field;
	cmds[0].argvlen[2] = strlen(field);
	cmds[0].argv[3] = value;
	cmds[0].argvlen[3] = len;
	if (recs_cache_ttl <= 0)
		return 1;
	memset(&cmds[1], 0, sizeof(RecsRedisCommand));
	cmds[1].argc = 3;
	cmds[1].argv[0] = "EXPIRE";
	cmds[1].argvlen[0] = 6;
	cmds[1].argv[1] = key;
	cmds[1].argvlen[1] = strlen(key);
	cmds[1].argv[2] = ttl_text;
	cmds[1].argvlen[2] = strlen(ttl_text);
	return 2;
}

/* Run a pipeline of MakeStore pairs; returns how many lists were stored. */
static int64
RunStores(RecsRedisCommand *cmds, int n)
{
	int64		ok = 0;

	if (n == 0 || !RecsRedisRun(cmds, n))
		return 0;
	for (int i = 0; i < n; i++)
	{
		if (cmds[i].reply_type == REDIS_REPLY_INTEGER)
		{
			if (strcmp(cmds[i].argv[0], "HSET") == 0)
				ok++;
			continue;
		}
		RecsRedis.errors++;
		snprintf(RecsRedis.last_error, sizeof(RecsRedis.last_error),
				 "Redis refused %s: %s", cmds[i].argv[0],
				 cmds[i].reply_str ? cmds[i].reply_str : "(no reply)");
	}
	RecsRedis.puts += ok;
	return ok;
}

void
RecsCachePut(const RecsLoadedModel *model, int64 user_id, int k, bool exclude_seen,
			 const int64 *item_ids, const float4 *scores, const char *const *sources,
			 int n)
{
	RecsRedisCommand cmds[2];
	char	   *value;
	size_t		len;
	char		ttl_text[16];

	if (!RecsRedisEnabled() || n < 0 || n > k)
		return;
	value = EncodeList(item_ids, scores, sources, n, &len);
	if (value == NULL)
		return;
	snprintf(ttl_text, sizeof(ttl_text), "%d", recs_cache_ttl);
	RunStores(cmds, MakeStore(cmds, CacheKey(model, user_id), CacheField(k, exclude_seen),
							  value, len, ttl_text));
	pfree(value);
}

/*
 * Drop every cached list of the given users under the model's loaded
 * version; returns how many users had lists.  Failures are counted, never
 * raised.
 */
int64
RecsCacheInvalidate(const RecsLoadedModel *model, const int64 *user_ids, int n)
{
	RecsRedisCommand *cmds;
	int64		dropped = 0;

	if (!RecsRedisEnabled() || n == 0)
		return 0;
	cmds = palloc0(sizeof(RecsRedisCommand) * n);
	for (int i = 0; i < n; i++)
	{
		char	   *key = CacheKey(model, user_ids[i]);

		cmds[i].argc = 2;
		cmds[i].argv[0] = "DEL";
		cmds[i].argvlen[0] = 3;
		cmds[i].argv[1] = key;
		cmds[i].argvlen[1] = strlen(key);
	}
	if (RecsRedisRun(cmds, n))
		for (int i = 0; i < n; i++)
			if (cmds[i].reply_type == REDIS_REPLY_INTEGER)
				dropped += cmds[i].reply_integer;
	return dropped;
}

static void
CheckK(int32 k)
{
	if (k <= 0 || k > RECS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", RECS_MAX_K, k)));
}

/*
 * recs_cache_stats(): this backend's cache counters and breaker state.
 */
Datum
recs_cache_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[14];
	bool		nulls[14] = {0};
	TimestampTz until;
	bool		open = RecsRedisBreakerOpen(&until);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	values[0] = BoolGetDatum(RecsRedisEnabled());
	values[1] = Int64GetDatum(RecsRedis.hits);
	values[2] = Int64GetDatum(RecsRedis.misses);
	values[3] = Int64GetDatum(RecsRedis.puts);
	values[4] = Int64GetDatum(RecsRedis.errors);
	values[5] = Int64GetDatum(RecsRedis.skipped);
	values[6] = CStringGetTextDatum(!RecsRedisEnabled() ? "off" : open ? "open" : "closed");
	if (open)
		values[7] = TimestampTzGetDatum(until);
	else
		nulls[7] = true;
	if (RecsRedis.requests > 0)
	{
		values[8] = Float8GetDatum(RecsRedis.total_ms / RecsRedis.requests);
		values[9] = Float8GetDatum(RecsRedis.max_ms);
	}
	else
		nulls[8] = nulls[9] = true;
	if (RecsRedis.last_error[0] != '\0')
		values[10] = CStringGetTextDatum(RecsRedis.last_error);
	else
		nulls[10] = true;
	values[11] = Int64GetDatum(RecsLocal.hits);
	values[12] = Int64GetDatum(RecsLocal.misses);
	values[13] = Int64GetDatum(RecsLocalCacheEntries());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* Order users by number of interactions, most first, then by index. */
static const RecsInteractions *sort_data;

static int
CompareActivity(const void *a, const void *b)
{
	int32		ua = *(const int32 *) a;
	int32		ub = *(const int32 *) b;
	int64		na = sort_data->row_ptr[ua + 1] - sort_data->row_ptr[ua];
	int64		nb = sort_data->row_ptr[ub + 1] - sort_data->row_ptr[ub];

	if (na != nb)
		return na > nb ? -1 : 1;
	return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/* Send the SETs collected so far; returns how many Redis accepted. */
/*
 * recs_precompute(model text, k integer): the top-k lists (exclude_seen, as
 * recs_topk's default) of the recs.cache_warm_users most active users of
 * the model's active version, into recs.precomputed (replacing the model's
 * rows) and, with recs.redis_url set, into Redis in pipelined batches.
 * Returns the version, the number of users and the number of lists cached.
 * A Redis failure is not an error: it is reported as a WARNING and counted.
 */
Datum
recs_precompute(PG_FUNCTION_ARGS)
{
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		k;
	RecsLoadedModel *model;
	const RecsInteractions *data;
	int32	   *users;
	int32		n_users;
	SPIPlanPtr	insert;
	Oid			argtypes[5] = {TEXTOID, INT4OID, INT8OID, INT8ARRAYOID, FLOAT4ARRAYOID};
	MemoryContext user_cxt;
	MemoryContext batch_cxt;
	MemoryContext oldcxt;
	RecsRedisCommand *batch;
	int			nbatch = 0;
	int64		cached = 0;
	int64		errors_before = RecsRedis.errors;
	bool		use_redis = RecsRedisEnabled();
	char		ttl_text[16];
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {0};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k must not be NULL")));
	k = PG_GETARG_INT32(1);
	CheckK(k);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	model = RecsGetModel(name);
	data = model->data;

	n_users = Min(data->n_users, recs_cache_warm_users);
	users = palloc(sizeof(int32) * Max(data->n_users, 1));
	for (int32 u = 0; u < data->n_users; u++)
		users[u] = u;
	sort_data = data;
	qsort(users, data->n_users, sizeof(int32), CompareActivity);

	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM recs.precomputed WHERE model OPERATOR(pg_catalog.=) $1",
							  1, argtypes, (Datum[]) {CStringGetTextDatum(model->name)},
							  NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not clear recs.precomputed");
	insert = SPI_prepare("INSERT INTO recs.precomputed (model, version, user_id, items, scores)"
						 " VALUES ($1, $2, $3, $4, $5)", 5, argtypes);
	if (insert == NULL)
		elog(ERROR, "could not prepare the insert into recs.precomputed");

	user_cxt = AllocSetContextCreate(CurrentMemoryContext, "recs precompute user",
									 ALLOCSET_DEFAULT_SIZES);
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "recs precompute batch",
									  ALLOCSET_DEFAULT_SIZES);
	batch = palloc(sizeof(RecsRedisCommand) * 2 * RECS_WARM_BATCH);
	snprintf(ttl_text, sizeof(ttl_text), "%d", recs_cache_ttl);

	for (int32 i = 0; i < n_users; i++)
	{
		int32		u = users[i];
		RecsServeOptions defaults = {0};
		RecsServeInfo info;
		RecsRanking ranking;
		int64	   *item_ids;
		float4	   *scores;
		const char **sources;
		Datum		args[5];

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(user_cxt);

		/* exactly what recs_topk computes with the default options */
		RecsServeList(model, data->user_ids[u], k, &defaults, &ranking, &info);

		item_ids = palloc(sizeof(int64) * Max(ranking.n, 1));
		scores = palloc(sizeof(float4) * Max(ranking.n, 1));
		sources = palloc(sizeof(char *) * Max(ranking.n, 1));
		for (int r = 0; r < ranking.n; r++)
		{
			item_ids[r] = data->item_ids[ranking.items[r]];
			scores[r] = ranking.scores[r];
			sources[r] = ranking.sources[r];
		}

		args[0] = CStringGetTextDatum(model->name);
		args[1] = Int32GetDatum(model->version);
		args[2] = Int64GetDatum(data->user_ids[u]);
		{
			Datum	   *id = palloc(sizeof(Datum) * Max(ranking.n, 1));
			Datum	   *sd = palloc(sizeof(Datum) * Max(ranking.n, 1));

			for (int r = 0; r < ranking.n; r++)
			{
				id[r] = Int64GetDatum(item_ids[r]);
				sd[r] = Float4GetDatum(scores[r]);
			}
			args[3] = PointerGetDatum(construct_array(id, ranking.n, INT8OID,
													  sizeof(int64), FLOAT8PASSBYVAL,
													  TYPALIGN_DOUBLE));
			args[4] = PointerGetDatum(construct_array(sd, ranking.n, FLOAT4OID,
													  sizeof(float4), true, TYPALIGN_INT));
		}
		if (SPI_execute_plan(insert, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into recs.precomputed");

		if (use_redis)
		{
			char	   *value;
			size_t		len;

			MemoryContextSwitchTo(batch_cxt);
			value = EncodeList(item_ids, scores, sources, ranking.n, &len);
			if (value != NULL)
				nbatch += MakeStore(&batch[nbatch], CacheKey(model, data->user_ids[u]),
									CacheField(k, true), value, len, ttl_text);
			if (nbatch >= 2 * RECS_WARM_BATCH)
			{
				cached += RunStores(batch, nbatch);
				nbatch = 0;
				MemoryContextReset(batch_cxt);
			}
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(user_cxt);
	}
	if (use_redis)
		cached += RunStores(batch, nbatch);
	SPI_finish();

	if (use_redis && RecsRedis.errors > errors_before)
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not cache every precomputed list in Redis"),
				 errdetail("%s", RecsRedis.last_error),
				 errhint("The lists are in recs.precomputed; recs_topk computes the others.")));

	values[0] = Int32GetDatum(model->version);
	values[1] = Int64GetDatum(n_users);
	values[2] = Int64GetDatum(cached);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * recs.cache_lookup(user_id, k, model, exclude_seen): what the cache holds
 * for these arguments under the model's active version, as recs_topk rows;
 * no rows on a miss or with the cache off.  For tests and diagnosis.
 */
Datum
recs_cache_lookup(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	int32		k;
	RecsLoadedModel *model;
	int64	   *item_ids;
	float4	   *scores;
	char	  **sources;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id, k and exclude_seen must not be NULL")));
	k = PG_GETARG_INT32(1);
	CheckK(k);
	name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	InitMaterializedSRF(fcinfo, 0);
	model = RecsGetModel(name);
	if (RecsCacheGet(model, PG_GETARG_INT64(0), k, PG_GETARG_BOOL(3),
					 &item_ids, &scores, &sources, &n))
	{
		for (int i = 0; i < n; i++)
		{
			Datum		values[4];
			bool		nulls[4] = {0};

			values[0] = Int64GetDatum(item_ids[i]);
			values[1] = Float8GetDatum(scores[i]);
			values[2] = Int32GetDatum(i + 1);
			values[3] = CStringGetTextDatum(sources[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * recs_cache_invalidate(model text, user_ids bigint[]): drop the users'
 * lists under the model's active version (the worker calls it for users
 * with online updates).
 */
Datum
recs_cache_invalidate(PG_FUNCTION_ARGS)
{
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int64	   *ids;
	int			m = 0;

	if (PG_ARGISNULL(1))
		PG_RETURN_INT64(0);
	array = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("user_ids must be a one-dimensional array")));
	deconstruct_array(array, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	ids = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			ids[m++] = DatumGetInt64(elems[i]);
	PG_RETURN_INT64(RecsCacheInvalidate(RecsGetModel(name), ids, m));
}
