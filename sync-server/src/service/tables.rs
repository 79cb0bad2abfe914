//! Tables for download: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read
//! Chinese right) and XLSX (rust_xlsxwriter). Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`) are prefixed with `'` in CSV, so an enterprise name
//! cannot become a formula; XLSX cells are written as strings and are never formulas.

fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `header` and `rows` as a CSV file.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(header.iter().map(|h| csv_cell(h)).collect()));
    for r in rows {
        out.push_str(&line(r.iter().map(|c| csv_cell(c)).collect()));
    }
    out.into_bytes()
}

/// `header` (bold, frozen) and `rows` as an XLSX workbook of one sheet named `sheet`.
pub fn xlsx(
    sheet: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let out = String::from_utf8(csv(
            &["企业", "说明"],
            &[vec!["=HYPERLINK(\"x\")".into(), "a,b\n\"c\"".into()]],
        ))
        .unwrap();
        assert_eq!(
            out,
            "\u{feff}企业,说明\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b\n\"\"c\"\"\"\r\n"
        );
    }
}
