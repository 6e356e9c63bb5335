-- Worker registry: one row per worker process and queue, renewed while it runs, so health can tell live workers.
create table job_workers (
    worker text not null,
    queue text not null,
    concurrency integer not null check (concurrency >= 1),
    host text not null,
    pid integer not null,
    started_at text not null,
    seen_at text not null,
    primary key (worker, queue)
) strict;

create index job_workers_queue_seen_at_idx on job_workers (queue, seen_at);

-- The last tick each schedule fired. Advanced with a compare-and-set, so one scheduler fires a tick however many run.
create table schedule_state (
    schedule text primary key,
    last_tick text not null,
    last_job_id blob,
    updated_at text not null
) strict;
