-- Background jobs (bulk notice printing now; imports and exports later).
-- Same tables and columns on SQLite and PostgreSQL; see 0001 for the
-- representation rules.
--
-- A worker claims a queued job by setting state 'running' and a lease; it
-- renews the lease as it reports progress. A job whose lease ran out (its
-- worker died) is claimed again, up to a few attempts, then it fails.
CREATE TABLE job (
    id             INTEGER PRIMARY KEY,
    ente_id        BIGINT  NOT NULL REFERENCES ente(id),
    kind           TEXT    NOT NULL,
    params         TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    progress_done  BIGINT  NOT NULL DEFAULT 0,
    progress_total BIGINT  NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    run_at         BIGINT  NOT NULL,
    lease_until    BIGINT,
    worker         TEXT,
    error          TEXT,
    result         TEXT,
    created_by     TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT
);
CREATE INDEX job_queue ON job (state, run_at);
CREATE INDEX job_by_ente ON job (ente_id, created_at);
