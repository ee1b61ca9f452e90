-- The last TOTP time step a login used: a code seen once is not taken
-- again, even within its 30 seconds (a shoulder-surfed or phished code).
ALTER TABLE operator ADD COLUMN totp_last_step BIGINT;
