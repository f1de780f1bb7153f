-- The jobs page filters by user and by status, newest first, paged by (created_at, id): one
-- index per filter so every page is a single range scan (migration 0004 has the overall and
-- per-deployment ones).
CREATE INDEX jobs_by_user ON jobs (created_by, created_at DESC, id DESC);
CREATE INDEX jobs_by_status ON jobs (status, created_at DESC, id DESC);
