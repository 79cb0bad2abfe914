//! Penalty cases in the console (issue 19): the list of the supervisor's units' cases with
//! their next deadline, one case in full (facts, provisions, inspectors, documents with
//! their numbers, interviews, media evidence played through range requests, deadlines, the
//! trail, conflicts and broken rules), and the supervisor's actions (立案审批, 法制审核,
//! 决定, 结案) as CSRF-checked forms, each applied through `service::case_pages::act`: the
//! same rules and the same store as a pushed change. Also each unit's penalty rules (settings,
//! working-day calendar, discretion table), viewed and edited by its supervisors
//! (`service::case_rules`).

use super::form::encode;
use super::layout::{page, when};
use super::{
    Console, ConsoleError, ConsoleResult, readable_units, searched_units, today, unit_name,
};
use crate::service::case_pages::{self, ActError, CaseLine, CaseView, ConsoleAction};
use crate::service::case_rules::{self, CaseRules, RulesEditError, RulesPart};
use crate::state::AppState;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::UnitId;
use app_core::messages::Bilingual;
use app_core::messages::Lang;
use app_core::penalty::{
    BlacklistCondition, CaseDeadline, CaseStage, Counting, OtherPenalty, Penalty, PenaltySettings,
    Period, ReviewOpinion, WorkCalendar,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeSet;

impl From<ActError> for ConsoleError {
    fn from(e: ActError) -> Self {
        match e {
            ActError::NotFound => ConsoleError::NotFound,
            ActError::Refused { zh, en } => ConsoleError::Invalid { zh, en },
            ActError::Store(e) => e.into(),
        }
    }
}

fn deadline_cell(cx: &Console, d: Option<&CaseDeadline>) -> Markup {
    match d {
        None => html! { "—" },
        Some(d) => html! {
            span class=[d.state.is_warning().then_some("warn")] {
                (cx.lang.deadline_kind(&d.kind)) " · " (d.due) " · " (cx.lang.deadline_state(d.state))
            }
        },
    }
}

/// `GET /console/cases`: the cases of the units searched (the viewer's subtree, or the
/// `unit` filter's).
pub async fn list(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (units, _) = searched_units(&cx, &state);
    let (reference, user, day) = (state.reference.clone(), cx.user.clone(), today(&state));
    let lines: Vec<CaseLine> = super::with_db(&state, move |conn| {
        case_pages::case_list(conn, &reference, &user, &units, day)
    })
    .await?;
    let stage_filter = cx.query.get("stage").map(str::to_owned);
    let warned_only = cx.query.get("warn").is_some();
    let shown: Vec<&CaseLine> = lines
        .iter()
        .filter(|l| {
            stage_filter
                .as_deref()
                .is_none_or(|s| crate::store::cases::stage_name(l.case.stage) == s)
        })
        .filter(|l| !warned_only || l.warning)
        .collect();
    let body = html! {
        p {
            a href="/console/penalty-rules" { (cx.t("本单位处罚裁量设置", "The unit's penalty rules")) }
            " · "
            a href="/console/violations" { (cx.t("违法信息与失信名单", "Violations and blacklist")) }
        }
        form method="get" action="/console/cases" {
            label { (cx.t("阶段", "Stage")) " "
                select name="stage" {
                    option value="" { (cx.t("全部", "All")) }
                    @for s in CaseStage::ALL {
                        @let name = crate::store::cases::stage_name(s);
                        option value=(name) selected[stage_filter.as_deref() == Some(name)] { (cx.lang.case_stage(s)) }
                    }
                }
            }
            " "
            label { input type="checkbox" name="warn" value="1" checked[warned_only]; " " (cx.t("仅显示有期限预警的", "Only those with a deadline warning")) }
            " "
            button type="submit" { (cx.t("筛选", "Filter")) }
        }
        @if shown.is_empty() {
            p { (cx.t("没有案件。", "No cases.")) }
        } @else {
            table id="cases" {
                thead { tr {
                    th { (cx.t("当事人", "Party")) }
                    th { (cx.t("单位", "Unit")) }
                    th { (cx.t("阶段", "Stage")) }
                    th { (cx.t("立案日期", "Opened")) }
                    th { (cx.t("下一期限", "Next deadline")) }
                    th { (cx.t("问题", "Problems")) }
                } }
                tbody {
                    @for l in &shown {
                        tr data-case=(l.case.id.as_str()) {
                            td { a href={ "/console/cases/" (encode(l.case.id.as_str())) } { (l.case.enterprise.name) } }
                            td { (unit_name(&state, l.case.unit.as_str())) }
                            td { (cx.lang.case_stage(l.case.stage)) }
                            td { @match l.case.opened_on() {
                                Some(d) => (d),
                                None => { (cx.t("待审批", "awaiting approval")) " (" (l.case.opened_at.shanghai_date()) ")" },
                            } }
                            td { (deadline_cell(&cx, l.next.as_ref())) }
                            td { @if l.violations > 0 { span.warn { (l.violations) " " (cx.t("项规则冲突", "broken rules")) } } }
                        }
                    }
                }
            }
            @if lines.len() >= case_pages::LIST_LIMIT {
                p { (cx.t("只显示最近立案的 500 件。", "Only the 500 most recently opened are shown.")) }
            }
        }
    };
    Ok(page(
        &cx,
        "cases",
        cx.t("行政处罚案件", "Penalty cases"),
        body,
    ))
}

async fn load_view(state: &AppState, cx: &Console, id: String) -> ConsoleResult<CaseView> {
    let (reference, user, day) = (state.reference.clone(), cx.user.clone(), today(state));
    super::with_db(state, move |conn| {
        case_pages::case_view(conn, &reference, &user, &id, day)
    })
    .await?
    .ok_or(ConsoleError::NotFound)
}

/// `GET /console/cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let view = load_view(&state, &cx, id).await?;
    let done = cx.query.get("done").map(str::to_owned);
    Ok(render_case(&state, &cx, &view, done.as_deref(), None).into_response())
}

fn name_of(state: &AppState, id: &app_core::ids::UserId) -> String {
    let r = &state.reference;
    r.users
        .iter()
        .chain(&r.disabled_users)
        .find(|u| u.id == *id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn other_label(o: OtherPenalty) -> &'static str {
    o.label_zh()
}

fn penalty_text(cx: &Console, p: &Penalty) -> String {
    match cx.lang {
        app_core::messages::Lang::Zh => p.zh(),
        app_core::messages::Lang::En => {
            let mut parts = Vec::new();
            if p.fine_yuan > 0 {
                parts.push(format!("fine of {} yuan", p.fine_yuan));
            }
            parts.extend(p.other.iter().map(|o| o.label_zh().to_owned()));
            if parts.is_empty() {
                "no penalty".into()
            } else {
                parts.join("; ")
            }
        }
    }
}

fn render_case(
    state: &AppState,
    cx: &Console,
    view: &CaseView,
    done: Option<&str>,
    refused: Option<(&str, &str)>,
) -> Html<String> {
    let case = &view.case;
    let id = case.id.as_str();
    let next = |kind| {
        view.next_numbers
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(1, |(_, n)| *n)
    };
    let action_url = format!("/console/cases/{}/act", encode(id));
    let proposed = case
        .notice()
        .map(|n| n.proposal.penalty.clone())
        .or_else(|| case.proposal.as_ref().map(|p| p.penalty.clone()));
    let body = html! {
        @if let Some(done) = done {
            p.notice role="status" { (cx.t("已保存：", "Saved: ")) (done) }
        }
        @if let Some((zh, en)) = refused {
            p.error role="alert" { (cx.lang.t(zh, en)) }
        }
        table.summary {
            tr { th { (cx.t("当事人", "Party")) } td { (case.enterprise.name) " (" (case.enterprise.uscc.as_str()) ")" } }
            tr { th { (cx.t("办案单位", "Unit")) } td { (unit_name(state, case.unit.as_str())) } }
            tr { th { (cx.t("阶段", "Stage")) } td id="stage" { (cx.lang.case_stage(case.stage)) } }
            tr { th { (cx.t("案件来源", "Source")) } td { @match &case.source {
                app_core::penalty::CaseSource::Inspection { inspection, .. } => {
                    (cx.t("检查发现", "Inspection")) " "
                    a href={ "/console/records/" (encode(inspection.as_str())) } { (inspection.as_str()) }
                },
                app_core::penalty::CaseSource::Complaint { reference, received_on } => {
                    (cx.t("举报投诉", "Complaint")) " " (reference) " · " (received_on)
                },
                app_core::penalty::CaseSource::Referral { from, reference, received_on } => {
                    (cx.t("移送", "Referral")) " " (from) " " (reference) " · " (received_on)
                },
            } } }
            tr { th { (cx.t("登记时间", "Opened on the tablet")) } td { (when(case.opened_at)) " · " (name_of(state, &case.opened_by)) } }
            @if let Some(f) = &case.filing {
                tr { th { (cx.t("立案审批", "Filing approved")) } td { (f.number) " · " (f.name) " · " (when(f.at)) } }
            }
            tr { th { (cx.t("案情", "Facts")) } td { (case.facts) } }
            tr { th { (cx.t("违法依据", "Provision violated")) } td { (cx.lang.bases(&case.violated)) } }
            tr { th { (cx.t("处罚依据", "Penalty provision")) } td { (cx.lang.bases(&case.penalty_basis)) } }
            tr { th { (cx.t("执法人员", "Inspectors")) } td {
                @for i in case.inspectors.values() { (i.name) " (" (i.certificate.as_str()) ") " }
            } }
            @if let Some(p) = &case.proposal {
                tr { th { (cx.t("拟处罚", "Proposed penalty")) } td {
                    (penalty_text(cx, &p.penalty)) " · " (p.circumstance) " (" (p.grade.label_zh()) ", "
                    (p.fine_min) "–" (p.fine_max) ")"
                } }
            }
            @if let Some(d) = &case.decision {
                tr { th { (cx.t("处罚决定", "Decision")) } td { (d.number) " · " (penalty_text(cx, &d.penalty)) " · " (when(d.at)) } }
            }
            @if let Some(p) = &case.publication {
                tr { th { (cx.t("公示", "Published")) } td id="published" { (p.on) " · " (p.channel) } }
            }
        }
        h2 { (cx.t("期限", "Deadlines")) }
        @if view.deadlines.is_empty() {
            p { (cx.t("立案审批后开始计算期限。", "Deadlines start with the filing approval.")) }
        } @else {
            table id="deadlines" {
                thead { tr { th { (cx.t("事项", "What")) } th { (cx.t("期限", "Due")) } th { (cx.t("完成", "Met")) } th { (cx.t("状态", "State")) } } }
                tbody { @for d in &view.deadlines {
                    tr class=[d.state.is_warning().then_some("warn")] {
                        td { (cx.lang.deadline_kind(&d.kind)) }
                        td { (d.due) }
                        td { @if let Some(m) = d.met_on { (m) } }
                        td { (cx.lang.deadline_state(d.state)) }
                    }
                } }
            }
        }
        h2 { (cx.t("文书", "Documents")) }
        @if case.documents.is_empty() {
            p { (cx.t("尚无文书。", "No documents yet.")) }
        } @else {
            table id="documents" {
                thead { tr { th { (cx.t("文号", "Number")) } th { (cx.t("文书", "Document")) } th { (cx.t("制作", "Made")) } } }
                tbody { @for d in case.documents.values() {
                    tr { td { (d.number) } td { (cx.lang.case_document(d.kind)) } td { (when(d.at)) " · " (name_of(state, &d.by)) } }
                } }
            }
        }
        @if !case.interviews.is_empty() {
            h2 { (cx.t("询问笔录", "Interviews")) }
            table id="interviews" {
                thead { tr { th { (cx.t("文号", "Number")) } th { (cx.t("被询问人", "Interviewee")) } th { (cx.t("时间", "When")) } th { (cx.t("页数", "Pages")) } th { (cx.t("签名", "Signed")) } } }
                tbody { @for i in case.interviews.values() {
                    tr {
                        td { (i.number) }
                        td { (i.interviewee.name) " · " (i.interviewee.position) }
                        td { (when(i.started_at)) }
                        td { (i.pages.len()) }
                        td { (cx.lang.yes_no(i.is_signed())) }
                    }
                } }
            }
        }
        @if !case.media.is_empty() {
            h2 { (cx.t("音视频证据", "Audio and video evidence")) }
            ul id="media" { @for m in case.media.values() {
                @let href = format!("/console/cases/{}/media/{}", encode(id), m.sha256);
                li {
                    @match m.kind {
                        app_core::penalty::MediaKind::Video => video controls preload="metadata" src=(href) {},
                        app_core::penalty::MediaKind::Audio => audio controls preload="metadata" src=(href) {},
                        app_core::penalty::MediaKind::Photo => img src=(href) alt=(m.note) width="240";,
                    }
                    br;
                    a href=(href) { (m.mime) " · " (m.size) " B" } " · " (when(m.captured_at)) " · " (m.note)
                    " · SHA-256 " code { (m.sha256) }
                }
            } }
        }
        @if !view.conflicts.is_empty() {
            h2 { (cx.t("冲突与规则问题", "Conflicts and broken rules")) }
            ul id="conflicts" {
                @for v in case.violations() { li.warn { (cx.lang.err(&v)) } }
                @for c in &view.conflicts {
                    @if let app_core::document::Conflict::Field { path, values } = c {
                        li { (cx.t("并发修改：", "Concurrent edits: ")) code { (path) } " — " (values.join(" / ")) }
                    }
                }
            }
        }
        @if view.may_review {
            section id="decide" {
                h2 { (cx.t("审批", "Approvals")) }
                @match case.stage {
                    CaseStage::Opened => {
                        form method="post" action=(action_url) {
                            input type="hidden" name="csrf" value=(cx.csrf);
                            input type="hidden" name="action" value="approve_filing";
                            h3 { (cx.lang.case_document(app_core::penalty::CaseDocKind::FilingApproval)) }
                            label { (cx.t("文号序号", "Number")) " " input type="number" name="seq" min="1" value=(next(app_core::penalty::CaseDocKind::FilingApproval)); }
                            label { (cx.t("审批意见", "Comment")) " " input type="text" name="comment" value="同意立案"; }
                            button type="submit" { (cx.t("批准立案", "Approve the filing")) }
                        }
                    },
                    CaseStage::LegalReview => {
                        form method="post" action=(action_url) {
                            input type="hidden" name="csrf" value=(cx.csrf);
                            input type="hidden" name="action" value="legal_review";
                            h3 { (cx.lang.case_document(app_core::penalty::CaseDocKind::LegalReview)) }
                            label { (cx.t("文号序号", "Number")) " " input type="number" name="seq" min="1" value=(next(app_core::penalty::CaseDocKind::LegalReview)); }
                            label { (cx.t("审核意见", "Opinion")) " "
                                select name="opinion" {
                                    option value="agree" { (ReviewOpinion::Agree.label_zh()) }
                                    option value="supplement" { (ReviewOpinion::Supplement.label_zh()) }
                                    option value="correct" { (ReviewOpinion::Correct.label_zh()) }
                                }
                            }
                            label { (cx.t("审核意见书", "Text")) textarea name="text" rows="3" {} }
                            button type="submit" { (cx.t("记录法制审核", "Record the legal review")) }
                        }
                    },
                    _ => {},
                }
                @if matches!(case.stage, CaseStage::Notified | CaseStage::Defence | CaseStage::LegalReview) {
                    form method="post" action=(action_url) {
                        input type="hidden" name="csrf" value=(cx.csrf);
                        input type="hidden" name="action" value="decide";
                        h3 { (cx.lang.case_document(app_core::penalty::CaseDocKind::Decision)) }
                        label { (cx.t("文号序号", "Number")) " " input type="number" name="seq" min="1" value=(next(app_core::penalty::CaseDocKind::Decision)); }
                        label { (cx.t("罚款（元）", "Fine (yuan)")) " " input type="number" name="fine" min="0" value=(proposed.as_ref().map_or(0, |p| p.fine_yuan)); }
                        @for o in ALL_OTHER {
                            label { input type="checkbox" name="other" value=(other_code(o)) checked[proposed.as_ref().is_some_and(|p| p.other.contains(&o))]; " " (other_label(o)) }
                        }
                        button type="submit" { (cx.t("作出处罚决定", "Decide")) }
                    }
                }
                @if case.stage.is_decided() && case.publication.is_none() {
                    form method="post" action=(action_url) id="publish" {
                        input type="hidden" name="csrf" value=(cx.csrf);
                        input type="hidden" name="action" value="publish";
                        h3 { (cx.t("公示处罚决定", "Publish the decision")) }
                        label { (cx.t("公示日期", "Published on")) " " input type="date" name="on" value=(super::today(state)); }
                        label { (cx.t("公示渠道", "Where")) " " input type="text" name="channel" value="本单位门户网站"; }
                        button type="submit" { (cx.t("记录公示", "Record the publication")) }
                    }
                }
                @if case.stage == CaseStage::Executing {
                    form method="post" action=(action_url) {
                        input type="hidden" name="csrf" value=(cx.csrf);
                        input type="hidden" name="action" value="close";
                        h3 { (cx.lang.case_document(app_core::penalty::CaseDocKind::ClosingApproval)) }
                        label { (cx.t("文号序号", "Number")) " " input type="number" name="seq" min="1" value=(next(app_core::penalty::CaseDocKind::ClosingApproval)); }
                        label { (cx.t("审批意见", "Comment")) " " input type="text" name="comment" value="同意结案"; }
                        button type="submit" { (cx.t("批准结案", "Approve closing")) }
                    }
                }
            }
        }
        h2 { (cx.t("电子案卷", "Case file")) }
        form #case-casefile method="post" action={ "/console/cases/" (encode(id)) "/casefile" } {
            input type="hidden" name="csrf" value=(cx.csrf);
            button type="submit" { (cx.t("导出电子案卷（服务器签名）", "Export the case file (signed by this server)")) }
        }
        h2 { (cx.t("操作记录", "Trail")) }
        table id="trail" {
            thead { tr { th { (cx.t("时间", "When")) } th { (cx.t("人员", "Who")) } th { (cx.t("设备", "Device")) } th { (cx.t("操作", "What")) } } }
            tbody { @for e in &view.history {
                tr { @match &e.note {
                    Some(n) => {
                        td { (n.at.map(when).unwrap_or_else(|| when(Timestamp(e.time * 1000)))) }
                        td { (name_of(state, &n.by)) }
                        td { @if n.device.as_str() == crate::store::records::SERVER_DEVICE { (cx.t("控制台", "Console")) } @else { (n.device.as_str()) } }
                        td { (n.command) }
                    },
                    None => { td { (when(Timestamp(e.time * 1000))) } td {} td {} td { (cx.t("（无说明）", "(no note)")) } },
                } }
            } }
        }
        p { a href="/console/cases" { (cx.t("返回案件列表", "Back to the cases")) } }
    };
    page(cx, "cases", &case.enterprise.name, body)
}

const ALL_OTHER: [OtherPenalty; 7] = [
    OtherPenalty::Warning,
    OtherPenalty::Confiscation,
    OtherPenalty::SuspendLicence,
    OtherPenalty::SuspendProduction,
    OtherPenalty::RevokeLicence,
    OtherPenalty::Closure,
    OtherPenalty::RestrictPractice,
];

fn other_code(o: OtherPenalty) -> String {
    serde_json::to_string(&o)
        .map(|s| s.trim_matches('"').to_owned())
        .unwrap_or_default()
}

fn bad(zh: &str, en: &str) -> ConsoleError {
    ConsoleError::Invalid {
        zh: zh.to_owned(),
        en: en.to_owned(),
    }
}

fn action_of(form: &super::form::FormData) -> ConsoleResult<ConsoleAction> {
    let seq = || {
        form.get("seq")
            .and_then(|s| s.trim().parse::<u32>().ok())
            .ok_or_else(|| {
                bad(
                    "请填写文号序号（正整数）。",
                    "Give the number's sequence (a positive whole number).",
                )
            })
    };
    let text = |k: &str| form.get(k).unwrap_or_default().trim().to_owned();
    if form.get("action") == Some("publish") {
        let on = app_core::geo::Day::parse(&text("on")).map_err(|_| {
            bad(
                "请按 2026-12-07 的格式填写公示日期。",
                "Give the publication day as 2026-12-07.",
            )
        })?;
        return Ok(ConsoleAction::Publish {
            on,
            channel: text("channel"),
        });
    }
    let seq = seq()?;
    Ok(match form.get("action") {
        Some("approve_filing") => ConsoleAction::ApproveFiling {
            seq,
            comment: text("comment"),
        },
        Some("legal_review") => ConsoleAction::RecordLegalReview {
            seq,
            opinion: match form.get("opinion") {
                Some("agree") => ReviewOpinion::Agree,
                Some("supplement") => ReviewOpinion::Supplement,
                Some("correct") => ReviewOpinion::Correct,
                _ => return Err(bad("请选择审核意见。", "Choose an opinion.")),
            },
            text: text("text"),
        },
        Some("decide") => {
            let fine_yuan = form
                .get("fine")
                .map_or(Some(0), |s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    bad(
                        "罚款金额须为整数（元）。",
                        "The fine must be a whole number of yuan.",
                    )
                })?;
            let mut other = BTreeSet::new();
            for code in form.all("other") {
                let o = ALL_OTHER
                    .into_iter()
                    .find(|o| other_code(*o) == code)
                    .ok_or_else(|| bad("未知的处罚种类。", "Unknown kind of penalty."))?;
                other.insert(o);
            }
            ConsoleAction::Decide {
                seq,
                penalty: Penalty { fine_yuan, other },
            }
        }
        Some("close") => ConsoleAction::Close {
            seq,
            comment: text("comment"),
        },
        _ => return Err(bad("未知的操作。", "Unknown action.")),
    })
}

/// `POST /console/cases/{id}/act`: one supervisor action; refused by the rules, the case page
/// again with the reason (422).
pub async fn act(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let action = action_of(&form)?;
    let name = action.name();
    let (reference, user, cid) = (state.reference.clone(), cx.user.clone(), id.clone());
    let now = Timestamp(state.now().saturating_mul(1000));
    let outcome = state
        .db
        .call(
            move |conn| -> ConsoleResult<Result<String, (String, String)>> {
                match case_pages::act(conn, &reference, &user, &cid, action, now) {
                    Ok(number) => Ok(Ok(number)),
                    Err(ActError::Refused { zh, en }) => Ok(Err((zh, en))),
                    Err(e) => Err(e.into()),
                }
            },
        )
        .await?;
    match outcome {
        Ok(number) => {
            tracing::info!(user = %cx.user.id, case = %id, action = name, "case action");
            super::audit::record(&state, &cx, name, &id).await;
            let done = if number.is_empty() {
                cx.t("公示", "Publication").to_owned()
            } else {
                number
            };
            super::redirect(format!(
                "/console/cases/{}?done={}",
                encode(&id),
                encode(&done)
            ))
        }
        Err((zh, en)) => {
            let view = load_view(&state, &cx, id).await?;
            let mut resp = render_case(&state, &cx, &view, None, Some((&zh, &en))).into_response();
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}

/// `GET /console/cases/{id}/media/{sha256}`: a media original the case names, to a viewer
/// who may read the case; whole or by range (seeking), like a photo's original.
pub async fn media(
    State(state): State<AppState>,
    cx: Console,
    Path((id, raw)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ConsoleResult<Response> {
    let sha = Sha256Hex::parse(&raw).map_err(|_| ConsoleError::NotFound)?;
    let view = load_view(&state, &cx, id).await?;
    let Some(m) = view.case.media.get(&sha) else {
        return Err(ConsoleError::NotFound);
    };
    let mime = if m.mime.is_empty() || m.mime.contains(['\r', '\n']) {
        "application/octet-stream".to_owned()
    } else {
        m.mime.clone()
    };
    let mut resp = match crate::blobs::ranged_response(&state.blobs, &sha, &headers, &mime).await {
        Ok(Some(resp)) => resp,
        Ok(None) => return Err(ConsoleError::NotFound),
        Err(e) => return Err(crate::internal!("reading media {sha}: {e}").into()),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// The unit's penalty rules

/// The unit whose rules a page shows: `unit` if the viewer oversees it, else the viewer's own.
fn rules_unit(cx: &Console, state: &AppState) -> ConsoleResult<UnitId> {
    let overseen = readable_units(cx, state);
    if overseen.is_empty() {
        return Err(ConsoleError::NotFound);
    }
    let wanted = cx.query.get("unit").unwrap_or(cx.user.unit.as_str());
    overseen
        .iter()
        .find(|u| u.id.as_str() == wanted)
        .map(|u| u.id.clone())
        .ok_or(ConsoleError::NotFound)
}

fn period_field(cx: &Console, name: &str, label: &str, p: Period) -> Markup {
    html! {
        tr {
            th { (label) }
            td {
                input type="number" name={ (name) "_days" } min="1" max="3650" value=(p.days);
                " "
                select name={ (name) "_counting" } {
                    option value="calendar" selected[p.counting == Counting::Calendar] { (cx.t("自然日", "calendar days")) }
                    option value="working" selected[p.counting == Counting::Working] { (cx.t("工作日", "working days")) }
                }
            }
        }
    }
}

fn from_note(cx: &Console, state: &AppState, unit: &UnitId, from: Option<&UnitId>) -> Markup {
    html! {
        p.from { @match from {
            None => (cx.t("（使用系统默认值）", "(the system's default)")),
            Some(f) if f == unit => (cx.t("（本单位设置）", "(set by this unit)")),
            Some(f) => { (cx.t("（沿用上级单位：", "(inherited from ")) (unit_name(state, f.as_str())) (cx.t("）", ")")) },
        } }
    }
}

fn days_text(days: &BTreeSet<app_core::geo::Day>) -> String {
    days.iter().map(|d| format!("{d}\n")).collect()
}

/// What the rules page shows besides the rules: a notice, an edit's problems, and the text
/// typed into the table or the blacklist rules (kept when refused).
#[derive(Default)]
struct RulesEdit<'a> {
    notice: Option<&'a str>,
    problems: &'a [String],
    table: Option<&'a str>,
    blacklist: Option<&'a str>,
}

fn render_rules(
    state: &AppState,
    cx: &Console,
    unit: &UnitId,
    rules: &CaseRules,
    edit: RulesEdit<'_>,
) -> Html<String> {
    let RulesEdit {
        notice,
        problems,
        table: typed_table,
        blacklist: typed_blacklist,
    } = edit;
    let s = &rules.settings;
    let q = format!("?unit={}", encode(unit.as_str()));
    let overseen = readable_units(cx, state);
    let body = html! {
        form method="get" action="/console/penalty-rules" {
            label { (cx.t("单位", "Unit")) " "
                select name="unit" { @for u in &overseen {
                    option value=(u.id.as_str()) selected[u.id == *unit] { (u.name) }
                } }
            }
            " " button type="submit" { (cx.t("查看", "Show")) }
        }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if !problems.is_empty() {
            div.error role="alert" {
                p { (cx.t("未保存，请修改以下问题：", "Nothing was saved; correct these:")) }
                ul id="problems" { @for p in problems { li { (p) } } }
            }
        }
        h2 { (cx.t("期限与金额", "Periods and amounts")) }
        (from_note(cx, state, unit, rules.settings_from.as_ref()))
        form method="post" action={ "/console/penalty-rules/settings" (q) } {
            input type="hidden" name="csrf" value=(cx.csrf);
            table {
                (period_field(cx, "decision", cx.t("作出处罚决定（自立案）", "Decision (from opening)"), s.decision_period))
                (period_field(cx, "statement", cx.t("陈述申辩期", "Statement and defence"), s.statement_period))
                (period_field(cx, "hearing_request", cx.t("听证申请期", "Hearing request"), s.hearing_request_period))
                (period_field(cx, "hearing_notice", cx.t("听证提前通知", "Hearing notice"), s.hearing_notice_period))
                (period_field(cx, "publication", cx.t("公示期限（自决定）", "Publication (from the decision)"), s.publication_period))
                (period_field(cx, "payment", cx.t("缴纳罚款期限", "Payment"), s.payment_period))
                (period_field(cx, "preservation", cx.t("先行登记保存处理期限", "Preserved evidence decided"), s.preservation_period))
                tr { th { (cx.t("听证罚款数额（元，起）", "Hearing from a fine of (yuan)")) } td { input type="number" name="hearing_fine_threshold" min="0" value=(s.hearing_fine_threshold); } }
                tr { th { (cx.t("重大案件罚款数额（元，起；空为不设）", "Major from a fine of (yuan; empty: none)")) } td { input type="number" name="major_fine_threshold" min="0" value=[s.major_fine_threshold]; } }
                tr { th { (cx.t("到期前提醒天数", "Warn days before")) } td { input type="number" name="warn_days" min="0" max="365" value=(s.warn_days); } }
            }
            button type="submit" { (cx.t("保存设置", "Save the settings")) }
        }
        (clear_form(cx, &q, "settings", rules.settings_from.as_ref() == Some(unit)))
        h2 { (cx.t("工作日历", "Working-day calendar")) }
        (from_note(cx, state, unit, rules.calendar_from.as_ref()))
        form method="post" action={ "/console/penalty-rules/calendar" (q) } {
            input type="hidden" name="csrf" value=(cx.csrf);
            p { (cx.t("每行一个日期（YYYY-MM-DD）。", "One date a line (YYYY-MM-DD).")) }
            div.columns {
                label { (cx.t("法定节假日及调休放假", "Holidays")) br; textarea name="holidays" rows="12" cols="14" { (days_text(&rules.calendar.holidays)) } }
                label { (cx.t("调休上班的周末", "Weekend working days")) br; textarea name="workdays" rows="12" cols="14" { (days_text(&rules.calendar.workdays)) } }
            }
            button type="submit" { (cx.t("保存日历", "Save the calendar")) }
        }
        (clear_form(cx, &q, "calendar", rules.calendar_from.as_ref() == Some(unit)))
        h2 { (cx.t("裁量基准", "Discretion table")) }
        (from_note(cx, state, unit, rules.discretion_from.as_ref()))
        @if let Some(t) = &rules.discretion {
            p { (t.id) " · " (cx.t("第", "version ")) (t.version) (cx.t(" 版 · 发布于 ", " · published ")) (t.published) }
            table id="discretion" {
                thead { tr { th { (cx.t("编号", "Code")) } th { (cx.t("处罚依据", "Provision")) } th { (cx.t("违法情节", "Circumstance")) } th { (cx.t("档次", "Grade")) } th { (cx.t("罚款幅度（元）", "Fine (yuan)")) } th { (cx.t("其他处罚", "Other")) } } }
                tbody { @for r in &t.rows {
                    tr { td { (r.code) } td { (r.basis) } td { (r.circumstance) } td { (r.grade.label_zh()) } td { (r.fine_min) "–" (r.fine_max) }
                         td { (r.other.iter().map(|o| o.label_zh()).collect::<Vec<_>>().join("、")) } }
                } }
            }
        } @else {
            p { (cx.t("尚无裁量基准：拟处罚无法提出。", "No discretion table: no penalty can be proposed.")) }
        }
        form method="post" action={ "/console/penalty-rules/discretion" (q) } {
            input type="hidden" name="csrf" value=(cx.csrf);
            p { (cx.t("粘贴 TOML 格式的裁量基准（[[provision]] 法定幅度，[[row]] 裁量情节）。", "Paste the table as TOML ([[provision]] statutory ranges, [[row]] circumstances).")) }
            textarea name="table" rows="20" cols="90" { (typed_table.or(rules.discretion_text.as_deref()).unwrap_or_default()) }
            br;
            button type="submit" { (cx.t("保存裁量基准", "Save the table")) }
        }
        (clear_form(cx, &q, "discretion", rules.discretion_from.as_ref() == Some(unit)))
        h2 { (cx.t("失信名单规则", "Blacklist rules")) }
        (from_note(cx, state, unit, rules.blacklist_from.as_ref()))
        @if rules.blacklist.is_empty() {
            p { (cx.t("尚无规则：不列入失信名单。", "No rules: no enterprise is listed.")) }
        } @else {
            table id="blacklist-rules" {
                thead { tr { th { (cx.t("编号", "Id")) } th { (cx.t("列入理由", "Reason")) } th { (cx.t("条件", "Condition")) } th { (cx.t("列入天数", "Days listed")) } } }
                tbody { @for r in &rules.blacklist {
                    tr { td { (r.id) } td { (r.reason) } td { (condition_text(cx, &r.condition)) } td { (r.listed_days) } }
                } }
            }
        }
        form method="post" action={ "/console/penalty-rules/blacklist" (q) } {
            input type="hidden" name="csrf" value=(cx.csrf);
            p { (cx.t("TOML 格式，每条规则一个 [[rule]]：id、reason、listed_days、condition（when = repeated / fine_at_least / penalty / major）。", "TOML, one [[rule]] each: id, reason, listed_days, condition (when = repeated / fine_at_least / penalty / major).")) }
            textarea name="rules" rows="10" cols="90" { (typed_blacklist.or(rules.blacklist_text.as_deref()).unwrap_or_default()) }
            br;
            button type="submit" { (cx.t("保存规则", "Save the rules")) }
        }
        (clear_form(cx, &q, "blacklist", rules.blacklist_from.as_ref() == Some(unit)))
    };
    page(cx, "cases", cx.t("处罚裁量设置", "Penalty rules"), body)
}

fn clear_form(cx: &Console, q: &str, part: &str, own: bool) -> Markup {
    html! {
        @if own {
            form method="post" action={ "/console/penalty-rules/clear" (q) } {
                input type="hidden" name="csrf" value=(cx.csrf);
                input type="hidden" name="part" value=(part);
                button type="submit" { (cx.t("删除本单位设置（沿用上级）", "Remove this unit's own (inherit)")) }
            }
        }
    }
}

async fn rules_of(state: &AppState, unit: &UnitId) -> ConsoleResult<CaseRules> {
    let (reference, unit) = (state.reference.clone(), unit.clone());
    super::with_db(state, move |conn| {
        case_rules::rules_for(conn, &reference.units, &unit)
    })
    .await
}

/// `GET /console/penalty-rules[?unit=]`.
pub async fn rules_page(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let unit = rules_unit(&cx, &state)?;
    let rules = rules_of(&state, &unit).await?;
    let notice = cx.query.get("saved").map(|_| cx.t("已保存。", "Saved."));
    let edit = RulesEdit {
        notice,
        ..RulesEdit::default()
    };
    Ok(render_rules(&state, &cx, &unit, &rules, edit).into_response())
}

fn parse_period(form: &super::form::FormData, name: &str) -> Option<Period> {
    let days = form.get(&format!("{name}_days"))?.trim().parse().ok()?;
    let counting = match form.get(&format!("{name}_counting"))? {
        "calendar" => Counting::Calendar,
        "working" => Counting::Working,
        _ => return None,
    };
    Some(Period { days, counting })
}

fn settings_of(form: &super::form::FormData) -> Result<PenaltySettings, String> {
    let period = |name: &str| parse_period(form, name).ok_or_else(|| name.to_owned());
    let number = |name: &str| {
        form.get(name)
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| name.to_owned())
    };
    Ok(PenaltySettings {
        decision_period: period("decision")?,
        statement_period: period("statement")?,
        hearing_request_period: period("hearing_request")?,
        publication_period: period("publication")?,
        payment_period: period("payment")?,
        preservation_period: period("preservation")?,
        hearing_notice_period: period("hearing_notice")?,
        hearing_fine_threshold: number("hearing_fine_threshold")?,
        major_fine_threshold: match form.get("major_fine_threshold").map(str::trim) {
            None | Some("") => None,
            Some(_) => Some(number("major_fine_threshold")?),
        },
        warn_days: u32::try_from(number("warn_days")?).map_err(|_| "warn_days".to_owned())?,
    })
}

/// `POST /console/penalty-rules/{part}?unit=`: saves one part of the unit's rules; refused,
/// the page again with every problem (422) and, for the table, the text as typed.
pub async fn save_rules(
    State(state): State<AppState>,
    cx: Console,
    Path(part): Path<String>,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let unit = rules_unit(&cx, &state)?;
    if cx.user.role != app_core::user::Role::Supervisor {
        return Err(ConsoleError::NotFound);
    }
    let (by, now) = (cx.user.id.to_string(), state.now().saturating_mul(1000));
    let lang = cx.lang;
    let mut typed = None;
    let problems: Vec<String> = match part.as_str() {
        "settings" => match settings_of(&form) {
            Err(field) => vec![format!("{}: {field}", lang.t("无效的值", "invalid value"))],
            Ok(settings) => {
                let u = unit.clone();
                store_edit(&state, lang, move |conn| {
                    case_rules::set_settings(conn, &u, settings, &by, now)
                })
                .await?
            }
        },
        "calendar" => {
            let parsed =
                case_rules::parse_days(form.get("holidays").unwrap_or_default()).and_then(|h| {
                    case_rules::parse_days(form.get("workdays").unwrap_or_default()).map(|w| {
                        WorkCalendar {
                            holidays: h,
                            workdays: w,
                        }
                    })
                });
            match parsed {
                Err(e) => edit_problems(lang, e)?,
                Ok(calendar) => {
                    let u = unit.clone();
                    store_edit(&state, lang, move |conn| {
                        case_rules::set_calendar(conn, &u, calendar, &by, now)
                    })
                    .await?
                }
            }
        }
        "discretion" => {
            let text = form.get("table").unwrap_or_default().replace("\r\n", "\n");
            typed = Some(text.clone());
            let u = unit.clone();
            store_edit(&state, lang, move |conn| {
                case_rules::set_discretion(conn, &u, &text, &by, now).map(drop)
            })
            .await?
        }
        "blacklist" => {
            let text = form.get("rules").unwrap_or_default().replace("\r\n", "\n");
            typed = Some(text.clone());
            let u = unit.clone();
            store_edit(&state, lang, move |conn| {
                case_rules::set_blacklist(conn, &u, &text, &by, now).map(drop)
            })
            .await?
        }
        "clear" => {
            let which = match form.get("part") {
                Some("settings") => RulesPart::Settings,
                Some("calendar") => RulesPart::Calendar,
                Some("discretion") => RulesPart::Discretion,
                Some("blacklist") => RulesPart::Blacklist,
                _ => return Err(bad("未知的设置项。", "Unknown part.")),
            };
            let u = unit.clone();
            super::with_db(&state, move |conn| {
                case_rules::clear_part(conn, &u, which, &by, now)
            })
            .await?;
            Vec::new()
        }
        _ => return Err(ConsoleError::NotFound),
    };
    if problems.is_empty() {
        super::audit::record(&state, &cx, &format!("penalty_rules_{part}"), unit.as_str()).await;
        return super::redirect(format!(
            "/console/penalty-rules?unit={}&saved=1",
            encode(unit.as_str())
        ));
    }
    let rules = rules_of(&state, &unit).await?;
    let (table, listing) = match part.as_str() {
        "blacklist" => (None, typed.as_deref()),
        _ => (typed.as_deref(), None),
    };
    let edit = RulesEdit {
        notice: None,
        problems: &problems,
        table,
        blacklist: listing,
    };
    let mut resp = render_rules(&state, &cx, &unit, &rules, edit).into_response();
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

/// Runs one edit of a unit's rules on the database: no problems when it was stored, else
/// every problem as the page lists them.
async fn store_edit(
    state: &AppState,
    lang: Lang,
    edit: impl FnOnce(&mut crate::store::any::AnyConn) -> Result<(), RulesEditError> + Send + 'static,
) -> ConsoleResult<Vec<String>> {
    let refused = super::with_db(state, move |conn| {
        Ok::<_, crate::store::StoreError>(edit(conn).err())
    })
    .await?;
    match refused {
        None => Ok(Vec::new()),
        Some(e) => edit_problems(lang, e),
    }
}

/// An edit's problems as the page lists them; a storage failure is an error.
fn edit_problems(lang: super::Lang, e: RulesEditError) -> ConsoleResult<Vec<String>> {
    Ok(match e {
        RulesEditError::Calendar(list) => list.iter().map(|p| lang.err(p)).collect(),
        RulesEditError::Table(list) => list.iter().map(|p| lang.err(p)).collect(),
        RulesEditError::Blacklist(list) => list.iter().map(|p| lang.err(p)).collect(),
        RulesEditError::CalendarLine(n, text) => vec![match lang {
            super::Lang::Zh => format!("第 {n} 行“{text}”不是 YYYY-MM-DD 格式的日期"),
            super::Lang::En => format!("line {n}: {text:?} is not a date YYYY-MM-DD"),
        }],
        RulesEditError::Setting(name) => vec![match lang {
            super::Lang::Zh => format!("{name} 超出允许范围（期限 1–3650 天，提醒 0–365 天）"),
            super::Lang::En => {
                format!("{name} is out of range (periods 1–3650 days, warning 0–365)")
            }
        }],
        RulesEditError::Store(e) => return Err(e.into()),
    })
}

fn condition_text(cx: &Console, c: &BlacklistCondition) -> String {
    match (cx.lang, c) {
        (Lang::Zh, BlacklistCondition::Repeated { count, within_days }) => {
            format!("{within_days} 日内受到 {count} 次以上处罚")
        }
        (Lang::En, BlacklistCondition::Repeated { count, within_days }) => {
            format!("{count} or more decisions within {within_days} days")
        }
        (Lang::Zh, BlacklistCondition::FineAtLeast { yuan }) => format!("单次罚款 {yuan} 元以上"),
        (Lang::En, BlacklistCondition::FineAtLeast { yuan }) => {
            format!("a single fine of {yuan} yuan or more")
        }
        (_, BlacklistCondition::Penalty { kind }) => kind.label_zh().to_owned(),
        (Lang::Zh, BlacklistCondition::Major) => "重大案件".to_owned(),
        (Lang::En, BlacklistCondition::Major) => "a major case".to_owned(),
    }
}

/// `GET /console/violations`: the violation history (违法信息库) of the enterprises with a
/// decided case in the viewer's units, and their blacklist listings (失信名单) by their
/// unit's rules; listed enterprises first.
pub async fn violations(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (units, _) = searched_units(&cx, &state);
    let (reference, user, day) = (state.reference.clone(), cx.user.clone(), today(&state));
    let records = super::with_db(&state, move |conn| {
        case_pages::enterprise_records(conn, &reference, &user, &units, day)
    })
    .await?;
    let body = html! {
        p { a href="/console/penalty-rules" { (cx.t("失信名单规则", "Blacklist rules")) } }
        @if records.is_empty() {
            p { (cx.t("尚无作出处罚决定的案件。", "No case has been decided yet.")) }
        }
        @for r in &records {
            section data-enterprise=(r.enterprise) {
                h2 {
                    (r.name)
                    @if r.listed(day) { " " span.bad.listed { (cx.t("失信名单", "Blacklisted")) } }
                }
                @if !r.listings.is_empty() {
                    table.listings {
                        thead { tr { th { (cx.t("规则", "Rule")) } th { (cx.t("理由", "Reason")) } th { (cx.t("列入日期", "Listed on")) } th { (cx.t("截止日期", "Until")) } th { (cx.t("状态", "State")) } th { (cx.t("案件", "Cases")) } } }
                        tbody { @for l in &r.listings {
                            tr {
                                td { (l.rule) } td { (l.reason) } td { (l.listed_on) } td { (l.ends_on) }
                                td { @if l.is_active(day) { (cx.t("在列", "active")) } @else { (cx.t("已届满", "ended")) } }
                                td { @for c in &l.cases { a href={ "/console/cases/" (encode(c.as_str())) } { (c.as_str()) } " " } }
                            }
                        } }
                    }
                }
                table.history {
                    thead { tr { th { (cx.t("决定日期", "Decided")) } th { (cx.t("决定书文号", "Decision")) } th { (cx.t("处罚依据", "Provision")) } th { (cx.t("处罚", "Penalty")) } } }
                    tbody { @for e in &r.history {
                        tr {
                            td { (e.decided_on) }
                            td { a href={ "/console/cases/" (encode(e.case.as_str())) } { (e.decision) } }
                            td { (e.basis.to_string()) }
                            td { (penalty_text(&cx, &e.penalty)) }
                        }
                    } }
                }
            }
        }
    };
    Ok(page(
        &cx,
        "cases",
        cx.t("违法信息与失信名单", "Violations and blacklist"),
        body,
    ))
}

impl Bilingual for ActError {
    fn zh(&self) -> String {
        match self {
            ActError::Refused { zh, .. } => zh.clone(),
            other => other.to_string(),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}
