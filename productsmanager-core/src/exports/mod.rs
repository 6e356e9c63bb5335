//! Exports: the catalog out to files and sales platforms. So far this holds the daily clean-up of export files that
//! no export job refers to any more (files of deleted jobs, or left by a crash between writing a file and recording
//! it); the export engine comes with the exports work. Export files live under `exports/` in the object store.

mod repo;
mod service;

pub use service::{EXPORT_FILES_PREFIX, ExportService, FilesCleanup};
