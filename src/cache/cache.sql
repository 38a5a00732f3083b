
--
-- The Redis cache of recommendation lists (src/cache/): precomputed lists,
-- counters.  Settings: recs.redis_url, recs.cache_ttl, recs.cache_warm_users,
-- recs.redis_timeout_ms, recs.cache_breaker_seconds.
--

CREATE TABLE recs.precomputed (
	model text NOT NULL REFERENCES recs.models (name) ON DELETE CASCADE,
	version integer NOT NULL,
	user_id bigint NOT NULL,
	items bigint[] NOT NULL,
	scores real[] NOT NULL,
	computed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (model, user_id)
);
COMMENT ON TABLE recs.precomputed IS 'top-k lists of the most active users of each model, as written by recs_precompute (for BI tools)';

CREATE FUNCTION recs_precompute(model text, k integer DEFAULT 10,
								OUT version integer, OUT users bigint, OUT cached bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'recs_precompute' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION recs_precompute(text, integer) IS 'precompute the top-k lists of the recs.cache_warm_users most active users of a model into recs.precomputed and, with recs.redis_url set, into Redis';

CREATE FUNCTION recs_cache_stats(OUT enabled boolean, OUT hits bigint, OUT misses bigint,
								 OUT puts bigint, OUT errors bigint, OUT skipped bigint,
								 OUT breaker text, OUT breaker_until timestamptz,
								 OUT avg_ms double precision, OUT max_ms double precision,
								 OUT last_error text, OUT local_hits bigint,
								 OUT local_misses bigint, OUT local_entries bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'recs_cache_stats' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_cache_stats() IS 'this session''s cache counters: Redis hits, misses, writes, errors, requests skipped by the circuit breaker, its state and round-trip latency; then the in-memory first layer''s hits, misses and lists held';

CREATE FUNCTION recs.cache_lookup(user_id bigint, k integer, model text, exclude_seen boolean)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text)
	AS 'MODULE_PATHNAME', 'recs_cache_lookup' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs.cache_lookup(bigint, integer, text, boolean) IS 'diagnostic: the list the Redis cache holds for these recs_topk arguments under the model''s active version (no rows on a miss)';

CREATE FUNCTION recs_cache_invalidate(model text, user_ids bigint[])
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'recs_cache_invalidate' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_cache_invalidate(text, bigint[]) IS 'drop the cached lists of these users under the model''s active version; returns how many users had lists (0 with the cache off or unreachable)';
