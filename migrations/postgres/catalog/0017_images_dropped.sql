-- An import's checkpoint counts the image paths it dropped (relative paths of a shop's export imported without an
-- image base URL), so the summary says so and a resumed import goes on counting.
alter table import_progress add column images_dropped bigint not null default 0;
