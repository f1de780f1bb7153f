-- Apply and destroy jobs, their steps (one Compute call each) and their log.
-- `deployment` names the deployment without a foreign key: the deployments table comes from
-- another migration, and a job's history must outlive the deployment it destroyed.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    deployment       TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('apply', 'destroy')),
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    spec             TEXT NOT NULL,  -- JSON snapshot of the spec the plan was made from
    plan             TEXT NOT NULL,  -- JSON of the plan
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at       TEXT,
    finished_at      TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
-- Keyset paging, newest first, overall and per deployment.
CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_by_deployment ON jobs (deployment, created_at DESC, id DESC);
-- One job at a time per deployment, enforced by the database so two requests cannot race.
CREATE UNIQUE INDEX jobs_one_active_per_deployment ON jobs (deployment)
    WHERE status IN ('queued', 'running');

CREATE TABLE job_steps (
    job_id          INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,
    step_id         TEXT NOT NULL,
    action          TEXT NOT NULL,
    resource        TEXT NOT NULL,
    depends_on      TEXT NOT NULL,  -- JSON array of step ids
    request         TEXT NOT NULL,  -- JSON of the call: verb, path, body, scope
    request_id      TEXT NOT NULL,  -- UUID sent as requestId; fixed before the first attempt
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    operation       TEXT,           -- operation name, stored as soon as the API returns it
    operation_scope TEXT,           -- 'global' or the region
    started_at      TEXT,
    finished_at     TEXT,
    error           TEXT,
    PRIMARY KEY (job_id, idx),
    UNIQUE (job_id, step_id)
);

CREATE TABLE job_log (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    step    TEXT,
    level   TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
