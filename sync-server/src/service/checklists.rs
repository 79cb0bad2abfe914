//! Checklist templates as XLSX files a supervisor edits in WPS or Excel: writing a template
//! into a workbook and reading an uploaded workbook back. The layout and every rule about
//! the rows are app-core's (`app_core::checklist_sheet`); here are only the file format's
//! two directions: rust_xlsxwriter writes (already the server's XLSX writer for its tables:
//! maintained, pure Rust, no C library, writes shared strings and column widths that WPS and
//! Excel open without repair), calamine reads (as for the enterprise import).

use app_core::checklist::ChecklistTemplate;
use app_core::checklist_sheet::{self, HEADER_ROW, RowProblem};

/// The name of the one sheet in the workbook.
pub const SHEET: &str = "检查表";

/// The template as an XLSX workbook: one sheet, the template's fields on top, the header row
/// bold and frozen, every cell a string (never a formula).
pub fn write_xlsx(template: &ChecklistTemplate) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let rows = checklist_sheet::to_rows(template);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ws = book.add_worksheet();
    ws.set_name(SHEET)?;
    let widths: [f64; 12] = [
        18.0, 14.0, 6.0, 12.0, 50.0, 14.0, 40.0, 40.0, 8.0, 40.0, 14.0, 20.0,
    ];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if r as usize == HEADER_ROW - 1 || (r as usize) < HEADER_ROW - 2 && c == 0 {
                ws.write_string_with_format(r, c, cell, &bold)?;
            } else {
                ws.write_string_with_format(r, c, cell, &wrap)?;
            }
        }
    }
    ws.set_freeze_panes(HEADER_ROW as u32, 0)?;
    book.save_to_buffer()
}

/// Why an uploaded file could not be taken.
#[derive(Debug)]
pub enum ReadError {
    /// Not an XLSX workbook calamine can open (or no sheet in it).
    NotAWorkbook(String),
    /// The rows, with every problem and its row number.
    Rows(Vec<RowProblem>),
}

/// The rows of the first sheet of an XLSX file, as text, row 1 first (empty leading rows kept
/// so that row numbers are the spreadsheet's).
pub fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| ReadError::NotAWorkbook(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| ReadError::NotAWorkbook("no sheet".into()))?
        .map_err(|e| ReadError::NotAWorkbook(e.to_string()))?;
    let (first_row, first_col) = range
        .start()
        .map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let text = |cell: &Data| -> String {
        match cell {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            other => other.to_string(),
        }
    };
    let mut rows = vec![Vec::new(); first_row];
    for cells in range.rows() {
        let mut row = vec![String::new(); first_col];
        row.extend(cells.iter().map(text));
        while row.last().is_some_and(|c| c.is_empty()) {
            row.pop();
        }
        rows.push(row);
    }
    Ok(rows)
}

/// An uploaded workbook as template `id` at `version`, or every problem found.
pub fn read_xlsx(bytes: &[u8], id: &str, version: u32) -> Result<ChecklistTemplate, ReadError> {
    let rows = read_rows(bytes)?;
    checklist_sheet::from_rows(&rows, id, version).map_err(ReadError::Rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// A template with every field, as the shipped ones will have them.
    fn sample() -> ChecklistTemplate {
        let text =
            std::fs::read_to_string(root().join("sync-server/tests/golden/checklist_sample.toml"))
                .unwrap();
        ChecklistTemplate::parse_toml(&text).unwrap()
    }

    #[test]
    fn template_to_xlsx_and_back_is_the_same_template() {
        let t = sample();
        let bytes = write_xlsx(&t).unwrap();
        let back = read_xlsx(&bytes, &t.id, t.version).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(back, t);
    }

    /// The sheet's content, pinned: rows as tab-separated lines. To accept a deliberate
    /// change of the layout run with `UPDATE_GOLDEN=1`.
    #[test]
    fn the_sheet_content_is_pinned() {
        let bytes = write_xlsx(&sample()).unwrap();
        let rows = read_rows(&bytes).unwrap();
        let got: String = rows.iter().map(|r| r.join("\t") + "\n").collect();
        let path = root().join("sync-server/tests/golden/checklist_sample.tsv");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(got, want, "run with UPDATE_GOLDEN=1 to accept");
    }

    #[test]
    fn a_changed_wording_comes_back_as_the_next_version() {
        let t = sample();
        let bytes = write_xlsx(&t).unwrap();
        let mut rows = read_rows(&bytes).unwrap();
        rows[HEADER_ROW][4] = "是否建立并落实全员安全生产责任制".into();
        let back = checklist_sheet::from_rows(&rows, &t.id, t.version + 1).unwrap();
        assert_eq!(back.version, t.version + 1);
        assert_eq!(
            back.categories[0].items[0].text,
            "是否建立并落实全员安全生产责任制"
        );
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        assert!(matches!(
            read_xlsx(b"not a zip", "demo", 1),
            Err(ReadError::NotAWorkbook(_))
        ));
    }
}
