-- Citizens look a notice up by its number and the debtor's codice fiscale,
-- without naming the ente (the Paga Avviso form).
CREATE INDEX payment_option_by_notice ON payment_option (notice_number);
