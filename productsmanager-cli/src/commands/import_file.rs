//! `import FILE`: a supplier file imported now, in this process, with a progress bar (rows/s, ETA), then a summary
//! table and the path of the errors CSV.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use productsmanager_core::Sdk;
use productsmanager_core::imports::mapping::{Preset, SourceCatalog};
use productsmanager_core::imports::parse::TextEncoding;
use productsmanager_core::imports::{ImportOptions, ImportOutcome, ImportSummary, NewImport};

use crate::{Failure, output};

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The file: delimited text (CSV, TSV, semicolons, pipes) or a spreadsheet (XLSX, XLS, ODS).
    file: PathBuf,
    /// The supplier (id or code).
    #[arg(long)]
    supplier: String,
    /// A stored mapping template: its id, or its name (latest version) or `name@version`.
    #[arg(long, conflicts_with = "preset")]
    template: Option<String>,
    /// A built-in layout (without either: the supplier's configuration's, else `native`).
    #[arg(long, value_parser = preset_parser())]
    preset: Option<Preset>,
    /// Read, check and compare only: report what would change, write nothing to the catalog.
    #[arg(long)]
    dry_run: bool,
    /// Import even when the same file was imported before.
    #[arg(long)]
    force: bool,
    /// The file is the supplier's whole catalog: mark its offers missing from it unavailable.
    #[arg(long)]
    mark_missing_unavailable: bool,
    /// Relative image paths of the file (`/m/h/a.jpg`) are joined to this URL (a shop's media folder).
    #[arg(long, value_name = "URL")]
    image_base_url: Option<String>,
    /// The language of a shop export's SEO metadata (`fr`, `de-DE`): stored as that locale's (default: the
    /// `imports.seo_locale` setting, `en`).
    #[arg(long, value_name = "LOCALE")]
    seo_locale: Option<String>,
    /// Spreadsheet sheet (default: the first).
    #[arg(long)]
    sheet: Option<String>,
    /// Delimiter of a text file (default: sniffed).
    #[arg(long)]
    delimiter: Option<char>,
    /// Whose catalog the file is, when not what the preset says: `shop` (our own shop's export: its SKU and stock are
    /// also the product's; the default of the shops' presets) or `supplier` (a supplier's price list: they are the
    /// offer's only; the default of `native`).
    #[arg(long, value_enum, value_name = "KIND")]
    catalog: Option<CatalogArg>,
    /// Line of the header (1 for the first); the lines above it (a title, notes) are not read. Default: found in a
    /// text file (the first line filled nearly as much as the fullest), the first row of a spreadsheet.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    header_line: Option<u32>,
    /// Encoding of a text file (default: sniffed).
    #[arg(long, value_enum)]
    encoding: Option<EncodingArg>,
    /// Where to write the refused rows (default: `<file name>.errors.csv` in the current folder).
    #[arg(long, value_name = "PATH")]
    errors: Option<PathBuf>,
    /// Print one JSON summary instead of the progress bar and tables.
    #[arg(long)]
    json: bool,
}

/// The core's presets, by name (listed in `--help`).
fn preset_parser() -> impl TypedValueParser<Value = Preset> {
    PossibleValuesParser::new(Preset::ALL.map(Preset::as_str))
        .try_map(|name: String| Preset::parse(&name).map_err(|e| e.to_string()))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CatalogArg {
    Supplier,
    Shop,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EncodingArg {
    Utf8,
    Windows1252,
    Iso885915,
}

pub(crate) async fn run(sdk: &Sdk, args: ImportArgs) -> Result<(), Failure> {
    let imports = sdk.imports();
    let supplier = sdk.suppliers().find(&args.supplier).await?;
    let template = match &args.template {
        Some(key) => Some(imports.find_template(key).await?),
        None => None,
    };
    let mut options = ImportOptions { mark_missing_unavailable: args.mark_missing_unavailable, ..Default::default() };
    options.image_base_url = args.image_base_url.clone();
    options.seo_locale = args.seo_locale.clone();
    options.sheet.sheet = args.sheet.clone();
    options.csv.delimiter = args.delimiter;
    options.catalog = args.catalog.map(|c| match c {
        CatalogArg::Supplier => SourceCatalog::Supplier,
        CatalogArg::Shop => SourceCatalog::Shop,
    });
    if let Some(line) = args.header_line {
        options.csv.header_line = Some(line.into());
        options.sheet.header_row = Some(line);
    }
    options.csv.encoding = args.encoding.map(|e| match e {
        EncodingArg::Utf8 => TextEncoding::Utf8,
        EncodingArg::Windows1252 => TextEncoding::Windows1252,
        EncodingArg::Iso885915 => TextEncoding::Iso8859_15,
    });
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let input = NewImport {
        supplier_id: supplier.id,
        name: name.clone(),
        path: args.file.clone(),
        template: template.map(|t| t.id),
        preset: args.preset,
        dry_run: args.dry_run,
        force: args.force,
        options,
        requested_by: None,
    };
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(output::progress_style(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows  {rate}  ETA {eta}",
    ));
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = bar.clone();
    let summary = imports
        .import_file(input, move |progress| {
            if let Some(total) = progress.rows_total {
                shown.set_length(total);
            }
            shown.set_position(progress.rows_read);
        })
        .await;
    bar.finish_and_clear();
    let summary = summary?;
    let path = args.errors.clone().unwrap_or_else(|| PathBuf::from(format!("{name}.errors.csv")));
    let errors_path = match summary.invalid {
        0 => {
            // The errors of an earlier run of this file would read as this run's.
            if std::fs::remove_file(&path).is_ok() && !args.json {
                println!("removed {}: the errors of an earlier run (this one refused no row)", path.display());
            }
            None
        }
        _ => {
            let csv = imports.errors_csv(summary.job_id).await?;
            std::fs::write(&path, &csv).map_err(|e| Failure {
                code: crate::exit_code(productsmanager_core::ErrorKind::Internal),
                message: format!("cannot write the errors to {}: {e}", path.display()),
            })?;
            Some(path)
        }
    };
    if args.json {
        let mut value = serde_json::to_value(&summary).unwrap_or_default();
        value["errors_csv"] = serde_json::json!(errors_path);
        output::json(&value);
    } else {
        print_summary(&summary, errors_path.as_deref());
    }
    refused_rows(&summary, errors_path.as_deref())
}

/// The exit of an import that refused rows: 9 when it completed with errors, 3 when it failed (more rows refused
/// than the `imports.failed_above_refused_percent` setting allows) — a script takes neither for a success. The
/// summary was printed already.
fn refused_rows(summary: &ImportSummary, errors: Option<&Path>) -> Result<(), Failure> {
    let see = errors.map(|path| format!(": see {}", path.display())).unwrap_or_default();
    let would = if summary.dry_run { "would be " } else { "" };
    let message =
        format!("{} of {} rows {would}refused{see}", output::count(summary.invalid), output::count(summary.rows));
    match summary.outcome {
        ImportOutcome::CompletedWithErrors => Err(Failure { code: crate::ROWS_REFUSED, message }),
        ImportOutcome::Failed => Err(Failure {
            code: crate::exit_code(productsmanager_core::ErrorKind::Invalid),
            message: format!("{message} (more than `imports.failed_above_refused_percent` allows: the import failed)"),
        }),
        _ => Ok(()),
    }
}

fn print_summary(summary: &ImportSummary, errors: Option<&Path>) {
    if let Some(previous) = summary.identical_to {
        println!("{} was imported before (job {previous}): nothing to do; --force imports it again", summary.file);
        return;
    }
    let heading = match (summary.dry_run, summary.outcome) {
        (true, ImportOutcome::Failed) => "dry run, nothing written: the import would fail, too many rows refused",
        (true, ImportOutcome::CompletedWithErrors) => "dry run, nothing written: rows would be refused",
        (true, _) => "dry run, nothing written",
        (false, ImportOutcome::Failed) if summary.invalid >= summary.rows => "failed: every row was refused",
        (false, ImportOutcome::Failed) => "failed: too many rows refused (the others were imported)",
        (false, ImportOutcome::CompletedWithErrors) => "imported, with rows refused",
        (false, _) => "imported",
    };
    println!("{} ({}): {heading}, job {}", summary.file, summary.format, summary.job_id);
    if let Some(line) = summary.resumed_after_line {
        println!("resumed after line {line}: an earlier run of this file was stopped there (its job is this one)");
    }
    output::table(
        [
            "rows",
            "offers created",
            "updated",
            "unchanged",
            "merged",
            "invalid",
            "marked unavailable",
            "seconds",
            "rows per second",
        ],
        [[
            output::count(summary.rows),
            output::count(summary.created),
            output::count(summary.updated),
            output::count(summary.unchanged),
            output::count(summary.merged),
            output::count(summary.invalid),
            output::count(summary.marked_unavailable),
            format!("{:.1}", summary.duration_ms as f64 / 1000.0),
            output::count(summary.rows_per_second.round().max(0.0) as u64),
        ]],
    );
    output::table(
        ["products created", "of them variants", "products updated"],
        [[
            output::count(summary.products_created),
            output::count(summary.variants_created),
            output::count(summary.products_updated),
        ]],
    );
    if !summary.columns_not_imported.is_empty() {
        let stated = summary.offers_columns_stated();
        println!(
            "{} columns of the file not imported (no field for them in this preset or template{}): {}",
            summary.columns_not_imported.len(),
            if stated { "; with an `offers` column, cost, stock and lead_time_days are read from it" } else { "" },
            summary.columns_not_imported.join(", ")
        );
    }
    if !summary.suppliers_created.is_empty() {
        println!(
            "suppliers created (the file's offers name them; set their currency and priority with `suppliers \
             update`): {}",
            summary.suppliers_created.join(", ")
        );
    }
    if !summary.codes_learned.is_empty() {
        let learned: Vec<String> =
            summary.codes_learned.iter().map(|(what, n)| format!("{} {what}", output::count(*n))).collect();
        println!(
            "codes {} for this supplier's next files: {}",
            if summary.dry_run { "that would be learned" } else { "learned" },
            learned.join(", ")
        );
    }
    if summary.skipped > 0 {
        let why: Vec<String> = summary
            .skipped_by
            .iter()
            .map(|(why, rows)| {
                let what = match why.as_str() {
                    "empty" => "without a value in any cell",
                    "totals" => "totals lines",
                    "store_view" => "a store view's translations",
                    "sub_model" => "sub-models (their products are the root model's variants)",
                    other => other,
                };
                format!("{} {what}", output::count(*rows))
            })
            .collect();
        println!("{} rows of the file set aside, not products: {}", output::count(summary.skipped), why.join(", "));
    }
    if summary.gtins_dropped > 0 {
        println!(
            "{} rows imported without their GTIN (invalid, and the template ignores those)",
            summary.gtins_dropped
        );
    }
    if summary.images_dropped > 0 {
        println!(
            "{} relative image paths dropped: the file names images inside the shop's media folder; import it \
             again with --image-base-url (the folder's URL, such as https://shop.example/media/catalog/product) to \
             keep them",
            output::count(summary.images_dropped)
        );
    }
    if summary.fields_kept > 0 {
        let fields = if summary.fields_kept == 1 { "field" } else { "fields" };
        println!(
            "{} {fields} kept as they were by the survivorship rules (set by a person, locked, or by a supplier that \
             comes first): `products get KEY --provenance` shows who set each",
            summary.fields_kept
        );
    }
    if !summary.diffs.is_empty() {
        output::table(
            ["line", "supplier SKU", "change", "field", "stored", "file"],
            summary.diffs.iter().flat_map(|diff| {
                let changes = diff.fields.iter().map(move |(field, (before, after))| {
                    [
                        diff.line.to_string(),
                        diff.supplier_sku.clone(),
                        diff.kind.clone(),
                        field.clone(),
                        output::or_dash(before.as_deref()),
                        output::or_dash(after.as_deref()),
                    ]
                });
                let kept = diff.kept.iter().map(move |(field, rule)| {
                    [
                        diff.line.to_string(),
                        diff.supplier_sku.clone(),
                        format!("kept ({rule})"),
                        field.clone(),
                        String::new(),
                        String::new(),
                    ]
                });
                changes.chain(kept)
            }),
        );
    }
    if let Some(path) = errors {
        let rows = if summary.invalid == 1 { "row" } else { "rows" };
        println!("{} {rows} refused: see {}", summary.invalid, path.display());
    }
}
