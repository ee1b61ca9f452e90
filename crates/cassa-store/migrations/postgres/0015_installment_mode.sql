-- How a tipo dovuto's installment plans may be paid: 'together' (Caso 2:
-- several at once, until the plan's end of validity) or 'in_order' (Caso 1:
-- one at a time, in order).
ALTER TABLE tipo_dovuto ADD COLUMN installment_mode TEXT NOT NULL DEFAULT 'together';
