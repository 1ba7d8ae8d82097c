-- Reports of administrators' test sign-ins (admin console): what the IdP
-- sent and what ssoplane made of it, kept for an hour for the console.
CREATE TABLE test_signins (
    id            TEXT PRIMARY KEY NOT NULL,
    provider      TEXT NOT NULL,
    admin_user_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    report_json   TEXT NOT NULL
);
CREATE INDEX test_signins_by_expiry ON test_signins (expires_at);
