-- What a running step waits for before its next attempt at a Google Cloud call (a rate limit, a
-- transient failure) and until when, so the job page and the API can say "waiting: rate limited
-- by Google, retry in 40 s". At most one row per step: each wait replaces the last, and the
-- step's completion removes it. A table of its own rather than columns of job_steps: only
-- running steps ever have one, and rows come and go far more often than steps change.
CREATE TABLE job_step_waits (
    job_id INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    note   TEXT NOT NULL,  -- what is waited out, in words: "rate limited by Google"
    until  TEXT NOT NULL,  -- when the next attempt is made (UTC, like every timestamp here)
    PRIMARY KEY (job_id, idx),
    FOREIGN KEY (job_id, idx) REFERENCES job_steps (job_id, idx) ON DELETE CASCADE
);
