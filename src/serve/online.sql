--
-- Online updates: interactions that arrive after a model was trained change
-- the user's recommendations at once, without a retrain.
--
-- recs_enable_online_updates(model) puts statement-level triggers on the
-- model's source that note each touched user in recs.user_updates.
-- recs_topk then serves such a user from their live interactions (fold-in
-- for factor models, live history for neighbourhood models) until a newer
-- version is trained, and bypasses the cache for them; the worker drops
-- their cached lists.
--

CREATE TABLE recs.user_updates (
	model text NOT NULL REFERENCES recs.models (name) ON DELETE CASCADE,
	user_id bigint NOT NULL,
	updated_at timestamptz NOT NULL,
	invalidated boolean NOT NULL DEFAULT false,	-- the worker dropped their cached lists
	PRIMARY KEY (model, user_id)
);
CREATE INDEX ON recs.user_updates (updated_at);
COMMENT ON TABLE recs.user_updates IS 'users whose interactions changed after their model was trained (kept by the triggers of recs_enable_online_updates)';
SELECT pg_catalog.pg_extension_config_dump('recs.user_updates', '');

-- TG_ARGV: model name, user column; the transition table holds the rows
CREATE FUNCTION recs.note_user_updates()
	RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- clock_timestamp, not now(): a training that started after this
	-- transaction began may not see its rows
	EXECUTE format('INSERT INTO recs.user_updates (model, user_id, updated_at)'
				   ' SELECT DISTINCT $1, r.%I::int8, clock_timestamp() FROM changed_rows r'
				   ' WHERE r.%I IS NOT NULL'
				   ' ON CONFLICT (model, user_id) DO UPDATE'
				   ' SET updated_at = EXCLUDED.updated_at, invalidated = false',
				   TG_ARGV[1], TG_ARGV[1])
		USING TG_ARGV[0];
	PERFORM pg_notify('recs_user_updates', TG_ARGV[0]);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION recs.note_user_updates() IS 'internal: trigger noting the users whose interactions changed (recs_enable_online_updates)';

-- the three triggers of a model on its source are recs_online_<event>_<md5 of
-- the model name>; drop those that exist
CREATE FUNCTION recs.drop_online_triggers(model text, source regclass)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	event text;
BEGIN
	FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
		IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = source
				   AND t.tgname = 'recs_online_' || event || '_' || md5(model)) THEN
			EXECUTE format('DROP TRIGGER %I ON %s',
						   'recs_online_' || event || '_' || md5(model), source);
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION recs.drop_online_triggers(text, regclass) IS 'internal: drop the online-update triggers of a model from its source';

CREATE FUNCTION recs_enable_online_updates(model text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m recs.models;
	kind "char";
	event text;
BEGIN
	SELECT * INTO m FROM recs.models WHERE name = model FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', model
			USING ERRCODE = 'undefined_object';
	END IF;
	SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = m.source;
	IF kind IS DISTINCT FROM 'r' AND kind IS DISTINCT FROM 'p' THEN
		RAISE EXCEPTION 'online updates need the source of model "%" to be a table', model
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = format('%s is a %s.', m.source,
								  CASE kind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
											WHEN 'f' THEN 'foreign table' ELSE 'relation' END),
				  HINT = 'Note changed users yourself: INSERT INTO recs.user_updates (model, user_id, updated_at) VALUES (...).';
	END IF;
	-- enabling twice replaces the triggers
	PERFORM recs.drop_online_triggers(model, m.source);
	FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s TABLE AS changed_rows'
					   ' FOR EACH STATEMENT EXECUTE FUNCTION recs.note_user_updates(%L, %L)',
					   'recs_online_' || event || '_' || md5(model), event, m.source,
					   CASE event WHEN 'delete' THEN 'OLD' ELSE 'NEW' END,
					   model, m.user_column);
	END LOOP;
	UPDATE recs.models SET online = true WHERE name = model;
END
$$;
COMMENT ON FUNCTION recs_enable_online_updates(text) IS 'let interactions that arrive after training change a user''s recommendations at once (triggers on the model''s source note changed users)';

CREATE FUNCTION recs_disable_online_updates(model text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m recs.models;
BEGIN
	SELECT * INTO m FROM recs.models WHERE name = model FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', model
			USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM recs.drop_online_triggers(model, m.source);
	UPDATE recs.models SET online = false WHERE name = model;
	DELETE FROM recs.user_updates u WHERE u.model = recs_disable_online_updates.model;
END
$$;
COMMENT ON FUNCTION recs_disable_online_updates(text) IS 'stop online updates of a model: drop its triggers and forget noted users';
