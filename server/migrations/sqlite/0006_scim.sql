-- SCIM 2.0 provisioning (docs/scim.md).

-- A scim token is bound to one SAML provider: the users it creates are
-- linked to that provider by externalId. Empty for admin and reader tokens.
ALTER TABLE api_tokens ADD COLUMN provider TEXT NOT NULL DEFAULT '';

-- The provider whose SCIM client manages the user ('' when none does: a
-- SCIM client sees and changes only its own users), the SCIM attributes
-- stored as sent beyond the columns (name parts, phone numbers, addresses,
-- the enterprise extension...) and the resource version (ETag W/"N").
ALTER TABLE users ADD COLUMN scim_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN scim_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
-- Listing a client's users in id order; `externalId eq` lookups.
CREATE INDEX users_by_scim_provider ON users (scim_provider, id);
CREATE INDEX users_by_scim_external_id ON users (scim_provider, external_uid);

-- Groups get a stable id (SCIM's, which survives a rename of the name
-- memberships and assertions use), the SCIM client that manages them ('' for
-- groups made through the admin API or Terraform) and its externalId. SQLite
-- cannot add a NOT NULL column without a constant default: every insert
-- sets the id (store/sql.rs), and the unique index refuses duplicates.
ALTER TABLE groups ADD COLUMN id TEXT;
UPDATE groups SET id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX groups_by_id ON groups (id);
ALTER TABLE groups ADD COLUMN scim_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX groups_by_scim_provider ON groups (scim_provider, id);

-- A group renamed keeps its memberships: the name is followed (ON UPDATE
-- CASCADE). SQLite cannot change a foreign key in place: the table is rebuilt.
CREATE TABLE user_groups_cascading (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE ON UPDATE CASCADE,
    source     TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name, source)
);
INSERT INTO user_groups_cascading (user_id, group_name, source)
SELECT user_id, group_name, source FROM user_groups;
DROP TABLE user_groups;
ALTER TABLE user_groups_cascading RENAME TO user_groups;
CREATE INDEX user_groups_by_group ON user_groups (group_name, source);

-- Every change a SCIM client makes, with the token's name as the author.
CREATE TABLE scim_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    provider       TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    version        BIGINT NOT NULL,
    changes_json   TEXT NOT NULL
);
CREATE INDEX scim_audit_by_resource ON scim_audit (resource_id, id);
