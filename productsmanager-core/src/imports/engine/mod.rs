//! The import engine (DESIGN §6): a stored file read row by row on a blocking thread ([`reader`]), each row mapped
//! by its template and checked ([`validate`]), batches planned against the catalog and written one transaction
//! each with the job's checkpoint ([`load`]). Errors, counters, statistics and the errors CSV go to the imports
//! database and the object store.

mod catalog_repo;
mod load;
mod reader;
pub(crate) use reader::detect_preset;
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
    /// Whose catalog the file is, when not what its preset says (`supplier` for `native`, `shop` for the shops'
    /// presets): a shop's SKU and stock are also the product's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<crate::imports::mapping::SourceCatalog>,
    /// The locale (`en`, `fr`, `de-DE`) of the SEO metadata a shop's export gives (Shopify's SEO title and
    /// description and handle, Magento's `url_key`, `meta_title`, `meta_description`, PrestaShop's meta title and
    /// description and rewritten URL): stored as that locale's metadata. The `imports.seo_locale` setting when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seo_locale: Option<String>,
}

impl ImportOptions {
    /// Refuses what no import can use: an image base that is not an http(s) URL, an SEO locale that is not a
    /// language tag.
    pub(crate) fn check(&self) -> Result<(), crate::imports::ImportError> {
        if let Some(base) = &self.image_base_url
            && !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            let reason = format!("{base:?} is not an http(s) URL");
            return Err(crate::imports::ImportError::invalid("options.image_base_url", reason));
        }
        if let Some(locale) = &self.seo_locale
            && !crate::catalog::provenance::is_locale(locale)
        {
            let reason = format!("{locale:?} is not a language tag like en or de-DE");
            return Err(crate::imports::ImportError::invalid("options.seo_locale", reason));
        }
        Ok(())
    }
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
            catalog: None,
            seo_locale: None,
        }
    }
}

/// How an import ended, as a person reads it. The job's [`JobState`](crate::jobs::JobState) says whether it ran to
/// its end; this says what became of the rows: a job that refused rows is not a success, and one that refused more
/// than the `imports.failed_above_refused_percent` setting (50 % by default) of them failed, though the rows it
/// took were imported.
///
/// ```
/// use productsmanager_core::imports::{ImportOutcome, ImportProgress};
/// use productsmanager_core::jobs::JobState;
///
/// let progress = ImportProgress { rows_read: 25, created: 3, invalid: 22, ..Default::default() };
/// assert_eq!(ImportOutcome::of(JobState::Succeeded, &progress, 50), ImportOutcome::Failed);
/// assert_eq!(ImportOutcome::of_rows(2, 25, 50), ImportOutcome::CompletedWithErrors);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Queued, running or paused: not over.
    #[default]
    Pending,
    /// Every row read was imported, merged or found unchanged.
    Succeeded,
    /// Some rows were refused (the errors CSV names them), no more than the threshold; the others imported.
    CompletedWithErrors,
    /// More rows refused than the threshold allows, or the job stopped before its end (the file could not be read,
    /// its header did not match, the database failed: `last_error` says which).
    Failed,
    Cancelled,
}

impl ImportOutcome {
    /// The outcome of a job in `state` that counted `progress`, failed above `failed_above_percent` refused rows.
    pub fn of(state: crate::jobs::JobState, progress: &ImportProgress, failed_above_percent: u8) -> Self {
        use crate::jobs::JobState;
        match state {
            JobState::Queued | JobState::Running | JobState::Paused => ImportOutcome::Pending,
            JobState::Failed | JobState::Dead => ImportOutcome::Failed,
            JobState::Cancelled => ImportOutcome::Cancelled,
            JobState::Succeeded => Self::of_rows(progress.invalid, progress.rows_read, failed_above_percent),
        }
    }

    /// The outcome of an import that ran to its end refusing `invalid` of its `read` rows.
    pub fn of_rows(invalid: u64, read: u64, failed_above_percent: u8) -> Self {
        if invalid == 0 {
            ImportOutcome::Succeeded
        } else if u128::from(invalid) * 100 > u128::from(read) * u128::from(failed_above_percent) {
            ImportOutcome::Failed
        } else {
            ImportOutcome::CompletedWithErrors
        }
    }

    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Pending => "pending",
            ImportOutcome::Succeeded => "succeeded",
            ImportOutcome::CompletedWithErrors => "completed_with_errors",
            ImportOutcome::Failed => "failed",
            ImportOutcome::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `imports.failed_above_refused_percent` setting's default: what a job stored before the outcome was, or
/// read without the settings, is judged by.
pub const DEFAULT_FAILED_ABOVE_PERCENT: u8 = 50;

/// Where a running import is, after each batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    /// Data rows in the file (known once it has been scanned).
    pub rows_total: Option<u64>,
    pub rows_read: u64,
    /// Offers created (a row each).
    pub created: u64,
    /// Offers changed.
    pub updated: u64,
    /// Rows identical to what is stored (skipped: nothing written).
    pub unchanged: u64,
    /// Rows refused (see the errors).
    pub invalid: u64,
    /// Rows merged into the product another row of the supplier named under another supplier SKU (they agreed):
    /// one more offer each.
    #[serde(default)]
    pub merged: u64,
    /// Products made so far (variants included): fewer than the offers when rows were merged.
    #[serde(default)]
    pub products_created: u64,
    /// Stored products whose own fields (title, description, brand, status, SKU, GTIN, a price) changed.
    #[serde(default)]
    pub products_updated: u64,
    /// Once it has ended: how it went (the generic jobs list shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ImportOutcome>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub job_id: Uuid,
    pub file: String,
    /// How the file was read and with which preset (`delimited text, ';'-separated, utf-8; preset native`,
    /// `spreadsheet, sheet "Products"; preset woocommerce`); a template's import names no preset.
    pub format: String,
    pub dry_run: bool,
    /// `succeeded`, `completed_with_errors` (rows refused, no more than the `imports.failed_above_refused_percent`
    /// setting) or `failed` (more): a dry run's is what the real run's would be.
    #[serde(default)]
    pub outcome: ImportOutcome,
    /// Data rows read (after a preset's shaping: a PrestaShop combination is a row), the rows set aside
    /// (`skipped`) apart. A structure file's rows are codes learned (`codes_learned`), not products.
    pub rows: u64,
    /// Rows that made an offer of the supplier (each offer names a product; see `products_created`).
    pub created: u64,
    /// Rows that changed the supplier's stored offer.
    pub updated: u64,
    /// Rows identical to what is stored: skipped, nothing written.
    pub unchanged: u64,
    /// Rows refused (the errors CSV says why, by line and column).
    pub invalid: u64,
    /// Offers of the supplier missing from the file, marked unavailable (with `mark_missing_unavailable`).
    pub marked_unavailable: u64,
    /// Rows of the file set aside on purpose, not counted in `rows`: blank rows, totals lines, a Magento store
    /// view's rows (translations of a row given before); `skipped_by` says how many for each.
    #[serde(default)]
    pub skipped: u64,
    /// The skipped rows by why: `empty`, `totals`, `store_view`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub skipped_by: std::collections::BTreeMap<String, u64>,
    /// Columns of the file that nothing imports (a shop's own columns its preset has no field for; a stored
    /// template's columns when it ignores those it does not map): by name, or `column 7` for a file an import
    /// source took.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_not_imported: Vec<String>,
    /// Rows imported without their GTIN: it was invalid and the template ignores invalid GTINs (shops' placeholder
    /// barcodes); the others of these rows were imported.
    #[serde(default)]
    pub gtins_dropped: u64,
    /// Relative image paths (`/m/h/a.jpg`, as shops export them) dropped because the import named no image base
    /// URL to join them to; the rows were imported without them.
    #[serde(default)]
    pub images_dropped: u64,
    /// Fields the file gave that the survivorship rules kept as they were: set by a person, locked, or set by a
    /// supplier that comes first (a dry run's diffs name the rule per field).
    #[serde(default)]
    pub fields_kept: u64,
    /// Rows that named, under another supplier SKU, a product another row of the supplier named, and agreed with
    /// it (same title, same variant options): one more offer of that product each. A row that disagreed is refused
    /// (`duplicate_gtin`). `rows` = `created` + `updated` + `unchanged` + `invalid` + `merged`.
    #[serde(default)]
    pub merged: u64,
    /// Codes of the suppliers the import created: our `offers` column named them and the catalog had none of that
    /// code (each with its code as its name and no settings: set its currency and priority as for any supplier). A
    /// dry run names those it would create. Listed when the first row naming one is read, even if that row is then
    /// refused; not carried over an interruption (a resumed import lists those it created after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppliers_created: Vec<String>,
    /// Codes the file states for the supplier's next files, counted by kind (`family variants`, `product models`,
    /// `attribute options`, `categories`): Akeneo's structure files and product models (a sub-model set aside
    /// counts; a code known before counts again). A dry run counts them without keeping them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub codes_learned: std::collections::BTreeMap<String, u64>,
    /// Products the import made, variants included (rows merged into one product make one).
    #[serde(default)]
    pub products_created: u64,
    /// Of them, variants of a parent.
    #[serde(default)]
    pub variants_created: u64,
    /// Stored products whose own fields (title, description, brand, status, SKU, GTIN, a price) changed; a row
    /// that changed only its offer (cost, stock) counts in `updated`, not here.
    #[serde(default)]
    pub products_updated: u64,
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

impl ImportSummary {
    /// Whether the columns not imported are our three offer columns set aside for an `offers` column (which states
    /// cost, stock and lead time itself): the summary then says why they were not read.
    pub fn offers_columns_stated(&self) -> bool {
        ["cost", "stock", "lead_time_days"].iter().all(|c| self.columns_not_imported.iter().any(|n| n == c))
    }
}
