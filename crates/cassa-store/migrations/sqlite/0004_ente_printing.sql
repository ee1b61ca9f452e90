-- What an ente's printed documents need beyond its registry data: its logo
-- (PNG, shown on every page of its notices and receipts) and Poste's
-- authorisation to print the postal slip, as Poste worded it. Kept apart
-- from ente, which every request reads and caches.
CREATE TABLE ente_printing (
    ente_id              BIGINT  PRIMARY KEY REFERENCES ente(id),
    logo_png             BLOB,
    postal_authorization TEXT,
    updated_at           BIGINT  NOT NULL
);
