-- Sessions keep the asserted NameID whole (SAML core 2.2.2: Format and
-- qualifiers are part of it), so single logout can name it exactly; NULL is
-- "absent", as for sessions made before this migration.
ALTER TABLE sessions ADD COLUMN name_id_format TEXT;
ALTER TABLE sessions ADD COLUMN name_qualifier TEXT;
ALTER TABLE sessions ADD COLUMN sp_name_qualifier TEXT;
ALTER TABLE sessions ADD COLUMN sp_provided_id TEXT;
-- Single logout finds a subject's sessions by provider and NameID.
CREATE INDEX sessions_by_subject ON sessions (provider, name_id);

-- Who made a user through the admin API (the token's name); empty for users
-- a login created. users.provider now means the source that created the
-- user (a provider, api, scim or local) and is never overwritten.
ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
-- Collision checks look users up by email.
CREATE INDEX users_by_email ON users (email);

-- A user's identities: (provider, kind, subject) names one user. kind is
-- external_uid, name_id (a canonical JSON array of Format, NameQualifier,
-- SPNameQualifier and value) or login. provider is a provider slug or local.
CREATE TABLE identity_links (
    provider   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (provider, kind, subject)
);
CREATE INDEX identity_links_by_user ON identity_links (user_id);

-- Existing users keep their provider: a login link (logins were unique)
-- the next login through it upgrades to a stronger subject...
INSERT INTO identity_links (provider, kind, subject, user_id, created_at)
SELECT provider, 'login', login, id, updated_at FROM users;
-- ...and their external uid, unless several users of that provider shared
-- it: then it names nobody with certainty and links no one.
INSERT INTO identity_links (provider, kind, subject, user_id, created_at)
SELECT u.provider, 'external_uid', u.external_uid, u.id, u.updated_at FROM users u
WHERE u.external_uid <> '' AND NOT EXISTS (
    SELECT 1 FROM users o
    WHERE o.provider = u.provider AND o.external_uid = u.external_uid AND o.id <> u.id
);

-- What each source (provider slug, api, scim, local) grants a user; a login
-- replaces its own source's row only. users.role, is_admin and organizations
-- stay as the effective values over all rows, recomputed on every change.
CREATE TABLE user_grants (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    role          TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL,
    organizations TEXT NOT NULL DEFAULT '[]',
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, source)
);
INSERT INTO user_grants (user_id, source, role, is_admin, organizations, updated_at)
SELECT id, provider, role, is_admin, organizations, updated_at FROM users;

-- Group memberships per source too (SQLite cannot change a primary key in
-- place: the table is rebuilt).
CREATE TABLE user_groups_by_source (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name, source)
);
INSERT INTO user_groups_by_source (user_id, group_name, source)
SELECT ug.user_id, ug.group_name, u.provider FROM user_groups ug JOIN users u ON u.id = ug.user_id;
DROP TABLE user_groups;
ALTER TABLE user_groups_by_source RENAME TO user_groups;
CREATE INDEX user_groups_by_group ON user_groups (group_name);
