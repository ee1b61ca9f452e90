-- Every debt file an ente uploaded, by its SHA-256: the same file sent
-- again is recognised, and changes nothing.
CREATE TABLE import_file (
    id          INTEGER PRIMARY KEY,
    ente_id     BIGINT  NOT NULL REFERENCES ente(id),
    sha256      TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    job_id      BIGINT  NOT NULL REFERENCES job(id),
    created_at  BIGINT  NOT NULL,
    UNIQUE (ente_id, sha256)
);
