-- Searches per day and normalised query, added to as searches are recorded: top and zero-result searches are read
-- from here, so they grow with distinct queries a day, not with every search; kept past the raw retention.
create table search_daily (
    day text not null,
    normalized_query text not null,
    searches integer not null default 0,
    zero_result_searches integer not null default 0,
    latency_ms_sum real not null default 0,
    primary key (day, normalized_query)
) strict;
