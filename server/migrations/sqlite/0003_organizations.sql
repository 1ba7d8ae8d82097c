-- Organization memberships from org_mapping, replaced on every login:
-- a JSON array of {"name": ..., "role": ...}.
ALTER TABLE users ADD COLUMN organizations TEXT NOT NULL DEFAULT '[]';
