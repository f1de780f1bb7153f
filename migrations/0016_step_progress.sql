-- What a long-running step has seen so far, in words (a certificate's status per domain while
-- the job waits for Google to issue it), so the job page can show it live and a restart keeps it.
ALTER TABLE job_steps ADD COLUMN progress TEXT;
