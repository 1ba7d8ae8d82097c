-- Hot paths (issue 14): every lookup on a request path is indexed.

-- Pending AuthnRequests remember who started them (the client's address
-- key: an IPv4 address or an IPv6 /64), so one address can hold only so
-- many; rows from before have none.
ALTER TABLE saml_requests ADD COLUMN source TEXT NOT NULL DEFAULT '';
-- Creation order, so the bound per browser keeps its newest requests
-- (expires_at has whole seconds: a burst shares one value).
ALTER TABLE saml_requests ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
-- The ACS finds a browser's pending requests, the bound per browser keeps
-- its newest ones, the bound per address counts live ones, the purge finds
-- expired ones.
CREATE INDEX saml_requests_by_browser ON saml_requests (browser, provider, expires_at);
CREATE INDEX saml_requests_by_source ON saml_requests (source, expires_at);
CREATE INDEX saml_requests_by_expiry ON saml_requests (expires_at);
-- The purge of remembered assertion IDs and of expired or idle sessions.
CREATE INDEX saml_assertions_by_expiry ON saml_assertions (expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
