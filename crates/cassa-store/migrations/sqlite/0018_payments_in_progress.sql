-- Money safety (see ../postgres/0018_payments_in_progress.sql).
--
-- An activation outlives its option: deleting or rewriting an option keeps
-- the record of the payment that was started (option_id becomes NULL; the
-- notice number stays). SQLite changes a foreign key only by rebuilding
-- the table. The activation also keeps the node's paymentNote: Checkout
-- passes our idCart there, which names the checkout that paid.
CREATE TABLE payment_activation_new (
    id            INTEGER PRIMARY KEY,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    option_id     BIGINT  REFERENCES payment_option(id) ON DELETE SET NULL,
    notice_number TEXT    NOT NULL,
    operation     TEXT    NOT NULL,
    transfer_type TEXT,
    payment_note  TEXT,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    closed_at     BIGINT
);
INSERT INTO payment_activation_new
    (id, ente_id, option_id, notice_number, operation, transfer_type, created_at, expires_at, closed_at)
    SELECT id, ente_id, option_id, notice_number, operation, transfer_type, created_at, expires_at, closed_at
    FROM payment_activation;
DROP TABLE payment_activation;
ALTER TABLE payment_activation_new RENAME TO payment_activation;
CREATE INDEX payment_activation_open ON payment_activation (option_id, closed_at);

-- A receipt that was not applied (an anomaly: money arrived that pays no
-- debt) is handled by an operator, who says what was done (a refund
-- ordered, say).
ALTER TABLE receipt ADD COLUMN handled_at BIGINT;
ALTER TABLE receipt ADD COLUMN handled_by TEXT;
ALTER TABLE receipt ADD COLUMN handled_note TEXT;
CREATE INDEX receipt_by_ente_status ON receipt (ente_id, status, received_at);
