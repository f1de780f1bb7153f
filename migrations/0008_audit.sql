-- Who did what, when: sign-ins, user and token changes, draft edits, plans, applies, destroys.
-- Rows are only ever inserted. `actor` is the user's name as it was (users can be renamed or
-- removed; the log must still read right), `target` names what was acted on (`deployment:3`,
-- `user:bob`), `detail` is a small JSON object and never holds a secret.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
-- Keyset paging, newest first: `WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT n`,
-- alone or after an equality filter on the actor, the action or the target.
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC, id DESC);
