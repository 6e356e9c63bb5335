//! Spreadsheets through calamine: XLSX, XLS, XLSB and ODS, told apart by their content. One sheet (the first by
//! default) is read from its header row; formulas give their cached values and are never evaluated; text that starts
//! with `=`, `+`, `-` or `@` stays text.
//!
//! Excel's damage is repaired where it is unambiguous: a whole number stored as a float (a GTIN typed into a number
//! cell, shown as `4.00638E+12`) is written out in full, and a date cell (a serial number with a date format) becomes
//! an ISO date. Leading zeros lost in a number cell cannot be told from the cell alone; the GTIN rules put them back.
//!
//! calamine reads the whole sheet into memory, so spreadsheets are bounded by `max_bytes` (64 MiB by default), and an
//! XLSX or ODS whose parts declare more than 1 GiB inflated, or inflate over 200-fold, is refused before calamine
//! opens it (a zip bomb). A password-protected workbook is named as such.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use serde::{Deserialize, Serialize};

use super::{ParseError, Row};

/// Which sheet and where its header is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetOptions {
    /// Sheet name; the first sheet when absent.
    #[serde(default)]
    pub sheet: Option<String>,
    /// 1-based row of the header; the rows above it (titles, notes) are skipped.
    #[serde(default = "first_row")]
    pub header_row: u32,
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

fn first_row() -> u32 {
    1
}

fn default_max_bytes() -> u64 {
    64 << 20
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions {
            sheet: None,
            header_row: 1,
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
    headers: Vec<String>,
    /// (spreadsheet row number, cells) still to give.
    rows: std::vec::IntoIter<(u64, Vec<Data>)>,
}

impl SheetRows {
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
            check_archive(&bytes, options).map_err(|reason| failure(None, None, reason))?;
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
        let header_row = u64::from(options.header_row.max(1));
        let header = rows.by_ref().find(|(number, _)| *number >= header_row);
        let Some((number, header)) = header.filter(|(number, _)| *number == header_row) else {
            return Err(failure(
                Some(header_row),
                None,
                format!("sheet {sheet:?} has no row {header_row} for the header"),
            ));
        };
        // Trailing empty header cells are not columns.
        let used = header.iter().rposition(|c| *c != Data::Empty).map_or(0, |last| last + 1);
        let names = header[..used].iter().map(text).collect();
        let headers = super::check_headers(file, number, names)?;
        let rows: Vec<(u64, Vec<Data>)> = rows.filter(|(_, cells)| cells.iter().any(|c| *c != Data::Empty)).collect();
        Ok(SheetRows { file: file.to_string(), sheet, headers, rows: rows.into_iter() })
    }

    /// The column names, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many non-empty rows follow the header and are still to give.
    pub fn remaining(&self) -> usize {
        self.rows.len()
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
        let (line, cells) = self.rows.next()?;
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
        for column in 0..self.headers.len() {
            match cells.get(column).unwrap_or(&Data::Empty) {
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

/// Refuses an archive whose parts would inflate beyond the limits, from the sizes its directory declares.
fn check_archive(bytes: &[u8], options: &SheetOptions) -> Result<(), String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable spreadsheet: {e}"))?;
    let (mut inflated, mut compressed) = (0_u64, 0_u64);
    for index in 0..archive.len() {
        let part = archive.by_index_raw(index).map_err(|e| format!("not a readable spreadsheet: {e}"))?;
        inflated = inflated.saturating_add(part.size());
        compressed = compressed.saturating_add(part.compressed_size());
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
    Ok(())
}

/// A cell as text, with Excel's number and date damage repaired.
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Whole numbers below 10^15 are exact in a float: GTINs and SKUs typed into number cells.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
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
        let options = SheetOptions { sheet: Some("Prices".into()), header_row: 3, ..SheetOptions::default() };
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
    fn the_first_sheet_by_default_and_refusals_named() {
        let rows = SheetRows::open("acme.xlsx", price_list(), &SheetOptions::default()).unwrap();
        assert_eq!((rows.sheet(), rows.headers()), ("Notes", &["read me".to_string()][..]));

        let missing = SheetOptions { sheet: Some("Stock".into()), ..SheetOptions::default() };
        let error = SheetRows::open("acme.xlsx", price_list(), &missing).unwrap_err();
        assert!(error.reason.contains("no sheet \"Stock\"; the sheets are Notes, Prices"), "{error}");
        let too_low = SheetOptions { header_row: 40, ..SheetOptions::default() };
        assert_eq!(SheetRows::open("acme.xlsx", price_list(), &too_low).unwrap_err().line, Some(40));

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
