-- SAML runtime state, shared by replicas through the store.

-- AuthnRequests this server sent, bound to the browser that started them.
CREATE TABLE saml_requests (
    id          TEXT PRIMARY KEY NOT NULL,
    provider    TEXT NOT NULL,
    browser     TEXT NOT NULL,
    relay_state TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Assertion IDs already accepted, until they expire: replay protection.
CREATE TABLE saml_assertions (
    id         TEXT PRIMARY KEY NOT NULL,
    provider   TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash        TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    name_id        TEXT NOT NULL,
    session_index  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_events (
    id             TEXT PRIMARY KEY NOT NULL,
    provider       TEXT NOT NULL,
    at             TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    login          TEXT NOT NULL,
    correlation_id TEXT NOT NULL
);
CREATE INDEX login_events_by_provider ON login_events (provider, at);
