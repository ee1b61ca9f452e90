-- An installment's window (rateizzazione Caso 1): not payable before this
-- instant (microseconds, UTC). NULL: from the position's validity.
ALTER TABLE payment_option ADD COLUMN valid_from BIGINT;
