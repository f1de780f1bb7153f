-- Deployments that adopted a hand-built load balancer: where it came from, who adopted it, and
-- what of it the spec cannot express and adopting left as it was (the overview lists those as
-- not managed). No foreign key, as for jobs: the record outlives the deployment row.
CREATE TABLE adoptions (
    deployment_id  INTEGER PRIMARY KEY,
    project        TEXT NOT NULL,
    forwarding_rule TEXT NOT NULL,  -- the load balancer's id: its main forwarding rule's name
    kept           TEXT NOT NULL,   -- JSON array of {resource, what, meaning}
    adopted_by     TEXT NOT NULL,
    adopted_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
