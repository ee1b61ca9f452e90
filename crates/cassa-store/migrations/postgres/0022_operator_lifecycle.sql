-- A password someone else knows (generated when an admin made the account,
-- or set by an admin's reset) must be changed at the next login before
-- anything else.
ALTER TABLE operator ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
