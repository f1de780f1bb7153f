-- A person's "promote" of a gated rollout's stage: the soak step that is holding ends its hold
-- at once and goes on to judge the stage. One row per step; a step that was never promoted has
-- none. Read by the step between its waits, so a promote also works after a restart.
CREATE TABLE rollout_promotions (
    job_id      INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    promoted_by TEXT NOT NULL,
    promoted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (job_id, idx),
    FOREIGN KEY (job_id, idx) REFERENCES job_steps (job_id, idx) ON DELETE CASCADE
);

-- What a gated rollout's stage saw when it was judged: the judged backends' 5xx ratio and p95
-- per region over the last hour (`domain::rollout::StageSeries` as JSON), so the job page can
-- draw the breach as it was, after the rollback changed the traffic.
CREATE TABLE rollout_measurements (
    job_id INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    series TEXT NOT NULL,
    PRIMARY KEY (job_id, idx),
    FOREIGN KEY (job_id, idx) REFERENCES job_steps (job_id, idx) ON DELETE CASCADE
);
