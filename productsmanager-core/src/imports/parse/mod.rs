//! Reading supplier files row by row with flat memory: delimited text ([`CsvRows`]) with the encoding, delimiter
//! and header sniffed; spreadsheets ([`SheetRows`]); XML product feeds ([`XmlFeedRows`]).

mod csv;
mod sheet;
mod xml_feed;

pub use self::csv::{CsvOptions, CsvRows, Row, Sniffed, TextEncoding, scan, sniff};
pub use self::sheet::{SheetOptions, SheetRows};
pub use self::xml_feed::XmlFeedRows;
pub(crate) use self::xml_feed::is_xml;

/// Why a file (or one of its rows) cannot be read; names the file, and the line and column when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", position(*line, *column))]
pub struct ParseError {
    pub file: String,
    /// 1-based physical line where the record starts.
    pub line: Option<u64>,
    /// 1-based field number.
    pub column: Option<usize>,
    pub reason: String,
}

fn position(line: Option<u64>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(", line {line}, column {column}"),
        (Some(line), None) => format!(", line {line}"),
        _ => String::new(),
    }
}

/// The header's column names, trimmed; empty names after the last named column (a trailing `;`, a spreadsheet's
/// formatted blank columns) are no columns; another empty or a repeated name is refused, naming its column.
fn check_headers(file: &str, line: u64, names: Vec<String>) -> Result<Vec<String>, ParseError> {
    let mut names: Vec<String> = names.into_iter().map(|n| n.trim().to_string()).collect();
    while names.len() > 1 && names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    for (index, name) in names.iter().enumerate() {
        let failure =
            |reason: String| ParseError { file: file.to_string(), line: Some(line), column: Some(index + 1), reason };
        if name.is_empty() {
            return Err(failure("empty column name in the header".into()));
        }
        if let Some(first) = names[..index].iter().position(|other| other == name) {
            return Err(failure(format!("column name {name:?} repeats column {}", first + 1)));
        }
    }
    Ok(names)
}
