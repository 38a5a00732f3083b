-- bench/lib/models.sql: tables and helpers of bench/models.sh, in schema bm.
-- bench/models.sh loads it into the benchmark database and drops the
-- schema (and every bm_* model) when it ends.

DROP SCHEMA IF EXISTS bm CASCADE;
CREATE SCHEMA bm;

-- every hyperparameter trial: which data (tag), algorithm and params, the
-- validation scores and the training time inside recs_evaluate
CREATE TABLE bm.trials (
	tag text, algorithm text, params jsonb, ndcg float8, hit_rate float8,
	precision_at_10 float8, train_seconds float8, ord serial
);

-- Measure each params object of grid (a JSON array) for algorithm on src
-- with recs_evaluate(protocol, test_fraction, seed, negatives), recording
-- every trial in bm.trials under tag.  A grid of one entry is not measured
-- (there is nothing to choose).
CREATE FUNCTION bm.try_grid(tag text, algorithm text, src regclass, time_column name,
							grid jsonb, protocol text, test_fraction float8, seed int,
							negatives int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	p jsonb;
	r record;
	i int := 0;
	name text;
BEGIN
	IF jsonb_array_length(grid) = 1 THEN
		INSERT INTO bm.trials (tag, algorithm, params) VALUES (tag, algorithm, grid -> 0);
		RETURN;
	END IF;
	FOR p IN SELECT e FROM jsonb_array_elements(grid) AS e LOOP
		i := i + 1;
		name := format('bm_trial_%s_%s_%s', tag, algorithm, i);
		PERFORM recs_create_model(name, algorithm, src, time_column => time_column, params => p);
		SELECT * INTO r FROM recs_evaluate(name, 10, protocol, test_fraction, seed, negatives);
		INSERT INTO bm.trials (tag, algorithm, params, ndcg, hit_rate, precision_at_10, train_seconds)
		VALUES (tag, algorithm, p, r.ndcg_at_k, r.hit_rate_at_k, r.precision_at_k, r.train_seconds);
		PERFORM recs_drop_model(name);
	END LOOP;
END
$$;

-- the chosen params of each (tag, algorithm): best validation NDCG@10, ties
-- to the faster, then the earlier entry of the grid
CREATE VIEW bm.chosen AS
SELECT DISTINCT ON (tag, algorithm) tag, algorithm, params, ndcg, hit_rate
FROM bm.trials
ORDER BY tag, algorithm, ndcg DESC NULLS LAST, train_seconds, ord;

-- accuracy results of every evaluation the benchmark reports
CREATE TABLE bm.accuracy (
	dataset text, setup text, algorithm text, params jsonb, users int,
	precision_at_10 float8, recall_at_10 float8, ndcg float8, hit_rate float8,
	map float8, train_seconds float8
);

-- recs_evaluate_split on the NCF split, once per (algorithm, params): the
-- result is cached in bm.accuracy so that parts 2 and 3 share it
CREATE FUNCTION bm.ncf_split(algorithm text, params jsonb)
RETURNS SETOF bm.accuracy LANGUAGE plpgsql AS $$
DECLARE
	r record;
	model_name text := 'bm_ncf_' || algorithm || '_' || md5(params::text);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM bm.accuracy a WHERE a.dataset = 'ml-1m ncf'
				   AND a.algorithm = ncf_split.algorithm AND a.params = ncf_split.params) THEN
		IF NOT EXISTS (SELECT 1 FROM recs.models m WHERE m.name = model_name) THEN
			PERFORM recs_create_model(model_name, algorithm, 'bm.ncf_train', params => params);
		END IF;
		SELECT * INTO r FROM recs_evaluate_split(model_name, 'bm.ncf_test', 'bm.ncf_candidates', 10);
		INSERT INTO bm.accuracy VALUES ('ml-1m ncf', 'NCF split, 99 negatives', algorithm, params,
			r.users_evaluated, r.precision_at_k, r.recall_at_k, r.ndcg_at_k, r.hit_rate_at_k,
			r.map_at_k, r.train_seconds);
	END IF;
	RETURN QUERY SELECT * FROM bm.accuracy a WHERE a.dataset = 'ml-1m ncf'
		AND a.algorithm = ncf_split.algorithm AND a.params = ncf_split.params;
END
$$;

-- one recs_train in this (fresh) connection: wall time and the backend's
-- memory afterwards (VmHWM: peak resident set; RssShmem: shared memory,
-- mostly shared_buffers pages, mapped so far)
CREATE TABLE bm.train_runs (
	part text, algorithm text, params jsonb, run int, seconds float8,
	vm_hwm_kb bigint, rss_shmem_kb bigint
);

CREATE FUNCTION bm.status_kb(field text) RETURNS bigint LANGUAGE sql AS $$
	SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
						 field || ':\s+(\d+) kB'))[1]::bigint
$$;

CREATE FUNCTION bm.train_measure(part text, model text, run int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	started timestamptz := clock_timestamp();
	secs float8;
BEGIN
	PERFORM recs_train(model);
	secs := extract(epoch FROM clock_timestamp() - started);
	INSERT INTO bm.train_runs
	SELECT part, m.algorithm, m.params, run, secs, bm.status_kb('VmHWM'), bm.status_kb('RssShmem')
	FROM recs.models m WHERE m.name = model;
END
$$;

-- per-epoch times parsed from the NOTICEs of those trainings
CREATE TABLE bm.epochs (algorithm text, run int, epoch int, seconds float8);

-- the fresh backends that only loaded the extension
CREATE TABLE bm.baseline (vm_hwm_kb bigint, rss_shmem_kb bigint);

-- the reference implementations' results (bench/lib/torch_reference.py)
CREATE TABLE bm.reference (
	algorithm text, implementation text, epochs int, epoch_seconds float8,
	total_seconds float8, hit_rate float8, ndcg float8, setup text
);

-- the published figures quoted beside ours (../shared/data/README.md)
CREATE TABLE bm.published (dataset text, algorithm text, label text, a float8, b float8);
INSERT INTO bm.published VALUES
	('ml-100k', NULL, 'BPR (Microsoft Recommenders)', 0.388, 0.442),
	('ml-100k', NULL, 'BiVAE (Microsoft Recommenders)', 0.412, 0.475),
	('ml-1m', 'popular', 'popularity', 0.453, 0.254),
	('ml-1m', 'item_knn', 'ItemKNN, tuned (Dacrema et al.)', 0.660, 0.390),
	('ml-1m', 'ials', 'iALS (Rendle et al.)', 0.722, 0.445),
	('ml-1m', 'ease', 'SLIM (Dacrema et al.; EASE is its closed form)', 0.716, 0.447),
	('ml-1m', 'bpr_mf', 'MF, dot product (Rendle et al.)', 0.729, 0.452),
	('ml-1m', 'ncf', 'NeuMF (He et al., paper)', 0.726, 0.445);

-- display order of the algorithms
CREATE FUNCTION bm.algo_order(algorithm text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
	SELECT array_position(ARRAY['popular', 'item_knn', 'user_knn', 'ials', 'ease', 'bpr_mf',
								'ncf'], algorithm)
$$;

CREATE FUNCTION bm.r(x float8, digits int DEFAULT 4) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT round(x::numeric, digits)
$$;
