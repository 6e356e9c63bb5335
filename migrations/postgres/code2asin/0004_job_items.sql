-- One row per input code of a job, in input order: what became of it. Written with the job's checkpoint in one
-- transaction, so a resumed job neither loses nor repeats a code; (job_id, position) is the idempotency key.
create table code2asin_job_items (
    job_id uuid not null references code2asin_jobs (id) on delete cascade,
    position bigint not null check (position >= 0),
    code text not null, -- as given
    gtin14 text check (gtin14 ~ '^[0-9]{14}$'),
    outcome text not null
        check (outcome in ('matched', 'review', 'not_found', 'restricted', 'invalid')),
    cached boolean not null default false, -- answered from a result younger than the cache TTL
    asin text,
    confidence double precision,
    reason text, -- why invalid, restricted or held for review
    created_at timestamptz not null default now(),
    primary key (job_id, position)
);

create index code2asin_job_items_outcome_idx on code2asin_job_items (job_id, outcome, position);
