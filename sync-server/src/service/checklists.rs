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

/// Why an upload was not taken.
#[derive(Debug)]
pub enum UploadError {
    /// Only a supervisor (审核人) publishes a template for their unit.
    NotAllowed,
    /// No template with this id exists to make a new version of.
    UnknownTemplate(String),
    /// The file, or its rows (every bad row with its number).
    File(ReadError),
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for UploadError {
    fn from(e: crate::store::StoreError) -> Self {
        UploadError::Store(e)
    }
}

/// A supervisor's upload of template `id`: checked row by row, stored as the next version
/// for the supervisor's unit (published to that unit's tablets at their next sync, as the
/// reference version moves), audit-logged. Nothing is stored unless every row is good. Call
/// inside a write transaction and commit it on `Ok`.
pub fn upload<T>(
    tx: &T,
    reference: &crate::reference::ReferenceData,
    user: &app_core::user::User,
    id: &str,
    bytes: &[u8],
    now_ms: i64,
    client: &str,
) -> Result<ChecklistTemplate, UploadError>
where
    T: crate::store::ReferenceStore + crate::store::AuditStore,
{
    if !app_core::access::can_publish_checklist(user, &user.unit, &reference.units) {
        return Err(UploadError::NotAllowed);
    }
    if reference.templates.latest(id).is_none() {
        return Err(UploadError::UnknownTemplate(id.to_owned()));
    }
    // One above every version this snapshot knows and every one stored: another node may
    // have stored one that this node's snapshot (reloaded about once a second) lacks yet.
    // The caller's write transaction keeps the stored versions still until it commits.
    let stored = tx
        .stored_reference()?
        .templates
        .iter()
        .filter(|t| t.template.id == id)
        .map(|t| t.template.version + 1)
        .max()
        .unwrap_or(0);
    let version = reference.next_template_version(id).max(stored);
    let template = read_xlsx(bytes, id, version).map_err(UploadError::File)?;
    tx.insert_template(&crate::store::reference::UnitTemplate {
        unit: user.unit.clone(),
        template: template.clone(),
        uploaded_by: user.id.as_str().to_owned(),
        uploaded_at: now_ms,
    })?;
    tx.bump_reference_version()?;
    tx.append_audit(&crate::store::audit::NewEntry {
        at: now_ms.div_euclid(1000),
        actor: user.id.as_str().to_owned(),
        unit: user.unit.as_str().to_owned(),
        action: "checklist_upload".into(),
        target: template.reference().to_string(),
        client: client.to_owned(),
    })?;
    Ok(template)
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
    fn a_supervisors_upload_is_the_next_version_for_their_unit_only() {
        use crate::reference::ReferenceData;
        use crate::store::engine::Engine;
        let fixtures = root().join("fixtures");
        let mut conn = rusqlite::Connection::open_memory().unwrap();
        let (data, _) = crate::reference::open_from_database(
            &mut conn,
            ReferenceData::load(&fixtures).unwrap(),
        )
        .unwrap();
        let supervisor = data
            .users
            .iter()
            .find(|u| matches!(u.role, app_core::user::Role::Supervisor))
            .unwrap()
            .clone();
        let old = data.templates.latest("gongmao").unwrap().clone();
        // the shipped template has no 检查方法 yet: an upload must add them
        let mut rows = checklist_sheet::to_rows(&old);
        for row in rows.iter_mut().skip(HEADER_ROW) {
            row[5] = "查资料".into();
        }
        rows[HEADER_ROW][4] = "新的措辞".into();
        let bytes = {
            let mut with_methods =
                checklist_sheet::from_rows(&rows, "gongmao", old.version).unwrap();
            with_methods.version = old.version;
            write_xlsx(&with_methods).unwrap()
        };
        let inspector = data
            .users
            .iter()
            .find(|u| u.is_inspector())
            .unwrap()
            .clone();
        assert!(matches!(
            upload(&conn, &data, &inspector, "gongmao", &bytes, 0, "test"),
            Err(UploadError::NotAllowed)
        ));
        let new = upload(
            &conn,
            &data,
            &supervisor,
            "gongmao",
            &bytes,
            1_800_000_000_000,
            "test",
        )
        .unwrap();
        assert_eq!(new.version, old.version + 1);
        // reloaded: both versions there; the supervisor's subtree sees the new one
        let stored = crate::store::ReferenceStore::stored_reference(&conn).unwrap();
        let reloaded =
            ReferenceData::from_stored(stored, data.shipped_templates.clone(), data.plans.clone())
                .unwrap();
        assert!(reloaded.templates.get(&old.reference()).is_some());
        assert_eq!(
            reloaded.templates.latest("gongmao").unwrap().categories[0].items[0].text,
            "新的措辞"
        );
        let sees_new = |u: &app_core::user::User| {
            reloaded
                .bundle_for(u)
                .templates
                .iter()
                .any(|t| t.reference() == new.reference())
        };
        assert!(sees_new(&supervisor));
        for u in &reloaded.users {
            assert_eq!(
                sees_new(u),
                reloaded.units.is_in_subtree(&u.unit, &supervisor.unit),
                "{}",
                u.id
            );
        }
        let audit = crate::store::AuditStore::all_audit(&conn).unwrap();
        assert!(audit.iter().any(|e| e.entry.action == "checklist_upload"
            && e.entry.target == new.reference().to_string()));
        // a bad upload stores nothing
        let bad_bytes = {
            let mut t = reloaded.templates.latest("gongmao").unwrap().clone();
            t.categories[0].items[0].text = "x".into();
            let mut r = checklist_sheet::to_rows(&t);
            r[HEADER_ROW][6] = String::new();
            r[HEADER_ROW + 1][3] = r[HEADER_ROW + 2][3].clone();
            // write the raw rows as a sheet
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            for (i, row) in r.iter().enumerate() {
                for (j, c) in row.iter().enumerate() {
                    ws.write_string(i as u32, j as u16, c).unwrap();
                }
            }
            book.save_to_buffer().unwrap()
        };
        match upload(
            &conn,
            &reloaded,
            &supervisor,
            "gongmao",
            &bad_bytes,
            0,
            "test",
        ) {
            Err(UploadError::File(ReadError::Rows(problems))) => {
                let rows: Vec<usize> = problems.iter().map(|p| p.row).collect();
                // the 违法依据 missing on the first item, the second copy of a code
                assert_eq!(rows, [HEADER_ROW + 1, HEADER_ROW + 3], "{problems:?}");
            }
            other => panic!("{other:?}"),
        }
        let stored = crate::store::ReferenceStore::stored_reference(&conn).unwrap();
        assert_eq!(stored.templates.len(), 1);
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        assert!(matches!(
            read_xlsx(b"not a zip", "demo", 1),
            Err(ReadError::NotAWorkbook(_))
        ));
    }
}
