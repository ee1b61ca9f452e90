-- Paid lines in payment order, by ente: the export reads a period a page at
-- a time from here instead of scanning every applied receipt per page.
CREATE INDEX receipt_paid ON receipt (ente_id, status, COALESCE(payment_date_time, received_at), id);
