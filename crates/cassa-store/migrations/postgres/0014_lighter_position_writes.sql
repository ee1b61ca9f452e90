-- Fewer checks and index entries per imported row.
--
-- A payment option's ente is its position's (the store writes both from one
-- value), and the position already references the ente: the option's own
-- foreign key was a second check per row.
ALTER TABLE payment_option DROP CONSTRAINT payment_option_ente_id_fkey;

-- The status sweep looks for positions waiting for their validity date and
-- for positions that may expire; an index over every position's status was
-- written on every insert. Partial indexes hold only those two groups, which
-- an import's VALID positions (switch_to_expired off) are not in.
DROP INDEX debt_position_by_status;
CREATE INDEX debt_position_to_promote ON debt_position (validity_date) WHERE status = 'PUBLISHED';
CREATE INDEX debt_position_to_expire ON debt_position (max_due_date)
    WHERE status = 'VALID' AND switch_to_expired = 1;
