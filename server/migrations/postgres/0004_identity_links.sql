-- Sessions keep the asserted NameID whole (SAML core 2.2.2: Format and
-- qualifiers are part of it), so single logout can name it exactly; NULL is
-- "absent", as for sessions made before this migration.
ALTER TABLE sessions ADD COLUMN name_id_format TEXT;
ALTER TABLE sessions ADD COLUMN name_qualifier TEXT;
ALTER TABLE sessions ADD COLUMN sp_name_qualifier TEXT;
ALTER TABLE sessions ADD COLUMN sp_provided_id TEXT;
-- Single logout finds a subject's sessions by provider and NameID.
CREATE INDEX sessions_by_subject ON sessions (provider, name_id);
