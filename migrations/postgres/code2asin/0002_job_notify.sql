-- Wakes idle workers of every process (LISTEN pm_jobs) when a job is queued; the payload is the queue.
create function pm_notify_job() returns trigger language plpgsql as $$
begin
    perform pg_notify('pm_jobs', new.queue);
    return null;
end
$$;

create trigger code2asin_jobs_notify after insert or update of state on code2asin_jobs
    for each row when (new.state = 'queued') execute function pm_notify_job();
