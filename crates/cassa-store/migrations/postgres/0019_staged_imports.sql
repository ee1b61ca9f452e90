-- Imports staged in short transactions and made visible at once (see
-- cassa-store/src/positions/import.rs). A position an import inserted
-- carries the import's job id; while that job is in import_staging its
-- positions are invisible (to the node, the portal, the API, the back
-- office) and can be discarded; once the import is published (its row
-- here deleted, in the same transaction that records the job done) they
-- are ordinary positions. The id stays as provenance. No index on it:
-- one entry per imported row cost a tenth of a large import; a staged
-- import's rows are found by their ids' range, kept in import_staging.
ALTER TABLE debt_position ADD COLUMN import_job BIGINT;

CREATE TABLE import_staging (
    job_id      BIGINT NOT NULL PRIMARY KEY REFERENCES job(id),
    ente_id     BIGINT NOT NULL REFERENCES ente(id),
    started_at  BIGINT NOT NULL,
    -- The lowest and highest id of the positions staged so far.
    first_position BIGINT,
    last_position  BIGINT
);
