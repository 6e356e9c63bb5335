//! Imports: supplier files into the catalog. Import configurations (per supplier: where its files come from and
//! how they map), the files taken (kept in the object store and remembered by a fingerprint, so a file is taken
//! once however many processes watch) and the sources themselves ([`sources`]); parsing ([`parse`]), mapping
//! templates and presets ([`mapping`]) and the engine that loads rows into the catalog ([`ImportService::run_job`],
//! [`ImportService::import_file`]).

mod engine;
mod error;
pub mod mapping;
mod model;
pub mod parse;
mod repo;
mod secrets;
mod service;
pub mod sources;

pub use engine::{
    DEFAULT_FAILED_ABOVE_PERCENT, ImportOptions, ImportOutcome, ImportProgress, ImportRow, ImportStatistics,
    ImportSummary, NewImport, RowDiff, RowError,
};
pub use error::ImportError;
pub use model::{
    Credentials, ImportConfig, ImportFile, ImportJob, ImportSchedule, MappingTemplate, NewImportConfig,
    NewMappingTemplate, ScheduleRun, SourceKind, TakenFile,
};
pub use service::{CatalogAccess, ImportService};
