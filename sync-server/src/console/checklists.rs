//! The console's 检查表 pages: the templates and every version of each that the signed-in
//! supervisor's unit uses, a version as an XLSX download, and the upload of an edited sheet
//! (`service::checklists::upload`): every bad row is listed with its row number and nothing
//! is imported until the sheet is clean; a clean upload becomes the next version for the
//! supervisor's unit. Supervisors only (`app_core::access::can_publish_checklist`).

use super::export::{self, XLSX};
use super::layout::page;
use super::{Console, ConsoleError, ConsoleResult};
use crate::service::checklists::{ReadError, UploadError};
use crate::state::AppState;
use crate::store::Transactions;
use app_core::checklist::TemplateRef;
use app_core::messages::Bilingual;
use app_core::messages::checklists as text;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{Markup, html};

/// The largest sheet accepted (a template of a few hundred items is far below).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

fn t2(cx: &Console, pair: (&'static str, &'static str)) -> &'static str {
    cx.t(pair.0, pair.1)
}

fn allowed(state: &AppState, cx: &Console) -> ConsoleResult<()> {
    if app_core::access::can_publish_checklist(&cx.user, &cx.user.unit, &state.reference.units) {
        Ok(())
    } else {
        Err(ConsoleError::NotFound)
    }
}

/// What the page says above the list after an upload.
enum Outcome {
    None,
    Done(TemplateRef),
    Refused(Vec<(usize, String)>),
    NotAWorkbook,
}

fn render(state: &AppState, cx: &Console, outcome: Outcome) -> Html<String> {
    let reference = state.reference.latest();
    let mut ids: Vec<&str> = reference
        .templates
        .templates()
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    ids.dedup();
    let body: Markup = html! {
        p.muted { (t2(cx, text::INTRO)) }
        @match &outcome {
            Outcome::None => {}
            Outcome::Done(r) => {
                p.good #checklist-done role="status" data-version=(r.version) { (t2(cx, text::DONE)) (r) }
            }
            Outcome::NotAWorkbook => {
                p.bad #checklist-refused role="alert" { (t2(cx, text::NOT_A_WORKBOOK)) }
            }
            Outcome::Refused(rows) => {
                p.bad #checklist-refused role="alert" { (t2(cx, text::REFUSED)) }
                table #checklist-problems {
                    tr { th { (t2(cx, text::ROW)) } th { (t2(cx, text::PROBLEM)) } }
                    @for (row, problem) in rows {
                        tr.checklist-problem data-row=(row) { td { (row) } td { (problem) } }
                    }
                }
            }
        }
        @for id in &ids {
            @let versions: Vec<_> = reference.templates_for(&cx.user).filter(|t| t.id == *id).collect();
            @if let Some(latest) = versions.last() {
                section.checklist data-id=(id) {
                    h2 { (latest.name) " (" (id) ")" }
                    table.checklist-versions {
                        tr {
                            th { (t2(cx, text::VERSION)) } th { (t2(cx, text::PUBLISHED)) }
                            th { (t2(cx, text::SCOPE)) } th { (t2(cx, text::ITEMS)) } th {}
                        }
                        @for t in versions.iter().rev() {
                            tr.checklist-version data-version=(t.version) {
                                td { (t.version) }
                                td { (t.published) }
                                td { @match reference.template_units.get(&t.reference()) {
                                    Some(unit) => (super::unit_name(state, unit.as_str())),
                                    None => (t2(cx, text::GLOBAL)),
                                } }
                                td { (t.items().count()) }
                                td { a.checklist-download href=(format!("/console/checklists/{id}/{}.xlsx", t.version)) { (t2(cx, text::DOWNLOAD)) } }
                            }
                        }
                    }
                    form.checklist-upload method="post" enctype="multipart/form-data" action=(format!("/console/checklists/{id}/upload")) {
                        input type="hidden" name="csrf" value=(cx.csrf);
                        label { (t2(cx, text::UPLOAD)) " " input type="file" name="file" accept=".xlsx" required; }
                        " "
                        button type="submit" { (t2(cx, text::UPLOAD_BUTTON)) }
                    }
                }
            }
        }
    };
    page(cx, "checklists", t2(cx, text::TITLE), body)
}

/// `GET /console/checklists`.
pub async fn index(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    allowed(&state, &cx)?;
    Ok(render(&state, &cx, Outcome::None))
}

/// `GET /console/checklists/{id}/{version}.xlsx`.
pub async fn download(
    State(state): State<AppState>,
    cx: Console,
    Path((id, file)): Path<(String, String)>,
) -> ConsoleResult<Response> {
    allowed(&state, &cx)?;
    let version: u32 = file
        .strip_suffix(".xlsx")
        .and_then(|v| v.parse().ok())
        .ok_or(ConsoleError::NotFound)?;
    let reference = state.reference.latest();
    let template = reference
        .templates_for(&cx.user)
        .find(|t| t.id == id && t.version == version)
        .ok_or(ConsoleError::NotFound)?;
    let bytes = crate::service::checklists::write_xlsx(template)
        .map_err(|e| crate::internal!("checklist xlsx: {e}"))?;
    super::audit::record(
        &state,
        &cx,
        "export_table",
        &format!("{id}-v{version}.xlsx"),
    )
    .await;
    Ok(export::download(
        bytes,
        XLSX,
        &format!("{id}-v{version}.xlsx"),
    ))
}

/// The form's fields (`csrf`, `file`) read from a `multipart/form-data` body, the file read
/// no further than [`MAX_UPLOAD_BYTES`] + 1 (the caller refuses it as too large). A malformed
/// body yields what was read before the fault (at worst nothing, which fails the CSRF check).
async fn upload_fields(multipart: Option<Multipart>) -> (String, Vec<u8>) {
    let (mut csrf, mut file) = (String::new(), Vec::new());
    let Some(mut multipart) = multipart else {
        return (csrf, file);
    };
    while let Ok(Some(mut field)) = multipart.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                while let Ok(Some(chunk)) = field.chunk().await {
                    file.extend_from_slice(&chunk);
                    if file.len() > MAX_UPLOAD_BYTES {
                        return (csrf, file);
                    }
                }
            }
            _ => {}
        }
    }
    (csrf, file)
}

/// `POST /console/checklists/{id}/upload` (multipart: `csrf`, `file`).
pub async fn upload(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ConsoleResult<Html<String>> {
    allowed(&state, &cx)?;
    let (csrf, file) = upload_fields(multipart.ok()).await;
    cx.check_csrf(&super::form::FormData::parse(&format!(
        "csrf={}",
        super::form::encode(&csrf)
    )))?;
    if file.len() > MAX_UPLOAD_BYTES {
        return Ok(render(&state, &cx, Outcome::NotAWorkbook));
    }
    let reference = state.reference.latest();
    let user = cx.user.clone();
    let now_ms = state.now().saturating_mul(1000);
    let client = cx.client.map(|a| a.to_string()).unwrap_or_default();
    let live = state.reference.clone();
    let result = state
        .db
        .call(move |conn| -> crate::error::InternalResult<_> {
            let tx = conn.begin_immediate()?;
            let outcome = crate::service::checklists::upload(
                &tx, &reference, &user, &id, &file, now_ms, &client,
            );
            if outcome.is_ok() {
                tx.commit()?;
                // the console sees the new version at once; tablets at their next sync
                if let Err(e) = live.refresh(&*conn) {
                    tracing::error!(error = %e, "reference reload after a checklist upload");
                }
            }
            Ok(outcome)
        })
        .await?;
    let outcome = match result {
        Ok(t) => Outcome::Done(t.reference()),
        Err(UploadError::NotAllowed) | Err(UploadError::UnknownTemplate(_)) => {
            return Err(ConsoleError::NotFound);
        }
        Err(UploadError::File(ReadError::NotAWorkbook(_))) => Outcome::NotAWorkbook,
        Err(UploadError::File(ReadError::Rows(problems))) => Outcome::Refused(
            problems
                .into_iter()
                .map(|p| {
                    let text = match cx.lang {
                        super::Lang::Zh => p.problem.zh(),
                        super::Lang::En => p.problem.en(),
                    };
                    (p.row, text)
                })
                .collect(),
        ),
        Err(UploadError::Store(e)) => return Err(crate::internal!("checklist upload: {e}").into()),
    };
    Ok(render(&state, &cx, outcome))
}
