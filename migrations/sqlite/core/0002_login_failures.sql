-- Failed sign-ins per client address (the per-account count is on users): shared by every server of a deployment,
-- so a guesser cannot spread attempts over them. A row is removed by a successful sign-in from that address.
create table login_failures (
    address text primary key,
    failed_count integer not null check (failed_count >= 0),
    locked_until text,
    last_failed_at text not null
) strict;

create index login_failures_last_failed_at_idx on login_failures (last_failed_at);
