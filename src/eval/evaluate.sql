--
-- Offline evaluation of a model on a split of its own source.
--

CREATE FUNCTION recs_evaluate(model text, k integer DEFAULT 10,
							  protocol text DEFAULT 'leave_one_out',
							  test_fraction double precision DEFAULT 0.2,
							  seed integer DEFAULT 42,
							  negatives integer DEFAULT 0,
							  cutoff timestamptz DEFAULT NULL)
	RETURNS TABLE (protocol text, k integer, negatives integer, users_evaluated integer,
				   precision_at_k double precision, recall_at_k double precision,
				   ndcg_at_k double precision, hit_rate_at_k double precision,
				   mrr_at_k double precision, map_at_k double precision,
				   coverage double precision, train_interactions bigint,
				   test_interactions bigint, train_seconds double precision)
	AS 'MODULE_PATHNAME', 'recs_evaluate' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1;
COMMENT ON FUNCTION recs_evaluate(text, integer, text, double precision, integer, integer, timestamptz) IS 'split the model''s source (leave_one_out, random or temporal), train on the train part in memory, and report ranking metrics at k averaged over test users, plus catalogue coverage; deterministic for a seed';

CREATE FUNCTION recs_evaluate_split(model text, test regclass, candidates regclass DEFAULT NULL,
									k integer DEFAULT 10)
	RETURNS TABLE (protocol text, k integer, negatives integer, users_evaluated integer,
				   precision_at_k double precision, recall_at_k double precision,
				   ndcg_at_k double precision, hit_rate_at_k double precision,
				   mrr_at_k double precision, map_at_k double precision,
				   coverage double precision, train_interactions bigint,
				   test_interactions bigint, train_seconds double precision)
	AS 'MODULE_PATHNAME', 'recs_evaluate_split' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1;
COMMENT ON FUNCTION recs_evaluate_split(text, regclass, regclass, integer) IS 'evaluate on an externally given split: train on the model''s whole source, rank each user''s test items among the user''s candidates (or the whole catalogue minus seen items) at k';
