-- Payments through the pagoPA node (Modello 3). Same tables and columns on
-- SQLite and PostgreSQL; see 0001 for the representation rules.

-- An activation (paGetPayment) that has not ended in a receipt yet: while
-- it is open and unexpired, another activation of the option is refused
-- with PAA_PAGAMENTO_IN_CORSO.
CREATE TABLE payment_activation (
    id            INTEGER PRIMARY KEY,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    option_id     BIGINT  NOT NULL REFERENCES payment_option(id) ON DELETE CASCADE,
    notice_number TEXT    NOT NULL,
    operation     TEXT    NOT NULL,
    transfer_type TEXT,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    closed_at     BIGINT
);
CREATE INDEX payment_activation_open ON payment_activation (option_id, closed_at);

-- Every receipt the node sends (paSendRT / paSendRTV2), kept whole. The
-- status says what it did: 'applied' (the option is paid by it), 'ko' (a
-- failed payment, kept for the record), or an anomaly for operators:
-- 'double_payment' (the option was already paid by another receipt) or
-- 'unknown_notice' (no such option).
CREATE TABLE receipt (
    id                  INTEGER PRIMARY KEY,
    ente_id             BIGINT  NOT NULL REFERENCES ente(id),
    receipt_id          TEXT    NOT NULL,
    notice_number       TEXT    NOT NULL,
    option_id           BIGINT  REFERENCES payment_option(id) ON DELETE SET NULL,
    status              TEXT    NOT NULL,
    outcome             TEXT    NOT NULL,
    amount              BIGINT  NOT NULL,
    fee                 BIGINT,
    psp_id              TEXT    NOT NULL,
    psp_company_name    TEXT    NOT NULL,
    channel_id          TEXT    NOT NULL,
    payment_method      TEXT,
    payer_fiscal_code   TEXT,
    payer_name          TEXT,
    payment_date_time   BIGINT,
    application_date    TEXT,
    transfer_date       TEXT,
    operation           TEXT    NOT NULL,
    raw_xml             TEXT    NOT NULL,
    received_at         BIGINT  NOT NULL,
    UNIQUE (ente_id, receipt_id)
);
CREATE INDEX receipt_by_notice ON receipt (ente_id, notice_number);
CREATE INDEX receipt_by_status ON receipt (status, received_at);
