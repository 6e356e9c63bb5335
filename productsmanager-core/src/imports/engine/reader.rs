//! The reading half of an import, on a blocking thread: the file opened as delimited text or a spreadsheet, its
//! header matched to the template, its rows mapped and checked, handed over in batches through a bounded channel
//! (so reading runs ahead of loading by at most two batches, and memory stays flat).

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Seek};

use tokio::sync::mpsc;

use super::ImportOptions;
use super::validate::{ImportRow, RowError, RowRules};
use crate::imports::ImportError;
use crate::imports::mapping::{
    AkeneoStructure, DEFAULT_SEO_LOCALE, Preset, Shaper, StructureReader, Template, Vocabulary, VocabularyEntry,
};
use crate::imports::parse::{CsvRows, ParseError, Row, SheetRows, XmlFeedRows, is_xml, scan};

/// What the template comes from.
#[derive(Debug, Clone)]
pub(crate) enum TemplateSource {
    Stored(Template),
    Preset(Preset),
}

impl TemplateSource {
    fn shaper(&self, headers: &[String], vocabulary: Vocabulary) -> Option<Box<dyn Shaper>> {
        match self {
            TemplateSource::Stored(_) => None,
            TemplateSource::Preset(preset) => preset.shaper_knowing(headers, vocabulary),
        }
    }

    fn template(&self, headers: &[String]) -> Template {
        match self {
            TemplateSource::Stored(template) => template.clone(),
            TemplateSource::Preset(preset) => preset.template(headers),
        }
    }
}

type RowIter = Box<dyn Iterator<Item = Result<Row, ParseError>>>;

/// A slice of the file, read, mapped and checked.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// Data rows read (good and bad).
    pub read: u64,
    /// Line of the last row read.
    pub last_line: u64,
    /// Rows whose invalid GTIN was dropped.
    pub gtins_dropped: u64,
    /// Relative image paths dropped.
    pub images_dropped: u64,
}

/// What the reading thread sends.
#[derive(Debug)]
pub(crate) enum Message {
    /// The header matched: how many data rows the file has (when known before reading), how it was read, and its
    /// columns that nothing imports (by name for the caller who sent the file, else by number).
    Started {
        total: Option<u64>,
        format: String,
        not_imported: Vec<String>,
        /// A structure file (Akeneo's family variants, options, categories): codes, no offers.
        structure: bool,
    },
    Batch(Batch),
    /// After the last batch: rows read and set aside on purpose, by why (`empty`, `totals`, `store_view`), counted
    /// over the whole file (a resumed import reads it all again).
    Skipped(std::collections::BTreeMap<&'static str, u64>),
    /// After the last batch: the codes the file defined for the supplier's next files (its structure, its models).
    Learned(Vec<VocabularyEntry>),
    /// The file cannot be imported (unreadable, header not matching the template); nothing more comes.
    Failed(ImportError),
}

/// How the reading thread is set up.
#[derive(Debug)]
pub(crate) struct ReadJob {
    pub file: std::fs::File,
    pub name: String,
    pub options: ImportOptions,
    pub source: TemplateSource,
    pub default_currency: Option<crate::catalog::CurrencyCode>,
    /// Rows up to this line were loaded by an earlier attempt: read (for duplicate detection) but not sent.
    pub resume_after: u64,
    /// How a refused header names the file's cells (withheld for a file a source took).
    pub header_text: crate::imports::mapping::HeaderText,
    /// What the supplier's earlier files taught (read by the Akeneo preset).
    pub vocabulary: Vocabulary,
}

/// Whether a file starting with `magic` is a spreadsheet (XLSX/ODS: a zip; XLS: an OLE compound file).
fn is_spreadsheet(magic: &[u8]) -> bool {
    magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

fn failed(error: ParseError) -> ImportError {
    ImportError::File(error)
}

/// The preset `auto` gives for the file at `path` (read to its header only): decided when the file is taken, so
/// that its job names the preset it is read with. A file whose header cannot be read gets `native`, and its import
/// then says why it cannot be read.
pub(crate) fn detect_preset(path: &std::path::Path, name: &str, options: &ImportOptions) -> Preset {
    let headers = || -> Option<Vec<String>> {
        let file = std::fs::File::open(path).ok()?;
        let mut input = BufReader::new(file);
        let magic = input.fill_buf().ok()?;
        if is_spreadsheet(magic) {
            let mut file = input.into_inner();
            file.rewind().ok()?;
            Some(SheetRows::open_file(name, file, &options.sheet).ok()?.headers().to_vec())
        } else if is_xml(magic) {
            let mut file = input.into_inner();
            file.rewind().ok()?;
            Some(XmlFeedRows::open_file(name, file).ok()?.headers().to_vec())
        } else {
            Some(CsvRows::open(name, input, &options.csv).ok()?.headers().to_vec())
        }
    };
    headers().and_then(|h| Preset::detect(&h)).unwrap_or(Preset::Native)
}

/// Reads the file and sends its batches; returns when done, on a fatal error, or when the receiver is gone.
pub(crate) fn read(job: ReadJob, out: mpsc::Sender<Message>) {
    if let Err(error) = read_batches(job, &out) {
        let _ = out.blocking_send(Message::Failed(error));
    }
}

fn read_batches(job: ReadJob, out: &mpsc::Sender<Message>) -> Result<(), ImportError> {
    let ReadJob { file, name, options, source, default_currency, resume_after, header_text, vocabulary } = job;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let magic = input.fill_buf().map_err(|e| io_failure(&name, e))?;
    let (spreadsheet, xml) = (is_spreadsheet(magic), is_xml(magic));
    let (headers, total, format, rows): (Vec<String>, Option<u64>, String, RowIter) = if xml {
        let mut file = input.into_inner();
        file.rewind().map_err(|e| io_failure(&name, e))?;
        let feed = XmlFeedRows::open_file(&name, file).map_err(failed)?;
        (feed.headers().to_vec(), Some(feed.items()), "XML product feed".to_string(), Box::new(feed))
    } else if spreadsheet {
        let mut file = input.into_inner();
        file.rewind().map_err(|e| io_failure(&name, e))?;
        let sheet = SheetRows::open_file(&name, file, &options.sheet).map_err(failed)?;
        let mut format = format!("spreadsheet, sheet {:?}", sheet.sheet());
        if sheet.header_row() > 1 {
            format.push_str(&format!(", header on row {}", sheet.header_row()));
        }
        (sheet.headers().to_vec(), sheet.remaining().map(|n| n as u64), format, Box::new(sheet))
    } else {
        // Read once before anything is imported: a file broken half-way is refused whole.
        let total = scan(&name, &mut input, &options.csv).map_err(failed)?;
        let mut file = input.into_inner();
        file.rewind().map_err(|e| io_failure(&name, e))?;
        let rows = CsvRows::open(&name, BufReader::with_capacity(1 << 20, file), &options.csv).map_err(failed)?;
        let sniffed = rows.sniffed();
        let mut format = format!("delimited text, {:?}-separated, {}", sniffed.delimiter, sniffed.encoding.name());
        if sniffed.header_line > 1 {
            format.push_str(&format!(", header on line {}", sniffed.header_line));
        }
        (rows.headers().to_vec(), Some(total), format, Box::new(rows))
    };
    // A preset is checked against the header (a wrong one is refused naming the right one), `auto` resolved.
    let (source, format) = match source {
        TemplateSource::Preset(preset) => {
            let fitted = preset.fitted(&headers).map_err(|e| match e {
                ImportError::Invalid { field, reason } => {
                    ImportError::Invalid { field, reason: format!("{name}: {reason}") }
                }
                other => other,
            })?;
            // The preset is named: an import of `auto` resolves it before reading (the job names it too).
            let format = match preset {
                Preset::Auto => format!("{format}; preset {fitted} (detected)"),
                _ => format!("{format}; preset {fitted}"),
            };
            (TemplateSource::Preset(fitted), format)
        }
        stored => (stored, format),
    };
    if let TemplateSource::Preset(Preset::Akeneo) = source
        && let Some(structure) = AkeneoStructure::of(&headers)
    {
        let file = StructureFile { name, headers, total, format, rows, header_text, resume_after };
        return read_structure(structure, file, out);
    }
    // What the supplier's earlier files taught, said: without it, Akeneo's variants have no axes.
    let format = match &source {
        TemplateSource::Preset(Preset::Akeneo) => {
            let models_file = headers.iter().any(|h| h.trim().eq_ignore_ascii_case("family_variant"));
            format!("{format}; {}", vocabulary.describe(models_file))
        }
        _ => format,
    };
    let mut shaper = source.shaper(&headers, vocabulary);
    let file_headers = headers.len();
    let read_by_shaper = shaper.as_ref().map(|s| s.reads()).unwrap_or_default();
    let headers = shaper.as_ref().map(|s| s.headers()).unwrap_or(headers);
    let mut template = source.template(&headers);
    if let Some(base) = &options.image_base_url {
        template.set_image_base(base);
    }
    if let Some(catalog) = options.catalog {
        template.read_as(catalog);
    }
    // A shop's SEO columns: the summary says in which locale they were stored.
    let seo_locale = options.seo_locale.as_deref().unwrap_or(DEFAULT_SEO_LOCALE);
    let format = match template.set_seo_locale(seo_locale) {
        true => format!("{format}; SEO metadata in `{seo_locale}`"),
        false => format,
    };
    let mapper = template.mapper_naming(&headers, header_text).map_err(|e| match e {
        ImportError::Invalid { field, reason } => ImportError::Invalid { field: format!("{name}: {field}"), reason },
        other => other,
    })?;
    let default_currency = match template.currency.as_deref() {
        Some(code) => Some(code.parse().map_err(|_| ImportError::invalid("currency", format!("{code:?}")))?),
        None => default_currency,
    };
    if default_currency.is_none()
        && let Some(column) = mapper.price_column_without_currency()
    {
        // Every priced row would be refused one by one (`missing_currency`): the file is refused at once, with the fix.
        // The column's name is the file's text: given only to the caller who sent the file.
        let named = match (header_text, headers.get(column - 1)) {
            (crate::imports::mapping::HeaderText::Quoted, Some(header)) => format!(" ({header:?})"),
            _ => String::new(),
        };
        let reason = format!(
            "{name}: column {column}{named} holds prices, and neither the file (a currency column), the template nor the \
             supplier says in which currency: set the supplier's default currency (`productsmanager suppliers update \
             <supplier> --json '{{\"default_currency\": \"EUR\"}}'`, or the supplier form of the console) or map a \
             currency column"
        );
        return Err(ImportError::invalid("currency", reason));
    }
    if total == Some(0) {
        // An empty catalog is a mistake far more often than news (and would mark every offer missing).
        return Err(no_data_rows(name));
    }
    // A template that ignores columns it does not map (the shops' presets) still says which: nothing is dropped
    // without a line in the summary.
    let used: HashSet<usize> =
        mapper.columns_used().chain(read_by_shaper.into_iter().map(|(index, _)| index)).collect();
    let not_imported = not_imported(&headers[..file_headers], |index| used.contains(&index), header_text);
    let rules = RowRules {
        default_currency,
        headers,
        invalid_gtin: mapper.invalid_gtin(),
        relative_images: mapper.relative_images(),
    };
    if out.blocking_send(Message::Started { total, format, not_imported, structure: false }).is_err() {
        return Ok(());
    }
    let mut sink = Sink {
        mapper: &mapper,
        rules: &rules,
        out,
        resume_after,
        batch_rows: options.batch_rows.max(1),
        keys: std::hash::RandomState::new(),
        // Sized once for the rows the file has: growing would hold the old and the new table at once.
        seen: HashSet::with_capacity(total.unwrap_or(0).try_into().unwrap_or(0)),
        batch: Batch::default(),
        skipped: std::collections::BTreeMap::new(),
        kept: 0,
        refused: 0,
    };
    let mut any_row = false;
    let mut learned: Vec<VocabularyEntry> = Vec::new();
    for row in rows {
        any_row = true;
        let row = match row {
            Ok(row) => row,
            // No line: the reading cannot go on (the scan catches this for delimited text).
            Err(e) if e.line.is_none() => return Err(failed(e)),
            Err(e) => {
                sink.unreadable(e);
                continue;
            }
        };
        // Checked on the file's own cells, before a preset's shaper joins lists with a separator of its own.
        if let Some((column, reason)) = control_character_in(&row) {
            sink.refuse(row.line, Some(column), "control_character", reason);
            continue;
        }
        let shaped = match shaper.as_mut() {
            Some(shaper) => {
                let shaped = shaper.shape(row);
                learned.append(&mut shaper.learned());
                shaped
            }
            None => vec![row],
        };
        for row in shaped {
            if !sink.push(row) {
                return Ok(());
            }
        }
    }
    for row in shaper.as_mut().map(|s| s.finish()).unwrap_or_default() {
        if !sink.push(row) {
            return Ok(());
        }
    }
    if !any_row && resume_after == 0 {
        // A streamed sheet may declare rows it does not have.
        return Err(no_data_rows(name));
    }
    let mut skipped = sink.skipped;
    for (why, rows) in shaper.as_ref().map(|s| s.set_aside()).unwrap_or_default() {
        *skipped.entry(why).or_default() += rows;
    }
    if sink.kept == 0 && sink.refused == 0 && !skipped.is_empty() && resume_after == 0 {
        // Every row was set aside: as empty a catalog as a header alone (and it would mark every offer missing).
        let aside: Vec<String> = skipped.iter().map(|(why, rows)| format!("{rows} {why}")).collect();
        return Err(failed(ParseError {
            file: name,
            line: None,
            column: None,
            reason: format!("the file has no product rows, only rows set aside ({})", aside.join(", ")),
        }));
    }
    if sink.batch.read > 0 && out.blocking_send(Message::Batch(sink.batch)).is_err() {
        return Ok(());
    }
    if !learned.is_empty() && out.blocking_send(Message::Learned(learned)).is_err() {
        return Ok(());
    }
    if !skipped.is_empty() {
        let _ = out.blocking_send(Message::Skipped(skipped));
    }
    Ok(())
}

/// The file's `headers` that nothing reads (`used` says which are read, by 0-based index), by name for the caller
/// who sent the file, else by number.
fn not_imported(
    headers: &[String],
    used: impl Fn(usize) -> bool,
    header_text: crate::imports::mapping::HeaderText,
) -> Vec<String> {
    (0..headers.len())
        .filter(|index| !used(*index))
        .map(|index| match header_text {
            crate::imports::mapping::HeaderText::Quoted => headers[index].clone(),
            crate::imports::mapping::HeaderText::Withheld => format!("column {}", index + 1),
        })
        .collect()
}

/// Control characters (NUL…) are not text: the row's first such cell (1-based column) and why, refused the same on
/// both databases (PostgreSQL stores no NUL).
fn control_character_in(row: &Row) -> Option<(usize, String)> {
    row.fields.iter().enumerate().find_map(|(index, value)| {
        crate::input::control_character(value).map(|(position, c)| {
            (index + 1, format!("the control character U+{:04X} at character {position} is not text", c as u32))
        })
    })
}

fn no_data_rows(file: String) -> ImportError {
    failed(ParseError { file, line: None, column: None, reason: "the file has a header but no data rows".into() })
}

/// A structure file as the reader opened it.
struct StructureFile {
    name: String,
    headers: Vec<String>,
    total: Option<u64>,
    format: String,
    rows: RowIter,
    header_text: crate::imports::mapping::HeaderText,
    /// Rows up to this line were counted by an earlier attempt: learned again, not counted or refused again.
    resume_after: u64,
}

/// Reads an Akeneo structure file (attributes, family variants, attribute options, categories) into vocabulary entries: one
/// batch of its refused rows, then what it taught. Such files are small (a PIM's structure, not its products).
fn read_structure(kind: AkeneoStructure, file: StructureFile, out: &mpsc::Sender<Message>) -> Result<(), ImportError> {
    let StructureFile { name, headers, total, format, rows, header_text, resume_after } = file;
    let reader = StructureReader::new(kind, &headers);
    let used = reader.reads();
    let not_imported = not_imported(&headers, |index| used.contains(&index), header_text);
    let format = format!("{format}; {}, read into the supplier's vocabulary", kind.describe());
    if out.blocking_send(Message::Started { total, format, not_imported, structure: true }).is_err() {
        return Ok(());
    }
    let mut batch = Batch::default();
    let mut learned = Vec::new();
    let mut skipped = std::collections::BTreeMap::new();
    for row in rows {
        let (line, column, code, reason) = match row {
            Err(e) if e.line.is_none() => return Err(failed(e)),
            Err(e) => (e.line.unwrap_or(0), e.column, "unreadable_row", e.reason),
            Ok(row) if row.fields.iter().all(|f| f.trim().is_empty()) => {
                *skipped.entry("empty").or_default() += 1;
                continue;
            }
            Ok(row) => match (control_character_in(&row), reader.entry(&row)) {
                (Some((column, reason)), _) => (row.line, Some(column), "control_character", reason),
                (None, Ok(entry)) => {
                    learned.push(entry);
                    if row.line > resume_after {
                        (batch.read, batch.last_line) = (batch.read + 1, row.line);
                    }
                    continue;
                }
                (None, Err((column, reason))) => (row.line, column.map(|c| c + 1), "invalid_structure_row", reason),
            },
        };
        if line <= resume_after {
            continue;
        }
        (batch.read, batch.last_line) = (batch.read + 1, line);
        batch.errors.push(RowError {
            line,
            column,
            column_name: column.and_then(|c| headers.get(c - 1).cloned()),
            raw_value: None,
            code,
            reason,
        });
    }
    if learned.is_empty() && batch.errors.is_empty() && resume_after == 0 {
        return Err(no_data_rows(name));
    }
    if out.blocking_send(Message::Batch(batch)).is_err() || out.blocking_send(Message::Learned(learned)).is_err() {
        return Ok(());
    }
    if !skipped.is_empty() {
        let _ = out.blocking_send(Message::Skipped(skipped));
    }
    Ok(())
}

/// Why a row of the file is no product and is set aside, counted as skipped: no value in any cell (a spreadsheet's
/// formatted blank rows), or a totals line — a totals label (`TOTAL`, `Total HT :`, `Sous-total TTC`, `Summe`…) in
/// its key or, its key empty, in another cell, and nothing else but figures (`1 244,46 €`, `4`). A product row
/// without its key is refused, not set aside.
fn set_aside(fields: &[String], key: Option<&str>) -> Option<&'static str> {
    /// Labels of totals lines, lowercase, in the languages of our users' suppliers.
    const TOTALS: [&str; 12] = [
        "total",
        "totals",
        "totaux",
        "sous-total",
        "subtotal",
        "sub-total",
        "summe",
        "gesamt",
        "gesamtsumme",
        "totale",
        "totaal",
        "somme",
    ];
    // The label alone, or with at most two short words after it (`HT`, `TTC`, `net`), no digit. Asked of every
    // row's key: the first word decides most, without allocating.
    let is_label = |text: &str| {
        let text = text.trim().trim_end_matches(':').trim();
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default();
        TOTALS.iter().any(|label| label.eq_ignore_ascii_case(first))
            && !text.chars().any(|c| c.is_ascii_digit())
            && words.clone().count() <= 2
            && words.all(|word| word.chars().count() <= 4)
    };
    // An amount or a count: digits with separators and signs, a currency sign or code at most.
    let is_figure = |text: &str| {
        let text = text.trim();
        text.chars().any(|c| c.is_ascii_digit()) && text.chars().filter(|c| c.is_alphabetic()).count() <= 3
    };
    // Most rows have a key that is no label: decided before the row's cells are looked at.
    let key = key.map(str::trim).filter(|k| !k.is_empty());
    if key.is_some_and(|k| !is_label(k)) {
        return None;
    }
    let filled: Vec<&str> = fields.iter().map(|f| f.trim()).filter(|f| !f.is_empty()).collect();
    if filled.is_empty() {
        return Some("empty");
    }
    let mut labels = filled.iter().filter(|cell| is_label(cell)).count();
    if key.is_some() && labels == 0 {
        // The key's column transforms its cell (a prefix, a case): the key itself is the label.
        labels = 1;
    }
    let figures = filled.iter().filter(|cell| is_figure(cell)).count();
    (labels >= 1 && labels + figures >= filled.len()).then_some("totals")
}

/// Rows checked into batches, sent when full.
struct Sink<'a> {
    mapper: &'a crate::imports::mapping::Mapper,
    rules: &'a RowRules,
    out: &'a mpsc::Sender<Message>,
    resume_after: u64,
    batch_rows: usize,
    /// Supplier SKUs seen so far, hashed (8 bytes each, whatever their length): a repeated one is refused.
    keys: std::hash::RandomState,
    seen: HashSet<u64>,
    batch: Batch,
    /// Rows set aside, by why (see [`set_aside`]).
    skipped: std::collections::BTreeMap<&'static str, u64>,
    /// Rows not set aside, and rows refused before mapping (before a resumed import's checkpoint too).
    kept: u64,
    refused: u64,
}

impl Sink<'_> {
    fn unreadable(&mut self, error: ParseError) {
        self.refuse(error.line.unwrap_or(0), error.column, "unreadable_row", error.reason);
    }

    /// A row of the file refused before it is mapped (`column` 1-based).
    fn refuse(&mut self, line: u64, column: Option<usize>, code: &'static str, reason: String) {
        self.refused += 1;
        if line > self.resume_after {
            self.batch.read += 1;
            self.batch.last_line = line;
            self.batch.errors.push(RowError {
                line,
                column,
                column_name: column.and_then(|c| self.rules.headers.get(c - 1).cloned()),
                raw_value: None,
                code,
                reason,
            });
        }
    }

    /// Checks a row into the batch; false when the receiver is gone.
    fn push(&mut self, row: Row) -> bool {
        let sku = self.mapper.supplier_sku(&row.fields);
        if let Some(why) = set_aside(&row.fields, sku.as_deref()) {
            // Counted over the whole file, a resumed import's rows before its checkpoint included.
            *self.skipped.entry(why).or_default() += 1;
            return true;
        }
        self.kept += 1;
        let repeated = sku.as_ref().is_some_and(|sku| {
            let mut hasher = self.keys.build_hasher();
            hasher.write(sku.as_bytes());
            !self.seen.insert(hasher.finish())
        });
        if row.line <= self.resume_after {
            return true;
        }
        // A full batch goes before the next line: the rows a shaper makes of one line (a parent and its first
        // variant) are written together, so a checkpoint never falls between them.
        if self.batch.rows.len() + self.batch.errors.len() >= self.batch_rows
            && row.line != self.batch.last_line
            && self.out.blocking_send(Message::Batch(std::mem::take(&mut self.batch))).is_err()
        {
            return false;
        }
        let batch = &mut self.batch;
        batch.read += 1;
        batch.last_line = row.line;
        if repeated {
            let column = self.mapper.supplier_sku_column().map(|c| c + 1);
            batch.errors.push(RowError {
                line: row.line,
                column,
                column_name: column.and_then(|c| self.rules.headers.get(c - 1).cloned()),
                raw_value: sku.clone(),
                code: "duplicate_sku",
                reason: format!("supplier SKU {:?} is on an earlier line of the file", sku.unwrap_or_default()),
            });
        } else {
            match self.rules.check(row.line, self.mapper.map(&row.fields)) {
                Ok(checked) => {
                    batch.gtins_dropped += u64::from(checked.gtin_dropped);
                    batch.images_dropped += u64::from(checked.images_dropped);
                    batch.rows.push(checked);
                }
                Err(mut error) => {
                    // The errors CSV shows the file's own cell (`1 234,56 €`), not what the template made of it: the
                    // reason says that.
                    if let Some(cell) = error.column.and_then(|c| row.fields.get(c - 1)) {
                        error.raw_value = Some(cell.clone());
                    }
                    batch.errors.push(error)
                }
            }
        }
        true
    }
}

fn io_failure(name: &str, error: std::io::Error) -> ImportError {
    failed(ParseError { file: name.to_string(), line: None, column: None, reason: format!("cannot read: {error}") })
}

#[cfg(test)]
mod tests {
    use super::set_aside;

    fn cells(row: &[&str]) -> Vec<String> {
        row.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn blank_rows_and_totals_lines_are_set_aside_products_are_not() {
        assert_eq!(set_aside(&cells(&["", " ", ""]), None), Some("empty"));
        // The label in the key column, or beside it with the key empty; nothing else but figures.
        assert_eq!(set_aside(&cells(&["TOTAL", "", "1 244,46 €", "4"]), Some("TOTAL")), Some("totals"));
        assert_eq!(set_aside(&cells(&["Total HT :", "", "", "12 345,00"]), Some("Total HT :")), Some("totals"));
        assert_eq!(set_aside(&cells(&["", "", "Summe", "99,00 EUR"]), None), Some("totals"));
        assert_eq!(set_aside(&cells(&["", "", "Sous-total TTC", "99,00", "", ""]), None), Some("totals"));
        // A product row stays a row: refused later for its empty key, or imported.
        assert_eq!(set_aside(&cells(&["", "4006381333931", "Total Wash 500 ml", "9,90"]), None), None);
        assert_eq!(set_aside(&cells(&["", "", "Total Wash 500 ml", "9,90", "", ""]), None), None);
        assert_eq!(set_aside(&cells(&["A1", "", "Total Wash", "9,90"]), Some("A1")), None);
        assert_eq!(set_aside(&cells(&["", "", "", "9,90"]), None), None, "no label: an incomplete row");
        // A product whose key happens to be a label, with text besides figures (Shopify's handle `total`).
        assert_eq!(set_aside(&cells(&["total", "Total", "A tote bag", "12.00"]), Some("total")), None);
        assert_eq!(set_aside(&cells(&["TOTAL.5W30", "", "5.00"]), Some("TOTAL.5W30")), None);
    }
}
