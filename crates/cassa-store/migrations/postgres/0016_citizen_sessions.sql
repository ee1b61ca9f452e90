-- Citizens logged in through an identity gateway (OIDC or a SAML proxy's
-- trusted headers). Same tables and columns on SQLite and PostgreSQL.

-- A logged-in browser: the SHA-256 of the cookie's random token, who it is
-- (`cf:<codice fiscale>` or `eidas:<person identifier>`), how they logged
-- in and at what level of assurance (1..3, when the gateway said).
CREATE TABLE citizen_session (
    token_hash      TEXT    PRIMARY KEY,
    citizen         TEXT    NOT NULL,
    given_name      TEXT    NOT NULL,
    family_name     TEXT    NOT NULL,
    auth_method     TEXT    NOT NULL,
    assurance       INTEGER,
    provider        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    seen_at         BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX citizen_session_by_expiry ON citizen_session (expires_at);

-- An OIDC login under way: the hash of its `state`, the nonce and PKCE
-- verifier to finish it with. In the database so that any node can finish
-- a login another one started.
CREATE TABLE oidc_login (
    state_hash      TEXT    PRIMARY KEY,
    nonce           TEXT    NOT NULL,
    pkce_verifier   TEXT    NOT NULL,
    auth_method     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);

-- Who paid through the portal while logged in: an eIDAS citizen's payments
-- can only be found this way (their debts carry no codice fiscale).
ALTER TABLE checkout ADD COLUMN citizen TEXT;
CREATE INDEX checkout_by_citizen ON checkout (citizen);

-- The storico of a citizen who paid for somebody else.
CREATE INDEX receipt_by_payer ON receipt (payer_fiscal_code);
