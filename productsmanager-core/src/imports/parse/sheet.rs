//! Spreadsheets through calamine: XLSX, XLS, XLSB and ODS, told apart by their content. One sheet (the first by
//! default) is read from its header row; formulas give their cached values and are never evaluated; text that starts
//! with `=`, `+`, `-` or `@` stays text.
//!
//! Excel's damage is repaired where it is unambiguous: a whole number stored as a float (a GTIN typed into a number
//! cell, shown as `4.00638E+12`) is written out in full, and a date cell (a serial number with a date format) becomes
//! an ISO date. Leading zeros lost in a number cell cannot be told from the cell alone; the GTIN rules put them back.
//!
//! An XLSX sheet is streamed: calamine's cell reader gives its cells one by one on a thread of its own (only the
//! shared-strings table is held), and rows are handed over through a bounded channel, so memory does not grow with
//! the sheet. XLS, XLSB and ODS are read whole by calamine and bounded by `max_bytes` (64 MiB by default). An XLSX or
//! ODS whose parts declare more than 1 GiB inflated, or inflate over 200-fold, is refused before calamine opens it
//! (a zip bomb). A password-protected workbook is named as such.

use std::io::{Cursor, Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{Data, Reader, Xlsx, open_workbook_auto_from_rs};
use serde::{Deserialize, Serialize};

use super::{ParseError, Row};

/// Which sheet and where its header is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SheetOptions {
    /// Sheet name; the first sheet when absent.
    #[serde(default)]
    pub sheet: Option<String>,
    /// 1-based row of the header; the rows above it (titles, notes) are skipped. Absent: found among the sheet's
    /// first 50 rows as a CSV file's header is (the first row that fills about as many cells as the fullest).
    #[serde(default)]
    pub header_row: Option<u32>,
    /// Larger files are refused before they are opened.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// XLSX and ODS are zip archives: refused when their parts declare more than this many bytes once inflated…
    #[serde(default = "default_max_inflated_bytes")]
    pub max_inflated_bytes: u64,
    /// …or inflate more than this many times their compressed size (a zip bomb).
    #[serde(default = "default_max_ratio")]
    pub max_compression_ratio: u64,
}

fn default_max_inflated_bytes() -> u64 {
    1 << 30
}

fn default_max_ratio() -> u64 {
    200
}

fn default_max_bytes() -> u64 {
    64 << 20
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions {
            sheet: None,
            header_row: None,
            max_bytes: default_max_bytes(),
            max_inflated_bytes: default_max_inflated_bytes(),
            max_compression_ratio: default_max_ratio(),
        }
    }
}

/// The rows of one sheet after its header.
#[derive(Debug)]
pub struct SheetRows {
    file: String,
    sheet: String,
    /// The spreadsheet row of the header (1-based).
    header_row: u64,
    headers: Vec<String>,
    /// Rows after the header: counted (whole sheets) or as the sheet's dimension declares (streamed).
    remaining: Option<usize>,
    rows: Rows,
}

/// Where the rows come from.
#[derive(Debug)]
enum Rows {
    /// (spreadsheet row number, cells) still to give.
    Loaded(std::vec::IntoIter<(u64, Vec<Data>)>),
    /// From the XLSX reading thread, a chunk at a time: the rows of the chunk received last still to give.
    Streamed { from: Receiver<Streamed>, ready: std::vec::IntoIter<(u64, Vec<Data>)> },
}

/// Rows per hand-over from the XLSX reading thread, so the two threads meet (and wake each other) once per chunk
/// rather than once per row.
const ROWS_PER_CHUNK: usize = 256;

#[derive(Debug)]
enum Streamed {
    /// Non-empty rows in sheet order: (spreadsheet row number, cells).
    Rows(Vec<(u64, Vec<Data>)>),
    /// The sheet broke off (its XML is damaged): nothing after can be trusted.
    Failed(String),
}

/// What the XLSX reading thread says first: the sheet and its header row, or why there is none.
type Opening = Result<(String, u64, Vec<Data>, Option<usize>), (Option<u64>, String)>;

/// A row of a sheet: its spreadsheet number (1-based) and its cells.
type SheetRow = (u64, Vec<Data>);

/// The header row asked for: `None` to find it; row 0 is refused (rows count from 1).
fn wanted_header(options: &SheetOptions) -> Result<Option<u64>, String> {
    match options.header_row {
        Some(0) => Err("the header row counts from 1: there is no row 0".into()),
        wanted => Ok(wanted.map(u64::from)),
    }
}

/// Finds the header among a sheet's first non-empty rows (as a CSV file's is found: the first row that fills about
/// as many cells as the fullest of the rows as wide as most) and splits them: the header, the rows after it.
fn found_header(sample: Vec<SheetRow>) -> Option<(SheetRow, Vec<SheetRow>)> {
    let records: Vec<(u64, usize, usize)> = sample
        .iter()
        .map(|(number, cells)| {
            let width = cells.iter().rposition(|c| *c != Data::Empty).map_or(0, |last| last + 1);
            (*number, width, cells.iter().filter(|c| **c != Data::Empty).count())
        })
        .collect();
    let index = super::csv::header_index(&records).unwrap_or(0);
    let mut rest = sample.into_iter().skip(index);
    let header = rest.next()?;
    Some((header, rest.collect()))
}

impl SheetRows {
    /// Opens the spreadsheet at `source` (an open file) and reads the header of the chosen sheet; an XLSX is streamed
    /// from the file, other formats are read whole (up to `max_bytes`).
    pub fn open_file(file: &str, mut source: std::fs::File, options: &SheetOptions) -> Result<Self, ParseError> {
        let failure = |reason: String| ParseError { file: file.to_string(), line: None, column: None, reason };
        let unreadable = |e: std::io::Error| failure(format!("cannot read: {e}"));
        let mut magic = [0_u8; 4];
        let read = source.read(&mut magic).map_err(unreadable)?;
        source.rewind().map_err(unreadable)?;
        if magic[..read].starts_with(b"PK") {
            let mut input = std::io::BufReader::new(&source);
            let xlsx = check_archive(&mut input, options).map_err(failure)?;
            drop(input);
            source.rewind().map_err(unreadable)?;
            if xlsx {
                return Self::stream(file, std::io::BufReader::with_capacity(1 << 20, source), options);
            }
        }
        let size = source.metadata().map_err(unreadable)?.len();
        if size > options.max_bytes {
            return Err(failure(format!(
                "{size} bytes is more than the {} bytes allowed for a spreadsheet",
                options.max_bytes
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        source.read_to_end(&mut bytes).map_err(unreadable)?;
        Self::open(file, bytes, options)
    }

    /// Opens the spreadsheet in `bytes` and reads the header of the chosen sheet.
    pub fn open(file: &str, bytes: Vec<u8>, options: &SheetOptions) -> Result<Self, ParseError> {
        let failure = |line: Option<u64>, column: Option<usize>, reason: String| ParseError {
            file: file.to_string(),
            line,
            column,
            reason,
        };
        if bytes.len() as u64 > options.max_bytes {
            let reason =
                format!("{} bytes is more than the {} bytes allowed for a spreadsheet", bytes.len(), options.max_bytes);
            return Err(failure(None, None, reason));
        }
        if bytes.starts_with(b"PK") {
            let xlsx =
                check_archive(&mut Cursor::new(&bytes), options).map_err(|reason| failure(None, None, reason))?;
            if xlsx {
                return Self::stream(file, Cursor::new(bytes), options);
            }
        } else if bytes.starts_with(OLE_MAGIC) && is_encrypted_package(&bytes) {
            let reason = "the workbook is password-protected: save it without a password and send it again".into();
            return Err(failure(None, None, reason));
        }
        let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| failure(None, None, format!("not a readable spreadsheet (XLSX, XLS, ODS): {e}")))?;
        let names = workbook.sheet_names();
        let sheet = match &options.sheet {
            Some(wanted) if names.contains(wanted) => wanted.clone(),
            Some(wanted) => {
                return Err(failure(None, None, format!("no sheet {wanted:?}; the sheets are {}", names.join(", "))));
            }
            None => names.first().cloned().ok_or_else(|| failure(None, None, "the workbook has no sheet".into()))?,
        };
        let range =
            workbook.worksheet_range(&sheet).map_err(|e| failure(None, None, format!("sheet {sheet:?}: {e}")))?;
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        // Absolute 1-based numbers, as the spreadsheet shows them.
        let mut rows = range.rows().enumerate().map(|(index, cells)| {
            let number = u64::from(first_row) + index as u64 + 1;
            let mut cells = cells.to_vec();
            // Columns left of the used range are empty.
            cells.splice(0..0, std::iter::repeat_n(Data::Empty, first_column as usize));
            (number, cells)
        });
        let (number, header, rows) = match wanted_header(options).map_err(|reason| failure(None, None, reason))? {
            Some(header_row) => {
                let header = rows.by_ref().find(|(number, _)| *number >= header_row);
                let Some((number, header)) = header.filter(|(number, _)| *number == header_row) else {
                    return Err(failure(
                        Some(header_row),
                        None,
                        format!("sheet {sheet:?} has no row {header_row} for the header"),
                    ));
                };
                let rows: Vec<(u64, Vec<Data>)> =
                    rows.filter(|(_, cells)| cells.iter().any(|c| *c != Data::Empty)).collect();
                (number, header, rows)
            }
            None => {
                let mut rows: Vec<(u64, Vec<Data>)> =
                    rows.filter(|(_, cells)| cells.iter().any(|c| *c != Data::Empty)).collect();
                let later = rows.split_off(rows.len().min(super::csv::SAMPLE_RECORDS));
                let Some(((number, header), mut after)) = found_header(rows) else {
                    return Err(failure(None, None, format!("sheet {sheet:?} is empty: no row for the header")));
                };
                after.extend(later);
                (number, header, after)
            }
        };
        // Trailing empty header cells are not columns.
        let used = header.iter().rposition(|c| *c != Data::Empty).map_or(0, |last| last + 1);
        let names = header.into_iter().take(used).map(text).collect();
        let headers = super::check_headers(file, number, names)?;
        Ok(SheetRows {
            file: file.to_string(),
            sheet,
            header_row: number,
            headers,
            remaining: Some(rows.len()),
            rows: Rows::Loaded(rows.into_iter()),
        })
    }

    /// An XLSX sheet read cell by cell on a thread of its own, rows handed over through a bounded channel.
    fn stream<RS: Read + Seek + Send + 'static>(
        file: &str,
        source: RS,
        options: &SheetOptions,
    ) -> Result<Self, ParseError> {
        let (opening_tx, opening_rx) = sync_channel::<Opening>(1);
        let (rows_tx, rows_rx) = sync_channel::<Streamed>(4);
        let failure =
            |line: Option<u64>, reason: String| ParseError { file: file.to_string(), line, column: None, reason };
        let header_row = wanted_header(options).map_err(|reason| failure(None, reason))?;
        let wanted = options.sheet.clone();
        let spawned = std::thread::Builder::new()
            .name("xlsx-rows".into())
            .spawn(move || read_cells(source, wanted, header_row, opening_tx, rows_tx));
        spawned.map_err(|e| failure(None, format!("cannot start reading: {e}")))?;
        let (sheet, number, header, remaining) = match opening_rx.recv() {
            Ok(Ok(opening)) => opening,
            Ok(Err((line, reason))) => return Err(failure(line, reason)),
            Err(_) => return Err(failure(None, "the workbook could not be read".into())),
        };
        let used = header.iter().rposition(|c| *c != Data::Empty).map_or(0, |last| last + 1);
        let names = header.into_iter().take(used).map(text).collect();
        let headers = super::check_headers(file, number, names)?;
        Ok(SheetRows {
            file: file.to_string(),
            sheet,
            header_row: number,
            headers,
            remaining,
            rows: Rows::Streamed { from: rows_rx, ready: Vec::new().into_iter() },
        })
    }

    /// The spreadsheet row the header is on (1-based).
    pub fn header_row(&self) -> u64 {
        self.header_row
    }

    /// The column names, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many rows follow the header: exact for a sheet read whole, as the sheet declares (blank rows included,
    /// `None` when it does not say) for a streamed XLSX.
    pub fn remaining(&self) -> Option<usize> {
        self.remaining
    }

    /// The sheet read.
    pub fn sheet(&self) -> &str {
        &self.sheet
    }
}

impl Iterator for SheetRows {
    /// A row, or why this row is unusable (the next ones can still be read).
    type Item = Result<Row, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, cells) = match &mut self.rows {
            Rows::Loaded(rows) => rows.next()?,
            Rows::Streamed { from, ready } => loop {
                if let Some(row) = ready.next() {
                    break row;
                }
                match from.recv().ok()? {
                    Streamed::Rows(rows) => *ready = rows.into_iter(),
                    Streamed::Failed(reason) => {
                        let file = format!("{} (sheet {:?})", self.file, self.sheet);
                        return Some(Err(ParseError { file, line: None, column: None, reason }));
                    }
                }
            },
        };
        let failure = |column: usize, reason: String| ParseError {
            file: format!("{} (sheet {:?})", self.file, self.sheet),
            line: Some(line),
            column: Some(column),
            reason,
        };
        if let Some(extra) = cells.iter().skip(self.headers.len()).position(|c| *c != Data::Empty) {
            let column = self.headers.len() + extra + 1;
            return Some(Err(failure(column, format!("a value beyond the {} named columns", self.headers.len()))));
        }
        let mut fields = Vec::with_capacity(self.headers.len());
        let mut cells = cells.into_iter();
        for column in 0..self.headers.len() {
            match cells.next().unwrap_or(Data::Empty) {
                Data::Error(error) => {
                    return Some(Err(failure(column + 1, format!("the cell holds an error ({error})"))));
                }
                cell => fields.push(text(cell)),
            }
        }
        Some(Ok(Row { line, fields }))
    }
}

/// Compound-file (OLE) signature: XLS files, and XLSX files encrypted with a password.
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// An encrypted OOXML file is an OLE container with an `EncryptedPackage` stream (its name is UTF-16 in the
/// directory).
fn is_encrypted_package(bytes: &[u8]) -> bool {
    let name: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(name.len()).any(|window| window == name)
}

/// Refuses an archive whose parts would inflate beyond the limits, from the sizes its directory declares; says
/// whether it is an XLSX workbook (`xl/workbook.xml`), which is streamed.
fn check_archive<R: Read + Seek>(input: &mut R, options: &SheetOptions) -> Result<bool, String> {
    let mut archive = zip::ZipArchive::new(input).map_err(|e| format!("not a readable spreadsheet: {e}"))?;
    let (mut inflated, mut compressed) = (0_u64, 0_u64);
    let mut xlsx = false;
    for index in 0..archive.len() {
        let part = archive.by_index_raw(index).map_err(|e| format!("not a readable spreadsheet: {e}"))?;
        inflated = inflated.saturating_add(part.size());
        compressed = compressed.saturating_add(part.compressed_size());
        xlsx |= part.name().is_ok_and(|name| name == "xl/workbook.xml");
    }
    if inflated > options.max_inflated_bytes {
        return Err(format!(
            "the workbook would inflate to {inflated} bytes, more than the {} allowed",
            options.max_inflated_bytes
        ));
    }
    if inflated > compressed.max(1).saturating_mul(options.max_compression_ratio) && inflated > 1 << 20 {
        return Err(format!(
            "the workbook would inflate {}-fold ({compressed} to {inflated} bytes), more than the {}-fold allowed: \
             refused as a possible zip bomb",
            inflated / compressed.max(1),
            options.max_compression_ratio
        ));
    }
    Ok(xlsx)
}

/// The XLSX reading thread: opens the workbook, finds the header row of the sheet, then sends each non-empty row.
/// Stops when the receiver is gone.
fn read_cells<RS: Read + Seek>(
    source: RS,
    wanted: Option<String>,
    header_row: Option<u64>,
    opening: SyncSender<Opening>,
    rows: SyncSender<Streamed>,
) {
    let refuse = |line: Option<u64>, reason: String| {
        let _ = opening.send(Err((line, reason)));
    };
    let mut workbook: Xlsx<RS> = match Xlsx::new(source) {
        Ok(workbook) => workbook,
        Err(calamine::XlsxError::Password) => {
            return refuse(
                None,
                "the workbook is password-protected: save it without a password and send it again".into(),
            );
        }
        Err(e) => return refuse(None, format!("not a readable spreadsheet (XLSX): {e}")),
    };
    let names = workbook.sheet_names();
    let sheet = match wanted {
        Some(wanted) if names.contains(&wanted) => wanted,
        Some(wanted) => return refuse(None, format!("no sheet {wanted:?}; the sheets are {}", names.join(", "))),
        None => match names.first() {
            Some(first) => first.clone(),
            None => return refuse(None, "the workbook has no sheet".into()),
        },
    };
    let mut cells = match workbook.worksheet_cells_reader(&sheet) {
        Ok(cells) => cells,
        Err(e) => return refuse(None, format!("sheet {sheet:?}: {e}")),
    };
    let declared = cells.dimensions();
    // The rows after the header as the sheet's dimension declares them.
    let remaining = |header: u64| {
        (declared.end.0 > 0)
            .then(|| usize::try_from((u64::from(declared.end.0) + 1).saturating_sub(header)).unwrap_or(usize::MAX))
    };
    let mut header_sent = false;
    // The header to be found: the first non-empty rows, kept until it is.
    let mut sample: Vec<(u64, Vec<Data>)> = Vec::new();
    // The row being assembled: (0-based row, cells by column).
    let mut current: Option<(u32, Vec<Data>)> = None;
    // Finished rows not handed over yet.
    let mut pending: Vec<(u64, Vec<Data>)> = Vec::with_capacity(ROWS_PER_CHUNK);
    // Takes a finished row (handing over a full chunk); false when reading should stop.
    let mut finish = |row: u32, cells: Vec<Data>| -> bool {
        let number = u64::from(row) + 1;
        if !header_sent && header_row.is_none() {
            if cells.iter().any(|c| *c != Data::Empty) {
                sample.push((number, cells));
            }
            if sample.len() < super::csv::SAMPLE_RECORDS {
                return true;
            }
            let Some(((number, header), after)) = found_header(std::mem::take(&mut sample)) else { return false };
            header_sent = true;
            pending.extend(after);
            return opening.send(Ok((sheet.clone(), number, header, remaining(number)))).is_ok();
        }
        if !header_sent && let Some(header_row) = header_row {
            return match number.cmp(&header_row) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => {
                    header_sent = true;
                    opening.send(Ok((sheet.clone(), number, cells, remaining(number)))).is_ok()
                }
                std::cmp::Ordering::Greater => {
                    let reason = format!("sheet {sheet:?} has no row {header_row} for the header");
                    let _ = opening.send(Err((Some(header_row), reason)));
                    false
                }
            };
        }
        if cells.iter().all(|c| *c == Data::Empty) {
            return true;
        }
        pending.push((number, cells));
        pending.len() < ROWS_PER_CHUNK
            || rows.send(Streamed::Rows(std::mem::replace(&mut pending, Vec::with_capacity(ROWS_PER_CHUNK)))).is_ok()
    };
    loop {
        match cells.next_cell() {
            Ok(Some(cell)) => {
                let (row, column) = cell.get_position();
                let value = Data::from(cell.get_value().clone());
                if current.as_ref().is_some_and(|(r, _)| *r != row)
                    && let Some((done, values)) = current.take()
                    && !finish(done, values)
                {
                    return;
                }
                let values = &mut current.get_or_insert_with(|| (row, Vec::new())).1;
                let column = column as usize;
                if values.len() <= column {
                    values.resize(column + 1, Data::Empty);
                }
                values[column] = value;
            }
            Ok(None) => break,
            Err(e) => {
                let reason = format!("sheet {sheet:?} is damaged: {e}");
                if header_sent {
                    // The rows before the damage first, as they came.
                    if !pending.is_empty() {
                        let _ = rows.send(Streamed::Rows(pending));
                    }
                    let _ = rows.send(Streamed::Failed(reason));
                } else {
                    let _ = opening.send(Err((None, reason)));
                }
                return;
            }
        }
    }
    if let Some((done, values)) = current.take()
        && !finish(done, values)
    {
        return;
    }
    // A sheet of fewer rows than the sample: its header is found among them all.
    if !header_sent
        && header_row.is_none()
        && let Some(((number, header), after)) = found_header(std::mem::take(&mut sample))
    {
        header_sent = true;
        pending.extend(after);
        if opening.send(Ok((sheet.clone(), number, header, remaining(number)))).is_err() {
            return;
        }
    }
    if !pending.is_empty() && rows.send(Streamed::Rows(pending)).is_err() {
        return;
    }
    if !header_sent {
        let reason = match header_row {
            Some(header_row) => format!("sheet {sheet:?} has no row {header_row} for the header"),
            None => format!("sheet {sheet:?} is empty: no row for the header"),
        };
        let _ = opening.send(Err((header_row, reason)));
    }
}

/// A cell as text, with Excel's number and date damage repaired. Takes the cell: its text is moved, not copied.
fn text(cell: Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s,
        Data::Int(i) => i.to_string(),
        // Whole numbers below 10^15 are exact in a float: GTINs and SKUs typed into number cells.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(serial) => match serial.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => serial.as_f64().to_string(),
        },
        Data::Error(error) => format!("#{error}"),
    }
}

#[cfg(test)]
mod tests {
    use rust_xlsxwriter::{Format, Formula, Workbook};

    use super::*;

    /// A workbook with a notes sheet first and a price sheet whose header is on row 3, below a title.
    fn price_list() -> Vec<u8> {
        let mut workbook = Workbook::new();
        let notes = workbook.add_worksheet();
        notes.set_name("Notes").unwrap();
        notes.write_string(0, 0, "read me").unwrap();
        let prices = workbook.add_worksheet();
        prices.set_name("Prices").unwrap();
        prices.write_string(0, 0, "Acme price list, November").unwrap();
        for (column, name) in ["sku", "gtin", "price", "valid from", "total", "note"].iter().enumerate() {
            prices.write_string(2, column as u16, *name).unwrap();
        }
        let date = Format::new().set_num_format("yyyy-mm-dd");
        prices.write_string(3, 0, "A1").unwrap();
        prices.write_number(3, 1, 4_006_381_333_931.0).unwrap(); // shown as 4.00638E+12
        prices.write_number(3, 2, 9.9).unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        prices.write_datetime_with_format(3, 3, day, &date).unwrap();
        prices.write_formula(3, 4, Formula::new("=C4*2").set_result("19.8")).unwrap();
        prices.write_string(3, 5, "=HYPERLINK(\"http://evil\")").unwrap();
        // Row 5 left empty; row 6 has a value beyond the named columns.
        prices.write_string(5, 0, "A2").unwrap();
        prices.write_string(5, 7, "stray").unwrap();
        prices.write_string(6, 0, "A3").unwrap();
        prices.write_number(6, 2, 12.0).unwrap();
        workbook.save_to_buffer().unwrap()
    }

    #[test]
    fn a_sheet_below_its_title_with_excel_damage_repaired() {
        let options = SheetOptions { sheet: Some("Prices".into()), header_row: Some(3), ..SheetOptions::default() };
        let mut rows = SheetRows::open("acme.xlsx", price_list(), &options).unwrap();
        assert_eq!(rows.sheet(), "Prices");
        assert_eq!(rows.headers(), ["sku", "gtin", "price", "valid from", "total", "note"]);
        let first = rows.next().unwrap().unwrap();
        assert_eq!(first.line, 4);
        assert_eq!(first.fields, ["A1", "4006381333931", "9.9", "2026-11-25", "19.8", "=HYPERLINK(\"http://evil\")"]);
        let stray = rows.next().unwrap().unwrap_err();
        assert_eq!((stray.line, stray.column), (Some(6), Some(8)), "the empty row 5 is skipped");
        assert!(stray.to_string().contains("acme.xlsx (sheet \"Prices\"), line 6, column 8"), "{stray}");
        assert_eq!(rows.next().unwrap().unwrap().fields, ["A3", "", "12", "", "", ""]);
        assert!(rows.next().is_none());
    }

    #[test]
    fn the_header_is_found_below_a_title() {
        let options = SheetOptions { sheet: Some("Prices".into()), ..SheetOptions::default() };
        let mut rows = SheetRows::open("acme.xlsx", price_list(), &options).unwrap();
        assert_eq!(rows.header_row(), 3, "the title on row 1 fills one cell, the header six");
        assert_eq!(rows.headers(), ["sku", "gtin", "price", "valid from", "total", "note"]);
        assert_eq!(rows.next().unwrap().unwrap().line, 4);
        assert_eq!(rows.next().unwrap().unwrap_err().line, Some(6));
        assert_eq!(rows.next().unwrap().unwrap().fields[0], "A3");
        assert!(rows.next().is_none());

        // Longer than the sample the header is looked for in: the rows after it all come, in order.
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "Tarifs 2026").unwrap();
        sheet.write_string(2, 0, "sku").unwrap();
        sheet.write_string(2, 1, "price").unwrap();
        for row in 3..123 {
            sheet.write_string(row, 0, format!("S{row}")).unwrap();
            sheet.write_number(row, 1, f64::from(row)).unwrap();
        }
        let rows = SheetRows::open("long.xlsx", workbook.save_to_buffer().unwrap(), &SheetOptions::default()).unwrap();
        assert_eq!((rows.header_row(), rows.remaining()), (3, Some(120)));
        let lines: Vec<u64> = rows.map(|row| row.unwrap().line).collect();
        assert_eq!(lines, (4..124).collect::<Vec<u64>>());
        let empty = SheetRows::open("empty.xlsx", Workbook::new().save_to_buffer().unwrap(), &SheetOptions::default());
        assert!(empty.unwrap_err().reason.contains("no row for the header"));
    }

    #[test]
    fn the_first_sheet_by_default_and_refusals_named() {
        let rows = SheetRows::open("acme.xlsx", price_list(), &SheetOptions::default()).unwrap();
        assert_eq!((rows.sheet(), rows.headers()), ("Notes", &["read me".to_string()][..]));

        let missing = SheetOptions { sheet: Some("Stock".into()), ..SheetOptions::default() };
        let error = SheetRows::open("acme.xlsx", price_list(), &missing).unwrap_err();
        assert!(error.reason.contains("no sheet \"Stock\"; the sheets are Notes, Prices"), "{error}");
        let too_low = SheetOptions { header_row: Some(40), ..SheetOptions::default() };
        assert_eq!(SheetRows::open("acme.xlsx", price_list(), &too_low).unwrap_err().line, Some(40));
        let zero = SheetOptions { header_row: Some(0), ..SheetOptions::default() };
        assert!(SheetRows::open("acme.xlsx", price_list(), &zero).unwrap_err().reason.contains("no row 0"));

        let not_a_workbook = SheetRows::open("prices.xlsx", b"sku;price\nA1;1\n".to_vec(), &SheetOptions::default());
        let error = not_a_workbook.unwrap_err();
        assert!(error.to_string().starts_with("prices.xlsx: not a readable spreadsheet"), "{error}");
        let small = SheetOptions { max_bytes: 100, ..SheetOptions::default() };
        assert!(SheetRows::open("big.xlsx", price_list(), &small).unwrap_err().reason.contains("bytes allowed"));
    }

    #[test]
    fn zip_bombs_and_password_protected_workbooks_are_refused() {
        // 8 MB of one letter: a few kilobytes compressed.
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "note").unwrap();
        for row in 1..=256 {
            sheet.write_string(row, 0, format!("{row}{}", "a".repeat(32_000))).unwrap();
        }
        let bomb = workbook.save_to_buffer().unwrap();
        let error = SheetRows::open("bomb.xlsx", bomb.clone(), &SheetOptions::default()).unwrap_err();
        assert!(error.reason.contains("possible zip bomb"), "{error}");
        let small_limit = SheetOptions { max_inflated_bytes: 1 << 20, ..SheetOptions::default() };
        assert!(SheetRows::open("bomb.xlsx", bomb, &small_limit).unwrap_err().reason.contains("would inflate to"));

        // The shape of an encrypted XLSX: an OLE container holding an `EncryptedPackage` stream.
        let mut encrypted = OLE_MAGIC.to_vec();
        encrypted.resize(1024, 0);
        encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        let error = SheetRows::open("locked.xlsx", encrypted, &SheetOptions::default()).unwrap_err();
        assert!(error.reason.contains("password-protected"), "{error}");
    }
}
