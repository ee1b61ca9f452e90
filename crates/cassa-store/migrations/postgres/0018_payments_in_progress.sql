-- Money safety (see ../sqlite/0018_payments_in_progress.sql).
--
-- An activation outlives its option: deleting or rewriting an option keeps
-- the record of the payment that was started (option_id becomes NULL; the
-- notice number stays).
ALTER TABLE payment_activation ALTER COLUMN option_id DROP NOT NULL;
ALTER TABLE payment_activation DROP CONSTRAINT payment_activation_option_id_fkey;
ALTER TABLE payment_activation ADD CONSTRAINT payment_activation_option_id_fkey
    FOREIGN KEY (option_id) REFERENCES payment_option(id) ON DELETE SET NULL;
-- The node's paymentNote: Checkout passes our idCart there, which names
-- the checkout that paid.
ALTER TABLE payment_activation ADD COLUMN payment_note TEXT;

-- A receipt that was not applied (an anomaly: money arrived that pays no
-- debt) is handled by an operator, who says what was done (a refund
-- ordered, say).
ALTER TABLE receipt ADD COLUMN handled_at BIGINT;
ALTER TABLE receipt ADD COLUMN handled_by TEXT;
ALTER TABLE receipt ADD COLUMN handled_note TEXT;
CREATE INDEX receipt_by_ente_status ON receipt (ente_id, status, received_at);
