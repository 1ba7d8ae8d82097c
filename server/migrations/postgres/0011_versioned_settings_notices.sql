-- Settings writes are announced with the version written, on a channel of
-- their own (`WRITES_CHANNEL` in store/postgres.rs, payload "provider
-- version"), so a replica can tell a notice of a write it already holds
-- (its own) from a newer one and keeps its cache instead of reading the row
-- back. The provider-only notice on the old channel is still sent for
-- replicas of the previous release during a rolling upgrade.
CREATE OR REPLACE FUNCTION sso_settings_written() RETURNS trigger AS $$
BEGIN
    INSERT INTO sso_settings_history (provider, version, action, actor, at, correlation_id, changes_json)
    VALUES (NEW.provider, NEW.version, 'put', NEW.updated_by, NEW.updated_at, NEW.change_correlation_id, NEW.changes_json);
    PERFORM pg_notify('ssoplane_settings_written', NEW.provider || ' ' || NEW.version);
    PERFORM pg_notify('ssoplane_settings_changed', NEW.provider);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
