-- A settings write is one statement: the database writes its history row
-- (same statement, same transaction), instead of the server sending BEGIN,
-- UPDATE, INSERT and COMMIT while it holds the provider's write lock.
-- The row carries the write's correlation id and changes for the trigger.
ALTER TABLE sso_settings ADD COLUMN change_correlation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sso_settings ADD COLUMN changes_json TEXT NOT NULL DEFAULT '[]';

CREATE TRIGGER sso_settings_history_on_insert AFTER INSERT ON sso_settings
BEGIN
    INSERT INTO sso_settings_history (provider, version, action, actor, at, correlation_id, changes_json)
    VALUES (NEW.provider, NEW.version, 'put', NEW.updated_by, NEW.updated_at, NEW.change_correlation_id, NEW.changes_json);
END;

CREATE TRIGGER sso_settings_history_on_update AFTER UPDATE ON sso_settings
BEGIN
    INSERT INTO sso_settings_history (provider, version, action, actor, at, correlation_id, changes_json)
    VALUES (NEW.provider, NEW.version, 'put', NEW.updated_by, NEW.updated_at, NEW.change_correlation_id, NEW.changes_json);
END;
