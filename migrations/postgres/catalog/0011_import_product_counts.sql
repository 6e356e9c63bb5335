-- An import's checkpoint counts products as well as rows (offers): products created, variants among them, and
-- stored products whose own fields changed. Kept with the checkpoint so a resumed import goes on counting.
alter table import_progress add column products_created bigint not null default 0;
alter table import_progress add column products_updated bigint not null default 0;
alter table import_progress add column variants_created bigint not null default 0;
