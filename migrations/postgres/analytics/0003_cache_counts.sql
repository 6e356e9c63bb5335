-- Requests per cache kind and hour served from the cache (hits) and loaded from the source (misses), added to by
-- every process each minute; the hourly rollup turns them into hit rates in performance_metrics (kind cache).
create table cache_counts (
    kind text not null,
    hour timestamptz not null,
    hits bigint not null default 0,
    misses bigint not null default 0,
    primary key (kind, hour)
);
