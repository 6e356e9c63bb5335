//! Delimited text: comma, semicolon, tab or pipe; UTF-8 (with or without BOM), Windows-1252 or ISO-8859-15.
//!
//! The first 64 KiB are sniffed: a UTF-8 BOM or valid UTF-8 means UTF-8, anything else Windows-1252 (the superset of
//! ISO-8859-1 that spreadsheets on Windows write; ISO-8859-15 only when asked for, the two differ in eight letters
//! that no byte pattern tells apart). The delimiter is the candidate that splits the sample's first records into
//! the same number of fields (more than one) most often. The header is the first of the sample's records that fills
//! at least two thirds as many cells as the fullest of them, so a title or a note above it (`Tarifs ACME 2026;;;`) is
//! passed over; `header_line` names it instead. The csv crate then reads the whole stream record by record, so memory
//! does not grow with the file.

use std::io::{Cursor, Read};

use ::csv::{ByteRecord, ReaderBuilder};
use encoding_rs::{Encoding, ISO_8859_15, WINDOWS_1252};
use serde::{Deserialize, Serialize};

use super::ParseError;

/// How many bytes are sniffed.
const SAMPLE_BYTES: usize = 64 * 1024;
/// How many records of the sample decide the delimiter.
pub(super) const SAMPLE_RECORDS: usize = 50;
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// A text encoding of supplier files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    Windows1252,
    Iso8859_15,
}

impl TextEncoding {
    /// The usual name: `UTF-8`, `Windows-1252`, `ISO-8859-15`.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1252 => "Windows-1252",
            TextEncoding::Iso8859_15 => "ISO-8859-15",
        }
    }
}

/// What the caller knows about the file; sniffed when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    #[serde(default)]
    pub encoding: Option<TextEncoding>,
    /// `,`, `;`, tab or `|`.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// A longer physical line stops the reading (a file that is not a catalog, or a runaway quote): memory stays
    /// bounded by it. 4 MiB by default.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// 1-based line of the header; the lines above it (a title, notes) are not read. Found when absent: the first
    /// line that fills at least two thirds as many cells as the fullest of the file's first 50 records with a value
    /// (within its first 64 KiB) that are as wide as most of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_line: Option<u64>,
}

fn default_max_line_bytes() -> usize {
    4 << 20
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { encoding: None, delimiter: None, max_line_bytes: default_max_line_bytes(), header_line: None }
    }
}

/// Refuses to pass on a physical line longer than `max` bytes, so the csv reader never buffers one.
struct LineLimit<R> {
    inner: R,
    max: usize,
    line: u64,
    length: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for byte in &buf[..n] {
            if *byte == b'\n' {
                self.line += 1;
                self.length = 0;
            } else {
                self.length += 1;
                if self.length > self.max {
                    let message = format!("line {} is longer than {} bytes", self.line, self.max);
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
                }
            }
        }
        Ok(n)
    }
}

/// What sniffing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sniffed {
    pub encoding: TextEncoding,
    /// A UTF-8 byte-order mark was there (and is skipped).
    pub bom: bool,
    pub delimiter: char,
    /// 1-based line of the header (found, or as the options gave it).
    pub header_line: u64,
}

/// Sniffs encoding, delimiter and header line from the start of a file; `options` win where set.
pub fn sniff(file: &str, sample: &[u8], options: &CsvOptions) -> Result<Sniffed, ParseError> {
    let failure = |reason: &str| ParseError { file: file.to_string(), line: None, column: None, reason: reason.into() };
    let bom = sample.starts_with(b"\xEF\xBB\xBF");
    let text = if bom { &sample[3..] } else { sample };
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(failure("the file is empty"));
    }
    if let Some(kind) = not_text(text) {
        return Err(failure(&format!("this is {kind}, not a CSV or spreadsheet file")));
    }
    let encoding = match options.encoding {
        Some(encoding) => encoding,
        None if bom || valid_utf8_prefix(text, sample.len() < SAMPLE_BYTES) => TextEncoding::Utf8,
        None => TextEncoding::Windows1252,
    };
    let delimiter = match options.delimiter {
        Some(c) if c.is_ascii() && DELIMITERS.contains(&(c as u8)) => c,
        Some(c) => return Err(failure(&format!("{c:?} is not a supported delimiter (comma, semicolon, tab, pipe)"))),
        // No candidate splits the header: a one-column file, whatever the delimiter.
        None => sniff_delimiter(text).unwrap_or(','),
    };
    let header_line = match options.header_line {
        Some(0) => return Err(failure("the header line counts from 1: there is no line 0")),
        Some(line) => line,
        None => {
            let records = sample_records(text, delimiter as u8);
            header_index(&records).map_or(1, |index| records[index].0)
        }
    };
    Ok(Sniffed { encoding, bom, delimiter, header_line })
}

/// `(line, fields, filled fields)` of the sample's first records read with `delimiter`, records with no filled
/// field left out.
fn sample_records(sample: &[u8], delimiter: u8) -> Vec<(u64, usize, usize)> {
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(::csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .from_reader(sample.chain(&b"\n"[..]));
    let mut records = Vec::with_capacity(SAMPLE_RECORDS);
    let mut record = ByteRecord::new();
    while records.len() < SAMPLE_RECORDS && matches!(reader.read_byte_record(&mut record), Ok(true)) {
        let cells = fields(&record);
        let filled = cells.iter().filter(|cell| !cell.trim_ascii().is_empty()).count();
        if filled > 0 {
            records.push((start_line(&reader, &record), cells.len(), filled));
        }
    }
    records
}

/// Which of `records` (as [`sample_records`] gives them) is the header: the first that fills at least two thirds as
/// many cells as the fullest of those as wide as most records are. A title or a note above the header fills one or
/// two; rows with stray delimiters (wider than the others) do not make the header look short.
pub(super) fn header_index(records: &[(u64, usize, usize)]) -> Option<usize> {
    let mut widths: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for record in records {
        *widths.entry(record.1).or_default() += 1;
    }
    // The most common width; on a tie the wider (a title line is narrower than the header).
    let common = widths.into_iter().max_by_key(|(width, count)| (*count, *width))?.0;
    let fullest = records.iter().filter(|record| record.1 == common).map(|record| record.2).max()?;
    let needed = (fullest * 2).div_ceil(3);
    records.iter().position(|record| record.2 >= needed)
}

/// What a file that is not text is, by its first bytes (a known signature, or NUL bytes throughout); `None` for
/// text.
fn not_text(start: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 11] = [
        (b"\xFF\xFE", "UTF-16 text (save it as UTF-8 or Windows-1252)"),
        (b"\xFE\xFF", "UTF-16 text (save it as UTF-8 or Windows-1252)"),
        (b"%PDF-", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (an XLSX or ODS workbook must be named .xlsx or .ods)"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an old Office document (an XLS workbook must be named .xls)"),
        (b"\x89PNG\r\n\x1A\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "a gzip archive (decompress it first)"),
        (b"RIFF", "a RIFF file (an image or a sound)"),
        (b"{\\rtf", "an RTF document"),
    ];
    if let Some((_, kind)) = SIGNATURES.iter().find(|(magic, _)| start.starts_with(magic)) {
        return Some(kind);
    }
    // NUL bytes throughout: some binary format. A stray NUL in a cell of a text file is that row's problem.
    let sample = &start[..start.len().min(4096)];
    let nuls = sample.iter().filter(|b| **b == 0).count();
    (nuls >= 4 && nuls * 100 >= sample.len()).then_some("a binary file")
}

/// Valid UTF-8, allowing the sample to end inside a character when it is not the whole file.
fn valid_utf8_prefix(bytes: &[u8], whole: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !whole && e.error_len().is_none(),
    }
}

fn sniff_delimiter(sample: &[u8]) -> Option<char> {
    let mut best: Option<(usize, usize, u8)> = None; // (records agreeing, fields, delimiter)
    for delimiter in DELIMITERS {
        let records = sample_records(sample, delimiter);
        let Some(header) = header_index(&records) else { continue };
        let first = records[header].1;
        if first < 2 {
            continue;
        }
        // The header's field count is the one the rows should share (the sample's last record may be cut short).
        let agreeing = records[header..].iter().filter(|record| record.1 == first).count();
        let candidate = (agreeing, first, delimiter);
        if best.is_none_or(|(a, f, _)| (agreeing, first) > (a, f)) {
            best = Some(candidate);
        }
    }
    best.map(|(_, _, delimiter)| delimiter as char)
}

/// The stream read: the sniffed sample, the rest of the input, and a line break (so every record ends with one).
type Stream<R> = std::io::Chain<std::io::Chain<Cursor<Vec<u8>>, R>, &'static [u8]>;
type Records<R> = ::csv::Reader<LineLimit<Stream<R>>>;

/// The line a record just read starts on: the reader's line after it (its closing line break counted: the stream
/// ends with one), less that break and those inside its quoted fields. The csv crate dates a record from where its
/// reading began, before the blank lines it skipped, so a row after a blank line would name the blank line.
fn start_line<R: Read>(reader: &::csv::Reader<R>, record: &ByteRecord) -> u64 {
    let inside = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
    reader.position().line().saturating_sub(1 + inside).max(1)
}

/// Sniffs the start of `input` and sets a csv reader on the whole stream (sample included).
fn reader<R: Read>(file: &str, mut input: R, options: &CsvOptions) -> Result<(Sniffed, Records<R>), ParseError> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    (&mut input).take(SAMPLE_BYTES as u64).read_to_end(&mut sample).map_err(|e| ParseError {
        file: file.to_string(),
        line: None,
        column: None,
        reason: format!("cannot read: {e}"),
    })?;
    let sniffed = sniff(file, &sample, options)?;
    if sniffed.bom {
        sample.drain(..3);
    }
    // Records end at `\n` only, the `\r` of CRLF files being cut from the last field: with the default
    // (`\r`, `\n` or both) the csv crate numbers the lines of CRLF files one short.
    let reader = ReaderBuilder::new()
        .delimiter(sniffed.delimiter as u8)
        .terminator(::csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .from_reader(LineLimit {
            inner: Cursor::new(sample).chain(input).chain(&b"\n"[..]),
            max: options.max_line_bytes.max(1),
            line: 1,
            length: 0,
        });
    Ok((sniffed, reader))
}

/// Reads a whole file once without decoding it, before any of it is imported: how many records follow the header,
/// or what makes the file unreadable (a line over the limit, a quote never closed), with its line and column.
///
/// ```
/// use productsmanager_core::imports::parse::{CsvOptions, scan};
///
/// assert_eq!(scan("ok.csv", "sku;title\nA1;Pot\n\nA2;Pan\n".as_bytes(), &CsvOptions::default()), Ok(2));
/// let broken = scan("broken.csv", "sku;title\nA1;\"Pot\nA2;Pan\nA3;Lid\n".as_bytes(), &CsvOptions::default());
/// assert_eq!(broken.unwrap_err().to_string(), "broken.csv, line 2, column 2: a quote opened here is never closed");
/// ```
pub fn scan<R: Read>(file: &str, input: R, options: &CsvOptions) -> Result<u64, ParseError> {
    let (sniffed, mut reader) = reader(file, input, options)?;
    let failure = |line: Option<u64>, column: Option<usize>, reason: String| ParseError {
        file: file.to_string(),
        line,
        column,
        reason,
    };
    let mut record = ByteRecord::new();
    let mut columns = None;
    let mut records = 0_u64;
    // (line, fields, first field holding a newline, whether that field ends with one)
    let mut last: Option<(u64, usize, Option<usize>, bool)> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => continue,
            Ok(true) => {
                let line = start_line(&reader, &record);
                if columns.is_none() && line < sniffed.header_line {
                    // Above the header: a title, notes.
                    continue;
                }
                let multiline = record.iter().position(|field| field.contains(&b'\n'));
                let open_ended = multiline.is_some_and(|i| record[i].ends_with(b"\n"));
                last = Some((line, record.len(), multiline, open_ended));
                match columns {
                    None => columns = Some(record.len()),
                    Some(_) => records += 1,
                }
            }
            Err(e) if matches!(e.kind(), ::csv::ErrorKind::Io(_)) => return Err(failure(None, None, e.to_string())),
            Err(e) => return Err(failure(e.position().map(|p| p.line()), None, e.to_string())),
        }
    }
    if columns.is_none() {
        return Err(failure(None, None, no_header(sniffed.header_line)));
    }
    // A quote never closed swallows the rest of the file into one field of the last record: that field then
    // runs to the end of the file (ending with its last line break), or the record has fewer fields than the
    // header. A closed quoted field with line breaks in a complete last row shows neither.
    if let (Some(columns), Some((line, fields, Some(field), open_ended))) = (columns, last)
        && (fields < columns || open_ended)
    {
        // Such a record has no closing line break of its own (the stream's last one is inside the field), which
        // its line as `start_line` reckons it assumed.
        let line = if open_ended { line + 1 } else { line };
        return Err(failure(Some(line), Some(field + 1), "a quote opened here is never closed".into()));
    }
    Ok(records)
}

/// One data row: its line and its fields, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based physical line where the record starts.
    pub line: u64,
    pub fields: Vec<String>,
}

/// The rows of a delimited text file after its header, one at a time.
///
/// ```
/// use productsmanager_core::imports::parse::{CsvOptions, CsvRows};
///
/// let file = "sku;price\nA1;9,90\n".as_bytes();
/// let mut rows = CsvRows::open("prices.csv", file, &CsvOptions::default()).unwrap();
/// assert_eq!(rows.headers(), ["sku", "price"]);
/// assert_eq!(rows.next().unwrap().unwrap().fields, ["A1", "9,90"]);
/// assert!(rows.next().is_none());
/// ```
pub struct CsvRows<R: Read> {
    file: String,
    sniffed: Sniffed,
    headers: Vec<String>,
    reader: Records<R>,
    record: ByteRecord,
    /// The reader failed for good.
    done: bool,
}

impl<R: Read> std::fmt::Debug for CsvRows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRows").field("file", &self.file).field("sniffed", &self.sniffed).finish()
    }
}

impl<R: Read> CsvRows<R> {
    /// Sniffs the file and reads its header. Refuses an empty file, a header with an empty or repeated name.
    pub fn open(file: &str, input: R, options: &CsvOptions) -> Result<Self, ParseError> {
        let failure = |line: Option<u64>, column: Option<usize>, reason: String| ParseError {
            file: file.to_string(),
            line,
            column,
            reason,
        };
        let (sniffed, mut reader) = reader(file, input, options)?;
        let mut header = ByteRecord::new();
        // The lines above the header (a title, notes) are passed over.
        let header_line = loop {
            match reader.read_byte_record(&mut header) {
                Ok(true) => {
                    let line = start_line(&reader, &header);
                    if line >= sniffed.header_line && !is_blank(&header) {
                        break line;
                    }
                }
                Ok(false) => return Err(failure(None, None, no_header(sniffed.header_line))),
                Err(e) => return Err(failure(e.position().map(|p| p.line()), None, e.to_string())),
            }
        };
        let mut rows = CsvRows {
            file: file.to_string(),
            sniffed,
            headers: Vec::new(),
            reader,
            record: ByteRecord::new(),
            done: false,
        };
        let headers = rows.decode(&header, header_line)?;
        rows.headers = super::check_headers(file, header_line, headers)?;
        Ok(rows)
    }

    /// The column names, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// What sniffing found (or the options imposed).
    pub fn sniffed(&self) -> Sniffed {
        self.sniffed
    }

    fn decode(&self, record: &ByteRecord, line: u64) -> Result<Vec<String>, ParseError> {
        let fields = fields(record);
        let encoding: &'static Encoding = match self.sniffed.encoding {
            TextEncoding::Utf8 => {
                return fields
                    .iter()
                    .enumerate()
                    .map(|(index, field)| {
                        std::str::from_utf8(field).map(str::to_string).map_err(|e| ParseError {
                            file: self.file.clone(),
                            line: Some(line),
                            column: Some(index + 1),
                            reason: format!("not valid UTF-8 (byte {} of the field)", e.valid_up_to() + 1),
                        })
                    })
                    .collect();
            }
            TextEncoding::Windows1252 => WINDOWS_1252,
            TextEncoding::Iso8859_15 => ISO_8859_15,
        };
        Ok(fields.iter().map(|field| encoding.decode_without_bom_handling(field).0.into_owned()).collect())
    }
}

/// Why a file has no header: it is empty, or ends before the header line it was given.
fn no_header(header_line: u64) -> String {
    match header_line {
        1 => "the file is empty".into(),
        line => format!("the file ends before line {line}, its header line"),
    }
}

/// A record of a blank line (`\r` alone for a CRLF one).
fn is_blank(record: &ByteRecord) -> bool {
    record.len() == 1 && matches!(&record[0], b"" | b"\r")
}

/// The fields of a record, the `\r` of a CRLF line ending cut from the last one.
fn fields(record: &ByteRecord) -> Vec<&[u8]> {
    let mut fields: Vec<&[u8]> = record.iter().collect();
    if let Some(last) = fields.last_mut() {
        *last = last.strip_suffix(b"\r").unwrap_or(last);
    }
    fields
}

impl<R: Read> Iterator for CsvRows<R> {
    /// A row, or why this row is unusable (the next ones can still be read).
    type Item = Result<Row, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut record = std::mem::take(&mut self.record);
        let outcome = loop {
            match self.reader.read_byte_record(&mut record) {
                Ok(false) => break None,
                // A blank line between rows is not a row.
                Ok(true) if is_blank(&record) => continue,
                Ok(true) => {
                    let line = start_line(&self.reader, &record);
                    // PrestaShop (and spreadsheets) end rows with a delimiter the header lacks: empty extra
                    // fields are dropped; extra fields with content are an error.
                    if record.len() > self.headers.len()
                        && fields(&record)[self.headers.len()..].iter().all(|f| f.is_empty())
                    {
                        record.truncate(self.headers.len());
                    }
                    let row = if record.len() != self.headers.len() {
                        Err(ParseError {
                            file: self.file.clone(),
                            line: Some(line),
                            column: Some(record.len().min(self.headers.len()) + 1),
                            reason: format!("{} fields where the header has {}", record.len(), self.headers.len()),
                        })
                    } else {
                        self.decode(&record, line).map(|fields| Row { line, fields })
                    };
                    break Some(row);
                }
                // An I/O error (a line over the limit) ends the file: nothing after it can be trusted.
                Err(e) if matches!(e.kind(), ::csv::ErrorKind::Io(_)) => {
                    self.done = true;
                    break Some(Err(ParseError {
                        file: self.file.clone(),
                        line: None,
                        column: None,
                        reason: e.to_string(),
                    }));
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line());
                    break Some(Err(ParseError { file: self.file.clone(), line, column: None, reason: e.to_string() }));
                }
            }
        };
        self.record = record;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open<'a>(bytes: &'a [u8], options: &CsvOptions) -> Result<CsvRows<&'a [u8]>, ParseError> {
        CsvRows::open("supplier.csv", bytes, options)
    }

    fn rows(bytes: &[u8]) -> Vec<Result<Row, ParseError>> {
        open(bytes, &CsvOptions::default()).unwrap().collect()
    }

    #[test]
    fn semicolons_bom_crlf_and_quoted_newlines() {
        let file = "\u{feff}sku;title;price\r\nA1;\"Chair; oak\";9,90\r\nA2;\"Two\r\nlines\";19,90\r\nA3;Lamp;5\r\n";
        let mut reader = open(file.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(
            reader.sniffed(),
            Sniffed { encoding: TextEncoding::Utf8, bom: true, delimiter: ';', header_line: 1 }
        );
        assert_eq!(reader.headers(), ["sku", "title", "price"]);
        let first = reader.next().unwrap().unwrap();
        assert_eq!((first.line, first.fields), (2, vec!["A1".to_string(), "Chair; oak".into(), "9,90".into()]));
        assert_eq!(reader.next().unwrap().unwrap().fields[1], "Two\r\nlines");
        assert_eq!(reader.next().unwrap().unwrap().line, 5, "the quoted newline counts as a line");
        assert!(reader.next().is_none());
    }

    #[test]
    fn windows_1252_and_iso_8859_15() {
        let file = b"name;price\nCaf\xe9 cr\xe8me;10\x80\n";
        let mut reader = open(file, &CsvOptions::default()).unwrap();
        assert_eq!(reader.sniffed().encoding, TextEncoding::Windows1252);
        assert_eq!(reader.next().unwrap().unwrap().fields, ["Café crème", "10€"]);
        let latin9 = CsvOptions { encoding: Some(TextEncoding::Iso8859_15), ..CsvOptions::default() };
        let mut reader = open(b"name;price\nEuro;10\xa4\n", &latin9).unwrap();
        assert_eq!(reader.next().unwrap().unwrap().fields, ["Euro", "10€"]);
    }

    #[test]
    fn delimiters_are_sniffed() {
        for (file, delimiter) in [
            ("a,b,c\n1,2,3\n", ','),
            ("a\tb\n1\t2,5\n", '\t'),
            ("a|b|c\n1|2;3|4\n", '|'),
            ("sku;name;price\nA;Chair, oak;1,5\nB;Table;2,5\n", ';'),
            ("code\nRELATED\n", ','),
        ] {
            assert_eq!(open(file.as_bytes(), &CsvOptions::default()).unwrap().sniffed().delimiter, delimiter, "{file}");
        }
        let unsupported = CsvOptions { delimiter: Some('#'), ..CsvOptions::default() };
        assert!(open(b"a#b\n", &unsupported).unwrap_err().reason.contains("not a supported delimiter"));
    }

    #[test]
    fn bad_files_and_rows_are_named() {
        let empty = open(b"", &CsvOptions::default()).unwrap_err();
        assert_eq!((empty.to_string().as_str(), empty.line), ("supplier.csv: the file is empty", None));
        assert!(open(b"\n\n  \n", &CsvOptions::default()).is_err());
        assert!(rows(b"sku;price\n").is_empty(), "a header alone is a file with no rows");

        let repeated = open(b"sku;price;sku\nA;1;A\n", &CsvOptions::default()).unwrap_err();
        assert_eq!((repeated.line, repeated.column), (Some(1), Some(3)));
        assert!(repeated.reason.contains("repeats column 1"), "{repeated}");
        let blank = open(b"sku;;price\nA;x;1\n", &CsvOptions::default()).unwrap_err();
        assert_eq!(blank.column, Some(2));
        // A trailing delimiter after the last name (and after each row's last value) is no column.
        let trailing = rows(b"sku;price;\nA;1;\nB;2\n");
        assert_eq!(
            trailing.iter().map(|r| r.as_ref().unwrap().fields.clone()).collect::<Vec<_>>(),
            [["A", "1"], ["B", "2"]]
        );

        // A ragged row is an error of its own; the rows after it still come. An empty field after the last column
        // (a trailing delimiter) is not ragged.
        let read = rows(b"sku;price\nA;1;\r\nB;2;extra\n\nC;3\n");
        assert_eq!(read[0].as_ref().unwrap().fields, ["A", "1"]);
        assert_eq!(read.len(), 3);
        assert_eq!(read[2].as_ref().unwrap().line, 5, "a row after a blank line names its own line");
        let ragged = read[1].as_ref().unwrap_err();
        assert_eq!(ragged.to_string(), "supplier.csv, line 3, column 3: 3 fields where the header has 2");
        assert_eq!(read[2].as_ref().unwrap().fields, ["C", "3"]);

        let utf8 = CsvOptions { encoding: Some(TextEncoding::Utf8), ..CsvOptions::default() };
        let invalid: Vec<_> = open(b"sku;name\nA;caf\xe9\n", &utf8).unwrap().collect();
        let error = invalid[0].as_ref().unwrap_err();
        assert_eq!((error.line, error.column), (Some(2), Some(2)));
        assert!(error.reason.contains("not valid UTF-8"), "{error}");
    }

    #[test]
    fn the_header_is_found_below_a_title() {
        // A French price list as spreadsheets save it: a title line (its own cells empty), a blank line, the header.
        let file = "Tarifs ACME 2026;;;\n\nRéf;EAN;Désignation;Prix\nA1;4006381333931;Pot;1 234,56 €\nA2;;Pan;9,90\n";
        let mut reader = open(file.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!((reader.sniffed().delimiter, reader.sniffed().header_line), (';', 3));
        assert_eq!(reader.headers(), ["Réf", "EAN", "Désignation", "Prix"]);
        let first = reader.next().unwrap().unwrap();
        assert_eq!((first.line, first.fields[3].as_str()), (4, "1 234,56 €"), "lines keep their numbers");
        assert_eq!(reader.count(), 1);
        assert_eq!(scan("prices.csv", file.as_bytes(), &CsvOptions::default()), Ok(2), "the title is no row");

        // A title with no delimiter at all does not make the file one column wide.
        let bare = "Price list, valid from 1 January\nsku;title;price\nA;Chair, oak;1,5\n";
        let reader = open(bare.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!((reader.sniffed().delimiter, reader.sniffed().header_line), (';', 2));
        assert_eq!(reader.headers(), ["sku", "title", "price"]);

        // Data rows with stray delimiters (cells more) do not take the header's place.
        let stray = rows(b"sku,title,price\nT8,iPod, 8GB,200.00\nT9,iPod,300.00\nT7,iPod, 4GB, blue,100.00\n");
        assert_eq!(stray.len(), 3);
        assert!(stray[0].as_ref().unwrap_err().reason.contains("4 fields where the header has 3"));
        assert!(stray[2].as_ref().unwrap_err().reason.contains("5 fields where the header has 3"));

        // Given: the lines above it are not read, whatever they hold.
        let given = CsvOptions { header_line: Some(2), ..CsvOptions::default() };
        let reader = open(b"a;b;c\nsku;price\nA;1\n", &given).unwrap();
        assert_eq!(reader.headers(), ["sku", "price"]);
        let past = open(b"sku;price\nA;1\n", &CsvOptions { header_line: Some(9), ..CsvOptions::default() });
        assert_eq!(past.unwrap_err().reason, "the file ends before line 9, its header line");
        let zero = open(b"sku;price\n", &CsvOptions { header_line: Some(0), ..CsvOptions::default() });
        assert!(zero.unwrap_err().reason.contains("counts from 1"));
    }

    #[test]
    fn a_huge_line_is_refused_without_being_buffered() {
        // 100 MB on one line, produced on the fly.
        let huge = std::io::repeat(b'x').take(100 << 20);
        let input = std::io::Cursor::new(b"sku;note\nA;".to_vec()).chain(huge);
        let mut rows = CsvRows::open("huge.csv", input, &CsvOptions::default()).unwrap();
        let error = rows.next().unwrap().unwrap_err();
        assert!(error.to_string().contains("line 2 is longer than 4194304 bytes"), "{error}");
        assert!(rows.next().is_none(), "reading stops there");
        let one_line = std::io::repeat(b'y').take(5 << 20);
        assert!(CsvRows::open("header.csv", one_line, &CsvOptions::default()).is_err());
    }

    #[test]
    fn formulas_stay_text() {
        let read = rows(b"sku;note\nA;=1+1\nB;@SUM(A1)\n");
        assert_eq!(read[0].as_ref().unwrap().fields[1], "=1+1");
        assert_eq!(read[1].as_ref().unwrap().fields[1], "@SUM(A1)");
    }

    #[test]
    fn memory_does_not_hold_the_file() {
        /// 200,000 rows produced on the fly: the reader sees them through a `Read`, never as one buffer.
        struct Generated {
            row: usize,
            pending: Vec<u8>,
        }
        impl Read for Generated {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.pending.is_empty() {
                    if self.row > 200_000 {
                        return Ok(0);
                    }
                    self.pending = if self.row == 0 {
                        b"sku;gtin;price\n".to_vec()
                    } else {
                        format!("SKU{};4006381333931;{},99\n", self.row, self.row % 100).into_bytes()
                    };
                    self.row += 1;
                }
                let n = buf.len().min(self.pending.len());
                buf[..n].copy_from_slice(&self.pending[..n]);
                self.pending.drain(..n);
                Ok(n)
            }
        }
        let reader = CsvRows::open("generated.csv", Generated { row: 0, pending: Vec::new() }, &CsvOptions::default());
        let mut count = 0;
        for row in reader.unwrap() {
            assert_eq!(row.unwrap().fields.len(), 3);
            count += 1;
        }
        assert_eq!(count, 200_000);
    }
}
