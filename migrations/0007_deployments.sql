-- A deployment is one load balancer. Its draft spec is edited in place (wizard, API) and every
-- accepted save is kept as a version, so nothing a person saved is ever lost.
CREATE TABLE deployments (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    spec         TEXT NOT NULL,             -- current draft, JSON; may be incomplete while in the wizard
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    applied_spec    TEXT,                   -- the spec of the last successful apply
    applied_version INTEGER,
    deleted_at   TEXT
);
CREATE INDEX deployments_updated ON deployments (updated_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE deployment_versions (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    spec          TEXT NOT NULL,
    author        TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (deployment_id, version)
);

-- Edits refused because another edit came first: kept so the person can compare and recover them.
CREATE TABLE deployment_conflicts (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    based_on      INTEGER NOT NULL,
    spec          TEXT NOT NULL,
    author        TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The name prefixes every cloud resource the deployment owns, so two live deployments can't share it.
CREATE UNIQUE INDEX deployments_name ON deployments (name) WHERE deleted_at IS NULL;
