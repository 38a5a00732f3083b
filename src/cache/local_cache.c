/*
 * local_cache.c
 *		The first cache layer of recs_topk: recent lists in this backend's
 *		memory, in front of Redis (cache.c) and of computing.
 *
 * A connection pool's backends serve the same users again and again; a
 * list found here costs a hash probe instead of a Redis round trip or a
 * scoring pass.  Keys hold the model version id (never reused), so a new
 * version or a rollback never finds an old list, exactly as in Redis; users
 * with online updates are checked before the cache is consulted (topk.c).
 *
 * The table holds at most recs.local_cache_size lists of at most
 * RECS_LOCAL_MAX_K entries; when full it is emptied at once (one context
 * reset, no per-entry bookkeeping): with a working set larger than the
 * table, the cost is a refill, never unbounded memory.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "cache/cache.h"

#define RECS_LOCAL_MAX_K 1000

typedef struct LocalKey
{
	int64		version_id;
	int64		user_id;
	int32		k;
	bool		exclude_seen;
} LocalKey;

typedef struct LocalEntry
{
	LocalKey	key;
	int			n;
	int64	   *item_ids;
	float4	   *scores;
	char	  **sources;
} LocalEntry;

int			recs_local_cache_size = 10000;

static HTAB *local_lists = NULL;
static MemoryContext local_context = NULL;

RecsLocalCacheStats RecsLocal;

void
RecsLocalCacheInit(void)
{
	DefineCustomIntVariable("recs.local_cache_size",
							"How many recommendation lists each backend keeps in memory.",
							"The first cache layer of recs_topk, before Redis; 0 turns it off.",
							&recs_local_cache_size,
							10000, 0, 10000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/* Empty the table (it is full, or a model version went away). */
void
RecsLocalCacheReset(void)
{
	if (local_context != NULL)
		MemoryContextReset(local_context);
	local_lists = NULL;
}

static void
MakeKey(LocalKey *key, const RecsLoadedModel *model, int64 user_id, int k,
		bool exclude_seen)
{
	/* zeroed: padding is hashed too */
	memset(key, 0, sizeof(LocalKey));
	key->version_id = model->version_id;
	key->user_id = user_id;
	key->k = k;
	key->exclude_seen = exclude_seen;
}

bool
RecsLocalCacheGet(const RecsLoadedModel *model, int64 user_id, int k, bool exclude_seen,
				  int64 **item_ids, float4 **scores, char ***sources, int *n)
{
	LocalKey	key;
	LocalEntry *entry;

	if (recs_local_cache_size <= 0 || k > RECS_LOCAL_MAX_K)
		return false;
	MakeKey(&key, model, user_id, k, exclude_seen);
	entry = local_lists ? hash_search(local_lists, &key, HASH_FIND, NULL) : NULL;
	if (entry == NULL)
	{
		RecsLocal.misses++;
		return false;
	}
	RecsLocal.hits++;
	*item_ids = entry->item_ids;
	*scores = entry->scores;
	*sources = entry->sources;
	*n = entry->n;
	return true;
}

void
RecsLocalCachePut(const RecsLoadedModel *model, int64 user_id, int k, bool exclude_seen,
				  const int64 *item_ids, const float4 *scores,
				  const char *const *sources, int n)
{
	LocalKey	key;
	LocalEntry *entry;
	LocalEntry	copy;
	MemoryContext old;

	if (recs_local_cache_size <= 0 || k > RECS_LOCAL_MAX_K || n > k)
		return;
	if (local_context == NULL)
		local_context = AllocSetContextCreate(CacheMemoryContext, "recs local list cache",
											  ALLOCSET_DEFAULT_SIZES);
	if (local_lists != NULL && hash_get_num_entries(local_lists) >= recs_local_cache_size)
		RecsLocalCacheReset();
	if (local_lists == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(LocalKey);
		ctl.entrysize = sizeof(LocalEntry);
		ctl.hcxt = local_context;
		local_lists = hash_create("recs local lists", Min(recs_local_cache_size, 1024), &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	MakeKey(&key, model, user_id, k, exclude_seen);
	if (hash_search(local_lists, &key, HASH_FIND, NULL) != NULL)
		return;

	/* copy first: an entry is entered only once complete */
	old = MemoryContextSwitchTo(local_context);
	copy.n = n;
	copy.item_ids = palloc(sizeof(int64) * Max(n, 1));
	copy.scores = palloc(sizeof(float4) * Max(n, 1));
	copy.sources = palloc(sizeof(char *) * Max(n, 1));
	memcpy(copy.item_ids, item_ids, sizeof(int64) * n);
	memcpy(copy.scores, scores, sizeof(float4) * n);
	for (int i = 0; i < n; i++)
	{
		/* sources repeat: share one copy with the previous row's */
		if (i > 0 && strcmp(sources[i], copy.sources[i - 1]) == 0)
			copy.sources[i] = copy.sources[i - 1];
		else
			copy.sources[i] = pstrdup(sources[i]);
	}
	MemoryContextSwitchTo(old);

	entry = hash_search(local_lists, &key, HASH_ENTER, NULL);
	copy.key = entry->key;
	*entry = copy;
	RecsLocal.puts++;
}

int64
RecsLocalCacheEntries(void)
{
	return local_lists ? hash_get_num_entries(local_lists) : 0;
}
