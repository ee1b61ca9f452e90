-- The portal's own captcha: a question asked on a form, answered once.
-- Kept in the database so that any server process can check the answer.
CREATE TABLE captcha (
    token      TEXT    PRIMARY KEY,
    answer     TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX captcha_by_expiry ON captcha (expires_at);
