-- How many rows of an import had an invalid GTIN dropped (templates with `invalid_gtin: ignore`), kept with the
-- checkpoint so that a resumed import still reports them all.
alter table import_progress add column gtins_dropped integer not null default 0;
