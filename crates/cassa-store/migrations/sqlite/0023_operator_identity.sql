-- Operators may log in through the identity gateway citizens use (OIDC or
-- the SAML proxy's headers): the account is found by its codice fiscale.
ALTER TABLE operator ADD COLUMN fiscal_code TEXT;
CREATE UNIQUE INDEX operator_by_fiscal_code ON operator (fiscal_code);
