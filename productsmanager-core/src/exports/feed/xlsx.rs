//! Our columns as an XLSX workbook, written in rust_xlsxwriter's constant-memory mode (each row goes to a
//! temporary file as it is written), a new sheet every 1,048,575 rows (Excel's limit, less the header).

use std::io::Write;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::csv::{Cell, native_header, native_row};
use super::{FeedColumns, FeedItem, FeedWriter, neutralised};

/// Rows of a sheet, header included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;

pub(crate) struct NativeXlsx {
    workbook: Workbook,
    out: Box<dyn Write + Send>,
    columns: FeedColumns,
    header: Vec<String>,
    sheet: usize,
    row: u32,
    bold: Format,
}

fn io_error(error: XlsxError) -> std::io::Error {
    match error {
        XlsxError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

impl NativeXlsx {
    pub fn new(out: Box<dyn Write + Send>, columns: &FeedColumns) -> std::io::Result<Self> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(std::env::temp_dir()).map_err(io_error)?;
        let mut xlsx = NativeXlsx {
            workbook,
            out,
            columns: columns.clone(),
            header: native_header(columns),
            sheet: 0,
            row: 0,
            bold: Format::new().set_bold(),
        };
        xlsx.add_sheet()?;
        Ok(xlsx)
    }

    fn add_sheet(&mut self) -> std::io::Result<()> {
        let sheet = self.workbook.add_worksheet_with_constant_memory().map_err(io_error)?;
        self.sheet += 1;
        let name = if self.sheet == 1 { "Products".to_string() } else { format!("Products {}", self.sheet) };
        sheet.set_name(&name).map_err(io_error)?;
        for (column, title) in self.header.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, title, &self.bold).map_err(io_error)?;
        }
        self.row = 1;
        Ok(())
    }
}

impl FeedWriter for NativeXlsx {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        if self.row >= SHEET_ROWS {
            self.add_sheet()?;
        }
        let cells = native_row(item, &self.columns);
        let row = self.row;
        let sheet = self.workbook.worksheet_from_index(self.sheet - 1).map_err(io_error)?;
        for (column, cell) in cells.iter().enumerate() {
            let column = column as u16;
            match cell {
                // Text stays text, GTINs included (a number would lose leading zeros and print in exponent form).
                Cell::Text(text) => {
                    sheet.write_string(row, column, neutralised(text)).map_err(io_error)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(row, column, *n).map_err(io_error)?;
                }
                Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(1)
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let NativeXlsx { mut workbook, mut out, .. } = *self;
        workbook.save_to_writer(&mut out).map_err(io_error)?;
        out.flush()
    }
}
