-- Which client last wrote a row (`terraform` when the Terraform provider did;
-- empty for any other client), so the console can warn before editing
-- Terraform-managed settings.
ALTER TABLE sso_settings ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';

-- Groups get a version for optimistic concurrency (ETag / If-Match). It is a
-- revision taken from one counter for all groups (meta key
-- `group_revision`), so a group deleted and created again never reuses a
-- version an old plan or state still holds.
ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE groups ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';
INSERT INTO meta (key, value) VALUES ('group_revision', '1') ON CONFLICT (key) DO NOTHING;
