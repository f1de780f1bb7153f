-- The sandbox serves Certificate Manager too, and keeps the DNS records a team "publishes" for
-- its DNS authorizations: the `api` column's CHECK grows by 'certificatemanager' and 'dns'.
-- SQLite cannot change a CHECK in place, so both tables are rebuilt with their indexes.

CREATE TABLE sandbox_resources_new (
    api           TEXT    NOT NULL CHECK (api IN ('compute', 'run', 'certificatemanager', 'dns')),
    project       TEXT    NOT NULL,
    location      TEXT    NOT NULL,
    collection    TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    internal      TEXT    NOT NULL DEFAULT '{}',
    ready_at_ms   INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL,
    visible_at_ms INTEGER NOT NULL DEFAULT 0,
    gone_at_ms    INTEGER,
    PRIMARY KEY (api, project, location, collection, name)
);
INSERT INTO sandbox_resources_new
    (api, project, location, collection, name, body, internal, ready_at_ms, created_ms,
     visible_at_ms, gone_at_ms)
SELECT api, project, location, collection, name, body, internal, ready_at_ms, created_ms,
       visible_at_ms, gone_at_ms
FROM sandbox_resources;
DROP TABLE sandbox_resources;
ALTER TABLE sandbox_resources_new RENAME TO sandbox_resources;
CREATE INDEX sandbox_resources_by_collection
    ON sandbox_resources (api, collection, project, location, name);
CREATE INDEX sandbox_resources_gone ON sandbox_resources (gone_at_ms)
    WHERE gone_at_ms IS NOT NULL;

CREATE TABLE sandbox_operations_new (
    api         TEXT    NOT NULL CHECK (api IN ('compute', 'run', 'certificatemanager')),
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
INSERT INTO sandbox_operations_new
    (api, project, location, name, body, error, done_at_ms, request_id, created_ms)
SELECT api, project, location, name, body, error, done_at_ms, request_id, created_ms
FROM sandbox_operations;
DROP TABLE sandbox_operations;
ALTER TABLE sandbox_operations_new RENAME TO sandbox_operations;
CREATE UNIQUE INDEX sandbox_operations_request_id
    ON sandbox_operations (api, project, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX sandbox_operations_by_time
    ON sandbox_operations (api, project, location, created_ms, name);
