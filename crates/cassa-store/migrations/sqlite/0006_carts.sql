-- Citizens' carts: up to 5 notices, possibly of different enti, paid
-- together through pagoPA Checkout. An anonymous cart is known by its
-- random public id (kept in the browser's cookie and in the resume link).
CREATE TABLE cart (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    status      TEXT    NOT NULL,
    email       TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- A notice in a cart. The amount is the option's, read when it was added,
-- never what a browser sent.
CREATE TABLE cart_item (
    id            INTEGER PRIMARY KEY,
    cart_id       BIGINT  NOT NULL REFERENCES cart(id) ON DELETE CASCADE,
    ente_id       BIGINT  NOT NULL REFERENCES ente(id),
    option_id     BIGINT  NOT NULL REFERENCES payment_option(id) ON DELETE CASCADE,
    notice_number TEXT    NOT NULL,
    amount        BIGINT  NOT NULL,
    description   TEXT    NOT NULL,
    added_at      BIGINT  NOT NULL,
    UNIQUE (cart_id, option_id)
);
