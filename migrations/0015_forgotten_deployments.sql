-- Deployments that were forgotten with their resources left running in Google Cloud. The row
-- is what stops a later deployment of the same name from adopting (and then changing or
-- deleting) resources that were never its own: their owner marker names the deployment, not
-- which deployment of that name made them. No foreign key: like jobs, the record must outlive
-- whatever happens to the deployment row.
CREATE TABLE forgotten_deployments (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL,
    name          TEXT NOT NULL,
    project       TEXT NOT NULL,
    spec          TEXT NOT NULL,  -- JSON of the spec its newest apply put (or tried to put) in the cloud
    resources     TEXT NOT NULL,  -- JSON array of the resource paths its applies manage
    job_id        INTEGER,        -- that newest apply
    forgotten_by  TEXT NOT NULL,
    forgotten_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX forgotten_deployments_by_project ON forgotten_deployments (project, forgotten_at);
