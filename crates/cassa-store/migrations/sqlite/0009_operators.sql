-- Back-office operators, their roles per ente, and their sessions. Same
-- tables and columns on SQLite and PostgreSQL.

CREATE TABLE operator (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    email           TEXT,
    -- argon2id, PHC string format.
    password_hash   TEXT    NOT NULL,
    -- base32 TOTP secret when the operator turned on the second factor.
    totp_secret     TEXT,
    platform_admin  INTEGER NOT NULL DEFAULT 0,
    active          INTEGER NOT NULL DEFAULT 1,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT  NOT NULL,
    last_login_at   BIGINT
);

-- A role on an ente, optionally only for one of its tipi dovuto.
CREATE TABLE operator_role (
    id              INTEGER PRIMARY KEY,
    operator_id     BIGINT  NOT NULL REFERENCES operator(id) ON DELETE CASCADE,
    ente_id         BIGINT  NOT NULL REFERENCES ente(id),
    role            TEXT    NOT NULL,
    tipo_dovuto_id  BIGINT  REFERENCES tipo_dovuto(id)
);
CREATE INDEX operator_role_by_operator ON operator_role (operator_id);

-- A logged-in browser: the SHA-256 of the cookie's random token (a stolen
-- database holds no usable session), and the form token of the session.
CREATE TABLE operator_session (
    token_hash      TEXT    PRIMARY KEY,
    operator_id     BIGINT  NOT NULL REFERENCES operator(id) ON DELETE CASCADE,
    csrf            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX operator_session_by_expiry ON operator_session (expires_at);
