-- Pinned plans: what a person reviewed, so that apply runs exactly that or refuses. A plan
-- records the draft version it was made from and a digest of the live resources it read;
-- apply reads the cloud again and refuses when either has moved.
CREATE TABLE plans (
    id            TEXT PRIMARY KEY,              -- a random UUID: plan ids are handed to scripts
    deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('apply', 'destroy')),
    version       INTEGER NOT NULL,
    services      INTEGER NOT NULL DEFAULT 0,    -- destroy: also delete the Cloud Run services
    live_digest   TEXT NOT NULL,
    plan          TEXT NOT NULL,                 -- the plan JSON the API answers
    steps         TEXT NOT NULL,                 -- the job steps it would run
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    TEXT NOT NULL,
    job_id        INTEGER REFERENCES jobs(id)   -- the job that ran it (a plan runs once)
);
CREATE INDEX plans_by_deployment ON plans (deployment_id, created_at DESC);
