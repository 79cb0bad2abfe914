//! The documents the next signing signs, as they will read: app-core's content model
//! (`app_core::paper`, the one pdf-forms prints), shown full screen before any signature
//! pad opens, with the reading hash a signature records.

use super::App;
use super::records::record_template;
use app_core::geo::Day;
use app_core::ids::InspectionId;
use app_core::inspection::ReadDocument;
use app_core::paper::{Mode, paper, reading_hash};
use tablet_api::{ApiError, ApiResult, DocumentPreview, ErrorCode};

impl App {
    /// Every document the record yields now, as the next signing (today) would sign it.
    pub fn preview(&self, id: &InspectionId) -> ApiResult<Vec<DocumentPreview>> {
        let user = self.user()?;
        let mut store = self.store();
        let record = store.inspection(id)?;
        let template = record_template(&store, &record)?;
        let unit_name = super::records::unit_name(&store, &user)?;
        let renumbers = crate::numbers::documents_to_number(store.document(id)?);
        previews(&record, &template, &unit_name, Self::today(), &renumbers)
    }
}

/// The previews of `record`'s documents on `today`, when the signing numbers `renumbers`.
pub(crate) fn previews(
    record: &app_core::inspection::Inspection,
    template: &app_core::checklist::ChecklistTemplate,
    unit_name: &str,
    today: Day,
    renumbers: &[app_core::docnumber::DocumentKind],
) -> ApiResult<Vec<DocumentPreview>> {
    let failed = |e: app_core::paper::PaperError| {
        ApiError::new(
            ErrorCode::Refused,
            format!("无法生成文书预览：{e}"),
            format!("the document preview cannot be made: {e}"),
        )
    };
    app_core::signing::documents_for(record)
        .into_iter()
        .map(|kind| {
            let p = paper(
                kind,
                record,
                Some(template),
                unit_name,
                Mode::Preview { today, renumbers },
            )
            .map_err(failed)?;
            let hash = reading_hash(kind, record, template).map_err(failed)?;
            Ok(DocumentPreview {
                paper: p,
                read: ReadDocument { kind, hash },
            })
        })
        .collect()
}
