-- One row per input code of a job, in input order: what became of it. Written with the job's checkpoint in one
-- transaction, so a resumed job neither loses nor repeats a code; (job_id, position) is the idempotency key.
create table code2asin_job_items (
    job_id blob not null references code2asin_jobs (id) on delete cascade,
    position integer not null check (position >= 0),
    code text not null, -- as given
    gtin14 text check (length(gtin14) = 14 and gtin14 not glob '*[^0-9]*'),
    outcome text not null
        check (outcome in ('matched', 'review', 'not_found', 'restricted', 'invalid')),
    cached integer not null default 0 check (cached in (0, 1)), -- answered from a result younger than the cache TTL
    asin text,
    confidence real,
    reason text, -- why invalid, restricted or held for review
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    primary key (job_id, position)
) strict;

create index code2asin_job_items_outcome_idx on code2asin_job_items (job_id, outcome, position);
