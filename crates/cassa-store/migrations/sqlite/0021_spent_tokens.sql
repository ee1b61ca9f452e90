-- Anonymous pages write nothing: the spontaneous-payment challenge and the
-- OIDC login state are sealed by the server and carried by the browser.
-- A token is recorded only when it is spent (on a POST, or after the
-- identity provider answered), so that it is spent once.
CREATE TABLE spent_token (
    token_hash TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX spent_token_by_expiry ON spent_token (expires_at);

-- The key that seals them, made once and shared by every process.
CREATE TABLE server_key (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    key_hex TEXT    NOT NULL
);

DROP TABLE captcha;
DROP TABLE oidc_login;
