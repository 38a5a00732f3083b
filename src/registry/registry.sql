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

CREATE FUNCTION recs_create_model(name text, algorithm text, source regclass,
								  user_column name DEFAULT 'user_id',
								  item_column name DEFAULT 'item_id',
								  weight_column name DEFAULT NULL,
								  time_column name DEFAULT NULL,
								  params jsonb DEFAULT '{}')
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
	IF EXISTS (SELECT 1 FROM recs.models m WHERE m.name = recs_create_model.name) THEN
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

CREATE FUNCTION recs_train(name text)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'recs_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION recs_train(text) IS 'train a model on its source and store a new version; returns the version number (the first version becomes active)';

CREATE FUNCTION recs_topk(user_id bigint, k integer DEFAULT 10, model text DEFAULT NULL,
						  exclude_seen boolean DEFAULT true)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text)
	AS 'MODULE_PATHNAME', 'recs_topk' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION recs_topk(bigint, integer, text, boolean) IS 'top-k recommendations for a user from a model (NULL: the default model); source names what produced each row';

CREATE FUNCTION recs_similar_items(item_id bigint, k integer DEFAULT 10, model text DEFAULT NULL)
	RETURNS TABLE (item_id bigint, score double precision, rank integer, source text)
	AS 'MODULE_PATHNAME', 'recs_similar_items' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION recs_similar_items(bigint, integer, text) IS 'the k items most similar to an item under a model';
