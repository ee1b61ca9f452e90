-- Imports staged in short transactions and made visible at once (see
-- cassa-store/src/positions/import.rs). A position an import inserted
-- carries the import's job id; while that job is in import_staging its
-- positions are invisible (to the node, the portal, the API, the back
-- office) and can be discarded; once the import is published (its row
-- here deleted, in the same transaction that records the job done) they
-- are ordinary positions. The id stays as provenance.
ALTER TABLE debt_position ADD COLUMN import_job BIGINT;
CREATE INDEX debt_position_by_import ON debt_position (import_job) WHERE import_job IS NOT NULL;

CREATE TABLE import_staging (
    job_id      BIGINT NOT NULL PRIMARY KEY REFERENCES job(id),
    ente_id     BIGINT NOT NULL REFERENCES ente(id),
    started_at  BIGINT NOT NULL
);
