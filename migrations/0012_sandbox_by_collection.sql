-- The sandbox reads resources by collection across locations and projects: the in-use checks
-- read only the collections that can point at a kind (a backend service's users are URL maps),
-- and a new address or forwarding rule checks the IPs of every project (IPs are global). The
-- primary key starts (api, project, location): without this index both walk every resource of
-- the project, or of every project.
CREATE INDEX sandbox_resources_by_collection
    ON sandbox_resources (api, collection, project, location, name);
