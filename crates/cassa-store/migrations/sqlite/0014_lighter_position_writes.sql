-- Fewer index entries per imported row (see PostgreSQL's 0014, which also
-- drops payment_option's second foreign key to ente: SQLite cannot drop a
-- constraint without rebuilding the table, and its checks are cheap).
--
-- The status sweep looks for positions waiting for their validity date and
-- for positions that may expire; partial indexes hold only those two groups.
DROP INDEX debt_position_by_status;
CREATE INDEX debt_position_to_promote ON debt_position (validity_date) WHERE status = 'PUBLISHED';
CREATE INDEX debt_position_to_expire ON debt_position (max_due_date)
    WHERE status = 'VALID' AND switch_to_expired = 1;
