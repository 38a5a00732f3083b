--
-- Offline ranking metrics (src/eval/metrics.c): precision, recall, hit rate,
-- MRR, MAP and NDCG at k for one user's recommended list against the items
-- the user found relevant.  Average them over users with avg().
--
-- Rules shared by all six: only the first k distinct recommended items count
-- (a repeated item keeps its first rank and takes no other); a repeated
-- relevant item counts once; NULL when relevant is empty; k must be between
-- 1 and 1000000; NULL elements and multidimensional arrays are errors.
--

CREATE FUNCTION recs_precision_at_k(recommended bigint[], relevant bigint[], k integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_precision_at_k(bigint[], bigint[], integer) IS 'precision at k: relevant items among the top k distinct recommended items, divided by k even when fewer than k are recommended; a repeated recommended item takes no rank, repeated relevant items count once; NULL when relevant is empty; k in 1..1000000; NULL elements are an error';

CREATE FUNCTION recs_recall_at_k(recommended bigint[], relevant bigint[], k integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_recall_at_k(bigint[], bigint[], integer) IS 'recall at k: relevant items among the top k distinct recommended items, divided by the number of distinct relevant items; a repeated recommended item takes no rank; NULL when relevant is empty; k in 1..1000000; NULL elements are an error';

CREATE FUNCTION recs_hit_rate_at_k(recommended bigint[], relevant bigint[], k integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_hit_rate_at_k(bigint[], bigint[], integer) IS 'hit rate at k: 1 if any of the top k distinct recommended items is relevant, else 0; a repeated recommended item takes no rank; NULL when relevant is empty; k in 1..1000000; NULL elements are an error';

CREATE FUNCTION recs_mrr_at_k(recommended bigint[], relevant bigint[], k integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_mrr_at_k(bigint[], bigint[], integer) IS 'reciprocal rank at k: 1/rank of the first relevant item among the top k distinct recommended items, else 0 (average over users for MRR); a repeated recommended item takes no rank; NULL when relevant is empty; k in 1..1000000; NULL elements are an error';

CREATE FUNCTION recs_map_at_k(recommended bigint[], relevant bigint[], k integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs_map_at_k(bigint[], bigint[], integer) IS 'average precision at k: the sum of precision@i over the ranks i <= k that hold a relevant item, divided by min(distinct relevant items, k) (average over users for MAP); a repeated recommended item takes no rank, repeated relevant items count once; NULL when relevant is empty; k in 1..1000000; NULL elements are an error';

-- not STRICT: a NULL relevance means binary relevance
CREATE FUNCTION recs_ndcg_at_k(recommended bigint[], relevant bigint[], k integer,
							   relevance real[] DEFAULT NULL)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION recs_ndcg_at_k(bigint[], bigint[], integer, real[]) IS 'normalised discounted cumulative gain at k: DCG = sum over the top k distinct recommended items of (2^rel - 1) / log2(rank + 1), divided by the DCG of the ideal ordering (relevant items by gain, truncated to k); relevance[j] grades relevant[j] (finite, >= 0, same length), NULL relevance means every relevant item has rel 1; a repeated recommended item takes no rank, a repeated relevant item counts once with its first grade; NULL when recommended, relevant or k is NULL, when relevant is empty or when every grade is 0; k in 1..1000000; NULL elements are an error';
