-- What the panel last saw in the cloud for each deployment, so the dashboard shows the IP and
-- the certificate's status without calling Google Cloud on every page view. Refreshed after
-- each apply, by "check now" and by the periodic drift check.
CREATE TABLE deployment_live (
    deployment_id INTEGER PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    ip            TEXT,                       -- the forwarding rules' address; NULL when none
    certificate   TEXT,                       -- the managed certificate's name; NULL for http
    cert_status   TEXT,                       -- managed.status; NULL when Google reports none
    domain_status TEXT NOT NULL DEFAULT '{}', -- JSON object: domain → managed.domainStatus
    checked_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Each comparison of the live resources with the last applied spec.
CREATE TABLE drift_checks (
    id              INTEGER PRIMARY KEY,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    requested_by    TEXT NOT NULL,            -- a user name, or '(schedule)'
    applied_version INTEGER,                  -- the version the live state was compared with
    result          TEXT NOT NULL CHECK (result IN ('in_sync', 'drifted', 'error')),
    -- JSON array: [{"action", "resource", "fields": [{"field", "expected", "live"}]}]
    differences     TEXT NOT NULL DEFAULT '[]',
    error           TEXT
);
CREATE INDEX drift_checks_deployment ON drift_checks (deployment_id, id DESC);
