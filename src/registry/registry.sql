--
-- The model registry: models (recipes), their trained versions, settings.
--

CREATE TABLE recs.models (
	name text PRIMARY KEY
		CHECK (name <> '' AND octet_length(name) < 64),
	algorithm text NOT NULL,
	source regclass NOT NULL,
	source_name text NOT NULL,
	user_column name NOT NULL,
	item_column name NOT NULL,
	weight_column name,
	time_column name,
	params jsonb NOT NULL DEFAULT '{}',
	active_version integer,
	retain_versions integer CHECK (retain_versions >= 1),
	item_features regclass,
	item_features_id name,
	online boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE recs.models IS 'recommendation models: what to train on and how (one row per recs_create_model)';

CREATE TABLE recs.model_versions (
	id bigserial UNIQUE,
	model text NOT NULL REFERENCES recs.models (name) ON DELETE CASCADE,
	version integer NOT NULL,
	algorithm text NOT NULL,
	params jsonb NOT NULL,
	source_name text NOT NULL,
	source_rows bigint NOT NULL,
	skipped_rows bigint NOT NULL,
	n_users integer NOT NULL,
	n_items integer NOT NULL,
	n_interactions bigint NOT NULL,
	trained_at timestamptz NOT NULL DEFAULT now(),
	trained_by name NOT NULL DEFAULT current_user,
	train_seconds double precision NOT NULL,
	metrics jsonb NOT NULL DEFAULT '{}',
	artifact bytea NOT NULL,
	PRIMARY KEY (model, version)
);
-- artifacts are binary floats that compress poorly; store them uncompressed
ALTER TABLE recs.model_versions ALTER COLUMN artifact SET STORAGE EXTERNAL;
COMMENT ON TABLE recs.model_versions IS 'trained versions of each model, with their learned parameters (artifact)';
COMMENT ON SEQUENCE recs.model_versions_id_seq IS 'ids of model versions: never reused, so backends can cache a loaded version by id';

-- Activations form a stack per model: recs_rollback pops the newest.
CREATE TABLE recs.activations (
	id bigserial PRIMARY KEY,
	model text NOT NULL,
	version integer NOT NULL,
	activated_at timestamptz NOT NULL DEFAULT now(),
	activated_by name NOT NULL DEFAULT current_user,
	FOREIGN KEY (model, version) REFERENCES recs.model_versions (model, version)
		ON DELETE CASCADE
);
CREATE INDEX ON recs.activations (model, id);
COMMENT ON TABLE recs.activations IS 'history of which version of each model was made active, newest last; recs_rollback pops it';

CREATE TABLE recs.config (
	key text PRIMARY KEY,
	value text NOT NULL
);
COMMENT ON TABLE recs.config IS 'database-wide recs settings, such as the default model';

-- pg_dump keeps the users' models, versions and settings
SELECT pg_catalog.pg_extension_config_dump('recs.models', '');
SELECT pg_catalog.pg_extension_config_dump('recs.model_versions', '');
SELECT pg_catalog.pg_extension_config_dump('recs.model_versions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('recs.config', '');
SELECT pg_catalog.pg_extension_config_dump('recs.activations', '');
SELECT pg_catalog.pg_extension_config_dump('recs.activations_id_seq', '');
COMMENT ON SEQUENCE recs.activations_id_seq IS 'order of activations';

-- Every change to the registry tells the backends' model caches to look
-- again (model_cache.c), which otherwise serve without reading it.
CREATE FUNCTION recs.announce_change()
	RETURNS trigger
	AS 'MODULE_PATHNAME', 'recs_announce_change' LANGUAGE C;
COMMENT ON FUNCTION recs.announce_change() IS 'internal: statement trigger sending a relcache invalidation of its table, so that backends check what they cached from it';
CREATE TRIGGER announce_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recs.models
	FOR EACH STATEMENT EXECUTE FUNCTION recs.announce_change();
CREATE TRIGGER announce_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recs.config
	FOR EACH STATEMENT EXECUTE FUNCTION recs.announce_change();

-- internal checks shared by recs_create_model and recs_train

CREATE FUNCTION recs.check_source(source regclass, user_column name, item_column name,
								  weight_column name, time_column name)
	RETURNS void
	AS 'MODULE_PATHNAME', 'recs_check_source' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION recs.check_source(regclass, name, name, name, name) IS 'internal: check that a model''s source and columns exist and have usable types';

CREATE FUNCTION recs.check_params(algorithm text, params jsonb, has_weight boolean,
								  has_time boolean)
	RETURNS void
	AS 'MODULE_PATHNAME', 'recs_check_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs.check_params(text, jsonb, boolean, boolean) IS 'internal: check an algorithm name and its params';

-- the user-facing API

CREATE FUNCTION recs.create_model(name text, algorithm text, source regclass,
								  user_column name, item_column name, weight_column name,
								  time_column name, params jsonb)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF name IS NULL OR name = '' THEN
		RAISE EXCEPTION 'model name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF octet_length(name) > 63 THEN
		RAISE EXCEPTION 'model name "%" is too long', name
			USING ERRCODE = 'name_too_long',
				  DETAIL = 'Model names are at most 63 bytes.';
	END IF;
	IF algorithm IS NULL THEN
		RAISE EXCEPTION 'algorithm must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF EXISTS (SELECT 1 FROM recs.models m WHERE m.name = create_model.name) THEN
		RAISE EXCEPTION 'model "%" already exists', name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Drop it with recs_drop_model() first, or choose another name.';
	END IF;
	PERFORM recs.check_source(source, user_column, item_column, weight_column, time_column);
	PERFORM recs.check_params(algorithm, coalesce(params, '{}'),
							  weight_column IS NOT NULL, time_column IS NOT NULL);
	INSERT INTO recs.models (name, algorithm, source, source_name, user_column, item_column,
							 weight_column, time_column, params)
	VALUES (name, algorithm, source, source::text, user_column, item_column,
			weight_column, time_column, coalesce(params, '{}'));
	-- A content model's item table is its catalogue (items nobody has used
	-- yet included) and what recs_topk's filter matches; a hybrid inherits
	-- the catalogue of its first member (by name) that has one.
	IF algorithm = 'content' THEN
		UPDATE recs.models m
		SET item_features = (create_model.params->>'item_table')::regclass,
			item_features_id = coalesce(create_model.params->>'item_id', 'item_id')
		WHERE m.name = create_model.name;
	ELSIF algorithm = 'hybrid' THEN
		UPDATE recs.models m
		SET item_features = c.item_features, item_features_id = c.item_features_id
		FROM (SELECT mm.item_features, mm.item_features_id FROM recs.models mm
			  WHERE mm.name IN (SELECT jsonb_object_keys(create_model.params->'members'))
				AND mm.item_features IS NOT NULL
			  ORDER BY mm.name LIMIT 1) c
		WHERE m.name = create_model.name;
	END IF;
END
$$;
CREATE FUNCTION recs.qualify_table_params(params jsonb)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'recs_qualify_table_params' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recs.qualify_table_params(jsonb) IS 'internal: params with each "..._table" name that the caller''s search_path resolves replaced by its schema-qualified name';

COMMENT ON FUNCTION recs.create_model(text, text, regclass, name, name, name, name, jsonb) IS 'internal: recs_create_model once table names in params are qualified';

-- No SET search_path here, unlike everywhere else: table names in params
-- are looked up with the caller's, as the source's regclass is.  The body
-- only calls schema-qualified functions.
CREATE FUNCTION recs_create_model(name text, algorithm text, source regclass,
								  user_column name DEFAULT 'user_id',
								  item_column name DEFAULT 'item_id',
								  weight_column name DEFAULT NULL,
								  time_column name DEFAULT NULL,
								  params jsonb DEFAULT '{}')
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
	PERFORM recs.create_model(name, algorithm, source, user_column, item_column, weight_column,
							  time_column, recs.qualify_table_params(params));
END
$$;
COMMENT ON FUNCTION recs_create_model(text, text, regclass, name, name, name, name, jsonb) IS 'define a model: an algorithm with params over a table, view or foreign table of interactions';

CREATE FUNCTION recs_drop_model(name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM recs.models m WHERE m.name = recs_drop_model.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	DELETE FROM recs.config c WHERE c.key = 'default_model' AND c.value = name;
END
$$;
COMMENT ON FUNCTION recs_drop_model(text) IS 'drop a model with all its versions';

CREATE FUNCTION recs_set_default_model(name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM recs.models m WHERE m.name = recs_set_default_model.name) THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO recs.config (key, value) VALUES ('default_model', name)
	ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
END
$$;
COMMENT ON FUNCTION recs_set_default_model(text) IS 'make a model the one recs_topk uses when no model is named';

-- make version the active one and push it on the activation stack
CREATE FUNCTION recs.activate(model_name text, version_number integer)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE recs.models SET active_version = version_number WHERE name = model_name;
	INSERT INTO recs.activations (model, version) VALUES (model_name, version_number);
END
$$;
COMMENT ON FUNCTION recs.activate(text, integer) IS 'internal: activate a version and record it';

-- delete the versions beyond the model's retain_versions newest, never the active one
CREATE FUNCTION recs.apply_retention(model_name text)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dropped integer;
BEGIN
	DELETE FROM recs.model_versions v
	USING recs.models m
	WHERE m.name = model_name AND v.model = m.name
	  AND m.retain_versions IS NOT NULL
	  AND v.version IS DISTINCT FROM m.active_version
	  AND v.version <= (SELECT max(version) FROM recs.model_versions WHERE model = model_name)
	                   - m.retain_versions;
	GET DIAGNOSTICS dropped = ROW_COUNT;
	RETURN dropped;
END
$$;
COMMENT ON FUNCTION recs.apply_retention(text) IS 'internal: drop versions beyond the model''s retention';

CREATE FUNCTION recs_train(name text, activate boolean DEFAULT false)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'recs_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION recs_train(text, boolean) IS 'train a model on its source and store a new version with validation metrics; returns the version number; the first version, or any with activate => true, becomes active';

CREATE FUNCTION recs_activate(name text, version integer)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM 1 FROM recs.models m WHERE m.name = recs_activate.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM recs.model_versions v
				   WHERE v.model = recs_activate.name AND v.version = recs_activate.version) THEN
		RAISE EXCEPTION 'model "%" has no version %', name, version
			USING ERRCODE = 'undefined_object',
				  HINT = 'recs_models() lists the versions.';
	END IF;
	PERFORM recs.activate(name, version);
END
$$;
COMMENT ON FUNCTION recs_activate(text, integer) IS 'make a version of a model the one served; transactional';

CREATE FUNCTION recs_rollback(name text)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	current_id bigint;
	previous integer;
BEGIN
	PERFORM 1 FROM recs.models m WHERE m.name = recs_rollback.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	SELECT max(a.id) INTO current_id FROM recs.activations a WHERE a.model = recs_rollback.name;
	SELECT a.version INTO previous FROM recs.activations a
	WHERE a.model = recs_rollback.name AND a.id < current_id
	ORDER BY a.id DESC LIMIT 1;
	IF previous IS NULL THEN
		RAISE EXCEPTION 'model "%" has no earlier activation to roll back to', name
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	DELETE FROM recs.activations a WHERE a.id = current_id;
	UPDATE recs.models m SET active_version = previous WHERE m.name = recs_rollback.name;
	RETURN previous;
END
$$;
COMMENT ON FUNCTION recs_rollback(text) IS 're-activate the version that was active before the current one; returns it';

CREATE FUNCTION recs_drop_version(name text, version integer)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM 1 FROM recs.models m WHERE m.name = recs_drop_version.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF EXISTS (SELECT 1 FROM recs.models m
			   WHERE m.name = recs_drop_version.name AND m.active_version = recs_drop_version.version) THEN
		RAISE EXCEPTION 'version % of model "%" is active', version, name
			USING ERRCODE = 'object_in_use',
				  HINT = 'Activate another version first.';
	END IF;
	DELETE FROM recs.model_versions v
	WHERE v.model = recs_drop_version.name AND v.version = recs_drop_version.version;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" has no version %', name, version
			USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION recs_drop_version(text, integer) IS 'drop an inactive version of a model';

CREATE FUNCTION recs_set_retention(name text, keep integer)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF keep IS NOT NULL AND keep < 1 THEN
		RAISE EXCEPTION 'keep must be at least 1, not %', keep
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass NULL to keep every version.';
	END IF;
	UPDATE recs.models m SET retain_versions = keep WHERE m.name = recs_set_retention.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN recs.apply_retention(name);
END
$$;
COMMENT ON FUNCTION recs_set_retention(text, integer) IS 'keep only the newest keep versions of a model (and the active one), now and after each training; NULL keeps all; returns how many were dropped';

CREATE FUNCTION recs_models()
	RETURNS TABLE (model text, algorithm text, version integer, active boolean,
				   trained_at timestamptz, trained_by name, train_seconds double precision,
				   n_users integer, n_items integer, n_interactions bigint,
				   params jsonb, metrics jsonb, artifact_bytes integer)
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT m.name, m.algorithm, v.version, v.version = m.active_version,
		   v.trained_at, v.trained_by, v.train_seconds, v.n_users, v.n_items,
		   v.n_interactions, coalesce(v.params, m.params), v.metrics, octet_length(v.artifact)
	FROM recs.models m
	LEFT JOIN recs.model_versions v ON v.model = m.name
	ORDER BY m.name, v.version
$$;
COMMENT ON FUNCTION recs_models() IS 'every model and its versions, with validation metrics and which version is active';

CREATE FUNCTION recs_topk(user_id bigint, k integer DEFAULT 10, model text DEFAULT NULL,
						  exclude_seen boolean DEFAULT true, exclude bigint[] DEFAULT NULL,
						  candidates bigint[] DEFAULT NULL, filter jsonb DEFAULT NULL,
						  diversity real DEFAULT 0, context jsonb DEFAULT NULL,
						  experiment text DEFAULT NULL)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text)
	AS 'MODULE_PATHNAME', 'recs_topk' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10;
COMMENT ON FUNCTION recs_topk(bigint, integer, text, boolean, bigint[], bigint[], jsonb, real, jsonb, text) IS 'top-k recommendations for a user from a model (NULL: the default model), optionally excluding items, ranking only candidates, keeping items whose features match filter, diversified (0..1, maximal marginal relevance), re-ranked by context, or served through an experiment (which records the exposure); source names what produced each row.  VOLATILE: it may record exposures and write the cache';

CREATE FUNCTION recs_set_item_features(name text, features regclass, id_column name DEFAULT 'item_id')
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id_type regtype;
BEGIN
	IF features IS NOT NULL THEN
		SELECT a.atttypid::regtype INTO id_type FROM pg_attribute a
		WHERE a.attrelid = features AND a.attname = id_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF id_type IS NULL THEN
			RAISE EXCEPTION 'column "%" does not exist in %', id_column, features
				USING ERRCODE = 'undefined_column';
		END IF;
		IF id_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
			RAISE EXCEPTION 'item id column "%" of % has type %', id_column, features, id_type
				USING ERRCODE = 'datatype_mismatch',
					  DETAIL = 'Item ids are smallint, integer or bigint.';
		END IF;
	END IF;
	UPDATE recs.models m SET item_features = features,
		item_features_id = CASE WHEN features IS NULL THEN NULL ELSE id_column END
	WHERE m.name = recs_set_item_features.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION recs_set_item_features(text, regclass, name) IS 'name the table of item features that recs_topk''s filter argument matches against (NULL: none)';

CREATE FUNCTION recs_similar_items(item_id bigint, k integer DEFAULT 10, model text DEFAULT NULL)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text)
	AS 'MODULE_PATHNAME', 'recs_similar_items' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION recs_similar_items(bigint, integer, text) IS 'the k items most similar to an item under a model';

CREATE FUNCTION recs_export(name text, version integer DEFAULT NULL)
	RETURNS TABLE (kind text, id bigint, factors embedding, bias real)
	AS 'MODULE_PATHNAME', 'recs_export' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_export(text, integer) IS 'the user and item vectors (and item biases) of a factor model''s version (NULL: the active one), as embedding rows';

CREATE FUNCTION recs_import(name text, user_factors regclass, item_factors regclass,
							activate boolean DEFAULT true)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'recs_import' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION recs_import(text, regclass, regclass, boolean) IS 'store vectors trained elsewhere (tables with columns id, factors and, for items, optional bias) as a new version of a model of algorithm factors; returns the version';

CREATE FUNCTION recs_explain(user_id bigint, item_id bigint, model text DEFAULT NULL)
	RETURNS TABLE (reason text, evidence_item bigint, weight double precision)
	AS 'MODULE_PATHNAME', 'recs_explain' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 5;
COMMENT ON FUNCTION recs_explain(bigint, bigint, text) IS 'why a model recommends an item to a user: contributing neighbours, the user''s similar items, or popularity, heaviest first';
