/*
 * cache.h
 *		The Redis cache of recommendation lists: a small client (redis.c) and
 *		the read-through cache and precomputation built on it (cache.c).
 *
 * Everything here degrades to "no cache": with recs.redis_url empty, while
 * the circuit breaker is open, or when Redis is slow or answers garbage,
 * RecsCacheGet returns false and RecsCachePut does nothing, so callers
 * compute the list themselves.  Neither ever raises an ERROR for a Redis
 * problem.
 */
#ifndef RECS_CACHE_H
#define RECS_CACHE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "models/algorithm.h"

/* GUCs (cache.c) */
extern char *recs_redis_url;
extern int	recs_cache_ttl;
extern int	recs_cache_warm_users;
extern int	recs_redis_timeout_ms;
extern int	recs_cache_breaker_seconds;

extern void RecsCacheInit(void);

/*
 * Read-through cache for recs_topk.  On a hit, fills *item_ids, *scores and
 * *sources (palloc'd in CurrentMemoryContext, *n entries, best first) and
 * returns true.  Returns false on a miss and whenever the cache is off or
 * unavailable.
 */
extern bool RecsCacheGet(const RecsLoadedModel *model, int64 user_id, int k,
						 bool exclude_seen, int64 **item_ids, float4 **scores,
						 char ***sources, int *n);

/* Store a list computed on a miss; failures are counted, never raised. */
extern void RecsCachePut(const RecsLoadedModel *model, int64 user_id, int k,
						 bool exclude_seen, const int64 *item_ids,
						 const float4 *scores, const char *const *sources, int n);

/* Drop the users' cached lists under the model's version; counts, never raises. */
extern int64 RecsCacheInvalidate(const RecsLoadedModel *model, const int64 *user_ids, int n);

/* ---- the first layer: lists in this backend's memory (local_cache.c) ---- */

typedef struct RecsLocalCacheStats
{
	int64		hits;
	int64		misses;
	int64		puts;
} RecsLocalCacheStats;

extern RecsLocalCacheStats RecsLocal;
extern int	recs_local_cache_size;

extern void RecsLocalCacheInit(void);
extern void RecsLocalCacheReset(void);
extern int64 RecsLocalCacheEntries(void);
/* On a hit the arrays belong to the cache: read them before the next Put. */
extern bool RecsLocalCacheGet(const RecsLoadedModel *model, int64 user_id, int k,
							  bool exclude_seen, int64 **item_ids, float4 **scores,
							  char ***sources, int *n);
extern void RecsLocalCachePut(const RecsLoadedModel *model, int64 user_id, int k,
							  bool exclude_seen, const int64 *item_ids,
							  const float4 *scores, const char *const *sources, int n);

/* ---- the Redis client (redis.c) ---- */

/* Counters of this backend, shown by recs_cache_stats(). */
typedef struct RecsRedisStats
{
	int64		hits;
	int64		misses;
	int64		puts;
	int64		errors;			/* failed commands/connections, bad values */
	int64		skipped;		/* requests not sent: breaker open */
	int64		requests;		/* round trips completed */
	double		total_ms;		/* over completed round trips */
	double		max_ms;
	char		last_error[256];
} RecsRedisStats;

extern RecsRedisStats RecsRedis;

/* One command of a pipeline: argv with lengths; reply filled in. */
typedef struct RecsRedisCommand
{
	int			argc;
	const char *argv[6];
	size_t		argvlen[6];
	/* reply, copied out of hiredis into palloc'd memory */
	int			reply_type;		/* REDIS_REPLY_*; 0 when none */
	char	   *reply_str;		/* for string, status and error replies */
	size_t		reply_len;
	long long	reply_integer;
} RecsRedisCommand;

extern bool RecsRedisEnabled(void);
extern bool RecsRedisBreakerOpen(TimestampTz *until);
extern bool RecsRedisRun(RecsRedisCommand *cmds, int n);
extern void RecsRedisFail(const char *what, const char *detail);

#endif							/* RECS_CACHE_H */
