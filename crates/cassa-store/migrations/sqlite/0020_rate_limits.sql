-- Per-client limits shared by every `cassa serve` process: one row per
-- bucket (what is limited), key (a client address or /64, a codice
-- fiscale) and fixed window, counting the hits in it. The sweep deletes
-- past windows, so the table holds about one window's clients.
CREATE TABLE rate_limit (
    bucket       TEXT NOT NULL,
    client_key   TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket, client_key, window_start)
);

CREATE INDEX rate_limit_by_window ON rate_limit (window_start);
