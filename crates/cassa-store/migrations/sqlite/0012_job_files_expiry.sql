-- When a job's files were deleted for age (exports are kept 30 days).
ALTER TABLE job ADD COLUMN files_expired_at BIGINT;
