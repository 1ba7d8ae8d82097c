-- ssoplane schema (PostgreSQL). Timestamps are RFC 3339 UTC text; JSON is text.
CREATE TABLE sso_settings (
    provider      TEXT PRIMARY KEY NOT NULL,
    settings_json TEXT NOT NULL,
    secrets_json  TEXT NOT NULL,
    version       BIGINT NOT NULL,
    updated_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL
);

CREATE TABLE sso_settings_history (
    id             BIGSERIAL PRIMARY KEY,
    provider       TEXT NOT NULL,
    version        BIGINT NOT NULL,
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    changes_json   TEXT NOT NULL,
    UNIQUE (provider, version)
);

CREATE TABLE groups (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    login         TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    external_uid  TEXT NOT NULL,
    provider      TEXT NOT NULL,
    role          TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login_at TEXT
);

CREATE TABLE user_groups (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_name)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
