-- cassa schema, SQLite dialect. Keep in step with ../postgres/0001_initial.sql:
-- same tables, same columns, same meaning. Money is integer cents, times are
-- microseconds since the Unix epoch (UTC), flags are 0/1, JSON is TEXT.

CREATE TABLE ente (
    id                INTEGER PRIMARY KEY,
    fiscal_code       TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    ipa_code          TEXT,
    segregation_code  INTEGER NOT NULL,
    cbill             TEXT,
    iban              TEXT,
    postal_iban       TEXT,
    office_name       TEXT,
    email             TEXT,
    pec               TEXT,
    phone             TEXT,
    website           TEXT,
    address           TEXT,
    membership_mode   TEXT    NOT NULL DEFAULT 'base',
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);

-- The next 13-digit IUV base per ente; only ever moves forward.
CREATE TABLE iuv_counter (
    ente_id    BIGINT NOT NULL PRIMARY KEY REFERENCES ente(id),
    next_base  BIGINT NOT NULL
);

CREATE TABLE tipo_dovuto (
    id              INTEGER PRIMARY KEY,
    ente_id         BIGINT  NOT NULL REFERENCES ente(id),
    code            TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    description     TEXT,
    taxonomy_code   TEXT    NOT NULL,
    iban            TEXT,
    postal_iban     TEXT,
    amount_rule     TEXT    NOT NULL DEFAULT 'free',
    fixed_amount    BIGINT,
    min_amount      BIGINT,
    max_amount      BIGINT,
    spontaneous     INTEGER NOT NULL DEFAULT 0,
    form_fields     TEXT    NOT NULL DEFAULT '[]',
    tags            TEXT    NOT NULL DEFAULT '[]',
    external_url    TEXT,
    capitolo        TEXT,
    accertamento    TEXT,
    ufficio         TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (ente_id, code)
);

CREATE TABLE debt_position (
    id                 INTEGER PRIMARY KEY,
    ente_id            BIGINT  NOT NULL REFERENCES ente(id),
    tipo_dovuto_id     BIGINT  REFERENCES tipo_dovuto(id),
    iupd               TEXT    NOT NULL,
    debtor_type        TEXT    NOT NULL,
    debtor_fiscal_code TEXT    NOT NULL,
    debtor_name        TEXT    NOT NULL,
    street_name        TEXT,
    civic_number       TEXT,
    postal_code        TEXT,
    city               TEXT,
    province           TEXT,
    region             TEXT,
    country            TEXT,
    email              TEXT,
    phone              TEXT,
    company_name       TEXT    NOT NULL,
    office_name        TEXT,
    validity_date      BIGINT,
    switch_to_expired  INTEGER NOT NULL,
    pay_stand_in       INTEGER NOT NULL,
    status             TEXT    NOT NULL,
    origin             TEXT    NOT NULL,
    min_due_date       BIGINT  NOT NULL,
    max_due_date       BIGINT  NOT NULL,
    inserted_at        BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    published_at       BIGINT,
    payment_date       BIGINT,
    version            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (ente_id, iupd)
);
CREATE INDEX debt_position_by_inserted ON debt_position (ente_id, inserted_at);
CREATE INDEX debt_position_by_debtor ON debt_position (debtor_fiscal_code);
CREATE INDEX debt_position_by_status ON debt_position (status, validity_date);

CREATE TABLE payment_option (
    id                  INTEGER PRIMARY KEY,
    position_id         BIGINT  NOT NULL REFERENCES debt_position(id) ON DELETE CASCADE,
    ente_id             BIGINT  NOT NULL REFERENCES ente(id),
    seq                 INTEGER NOT NULL,
    iuv                 TEXT    NOT NULL,
    notice_number       TEXT    NOT NULL,
    amount              BIGINT  NOT NULL,
    description         TEXT    NOT NULL,
    is_partial_payment  INTEGER NOT NULL,
    due_date            BIGINT  NOT NULL,
    retention_date      BIGINT,
    fee                 BIGINT  NOT NULL DEFAULT 0,
    notification_fee    BIGINT  NOT NULL DEFAULT 0,
    status              TEXT    NOT NULL,
    payment_date        BIGINT,
    reporting_date      BIGINT,
    payment_method      TEXT,
    psp_company         TEXT,
    id_receipt          TEXT,
    id_flow_reporting   TEXT,
    metadata            TEXT    NOT NULL DEFAULT '[]',
    inserted_at         BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    UNIQUE (ente_id, iuv),
    UNIQUE (ente_id, notice_number)
);
CREATE INDEX payment_option_by_position ON payment_option (position_id);
CREATE INDEX payment_option_by_due_date ON payment_option (ente_id, due_date);

CREATE TABLE transfer (
    id                        INTEGER PRIMARY KEY,
    option_id                 BIGINT  NOT NULL REFERENCES payment_option(id) ON DELETE CASCADE,
    id_transfer               INTEGER NOT NULL,
    amount                    BIGINT  NOT NULL,
    organization_fiscal_code  TEXT    NOT NULL,
    company_name              TEXT,
    remittance_information    TEXT    NOT NULL,
    category                  TEXT    NOT NULL,
    iban                      TEXT,
    postal_iban               TEXT,
    stamp_hash_document       TEXT,
    stamp_type                TEXT,
    stamp_provincial_residence TEXT,
    status                    TEXT    NOT NULL,
    metadata                  TEXT    NOT NULL DEFAULT '[]',
    inserted_at               BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL,
    UNIQUE (option_id, id_transfer)
);
CREATE INDEX transfer_by_iban ON transfer (iban);

-- API keys are stored as SHA-256 of the secret; the prefix helps people
-- recognise a key without revealing it.
CREATE TABLE api_key (
    id            INTEGER PRIMARY KEY,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    prefix        TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL UNIQUE,
    label         TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    revoked_at    BIGINT
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE audit_event (
    id           INTEGER PRIMARY KEY,
    at           BIGINT  NOT NULL,
    actor        TEXT    NOT NULL,
    ente_id      BIGINT,
    action       TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    entity_key   TEXT    NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    request_id   TEXT
);
CREATE INDEX audit_event_by_entity ON audit_event (entity, entity_key);
CREATE INDEX audit_event_by_ente ON audit_event (ente_id, at);
