-- The user who asked for a job (over the API), told when it ends; null for scheduled and system jobs.
alter table export_jobs add column requested_by blob;
