-- Offline ranking metrics: recs_precision_at_k, recs_recall_at_k,
-- recs_hit_rate_at_k, recs_mrr_at_k, recs_map_at_k and recs_ndcg_at_k.
-- Every expected value is worked out by hand in the comment next to it;
-- results are rounded to 4 decimals.  1/log2(3) = 0.63093,
-- 1/log2(4) = 0.5, 1/log2(5) = 0.43068, 1/log2(6) = 0.38685.

-- Catalogue labels: all IMMUTABLE and PARALLEL SAFE; all STRICT except
-- recs_ndcg_at_k, whose relevance argument may be NULL (default NULL).
SELECT proname, provolatile, proisstrict, proparallel, pronargs, pronargdefaults,
	   obj_description(oid, 'pg_proc') IS NOT NULL AS has_comment
FROM pg_proc
WHERE proname IN ('recs_precision_at_k', 'recs_recall_at_k', 'recs_hit_rate_at_k',
				  'recs_mrr_at_k', 'recs_map_at_k', 'recs_ndcg_at_k')
ORDER BY proname;

-- recommended {10,20,30,40,50}, relevant {20,50,60}: hits at ranks 2 and 5.
-- k = 5: precision = 2/5 = 0.4; recall = 2/3 = 0.6667; hit rate = 1;
--   MRR = 1/2 = 0.5; AP = (1/2 + 2/5) / min(3,5) = 0.9/3 = 0.3;
--   DCG = 1/log2(3) + 1/log2(6) = 0.63093 + 0.38685 = 1.01778,
--   IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.13093, NDCG = 0.4776
-- k = 3: precision = 1/3 = 0.3333; recall = 1/3 = 0.3333; hit rate = 1;
--   MRR = 0.5; AP = (1/2) / min(3,3) = 0.1667;
--   DCG = 0.63093, IDCG = 2.13093, NDCG = 0.2961
-- k = 1: the top 1 is {10}, a miss: every metric is 0
SELECT k,
	   round(recs_precision_at_k(rec, rel, k)::numeric, 4) AS precision,
	   round(recs_recall_at_k(rec, rel, k)::numeric, 4) AS recall,
	   round(recs_hit_rate_at_k(rec, rel, k)::numeric, 4) AS hit_rate,
	   round(recs_mrr_at_k(rec, rel, k)::numeric, 4) AS mrr,
	   round(recs_map_at_k(rec, rel, k)::numeric, 4) AS map,
	   round(recs_ndcg_at_k(rec, rel, k)::numeric, 4) AS ndcg
FROM (VALUES ('{10,20,30,40,50}'::bigint[], '{20,50,60}'::bigint[])) v(rec, rel),
	 (VALUES (5), (3), (1)) ks(k)
ORDER BY k DESC;

-- DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309;
-- NDCG = 0.9197
SELECT round(recs_ndcg_at_k('{1,5,2}', '{1,2}', 3)::numeric, 4) AS ndcg;

-- Perfect rankings give 1.0 for NDCG, MAP and MRR (and precision and
-- recall when k = |relevant|): {3,1,2} against {1,2,3}, k = 3.
SELECT recs_precision_at_k('{3,1,2}', '{1,2,3}', 3) AS precision,
	   recs_recall_at_k('{3,1,2}', '{1,2,3}', 3) AS recall,
	   recs_hit_rate_at_k('{3,1,2}', '{1,2,3}', 3) AS hit_rate,
	   recs_mrr_at_k('{3,1,2}', '{1,2,3}', 3) AS mrr,
	   recs_map_at_k('{3,1,2}', '{1,2,3}', 3) AS map,
	   recs_ndcg_at_k('{3,1,2}', '{1,2,3}', 3) AS ndcg;
-- {7,8,1,2} against {7,8}, k = 4: both relevant items on top.
-- precision = 2/4 = 0.5 (it divides by k); recall = 2/2 = 1;
-- AP = (1/1 + 2/2) / min(2,4) = 1; DCG = IDCG = 1 + 1/log2(3): NDCG = 1
SELECT recs_precision_at_k('{7,8,1,2}', '{7,8}', 4) AS precision,
	   recs_recall_at_k('{7,8,1,2}', '{7,8}', 4) AS recall,
	   recs_mrr_at_k('{7,8,1,2}', '{7,8}', 4) AS mrr,
	   recs_map_at_k('{7,8,1,2}', '{7,8}', 4) AS map,
	   recs_ndcg_at_k('{7,8,1,2}', '{7,8}', 4) AS ndcg;

-- No hit gives 0 everywhere: {1,2,3} against {9}.
SELECT recs_precision_at_k('{1,2,3}', '{9}', 3) AS precision,
	   recs_recall_at_k('{1,2,3}', '{9}', 3) AS recall,
	   recs_hit_rate_at_k('{1,2,3}', '{9}', 3) AS hit_rate,
	   recs_mrr_at_k('{1,2,3}', '{9}', 3) AS mrr,
	   recs_map_at_k('{1,2,3}', '{9}', 3) AS map,
	   recs_ndcg_at_k('{1,2,3}', '{9}', 3) AS ndcg;

-- k larger than the recommended list: {5,6} against {6,7}, k = 10; the hit
-- is at rank 2 and ranks 3..10 are misses.
-- precision = 1/10 = 0.1 (still divides by k); recall = 1/2 = 0.5;
-- hit rate = 1; MRR = 1/2; AP = (1/2) / min(2,10) = 0.25;
-- DCG = 1/log2(3) = 0.63093, IDCG = 1 + 1/log2(3) = 1.63093, NDCG = 0.3869
SELECT round(recs_precision_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS precision,
	   round(recs_recall_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS recall,
	   round(recs_hit_rate_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS hit_rate,
	   round(recs_mrr_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS mrr,
	   round(recs_map_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS map,
	   round(recs_ndcg_at_k('{5,6}', '{6,7}', 10)::numeric, 4) AS ndcg;
-- an empty recommended list: every metric is 0
SELECT recs_precision_at_k('{}', '{1}', 5) AS precision,
	   recs_recall_at_k('{}', '{1}', 5) AS recall,
	   recs_hit_rate_at_k('{}', '{1}', 5) AS hit_rate,
	   recs_mrr_at_k('{}', '{1}', 5) AS mrr,
	   recs_map_at_k('{}', '{1}', 5) AS map,
	   recs_ndcg_at_k('{}', '{1}', 5) AS ndcg;
-- k at its limit
SELECT recs_precision_at_k('{1}', '{1}', 1000000) AS precision;

-- Duplicates in recommended: a later repeat is skipped and takes no rank.
-- {4,4,4,9,4,2} ranks as {4,9,2}; against {2,9} with k = 2 the top 2 is
-- {4,9} (not {4,4}): precision = 1/2; recall = 1/2; MRR = 1/2;
-- AP = (1/2) / min(2,2) = 0.25; DCG = 1/log2(3) = 0.63093,
-- IDCG = 1 + 1/log2(3) = 1.63093, NDCG = 0.3869
SELECT round(recs_precision_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS precision,
	   round(recs_recall_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS recall,
	   round(recs_hit_rate_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS hit_rate,
	   round(recs_mrr_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS mrr,
	   round(recs_map_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS map,
	   round(recs_ndcg_at_k('{4,4,4,9,4,2}', '{2,9}', 2)::numeric, 4) AS ndcg;
-- a repeated relevant item is not a second hit: {9,9,9} ranks as {9};
-- against {9} with k = 3: precision = 1/3 = 0.3333; recall = 1/1;
-- AP = (1/1) / min(1,3) = 1; NDCG = 1/1 = 1
SELECT round(recs_precision_at_k('{9,9,9}', '{9}', 3)::numeric, 4) AS precision,
	   recs_recall_at_k('{9,9,9}', '{9}', 3) AS recall,
	   recs_map_at_k('{9,9,9}', '{9}', 3) AS map,
	   recs_ndcg_at_k('{9,9,9}', '{9}', 3) AS ndcg;
-- Duplicates in relevant count once: {1,1,1,3} is the set {1,3}.
-- {1,2} against it, k = 2: precision = 1/2; recall = 1/2 (not 3/4 or 1/4);
-- AP = (1/1) / min(2,2) = 0.5; DCG = 1, IDCG = 1 + 1/log2(3) = 1.63093,
-- NDCG = 0.6131
SELECT round(recs_precision_at_k('{1,2}', '{1,1,1,3}', 2)::numeric, 4) AS precision,
	   round(recs_recall_at_k('{1,2}', '{1,1,1,3}', 2)::numeric, 4) AS recall,
	   round(recs_map_at_k('{1,2}', '{1,1,1,3}', 2)::numeric, 4) AS map,
	   round(recs_ndcg_at_k('{1,2}', '{1,1,1,3}', 2)::numeric, 4) AS ndcg;

-- Ids equal in their low 32 bits are still different items:
-- {4294967296, 0} against {0}: k = 1 misses, k = 2 hits at rank 2.
SELECT recs_precision_at_k('{4294967296,0}', '{0}', 1) AS p_at_1,
	   recs_precision_at_k('{4294967296,0}', '{0}', 2) AS p_at_2;
-- the extremes of bigint
SELECT recs_mrr_at_k('{9223372036854775807,-9223372036854775808}',
					 '{-9223372036854775808}', 2) AS mrr;
-- integer[] arguments are cast to bigint[]
SELECT recs_recall_at_k(ARRAY[1,2,3], ARRAY[3,4], 3) AS recall;

-- Graded relevance, gain 2^rel - 1.  {1,2,3} against relevant {1,2,3} with
-- relevance {1,3,2}: gains 1, 7, 3.  The ideal order is 2, 3, 1.
-- DCG = 1/1 + 7/log2(3) + 3/log2(4) = 1 + 4.41651 + 1.5 = 6.91651
-- IDCG = 7/1 + 3/log2(3) + 1/log2(4) = 7 + 1.89279 + 0.5 = 9.39279
-- NDCG = 6.91651 / 9.39279 = 0.7364
SELECT round(recs_ndcg_at_k('{1,2,3}', '{1,2,3}', 3, '{1,3,2}')::numeric, 4) AS ndcg;
-- the ideal ordering is truncated to k: {5,1} against {1,2,3} with
-- relevance {2,3,1} (gains 3, 7, 1), k = 2:
-- DCG = 0 + 3/log2(3) = 1.89279; IDCG = 7/1 + 3/log2(3) = 8.89279;
-- NDCG = 0.2128
SELECT round(recs_ndcg_at_k('{5,1}', '{1,2,3}', 2, '{2,3,1}')::numeric, 4) AS ndcg;
-- the ideal order itself gives 1: {2,1} against {1,2} graded {1,2}
SELECT recs_ndcg_at_k('{2,1}', '{1,2}', 2, '{1,2}') AS ndcg;
-- all grades 1 is binary relevance, the same as a NULL relevance:
-- both 0.9197 as computed above
SELECT round(recs_ndcg_at_k('{1,5,2}', '{1,2}', 3, '{1,1}')::numeric, 4) AS graded,
	   round(recs_ndcg_at_k('{1,5,2}', '{1,2}', 3, NULL)::numeric, 4) AS null_relevance;
-- grade 0 has gain 0: {1,2} against {1,2} graded {0,1}, k = 2:
-- DCG = 0/1 + 1/log2(3) = 0.63093; IDCG = 1/1 + 0 = 1; NDCG = 0.6309
SELECT round(recs_ndcg_at_k('{1,2}', '{1,2}', 2, '{0,1}')::numeric, 4) AS ndcg;
-- fractional grades: a single relevant item on top gives 1
SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{0.5}') AS ndcg;
-- a repeated relevant item keeps its first grade: {1,2,1} graded {1,2,3}
-- gives item 1 gain 1 and item 2 gain 3; {1,2}, k = 2:
-- DCG = 1/1 + 3/log2(3) = 2.89279; IDCG = 3/1 + 1/log2(3) = 3.63093;
-- NDCG = 0.7967 (with the last grade, 3, it would be 1)
SELECT round(recs_ndcg_at_k('{1,2}', '{1,2,1}', 2, '{1,2,3}')::numeric, 4) AS ndcg;
-- huge grades do not overflow: 2^2000 is beyond double precision, but the
-- ratio is what matters.  {2,1} against {1,2} graded {2000,1}, k = 2:
-- DCG = 1/1 + (2^2000-1)/log2(3), IDCG = (2^2000-1)/1 + 1/log2(3);
-- NDCG = 1/log2(3) to many digits = 0.6309
SELECT round(recs_ndcg_at_k('{2,1}', '{1,2}', 2, '{2000,1}')::numeric, 4) AS ndcg;
-- every grade 0: IDCG = 0 and NDCG is undefined, so NULL
SELECT recs_ndcg_at_k('{1,2}', '{1,2}', 2, '{0,0}') IS NULL AS ndcg_is_null;

-- An empty relevant list gives NULL from all six functions.
SELECT recs_precision_at_k('{1,2}', '{}', 2) IS NULL AS precision,
	   recs_recall_at_k('{1,2}', '{}', 2) IS NULL AS recall,
	   recs_hit_rate_at_k('{1,2}', '{}', 2) IS NULL AS hit_rate,
	   recs_mrr_at_k('{1,2}', '{}', 2) IS NULL AS mrr,
	   recs_map_at_k('{1,2}', '{}', 2) IS NULL AS map,
	   recs_ndcg_at_k('{1,2}', '{}', 2) IS NULL AS ndcg,
	   recs_ndcg_at_k('{1,2}', '{}', 2, '{}') IS NULL AS ndcg_graded;
-- so avg() over users skips users with nothing relevant: (1 + 0) / 2
SELECT avg(recs_hit_rate_at_k(rec, rel, 1)) AS hit_rate
FROM (VALUES ('{1}'::bigint[], '{1}'::bigint[]),
			 ('{1}', '{2}'),
			 ('{1}', '{}')) v(rec, rel);

-- NULL arguments give NULL (recs_ndcg_at_k checks its first three itself).
SELECT recs_precision_at_k(NULL, '{1}', 1) IS NULL AS precision,
	   recs_recall_at_k('{1}', NULL, 1) IS NULL AS recall,
	   recs_hit_rate_at_k('{1}', '{1}', NULL) IS NULL AS hit_rate,
	   recs_mrr_at_k(NULL, NULL, NULL) IS NULL AS mrr,
	   recs_map_at_k('{1}', NULL, 1) IS NULL AS map,
	   recs_ndcg_at_k(NULL, '{1}', 1) IS NULL AS ndcg_rec,
	   recs_ndcg_at_k('{1}', NULL, 1, '{1}') IS NULL AS ndcg_rel,
	   recs_ndcg_at_k('{1}', '{1}', NULL, NULL) IS NULL AS ndcg_k;

-- k out of range, in every function
SELECT recs_precision_at_k('{1}', '{1}', 0);
SELECT recs_recall_at_k('{1}', '{1}', 0);
SELECT recs_hit_rate_at_k('{1}', '{1}', 0);
SELECT recs_mrr_at_k('{1}', '{1}', 0);
SELECT recs_map_at_k('{1}', '{1}', 0);
SELECT recs_ndcg_at_k('{1}', '{1}', 0);
SELECT recs_precision_at_k('{1}', '{1}', -5);
SELECT recs_map_at_k('{1}', '{1}', 1000001);
SELECT recs_ndcg_at_k('{1}', '{1}', 2147483647);
-- errors win over the NULL of an empty relevant list
SELECT recs_recall_at_k('{1}', '{}', 0);
SELECT recs_ndcg_at_k('{1}', '{}', 1, '{1}');

-- NULL elements
SELECT recs_precision_at_k('{1,NULL,3}', '{1}', 3);
SELECT recs_recall_at_k('{1}', '{NULL}', 1);
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{1,NULL}');

-- multidimensional arrays
SELECT recs_hit_rate_at_k('{{1,2},{3,4}}', '{1}', 2);
SELECT recs_mrr_at_k('{1}', '{{1},{2}}', 2);
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{{1,2}}');

-- bad relevance arrays
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{1}');
SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{1,2}');
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{1,-0.5}');
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{NaN,1}');
SELECT recs_ndcg_at_k('{1}', '{1,2}', 1, '{1,Infinity}');

-- the SQLSTATEs: 22023 invalid_parameter_value, 22004 null_value_not_allowed
CREATE FUNCTION metrics_sqlstate(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
SELECT metrics_sqlstate(stmt) AS sqlstate, stmt
FROM (VALUES
	($$SELECT recs_precision_at_k('{1}', '{1}', 1)$$),
	($$SELECT recs_recall_at_k('{1}', '{1}', 0)$$),
	($$SELECT recs_hit_rate_at_k('{1}', '{1}', 1000001)$$),
	($$SELECT recs_mrr_at_k('{{1}}', '{1}', 1)$$),
	($$SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{1,1}')$$),
	($$SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{-1}')$$),
	($$SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{NaN}')$$),
	($$SELECT recs_map_at_k('{NULL}', '{1}', 1)$$),
	($$SELECT recs_ndcg_at_k('{1}', '{1}', 1, '{NULL}')$$)
) v(stmt);
DROP FUNCTION metrics_sqlstate(text);

-- 50,000 elements.  recommended is 1..50000 and relevant the 25,000 even
-- ids, listed backwards: hits at every even rank.
-- precision@50000 = 25000/50000 = 0.5; recall = 1; MRR = 1/2;
-- AP = sum over i = 1..25000 of precision@2i = i/(2i) = 1/2, so 12500,
-- divided by min(25000, 50000): 0.5
CREATE TEMP TABLE big AS
SELECT array(SELECT g::bigint FROM generate_series(1, 50000) g) AS rec,
	   array(SELECT g::bigint FROM generate_series(50000, 2, -2) g) AS rel;
SELECT recs_precision_at_k(rec, rel, 50000) AS precision,
	   recs_recall_at_k(rec, rel, 50000) AS recall,
	   recs_mrr_at_k(rec, rel, 50000) AS mrr,
	   recs_map_at_k(rec, rel, 50000) AS map
FROM big;
-- NDCG against the same sums written in SQL
SELECT abs(recs_ndcg_at_k(rec, rel, 50000) -
		   (SELECT sum(1 / log(2, r + 1.0)) FROM generate_series(2, 50000, 2) r) /
		   (SELECT sum(1 / log(2, r + 1.0)) FROM generate_series(1, 25000) r))
	   < 1e-9 AS ndcg_matches
FROM big;
-- composite ids (g << 32 | g) hash as well as plain ones: the same list
-- against itself, precision@50000 = 1
SELECT recs_precision_at_k(ids, ids, 50000) AS precision
FROM (SELECT array(SELECT (g::bigint << 32) | g
				   FROM generate_series(1, 50000) g) AS ids) v;
-- 50,000 copies of one item rank as a single item: precision@10 = 1/10
SELECT recs_precision_at_k(array_fill(7::bigint, ARRAY[50000]), '{7}', 10) AS precision;
DROP TABLE big;
