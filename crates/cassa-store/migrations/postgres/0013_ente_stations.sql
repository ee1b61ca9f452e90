-- The pagoPA stations an ente is reached through besides the platform's own,
-- separated by spaces (an ente moving from another intermediary keeps its station).
ALTER TABLE ente ADD COLUMN station_ids TEXT NOT NULL DEFAULT '';
