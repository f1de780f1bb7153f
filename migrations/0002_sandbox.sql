-- The sandbox cloud's state (--gcp sandbox): simulated Compute and Cloud Run resources,
-- their operations, issued access tokens and the generated service-account key.

-- One row per simulated resource. `body` is the resource as the API returns it (before the
-- read-time fields such as an address's users); `internal` holds state the API does not show
-- (an internet NEG's endpoints, a Cloud Run service's IAM policy and failure reason).
CREATE TABLE sandbox_resources (
    api         TEXT    NOT NULL CHECK (api IN ('compute', 'run')),
    project     TEXT    NOT NULL,
    location    TEXT    NOT NULL,            -- 'global' or a region
    collection  TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    internal    TEXT    NOT NULL DEFAULT '{}',
    ready_at_ms INTEGER NOT NULL DEFAULT 0,  -- when a Cloud Run revision becomes ready
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (api, project, location, collection, name)
);

-- Operations complete by time: DONE once the clock passes done_at_ms, so they survive a restart
-- without a background task. `error` is the error the operation ends with, if any.
CREATE TABLE sandbox_operations (
    api         TEXT    NOT NULL CHECK (api IN ('compute', 'run')),
    project     TEXT    NOT NULL,
    location    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    error       TEXT,
    done_at_ms  INTEGER NOT NULL,
    request_id  TEXT,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (api, project, location, name)
);
CREATE UNIQUE INDEX sandbox_operations_request_id
    ON sandbox_operations (api, project, request_id) WHERE request_id IS NOT NULL;

-- Access tokens the sandbox's token endpoint issued, stored as SHA-256 hex.
CREATE TABLE sandbox_tokens (
    token_sha256 TEXT    PRIMARY KEY,
    client_email TEXT    NOT NULL,
    expires_ms   INTEGER NOT NULL
);

-- The generated service-account key the panel signs its token requests with.
CREATE TABLE sandbox_service_account (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    client_email      TEXT    NOT NULL,
    private_key_pkcs8 BLOB    NOT NULL
);
