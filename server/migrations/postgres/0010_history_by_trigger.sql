-- A settings write is one statement: the database writes its history row
-- and tells the other replicas (same statement, same transaction), instead
-- of the server sending BEGIN, UPDATE, INSERT, NOTIFY and COMMIT while it
-- holds the provider's write lock. The row carries the write's correlation
-- id and changes for the trigger. The channel is `CHANGES_CHANNEL` in
-- store/postgres.rs (a replica test fails when they differ).
ALTER TABLE sso_settings ADD COLUMN change_correlation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sso_settings ADD COLUMN changes_json TEXT NOT NULL DEFAULT '[]';

CREATE FUNCTION sso_settings_written() RETURNS trigger AS $$
BEGIN
    INSERT INTO sso_settings_history (provider, version, action, actor, at, correlation_id, changes_json)
    VALUES (NEW.provider, NEW.version, 'put', NEW.updated_by, NEW.updated_at, NEW.change_correlation_id, NEW.changes_json);
    PERFORM pg_notify('ssoplane_settings_changed', NEW.provider);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sso_settings_history AFTER INSERT OR UPDATE ON sso_settings
    FOR EACH ROW EXECUTE FUNCTION sso_settings_written();
