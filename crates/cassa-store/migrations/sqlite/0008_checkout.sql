-- Paying a cart through pagoPA Checkout (Modello 1), and the e-mails that
-- follow. Same tables and columns on SQLite and PostgreSQL.

-- Step 2 of the cart: who pays (the versante), when not the debtor.
ALTER TABLE cart ADD COLUMN payer_name TEXT;
ALTER TABLE cart ADD COLUMN payer_fiscal_code TEXT;

-- A cart names its notices by ente and notice number, not by option row:
-- an ente updating a position rewrites its options, and the notice must
-- stay in the cart (to be checked again at checkout), not vanish.
CREATE TABLE cart_item_by_notice (
    id            INTEGER PRIMARY KEY,
    cart_id       BIGINT  NOT NULL REFERENCES cart(id) ON DELETE CASCADE,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    notice_number TEXT    NOT NULL,
    amount        BIGINT  NOT NULL,
    description   TEXT    NOT NULL,
    added_at      BIGINT  NOT NULL,
    UNIQUE (cart_id, ente_id, notice_number)
);
INSERT INTO cart_item_by_notice (id, cart_id, ente_id, notice_number, amount, description, added_at)
    SELECT id, cart_id, ente_id, notice_number, amount, description, added_at FROM cart_item;
DROP TABLE cart_item;
ALTER TABLE cart_item_by_notice RENAME TO cart_item;

-- One attempt to pay a cart: what was sent to Checkout, frozen at that
-- moment, and how it came back. Known outside by its random public id
-- (in the return URLs).
CREATE TABLE checkout (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    cart_id           BIGINT  NOT NULL REFERENCES cart(id) ON DELETE CASCADE,
    email             TEXT    NOT NULL,
    payer_name        TEXT,
    payer_fiscal_code TEXT,
    lang              TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    checkout_url      TEXT,
    error             TEXT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX checkout_by_cart ON checkout (cart_id);

CREATE TABLE checkout_item (
    id            INTEGER PRIMARY KEY,
    checkout_id   BIGINT  NOT NULL REFERENCES checkout(id) ON DELETE CASCADE,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    notice_number TEXT    NOT NULL,
    amount        BIGINT  NOT NULL,
    description   TEXT    NOT NULL
);
CREATE INDEX checkout_item_by_notice ON checkout_item (ente_id, notice_number);
CREATE INDEX checkout_item_by_checkout ON checkout_item (checkout_id);

-- E-mails to send, written in the same transaction as what they tell
-- (a receipt stored, a cart saved), so none is lost; the dedupe key makes
-- a second write of the same news a no-op, so none is queued twice.
-- state: pending -> sending (leased) -> sent | failed (gave up).
CREATE TABLE outbox_mail (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    lang            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_mail_due ON outbox_mail (state, next_attempt_at);
