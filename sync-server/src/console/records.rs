//! The inspection list (filters, keyset paging), one record in full, and the review decision.

use super::form::encode;
use super::i18n::{Lang, kind_from_str, kind_str};
use super::layout::{page, when};
use super::query::{Cursor, RecordFilter};
use super::{Console, ConsoleError, ConsoleResult, period_params, searched_units, unit_name};
use crate::service::documents::{self, DocumentError};
use crate::service::record_page::{self, PageError, RecordView};
use crate::service::review::{self, ReviewError};
use crate::service::{plausibility, reads};
use crate::state::AppState;
use app_core::document::{ChangeEntry, Conflict};
use app_core::evidence::PhotoRef;
use app_core::geo::Timestamp;
use app_core::inspection::{InspectionStatus, ReviewDecision, SignOutcome, Signer};
use app_core::kind::InspectionKind;
use app_core::messages::item as item_msg;
use app_core::plausibility::Badge;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeSet;

/// Records per page.
pub const PAGE_SIZE: usize = 50;

pub async fn list(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (units, chosen_unit) = searched_units(&cx, &state);
    let (from, to) = period_params(&cx)?;
    let filter = RecordFilter {
        units,
        from,
        to,
        kind: cx.query.get("kind").map(str::to_owned),
        status: cx.query.get("status").map(str::to_owned),
        enterprise: cx.query.get("enterprise").map(str::to_owned),
        inspector: cx.query.get("inspector").map(str::to_owned),
    };
    let after = match cx.query.get("after") {
        None => None,
        Some(a) => Some(Cursor::parse(a).ok_or_else(|| ConsoleError::Invalid {
            zh: "分页参数 after 无效，请从第一页重新开始。".into(),
            en: "The paging parameter after is not valid; start again from the first page.".into(),
        })?),
    };
    let f = filter.clone();
    let (reference, cache, blobs, user) = (
        state.reference.clone(),
        state.plausibility.clone(),
        state.blobs.clone(),
        cx.user.clone(),
    );
    let (rows, next, total, badges) = state
        .db
        .call(move |conn| -> ConsoleResult<_> {
            let (rows, next, total) = reads::record_list_page(conn, &f, after.as_ref(), PAGE_SIZE)?;
            let mut badges = Vec::with_capacity(rows.len());
            for r in &rows {
                badges.push(plausibility::badges(
                    conn, &reference, &cache, &blobs, &user, &r.id,
                )?);
            }
            Ok((rows, next, total, badges))
        })
        .await?;
    let lang = cx.lang;
    let readable = super::readable_units(&cx, &state);
    let subtree: BTreeSet<&str> = readable.iter().map(|u| u.id.as_str()).collect();
    let enterprises: Vec<_> = state
        .reference
        .enterprises
        .iter()
        .filter(|e| subtree.contains(e.unit.as_str()))
        .collect();
    let inspectors: Vec<_> = state
        .reference
        .users
        .iter()
        .filter(|u| u.is_inspector() && subtree.contains(u.unit.as_str()))
        .collect();
    let keep = cx.query.query_without(&["after", "lang"]);
    let selected = |key: &str, value: &str| cx.query.get(key) == Some(value);
    let body = html! {
        @if readable.is_empty() {
            p.muted { (cx.t("管理员维护基础数据，不查阅执法记录。", "Admins maintain reference data and do not read enforcement records.")) }
        }
        form.filters method="get" action="/console/records" {
            label { (cx.t("单位", "Unit"))
                select name="unit" {
                    option value="" { (cx.t("全部", "All")) }
                    @for u in &readable {
                        option value=(u.id) selected[chosen_unit.as_deref() == Some(u.id.as_str())] { (u.name) }
                    }
                }
            }
            label { (cx.t("检查日期自", "Visit from")) input type="date" name="from" value=[cx.query.get("from")]; }
            label { (cx.t("至", "to")) input type="date" name="to" value=[cx.query.get("to")]; }
            label { (cx.t("检查类型", "Kind"))
                select name="kind" {
                    option value="" { (cx.t("全部", "All")) }
                    @for k in InspectionKind::ALL {
                        @let v = kind_str(k);
                        option value=(v) selected[selected("kind", &v)] { (lang.kind(k)) }
                    }
                }
            }
            label { (cx.t("状态", "Status"))
                select name="status" {
                    option value="" { (cx.t("全部", "All")) }
                    @for s in InspectionStatus::ALL {
                        option value=(s.as_str()) selected[selected("status", s.as_str())] { (lang.status(s)) }
                    }
                }
            }
            label { (cx.t("企业", "Enterprise"))
                select name="enterprise" {
                    option value="" { (cx.t("全部", "All")) }
                    @for e in &enterprises {
                        option value=(e.id) selected[selected("enterprise", e.id.as_str())] { (e.name) }
                    }
                }
            }
            label { (cx.t("执法人员", "Inspector"))
                select name="inspector" {
                    option value="" { (cx.t("全部", "All")) }
                    @for u in &inspectors {
                        option value=(u.id) selected[selected("inspector", u.id.as_str())] { (u.name) }
                    }
                }
            }
            button type="submit" { (cx.t("筛选", "Filter")) }
        }
        p.muted #total { (cx.t("共", "Total: ")) span #total-count { (total) } (cx.t(" 条记录", " records")) }
        table #records {
            thead { tr {
                th { (cx.t("检查时间", "Visit")) }
                th { (cx.t("企业", "Enterprise")) }
                th { (cx.t("类型", "Kind")) }
                th { (cx.t("状态", "Status")) }
                th { (cx.t("执法人员", "Inspectors")) }
                th { (cx.t("单位", "Unit")) }
                th { (cx.t("隐患", "Hazards")) }
                th { (cx.t("审核意见", "Review")) }
                th { (cx.t("证据提示", "Evidence flags")) }
            } }
            tbody {
                @if rows.is_empty() {
                    tr.empty { td colspan="9" { (cx.t("暂无", "None")) } }
                }
                @for (r, flags) in rows.iter().zip(&badges) {
                    tr data-record=(r.id) {
                        td { a href={ "/console/records/" (encode(&r.id)) } { (when(Timestamp(r.visit_at))) } }
                        td { a href={ "/console/records/" (encode(&r.id)) } { (r.enterprise_name) } }
                        td { (kind_from_str(&r.kind).map(|k| lang.kind(k)).unwrap_or(&r.kind)) }
                        td { (InspectionStatus::parse(&r.status).map(|s| lang.status(s)).unwrap_or(&r.status)) }
                        td { (r.inspectors) }
                        td { (unit_name(&state, &r.unit)) }
                        td { (r.hazards) }
                        td { @if let Some(c) = &r.review_comment { (c) } }
                        td.flags { @for b in flags { (badge_chip(b, lang)) " " } }
                    }
                }
            }
        }
        nav.paging {
            @if cx.query.get("after").is_some() {
                a href={ "/console/records?" (keep) } { (cx.t("« 第一页", "« First page")) }
            }
            @if let Some(n) = &next {
                a #next-page href={ "/console/records?" (keep) @if !keep.is_empty() { "&" } "after=" (encode(&n.to_param())) } { (cx.t("下一页 »", "Next page »")) }
            }
        }
    };
    Ok(page(&cx, "records", cx.t("检查记录", "Inspections"), body))
}

/// The most records the review queue lists; the oldest come first, so none is starved.
pub const QUEUE_MAX: usize = 500;

/// The records awaiting review in the viewer's units, oldest visit first.
async fn queue_rows(
    state: &AppState,
    cx: &Console,
) -> ConsoleResult<Vec<crate::store::console_query::RecordRow>> {
    let (units, _) = searched_units(cx, state);
    let filter = RecordFilter {
        units,
        from: None,
        to: None,
        kind: None,
        status: Some(InspectionStatus::Submitted.as_str().to_owned()),
        enterprise: None,
        inspector: None,
    };
    let mut rows = state
        .db
        .call(move |conn| -> ConsoleResult<_> {
            Ok(reads::record_list_page(conn, &filter, None, QUEUE_MAX)?.0)
        })
        .await?;
    rows.reverse();
    Ok(rows)
}

/// `GET /console/queue`: the records awaiting review, oldest first.
pub async fn queue(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let rows = queue_rows(&state, &cx).await?;
    let lang = cx.lang;
    let body = html! {
        p.muted { (cx.t("待审核的记录，最早的在前。", "Records awaiting review, oldest first.")) }
        @if let Some(first) = rows.first() {
            p { a #queue-start href={ "/console/records/" (encode(&first.id)) } { (cx.t("开始审核最早的一条 »", "Review the oldest »")) } }
        }
        table #queue {
            thead { tr {
                th { (cx.t("检查时间", "Visit")) } th { (cx.t("企业", "Enterprise")) }
                th { (cx.t("类型", "Kind")) } th { (cx.t("执法人员", "Inspectors")) }
                th { (cx.t("单位", "Unit")) } th { (cx.t("隐患", "Hazards")) }
            } }
            tbody {
                @if rows.is_empty() { tr.empty { td colspan="6" { (cx.t("暂无", "None")) } } }
                @for r in &rows {
                    tr data-record=(r.id) {
                        td { a href={ "/console/records/" (encode(&r.id)) } { (when(Timestamp(r.visit_at))) } }
                        td { a href={ "/console/records/" (encode(&r.id)) } { (r.enterprise_name) } }
                        td { (kind_from_str(&r.kind).map(|k| lang.kind(k)).unwrap_or(&r.kind)) }
                        td { (r.inspectors) }
                        td { (unit_name(&state, &r.unit)) }
                        td { (r.hazards) }
                    }
                }
            }
        }
    };
    Ok(page(&cx, "queue", cx.t("审核队列", "Review queue"), body))
}

/// `GET /console/queue/next`: the oldest record awaiting review, or the (empty) queue.
pub async fn queue_next(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let rows = queue_rows(&state, &cx).await?;
    match rows.first() {
        Some(r) => super::redirect(format!("/console/records/{}", encode(&r.id))),
        None => super::redirect("/console/queue".into()),
    }
}

/// `GET /console/records/{id}/documents/{n}`: document `n` of the record's latest signed
/// version as PDF, rendered by pdf-forms as the case-file export does; the same access check
/// as the record page.
pub async fn document(
    State(state): State<AppState>,
    cx: Console,
    Path((id, n)): Path<(String, usize)>,
) -> ConsoleResult<Response> {
    let reference = state.reference.clone();
    let user = cx.user.clone();
    let blobs = state.blobs.clone();
    let (name, bytes) = state
        .db
        .call(move |conn| -> ConsoleResult<_> {
            documents::render(conn, &reference, &user, &blobs, &id, n).map_err(|e| match e {
                DocumentError::NotFound => ConsoleError::NotFound,
                DocumentError::Render(en) => ConsoleError::Invalid {
                    zh: "文书无法生成：记录缺少文书所需的内容（如文号）。".into(),
                    en,
                },
                DocumentError::Store(e) => e.into(),
            })
        })
        .await?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
        "attachment; filename=\"document.pdf\"; filename*=UTF-8''{}",
        encode(name)
    )) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn show(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Html<String>> {
    let (view, badges) = load_record(&state, &cx, id).await?;
    let notice = match cx.query.get("decided") {
        Some("approved") => Some(cx.t("已审核通过。", "Approved.")),
        Some("returned") => Some(cx.t("已退回。", "Returned.")),
        _ => None,
    };
    Ok(render_record(&state, &cx, &view, &badges, notice, None))
}

/// The record page's view and the record's badges, for the viewer.
async fn load_record(
    state: &AppState,
    cx: &Console,
    id: String,
) -> ConsoleResult<(RecordView, Vec<Badge>)> {
    let reference = state.reference.clone();
    let user = cx.user.clone();
    let now = state.now();
    let (cache, blobs) = (state.plausibility.clone(), state.blobs.clone());
    state
        .db
        .call(move |conn| -> ConsoleResult<(RecordView, Vec<Badge>)> {
            let view = record_page::record_view(conn, &reference, &user, &id, now).map_err(
                |e| match e {
                    PageError::NotFound => ConsoleError::NotFound,
                    PageError::Store(e) => e.into(),
                },
            )?;
            let badges = plausibility::badges(conn, &reference, &cache, &blobs, &user, &id)?;
            Ok((view, badges))
        })
        .await
}

fn photo_links(rid: &str, photos: &[&PhotoRef], held: &BTreeSet<String>, lang: Lang) -> Markup {
    html! {
        @for p in photos {
            a.photo href={ "/console/photos/" (p.sha256) "?record=" (encode(rid)) } title=(p.sha256) {
                @if held.contains(p.sha256.as_str()) {
                    img.thumb src={ "/console/photos/" (p.sha256) "/original" } alt=(p.sha256) loading="lazy";
                } @else {
                    span.badge { (lang.t("照片未上传", "photo not uploaded")) " " (p.sha256.as_str()[..12]) "…" }
                }
            }
            " "
        }
    }
}

/// A badge on the list: its title, the explanation on hover.
pub(super) fn badge_chip(b: &Badge, lang: Lang) -> Markup {
    html! {
        span.badge.flag data-badge=(b.code()) title=(lang.err(b)) { (lang.badge_title(b)) }
    }
}

/// A badge at the top of a record: its title, the explanation unfolded below it.
fn badge_details(b: &Badge, lang: Lang) -> Markup {
    html! {
        details.flag data-badge=(b.code()) open {
            summary { span.badge.flag { (lang.badge_title(b)) } }
            p { (lang.err(b)) }
        }
    }
}

fn conflict_text(c: &Conflict, lang: Lang, r: &app_core::inspection::Inspection) -> String {
    match c {
        Conflict::Answer {
            item,
            values,
            chosen,
        } => format!(
            "{} {item}: {} → {}",
            lang.t("检查项答案冲突", "Answer conflict on"),
            values
                .iter()
                .map(|a| lang.answer(Some(*a)))
                .collect::<Vec<_>>()
                .join(" / "),
            lang.answer(Some(*chosen))
        ),
        Conflict::Status { values, chosen } => format!(
            "{}: {} → {}",
            lang.t("状态冲突", "Status conflict"),
            values
                .iter()
                .map(|s| lang.status(*s))
                .collect::<Vec<_>>()
                .join(" / "),
            lang.status(*chosen)
        ),
        Conflict::HazardStage {
            hazard,
            values,
            chosen,
        } => format!(
            "{} {}: {} → {}",
            lang.t("隐患阶段冲突", "Hazard stage conflict on"),
            r.hazards
                .get(hazard)
                .map(|h| h.description.as_str())
                .unwrap_or_default(),
            values
                .iter()
                .map(|s| lang.stage(*s))
                .collect::<Vec<_>>()
                .join(" / "),
            lang.stage(*chosen)
        ),
        Conflict::Field { path, values } => format!(
            "{} {}: {}",
            lang.t("字段冲突", "Field conflict on"),
            lang.field_label(path, r),
            values.join(" / ")
        ),
        Conflict::Invalid { reason } => format!(
            "{}: {reason}",
            lang.t("合并后违反规则", "Merged state breaks a rule")
        ),
    }
}

/// A person by name (their id only if the reference data does not know them).
fn person(state: &AppState, id: &str) -> String {
    state
        .user(id)
        .map(|u| u.name)
        .unwrap_or_else(|| id.to_owned())
}

/// Devices named by their order of appearance in the record's history ("平板 1"), the
/// server's own changes as such: a person does not read device ids.
fn device_names(history: &[ChangeEntry], lang: Lang) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    let mut n = 0;
    for c in history {
        if let Some(note) = &c.note {
            let d = note.device.as_str().to_owned();
            if names.contains_key(&d) {
                continue;
            }
            let name = if d == crate::store::records::SERVER_DEVICE {
                lang.t("服务器（控制台）", "server (console)").to_owned()
            } else {
                n += 1;
                format!("{} {n}", lang.t("平板", "Tablet"))
            };
            names.insert(d, name);
        }
    }
    names
}

fn change_row(
    c: &ChangeEntry,
    cx: &Console,
    state: &AppState,
    devices: &std::collections::HashMap<String, String>,
) -> Markup {
    html! {
        tr {
            td { (super::layout::when_secs(c.time)) }
            @if let Some(n) = &c.note {
                td { (person(state, n.by.as_str())) }
                td { (devices.get(n.device.as_str()).cloned().unwrap_or_default()) }
                td data-command=(n.command) { (cx.lang.command(&n.command)) }
            } @else {
                td colspan="3" { (cx.t("（无说明）", "(no note)")) }
            }
        }
    }
}

fn render_record(
    state: &AppState,
    cx: &Console,
    v: &RecordView,
    badges: &[Badge],
    notice: Option<&str>,
    refused: Option<&Refused>,
) -> Html<String> {
    let r = &v.record;
    let lang = cx.lang;
    let rid = r.id.as_str();
    let template = state.reference.templates.get(&r.template);
    let today = super::today(state);
    let failed: Vec<(&str, String, String)> = r
        .results
        .iter()
        .filter(|(_, x)| x.answer == Some(app_core::inspection::Answer::Fails))
        .map(|(code, x)| {
            let text = template
                .and_then(|t| t.item(code))
                .map(|i| i.text.clone())
                .unwrap_or_default();
            (code.as_str(), text, x.note.clone())
        })
        .collect();
    let major: Vec<&app_core::hazard::Hazard> = r
        .hazards
        .values()
        .filter(|h| h.level == app_core::hazard::HazardLevel::Major)
        .collect();
    let reviewable = v.can_review && r.status == InspectionStatus::Submitted;
    let devices = device_names(&v.history, lang);
    let body = html! {
        @if let Some(n) = notice {
            p.notice #decided { (n) " " a #next-record href="/console/queue/next" { (cx.t("下一条 »", "Next »")) } " " a href="/console/queue" { (cx.t("审核队列", "Review queue")) } }
        }
        section #decide {
            h2 { (cx.t("审核摘要", "Review summary")) }
            div.columns {
                div #flags {
                    h3 { (cx.t("证据提示", "Evidence flags")) }
                    @if badges.is_empty() { p.muted { (cx.t("暂无", "None")) } }
                    @for b in badges { (badge_details(b, lang)) }
                }
                div #failed-items {
                    h3 { (cx.t("不符合项", "Failed items")) " (" (failed.len()) ")" }
                    @if failed.is_empty() { p.muted { (cx.t("暂无", "None")) } }
                    ul { @for (code, text, note) in &failed {
                        li data-item=(code) { a href={ "#item-" (code) } { (code) } " " (text) @if !note.is_empty() { " — " (note) }
                            @if reviewable {
                                br;
                                label.item-comment { (cx.t("对该项的意见：", "Comment on this item: "))
                                    input type="text" form="review-form" name={ "item:" (code) } size="40"
                                        value=[refused.and_then(|e| e.items.get(*code))]; }
                            }
                        }
                    } }
                }
                div #major-hazards {
                    h3 { (cx.t("重大事故隐患", "Major hazards")) " (" (major.len()) ")" }
                    @if major.is_empty() { p.muted { (cx.t("暂无", "None")) } }
                    ul { @for h in &major {
                        li { span.badge.major { (lang.level(h.level)) } " " (h.description) " · " (h.place)
                            @if h.missing_required_supervision() { " " span.bad { (cx.t("未挂牌督办", "not listed for supervision")) } } }
                    } }
                }
            }
            @if let Some(e) = refused {
                p.error role="alert" #review-error { (cx.t("无法执行审核：", "The decision was refused: ")) (lang.t(&e.zh, &e.en)) }
            }
            @if reviewable {
                form #review-form method="post" action={ "/console/records/" (encode(rid)) "/review" } {
                    input type="hidden" name="csrf" value=(cx.csrf);
                    label { (cx.t("审核意见（退回时必填）", "Comment (required to return)")) textarea name="comment" { @if let Some(e) = refused { (e.comment) } } }
                    div.actions {
                        button type="submit" name="decision" value="approve" { (cx.t("审核通过", "Approve")) }
                        button type="submit" name="decision" value="return" { (cx.t("退回", "Return")) }
                        a href="/console/queue" { (cx.t("审核队列", "Review queue")) }
                    }
                }
            }
        }
        section #summary {
            table {
                tr { th { (cx.t("文号", "Document numbers")) } td #numbers {
                    @if r.documents.is_empty() { "—" }
                    @for d in r.documents.values() { (lang.document(d.kind)) " " (d.number) br; }
                } }
                tr { th { (cx.t("企业", "Enterprise")) } td { (r.enterprise.name) " · " (r.enterprise.uscc.as_str()) " · " (r.enterprise.address) } }
                tr { th { (cx.t("检查类型", "Kind")) } td { (lang.kind(r.kind)) } }
                tr { th { (cx.t("状态", "Status")) } td #status data-status=(r.status.as_str()) { (lang.status(r.status)) } }
                tr { th { (cx.t("单位", "Unit")) } td { (unit_name(state, r.unit.as_str())) } }
                tr { th { (cx.t("检查计划", "Plan")) } td { @if r.plan.is_some() { (cx.t("按检查计划", "From a plan")) } @else { "—" } } }
                tr { th { (cx.t("检查表", "Checklist")) } td { (template.map(|t| t.name.clone()).unwrap_or_default()) } }
                tr { th { (cx.t("创建", "Created")) } td { (when(r.created_at)) " · " (person(state, r.created_by.as_str())) } }
                tr { th { (cx.t("现场检查开始", "On site from")) } td { @if let Some(t) = r.started_at { (when(t)) } } }
                tr { th { (cx.t("完成", "Completed")) } td { @if let Some(t) = r.completed_at { (when(t)) } } }
                tr { th { (cx.t("执法人员", "Inspectors")) } td {
                    @for i in r.inspectors.values() { (i.name) " (" (cx.t("执法证号", "certificate")) " " (i.certificate.as_str()) ") " }
                } }
                tr { th { (cx.t("现场负责人", "Person in charge on site")) } td {
                    @if let Some(p) = &r.onsite_person { (p.name) " · " (p.position) " · " (p.phone) }
                } }
                tr { th { (cx.t("检查场所", "Places")) } td { (r.places) } }
                tr { th { (cx.t("检查情况", "Findings")) } td { (r.summary) } }
            }
        }
        section #documents {
            h2 { (cx.t("文书", "Documents")) }
            @if v.documents.is_empty() {
                p.muted { (cx.t("暂无：记录签署后生成文书。", "None: documents are made once the record is signed.")) }
            } @else {
                ul {
                    @for (n, kind) in v.documents.iter().enumerate() {
                        @let number = r.documents.values().find(|d| d.kind == kind.document_kind()).map(|d| d.number.to_string());
                        li { a.document href={ "/console/records/" (encode(rid)) "/documents/" (n) } download { (kind.title_zh()) " (PDF)" }
                            @if let Some(num) = number { " · " (num) } }
                    }
                }
            }
        }
        @if r.kind == InspectionKind::Unannounced || r.arrival.is_some() {
            section #arrival {
                h2 { (cx.t("四不两直 到达证明", "Arrival proof (unannounced visit)")) }
                @if let Some(a) = &r.arrival {
                    p { (cx.t("到达时间", "Arrived at")) ": " (when(a.at)) " · "
                        (cx.t("位置", "Position")) ": " (format!("{:.6}, {:.6}", a.position.lat, a.position.lon))
                        " (" (match a.position.source { app_core::geo::PositionSource::Device => lang.t("设备定位", "device"), app_core::geo::PositionSource::Manual => lang.t("手工输入", "typed in"), app_core::geo::PositionSource::Photo => lang.t("入口照片定位", "from the entrance photo") }) ")" }
                    p { (cx.t("入口照片", "Entrance photo")) ": " (photo_links(rid, &[&PhotoRef { sha256: a.entrance_photo.clone(), added_at: a.at, added_by: r.created_by.clone() }], &v.held, lang)) }
                } @else {
                    p.bad { (cx.t("无到达证明", "No arrival proof")) }
                }
                p { (cx.t("未提前通知", "No notice given")) ": " (lang.yes_no(r.attestations.no_notice_given)) " · "
                    (cx.t("未接受陪同和接待", "No escort accepted")) ": " (lang.yes_no(r.attestations.no_escort_accepted)) }
            }
        }
        section #conflicts {
            h2 { (cx.t("合并冲突", "Merge conflicts")) }
            @if v.conflicts.is_empty() {
                p.good { (cx.t("无冲突", "None")) }
            } @else {
                ul { @for c in &v.conflicts { li.bad { (conflict_text(c, lang, r)) } } }
            }
        }
        section #checklist {
            h2 { (cx.t("检查项", "Checklist")) }
            @if let Some(t) = template {
                @for cat in t.categories_for(r.enterprise.industry) {
                    h3 { (cat.name) }
                    table {
                        thead { tr {
                            th { (cx.t("编号", "Code")) } th { (cx.t("检查内容", "Requirement")) }
                            th { (lang.pick(item_msg::BASIS)) } th { (cx.t("结果", "Result")) }
                            th { (cx.t("说明", "Note")) } th { (cx.t("照片", "Photos")) }
                        } }
                        tbody {
                            @for item in &cat.items {
                                @let res = r.results.get(&item.code);
                                @let answer = res.and_then(|x| x.answer);
                                tr data-item=(item.code) id={ "item-" (item.code) } {
                                    td.mono { (item.code) }
                                    td { (item.text) @if item.is_major_hazard() { " " span.badge.bad { (cx.t("重大隐患项", "major-hazard item")) } } }
                                    td { @for b in &item.basis { (b.to_string()) br; }
                                        @if !item.penalty.is_empty() { div.penalty { span.muted { (lang.pick(item_msg::PENALTY)) "：" } (lang.bases(&item.penalty)) } }
                                        @if let Some(m) = &item.major_hazard { div.major-basis { span.muted { (lang.pick(item_msg::MAJOR_BASIS)) "：" } (m.to_string()) } } }
                                    td class=[(answer == Some(app_core::inspection::Answer::Fails)).then_some("bad")] { (lang.answer(answer)) }
                                    td { @if let Some(x) = res { (x.note) }
                                        @if let Some(c) = r.review.as_ref().and_then(|rv| rv.items.get(&item.code)) {
                                            div.review-item-comment { span.badge.flag { (cx.t("审核意见", "Review")) } " " (c) } } }
                                    td { @if let Some(x) = res { (photo_links(rid, &x.photos.values().collect::<Vec<_>>(), &v.held, lang)) } }
                                }
                            }
                        }
                    }
                }
            } @else {
                p.error { (cx.t("未找到该记录使用的检查表版本。", "The checklist version of this record is unknown.")) }
            }
        }
        section #hazards {
            h2 { (cx.t("隐患", "Hazards")) }
            @if r.hazards.is_empty() { p.muted { (cx.t("未登记隐患", "No hazards registered")) } }
            @for h in r.hazards.values() {
                table data-hazard=(h.id) {
                    tr { th { (cx.t("隐患", "Hazard")) } td { (h.description) " · " (h.place) } }
                    tr { th { (cx.t("级别", "Level")) } td {
                        @if h.level == app_core::hazard::HazardLevel::Major { span.badge.major { (lang.level(h.level)) } }
                        @else { span.badge { (lang.level(h.level)) } }
                    } }
                    tr { th { (lang.pick(item_msg::BASIS)) } td { @for b in &h.basis { (b.to_string()) " " } } }
                    @if !h.penalty.is_empty() { tr.penalty { th { (lang.pick(item_msg::PENALTY)) } td { (lang.bases(&h.penalty)) } } }
                    @if let Some(m) = h.item.as_ref().and_then(|c| template.and_then(|t| t.item(c))).and_then(|i| i.major_hazard.as_ref()) {
                        tr.major-basis { th { (lang.pick(item_msg::MAJOR_BASIS)) } td { (m.to_string()) } }
                    }
                    tr { th { (cx.t("整改措施", "Measures")) } td { (h.measures) } }
                    tr { th { (cx.t("阶段", "Stage")) } td { (lang.stage(h.stage)) } }
                    tr { th { (cx.t("登记日期", "Registered")) } td { (h.registered_on) } }
                    tr { th { (cx.t("整改期限", "Deadline")) } td {
                        @if let Some(d) = h.deadline { (d) } @else { "—" }
                        @if h.is_overdue(today) { " " span.overdue { (cx.t("逾期", "overdue")) } }
                    } }
                    tr { th { (cx.t("挂牌督办", "Listed for supervision")) } td {
                        @if let Some(s) = &h.supervision { (s.level) " · " (s.responsible) " · " (s.listed_on) }
                        @else if h.missing_required_supervision() { span.bad { (cx.t("重大隐患未挂牌督办", "major hazard not listed")) } }
                        @else { "—" }
                    } }
                    tr { th { (cx.t("复查", "Re-inspections")) } td {
                        @for (rid2, ri) in &h.reinspections {
                            div data-reinspection=(rid2) {
                                (ri.on) " · " (person(state, ri.by.as_str())) " · "
                                @if ri.passed { span.good { (cx.t("通过", "passed")) } } @else { span.bad { (cx.t("未通过", "failed")) } }
                                @if let Some(d) = ri.new_deadline { " · " (cx.t("新期限", "new deadline")) " " (d) }
                                " " (ri.note)
                            }
                        }
                    } }
                    tr { th { (cx.t("销号日期", "Closed on")) } td { @if let Some(d) = h.closed_on { (d) } } }
                    tr { th { (cx.t("照片", "Photos")) } td { (photo_links(rid, &h.photos.values().collect::<Vec<_>>(), &v.held, lang)) } }
                }
            }
        }
        section #signatures {
            h2 { (cx.t("签名", "Signatures")) }
            table {
                @for s in r.signatures.values() {
                    tr {
                        td { @match &s.signer { Signer::Inspector(_) => { (cx.t("执法人员", "Inspector")) }, Signer::Enterprise => { (cx.t("企业现场负责人", "Enterprise")) } } }
                        td { (s.name) }
                        td { @match &s.outcome {
                            SignOutcome::Signed { image } => { (cx.t("已签字", "Signed")) " " (photo_links(rid, &[&PhotoRef { sha256: image.clone(), added_at: s.at, added_by: r.created_by.clone() }], &v.held, lang)) },
                            SignOutcome::Refused { witness, note } => { span.bad { (cx.t("拒绝签字", "Refused to sign")) } " · " (cx.t("见证人", "witness")) ": " (witness) " · " (note) },
                        } }
                        td { (when(s.at)) }
                    }
                }
            }
        }
        section #versions {
            h2 { (cx.t("签署版本与签署后的修改", "Signed versions and amendments after signing")) }
            @if v.versions.is_empty() { p.muted { (cx.t("尚无签署版本", "No signed version yet")) } }
            @for (vid, result) in &v.versions {
                @let sv = &r.signed_versions[vid];
                h3 { (cx.t("签署版本", "Signed version")) " " (vid) " · " (when(sv.at)) " · " (person(state, sv.by.as_str())) }
                p.mono { "SHA-256 " (sv.content_hash) }
                @match result {
                    Ok(a) => {
                        p.good { (cx.t("签署内容校验一致", "Signed content verifies")) }
                        @if a.is_empty() {
                            p { (cx.t("签署后无修改", "No amendments since signing")) }
                        } @else {
                            table.amendments {
                                thead { tr { th { (cx.t("字段", "Field")) } th { (cx.t("签署时", "As signed")) } th { (cx.t("现在", "Now")) } } }
                                @for f in &a.fields {
                                    tr { td { (lang.field_label(&f.path, r)) } td { (f.signed.as_ref().map(|x| x.to_string()).unwrap_or_default()) } td { (f.now.as_ref().map(|x| x.to_string()).unwrap_or_default()) } }
                                }
                            }
                            table { @for c in &a.changes { (change_row(c, cx, state, &devices)) } }
                        }
                    },
                    Err(e) => { p.bad { (cx.t("签署版本校验失败", "Signed version does not verify")) ": " (e) } },
                }
            }
        }
        section #review {
            h2 { (cx.t("审核", "Review")) }
            @if let Some(rv) = &r.review {
                p #review-decision data-decision=(crate::index::decision_str(rv.decision)) {
                    @match rv.decision { ReviewDecision::Approved => span.good { (cx.t("审核通过", "Approved")) }, ReviewDecision::Returned => span.bad { (cx.t("已退回", "Returned")) } }
                    " · " (person(state, rv.by.as_str())) " · " (when(rv.at))
                }
                @if !rv.comment.is_empty() { blockquote #review-comment { (rv.comment) } }
                @if !rv.items.is_empty() {
                    ul #review-items { @for (code, c) in &rv.items {
                        li data-item=(code) { (cx.t("检查项", "Item")) " " (code) " "
                            (template.and_then(|t| t.item(code)).map(|i| i.text.clone()).unwrap_or_default()) "：" (c) }
                    } }
                }
            }
            @if r.status != InspectionStatus::Submitted {
                p.muted { (cx.t("仅已提交的记录可以审核。", "Only submitted records can be reviewed.")) }
            }
        }
        (super::casefile::export_section(cx, r, &v.exports))
        section #history {
            h2 { (cx.t("修改历史", "Change history")) }
            table {
                thead { tr { th { (cx.t("时间", "Time")) } th { (cx.t("人员", "By")) } th { (cx.t("设备", "Device")) } th { (cx.t("操作", "Change")) } } }
                @for c in &v.history { (change_row(c, cx, state, &devices)) }
            }
        }
    };
    page(
        cx,
        "records",
        &format!("{} · {}", r.enterprise.name, lang.kind(r.kind)),
        body,
    )
}

/// A refused decision, shown in place with what the reviewer typed.
#[derive(Debug)]
struct Refused {
    zh: String,
    en: String,
    comment: String,
    /// Item code → comment.
    items: std::collections::BTreeMap<String, String>,
}

/// `POST /console/records/{id}/review`: approve, or return with a comment. The decision is a
/// `Command::Transition` applied by app-core's rules to the stored document and stored as a
/// change from the server, which tablets pull at their next sync.
pub async fn review(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let to = match form.get("decision") {
        Some("approve") => InspectionStatus::Approved,
        Some("return") => InspectionStatus::Returned,
        _ => {
            return Err(ConsoleError::BadRequest(
                "decision must be approve or return · 请选择通过或退回".into(),
            ));
        }
    };
    let comment = form.get("comment").unwrap_or_default().to_owned();
    // Comments on items: `item:<code>` fields, the blank ones left out.
    let items: std::collections::BTreeMap<app_core::ids::ItemCode, String> = form
        .with_prefix("item:")
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (app_core::ids::ItemCode::from(k), v.trim().to_owned()))
        .collect();
    let typed_comment = comment.clone();
    let typed_items: std::collections::BTreeMap<String, String> = items
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let reference = state.reference.clone();
    let user = cx.user.clone();
    let now = Timestamp(state.now().saturating_mul(1000));
    let rid = id.clone();
    let outcome = state
        .db
        .call(move |conn| -> ConsoleResult<Result<(), (String, String)>> {
            match review::review(conn, &reference, &user, &rid, to, comment, items, now) {
                Ok(()) => Ok(Ok(())),
                Err(ReviewError::Refused { zh, en }) => Ok(Err((zh, en))),
                Err(ReviewError::NotFound) => Err(ConsoleError::NotFound),
                Err(ReviewError::Store(e)) => Err(e.into()),
            }
        })
        .await?;
    match outcome {
        Ok(()) => {
            tracing::info!(user = %cx.user.id, record = %id, decision = ?to, "record reviewed");
            let decided = match to {
                InspectionStatus::Approved => "approved",
                _ => "returned",
            };
            let action = match to {
                InspectionStatus::Approved => "approve",
                _ => "return",
            };
            super::audit::record(&state, &cx, action, &id).await;
            super::redirect(format!(
                "/console/records/{}?decided={decided}",
                encode(&id)
            ))
        }
        Err((zh, en)) => {
            // The record page again, the refusal in place above the form, what was typed kept.
            let refused = Refused {
                zh,
                en,
                comment: typed_comment,
                items: typed_items,
            };
            let (view, badges) = load_record(&state, &cx, id).await?;
            let mut resp =
                render_record(&state, &cx, &view, &badges, None, Some(&refused)).into_response();
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}
