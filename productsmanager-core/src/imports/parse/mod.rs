//! Reading supplier files row by row with flat memory. So far: delimited text ([`CsvRows`]) with the encoding,
//! delimiter and header sniffed; spreadsheets follow.

mod csv;

pub use self::csv::{CsvOptions, CsvRows, Row, Sniffed, TextEncoding, sniff};

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
