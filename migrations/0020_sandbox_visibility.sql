-- The sandbox's Compute resources appear and disappear with their operations, as Google's do
-- (docs/google-cloud.md §11.3): an insert is invisible until its operation is DONE, a deleted
-- resource stays visible (and in use) until its delete operation is DONE. Both moments are
-- kept here, as operations themselves complete by the clock.
ALTER TABLE sandbox_resources ADD COLUMN visible_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sandbox_resources ADD COLUMN gone_at_ms INTEGER;

-- Rows whose delete has completed are purged on the next write; this keeps that cheap.
CREATE INDEX sandbox_resources_gone ON sandbox_resources (gone_at_ms)
    WHERE gone_at_ms IS NOT NULL;

-- Cloud Run lists operations newest first, a page at a time.
CREATE INDEX sandbox_operations_by_time
    ON sandbox_operations (api, project, location, created_ms, name);
