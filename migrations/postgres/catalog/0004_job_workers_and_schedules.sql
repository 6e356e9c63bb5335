-- Worker registry: one row per worker process and queue, renewed while it runs, so health can tell live workers.
create table job_workers (
    worker text not null,
    queue text not null,
    concurrency integer not null check (concurrency >= 1),
    host text not null,
    pid bigint not null,
    started_at timestamptz not null,
    seen_at timestamptz not null,
    primary key (worker, queue)
);

create index job_workers_queue_seen_at_idx on job_workers (queue, seen_at);

-- The last tick each schedule fired. Advanced with a compare-and-set, so one scheduler fires a tick however many run.
create table schedule_state (
    schedule text primary key,
    last_tick timestamptz not null,
    last_job_id uuid,
    updated_at timestamptz not null
);

-- Wakes idle workers of every process (LISTEN pm_jobs) when a job becomes due now; the payload is the queue.
create function pm_notify_job() returns trigger language plpgsql as $$
begin
    perform pg_notify('pm_jobs', new.queue);
    return null;
end
$$;

create trigger tasks_notify after insert or update of state on tasks
    for each row when (new.state = 'queued') execute function pm_notify_job();
