//! Imports: supplier files into the catalog. So far this holds what the job queue's sources need — import
//! configurations (per supplier: where its files come from), the files taken (kept in the object store and
//! remembered by a fingerprint, so a file is taken once however many processes watch), the import jobs they
//! create, and the sources themselves ([`sources`]). Parsing, mapping and writing rows come with the import engine.

mod error;
pub mod mapping;
mod model;
pub mod parse;
mod repo;
mod secrets;
mod service;
pub mod sources;

pub use error::ImportError;
pub use model::{
    Credentials, ImportConfig, ImportFile, ImportSchedule, NewImportConfig, ScheduleRun, SourceKind, TakenFile,
};
pub use service::ImportService;
