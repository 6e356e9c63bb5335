//! One module per command group. Each parses its arguments, calls the SDK and prints.

pub(crate) mod analytics;
pub(crate) mod brands;
pub(crate) mod categories;
pub(crate) mod code2asin;
pub(crate) mod codes;
pub(crate) mod commerce;
pub(crate) mod entity;
pub(crate) mod exports;
pub(crate) mod import_file;
pub(crate) mod imports;
pub(crate) mod jobs;
pub(crate) mod media;
pub(crate) mod products;
pub(crate) mod relations;
pub(crate) mod settings;
pub(crate) mod suppliers;
pub(crate) mod system;
pub(crate) mod users;
