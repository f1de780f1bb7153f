-- One counter that every change to what the dashboard and the jobs page show moves forward.
-- The panel keeps those pages' data in memory while the counter stands still; triggers, rather
-- than the code that writes, move it, so a change by another process (the CLI, a
-- second panel on the same file) is seen as surely as one by this panel.
CREATE TABLE change_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO change_count (id, n) VALUES (1, 0);

CREATE TRIGGER deployments_insert_counted AFTER INSERT ON deployments
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER deployments_update_counted AFTER UPDATE ON deployments
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER deployments_delete_counted AFTER DELETE ON deployments
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER jobs_insert_counted AFTER INSERT ON jobs
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER jobs_update_counted AFTER UPDATE ON jobs
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER jobs_delete_counted AFTER DELETE ON jobs
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER deployment_live_insert_counted AFTER INSERT ON deployment_live
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER deployment_live_update_counted AFTER UPDATE ON deployment_live
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER deployment_live_delete_counted AFTER DELETE ON deployment_live
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER drift_checks_insert_counted AFTER INSERT ON drift_checks
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER drift_checks_update_counted AFTER UPDATE ON drift_checks
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER drift_checks_delete_counted AFTER DELETE ON drift_checks
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER users_insert_counted AFTER INSERT ON users
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER users_update_counted AFTER UPDATE ON users
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER users_delete_counted AFTER DELETE ON users
BEGIN UPDATE change_count SET n = n + 1 WHERE id = 1; END;
