//! The import engine (DESIGN §6): a stored file read row by row on a blocking thread ([`reader`]), each row mapped
//! by its template and checked ([`validate`]), batches planned against the catalog and written one transaction
//! each with the job's checkpoint ([`load`]). Errors, counters, statistics and the errors CSV go to the imports
//! database and the object store.

mod catalog_repo;
mod load;
mod reader;
pub(crate) mod repo;
mod run;
mod validate;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use load::RowDiff;
pub use repo::ImportStatistics;
pub use run::NewImport;
pub use validate::{ImportRow, RowError};

use crate::imports::parse::{CsvOptions, SheetOptions};

/// How a file is read and loaded (kept in the job's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// Delimited text: encoding, delimiter (sniffed when absent), longest line.
    #[serde(default)]
    pub csv: CsvOptions,
    /// Spreadsheets: sheet, header row, size limits.
    #[serde(default)]
    pub sheet: SheetOptions,
    /// Rows per transaction (5,000).
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// The file is the supplier's whole catalog: its offers missing from the file are marked unavailable.
    #[serde(default)]
    pub mark_missing_unavailable: bool,
    /// Relative image paths of the file (`/m/h/a.jpg`, as shops export them) are joined to this URL, unless the
    /// mapping names its own base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_base_url: Option<String>,
}

/// Measured (`benches/imports.rs`): 5,000 rows per transaction import about 1.7x faster than 1,000 on SQLite, for
/// some 80 MiB more memory.
fn default_batch_rows() -> usize {
    5000
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            csv: CsvOptions::default(),
            sheet: SheetOptions::default(),
            batch_rows: default_batch_rows(),
            mark_missing_unavailable: false,
            image_base_url: None,
        }
    }
}

/// Where a running import is, after each batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    /// Data rows in the file (known once it has been scanned).
    pub rows_total: Option<u64>,
    pub rows_read: u64,
    /// Offers created.
    pub created: u64,
    /// Offers changed.
    pub updated: u64,
    /// Rows identical to what is stored (skipped).
    pub unchanged: u64,
    /// Rows refused (see the errors).
    pub invalid: u64,
    /// Rows merged into the product another row of the supplier named under another supplier SKU (they agreed):
    /// one more offer each.
    #[serde(default)]
    pub merged: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub job_id: Uuid,
    pub file: String,
    /// How the file was read (`delimited text, ';'-separated, utf-8`, `spreadsheet, sheet "Products"`).
    pub format: String,
    pub dry_run: bool,
    /// Data rows read.
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    /// Offers of the supplier missing from the file, marked unavailable (with `mark_missing_unavailable`).
    pub marked_unavailable: u64,
    /// Rows imported without their GTIN: it was invalid and the template ignores invalid GTINs (shops' placeholder
    /// barcodes); the others of these rows were imported.
    #[serde(default)]
    pub gtins_dropped: u64,
    /// Fields the file gave that the survivorship rules kept as they were: set by a person, locked, or set by a
    /// supplier that comes first (a dry run's diffs name the rule per field).
    #[serde(default)]
    pub fields_kept: u64,
    /// Rows that named, under another supplier SKU, a product another row of the supplier named, and agreed with
    /// it (same title, same variant options): one more offer of that product each. A row that disagreed is refused
    /// (`duplicate_gtin`). `rows` = `created` + `updated` + `unchanged` + `invalid` + `merged`.
    #[serde(default)]
    pub merged: u64,
    /// The file's content was imported before by this job, so nothing was read (import with `force` to redo it).
    pub identical_to: Option<Uuid>,
    /// The import went on from this line, after an interruption.
    pub resumed_after_line: Option<u64>,
    /// Object-store key of the errors CSV (line, column, value, reason), when rows were refused.
    pub error_report_key: Option<String>,
    pub duration_ms: u64,
    pub rows_per_second: f64,
    /// A dry run's sample of the changes it would make.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<RowDiff>,
}
