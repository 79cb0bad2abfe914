//! 双随机 draws: choose the pool (unit, industries, grades) and the roster, run the draw with a
//! published seed (`app_core::draw::run_draw`), see the result and the seed, and seal it into
//! plans assigned to the drawn inspectors. The input is recorded as canonical JSON with the
//! result, so anyone can re-run a past draw — here, from the downloaded input with the Python
//! reference implementation in `app_core::draw`, or by pasting an input — and get the same result.
//! The same input always has the same digest and therefore the same draw and plan ids:
//! sealing it again shows the recorded draw instead of making new plans.

use super::form::{FormData, encode};
use super::layout::{page, when_secs};
use super::{Console, ConsoleError, ConsoleResult, readable_units, with_db};
use crate::plans::DrawRecord;
use crate::service::draws::{self, DrawError};
use crate::state::AppState;
use crate::store::PlanStore;
use app_core::draw::{ALGORITHM, Conflict, DrawInput, DrawResult, PoolFilter, run_draw};
use app_core::enterprise::{Industry, SupervisionGrade};
use app_core::ids::{EnterpriseId, UnitId, UserId};
use app_core::plan::Plan;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeSet;

const GRADES: [SupervisionGrade; 4] = [
    SupervisionGrade::A,
    SupervisionGrade::B,
    SupervisionGrade::C,
    SupervisionGrade::D,
];

fn name_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The names the viewer may see: those of enterprises and inspectors of the units they
/// oversee. A draw input can be pasted or edited to name anyone (the verify form re-runs any
/// input), so every name shown on a draw page goes through here; others are shown by id only.
struct Names<'a> {
    state: &'a AppState,
    units: BTreeSet<UnitId>,
}

impl<'a> Names<'a> {
    fn new(cx: &Console, state: &'a AppState) -> Self {
        Self {
            state,
            units: readable_units(cx, state)
                .into_iter()
                .map(|u| u.id)
                .collect(),
        }
    }

    fn enterprise(&self, id: &EnterpriseId) -> Option<String> {
        self.state
            .reference
            .enterprises
            .iter()
            .find(|e| &e.id == id && self.units.contains(&e.unit))
            .map(|e| e.name.clone())
    }

    fn inspector(&self, id: &UserId) -> Option<String> {
        self.state
            .user(id.as_str())
            .filter(|u| self.units.contains(&u.unit))
            .map(|u| u.name)
    }

    /// Whether every enterprise and inspector of `input` and `result` may be named.
    fn all_visible(&self, input: &DrawInput, result: Option<&DrawResult>) -> bool {
        let enterprises = input.pool.iter().chain(
            result
                .into_iter()
                .flat_map(|r| r.assignments.iter().map(|a| &a.enterprise)),
        );
        let users = input.roster.iter().chain(
            result
                .into_iter()
                .flat_map(|r| r.assignments.iter().flat_map(|a| a.inspectors.iter())),
        );
        self.units.contains(&input.filter.unit)
            && enterprises
                .into_iter()
                .all(|e| self.enterprise(e).is_some())
            && users.into_iter().all(|u| self.inspector(u).is_some())
    }
}

/// An enterprise as the viewer may see it: its name and id, or only its id.
fn enterprise_label(cx: &Console, names: &Names<'_>, id: &EnterpriseId) -> Markup {
    html! {
        @match names.enterprise(id) {
            Some(n) => { (n) },
            None => { span.withheld { span.muted { (cx.t("（非本辖区，不显示名称）", "(outside your units: name not shown)")) } } },
        }
    }
}

/// An inspector as the viewer may see them: name and id, or only the id.
fn inspector_label(cx: &Console, names: &Names<'_>, id: &UserId) -> Markup {
    html! {
        @match names.inspector(id) {
            Some(n) => { (n) },
            None => { span.withheld { span.muted { (cx.t("（非本辖区，不显示姓名）", "(outside your units: name not shown)")) } } },
        }
    }
}

fn user_name(state: &AppState, id: &UserId) -> String {
    state
        .user(id.as_str())
        .map(|u| u.name)
        .unwrap_or_else(|| id.to_string())
}

/// Whether `cx.user` oversees `unit` (a supervisor of it or above).
fn oversees(cx: &Console, state: &AppState, unit: &UnitId) -> bool {
    draws::oversees(&state.reference, &cx.user, unit)
}

/// The inspectors a draw of this user may put on its roster.
/// How many recusal rows (inspector, enterprise) the draw form offers.
const CONFLICT_ROWS: usize = 4;

fn eligible_roster(cx: &Console, state: &AppState) -> Vec<UserId> {
    draws::eligible_roster(&state.reference, &cx.user)
}

pub async fn index(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let units: Vec<String> = readable_units(&cx, &state)
        .iter()
        .map(|u| u.id.to_string())
        .collect();
    let ids = units.clone();
    let draws = with_db(&state, move |conn| conn.draws_of(&ids)).await?;
    let roster = eligible_roster(&cx, &state);
    let readable = readable_units(&cx, &state);
    let in_units: BTreeSet<&str> = readable.iter().map(|u| u.id.as_str()).collect();
    let enterprises: Vec<_> = state
        .reference
        .enterprises
        .iter()
        .filter(|e| in_units.contains(e.unit.as_str()))
        .collect();
    let body = html! {
        section {
            h2 { (cx.t("新的抽查", "New draw")) }
            @if readable.is_empty() {
                p.muted { (cx.t("仅审核人可以抽查。", "Only supervisors run draws.")) }
            } @else {
            form #draw-form method="post" action="/console/draws/run" {
                input type="hidden" name="csrf" value=(cx.csrf);
                fieldset {
                    legend { (cx.t("抽查对象库（企业）", "Pool (enterprises)")) }
                    label { (cx.t("辖区", "Territory")) " "
                        select name="unit" { @for u in &readable { option value=(u.id) { (u.name) } } }
                    }
                    p { (cx.t("行业（不选即全部）", "Industries (none ticked: all)")) ": "
                        @for i in Industry::ALL { label { input type="checkbox" name="industry" value=(name_of(&i)); (i.label_zh()) } " " }
                    }
                    p { (cx.t("监管等级（不选即全部）", "Supervision grades (none ticked: all)")) ": "
                        @for g in GRADES { label { input type="checkbox" name="grade" value=(name_of(&g)); (name_of(&g)) } " " }
                    }
                    p.muted { (cx.t("失信黑名单企业不排除。", "Blacklisted enterprises are not excluded.")) }
                }
                fieldset {
                    legend { (cx.t("执法人员名录", "Inspector roster")) }
                    @for u in &roster { label { input type="checkbox" name="roster" value=(u) checked; (user_name(&state, u)) } " " }
                }
                fieldset #conflicts {
                    legend { (cx.t("回避（执法人员与企业）", "Conflicts of interest (inspector and enterprise)")) }
                    @for _ in 0..CONFLICT_ROWS {
                        p {
                            select name="conflict_inspector" {
                                option value="" { (cx.t("（执法人员）", "(inspector)")) }
                                @for u in &roster { option value=(u) { (user_name(&state, u)) } }
                            }
                            " " (cx.t("回避", "recuses from")) " "
                            select name="conflict_enterprise" {
                                option value="" { (cx.t("（企业）", "(enterprise)")) }
                                @for e in &enterprises { option value=(e.id) { (e.name) } }
                            }
                        }
                    }
                }
                label { (cx.t("抽取企业数", "Enterprises to draw")) " " input type="number" name="targets" min="1" value="1"; }
                label { (cx.t("每家执法人员数", "Inspectors per enterprise")) " " input type="number" name="per_target" min="2" value="2"; }
                label { (cx.t("公开的随机种子", "Published seed")) " " input type="text" name="seed" required; }
                label { (cx.t("检查期限", "Visit by")) " " input type="date" name="due"; }
                button type="submit" { (cx.t("抽取", "Run the draw")) }
            }
            }
        }
        section {
            h2 { (cx.t("已记录的抽查", "Recorded draws")) }
            table #draws {
                thead { tr { th { (cx.t("编号", "Draw")) } th { (cx.t("辖区", "Territory")) } th { (cx.t("种子", "Seed")) } th { (cx.t("抽取", "Drawn")) } th { (cx.t("时间", "When")) } th { (cx.t("人员", "By")) } } }
                @if draws.is_empty() { tr.empty { td colspan="6" { (cx.t("暂无", "None")) } } }
                @for d in &draws {
                    tr {
                        td { a href={ "/console/draws/" (encode(&d.id)) } { (d.id) } }
                        td { (super::unit_name(&state, d.result.unit.as_str())) }
                        td.mono { (d.input.seed) }
                        td { (d.result.assignments.len()) }
                        td { (when_secs(d.drawn_at)) }
                        td { (user_name(&state, &d.drawn_by)) }
                    }
                }
            }
        }
        section {
            h2 { (cx.t("按输入复核抽查", "Re-run a draw from its input")) }
            form method="post" action="/console/draws/verify" {
                input type="hidden" name="csrf" value=(cx.csrf);
                label { (cx.t("抽查输入（JSON）", "Draw input (JSON)")) textarea name="input" {} }
                button type="submit" { (cx.t("复核", "Re-run")) }
            }
        }
    };
    Ok(page(&cx, "draws", cx.t("双随机抽查", "Random draws"), body))
}

/// The draw input described by the form, checked against what the user may use.
fn input_from_form(cx: &Console, state: &AppState, form: &FormData) -> ConsoleResult<DrawInput> {
    let bad = |zh: String, en: String| ConsoleError::Invalid { zh, en };
    let unit = UnitId::new(
        form.get("unit")
            .ok_or_else(|| bad("请选择辖区。".into(), "Choose a territory.".into()))?,
    );
    if !oversees(cx, state, &unit) {
        return Err(ConsoleError::NotFound);
    }
    let parse_list = |key: &str| -> ConsoleResult<Option<Vec<serde_json::Value>>> {
        let values = form.all(key);
        Ok((!values.is_empty())
            .then(|| values.into_iter().map(serde_json::Value::String).collect()))
    };
    let industries: Option<Vec<Industry>> = parse_list("industry")?
        .map(|v| serde_json::from_value(serde_json::Value::Array(v)))
        .transpose()
        .map_err(|e| bad(format!("行业参数无效：{e}"), format!("industry: {e}")))?;
    let grades: Option<Vec<SupervisionGrade>> = parse_list("grade")?
        .map(|v| serde_json::from_value(serde_json::Value::Array(v)))
        .transpose()
        .map_err(|e| bad(format!("监管等级参数无效：{e}"), format!("grade: {e}")))?;
    let filter = PoolFilter {
        unit,
        industries,
        grades,
    };
    let pool = filter.select(&state.reference.enterprises, &state.reference.units);
    let conflicts = form
        .raw("conflicts")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l
                .split([' ', ',', '\t', '，'])
                .filter(|p| !p.is_empty())
                .collect();
            match parts.as_slice() {
                [u, e] => Ok(Conflict::new(*u, *e)),
                _ => Err(bad(
                    format!("回避行 {l:?} 无效：应为执法人员ID和企业ID。"),
                    format!("conflict line {l:?}: expected an inspector id and an enterprise id"),
                )),
            }
        })
        .collect::<ConsoleResult<Vec<_>>>()?;
    // The pickers: an inspector and an enterprise per row; a row with either left blank is
    // no conflict.
    let mut conflicts = conflicts;
    for (u, e) in form
        .all("conflict_inspector")
        .into_iter()
        .zip(form.all("conflict_enterprise"))
    {
        if !u.trim().is_empty() && !e.trim().is_empty() {
            conflicts.push(Conflict::new(u.trim(), e.trim()));
        }
    }
    let number = |key: &str, default: u32| -> ConsoleResult<u32> {
        match form.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                bad(
                    format!("{key} 应为整数（0 至 {}）。", u32::MAX),
                    format!("{key} must be a whole number (0 to {}).", u32::MAX),
                )
            }),
        }
    };
    Ok(DrawInput {
        filter,
        pool,
        roster: form.all("roster").into_iter().map(UserId::new).collect(),
        conflicts,
        targets: number("targets", 1)?,
        inspectors_per_target: number("per_target", 2)?,
        // The seed is used byte for byte, as published.
        seed: form.raw("seed").to_owned(),
    })
}

/// A draw input pasted or posted as JSON; 400 in both languages if it is not one.
fn parse_input(json: &str) -> ConsoleResult<DrawInput> {
    serde_json::from_str(json).map_err(|e| ConsoleError::Invalid {
        zh: format!("抽查输入不是有效的 JSON：{e}"),
        en: format!("The draw input is not valid JSON: {e}"),
    })
}

fn result_table(state: &AppState, cx: &Console, result: &DrawResult, plans: &[Plan]) -> Markup {
    let names = Names::new(cx, state);
    html! {
        table #draw-result {
            thead { tr { th { "#" } th { (cx.t("企业", "Enterprise")) } th { (cx.t("执法人员", "Inspectors")) } th { (cx.t("检查计划", "Plan")) } } }
            tbody {
                @for (i, a) in result.assignments.iter().enumerate() {
                    tr data-enterprise=(a.enterprise) data-inspectors=(a.inspectors.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(",")) {
                        td { (i + 1) }
                        td { (enterprise_label(cx, &names, &a.enterprise)) }
                        td { @for u in &a.inspectors { (inspector_label(cx, &names, u)) " " } }
                        td.mono.plan-id { @if let Some(p) = plans.get(i) { (p.id) } }
                    }
                }
            }
        }
    }
}

fn draw_facts(cx: &Console, result: &DrawResult) -> Markup {
    html! {
        table {
            tr { th { (cx.t("随机种子", "Seed")) } td.mono #seed { (result.seed) } }
            tr { th { (cx.t("输入摘要 SHA-256", "Input digest (SHA-256)")) } td.mono #digest { (result.input_digest) } }
            tr { th { (cx.t("算法", "Algorithm")) } td #algorithm { (cx.lang.draw_algorithm(&result.algorithm)) } }
            tr { th { (cx.t("抽查编号", "Draw id")) } td.mono #draw-id { (result.draw_id()) } }
        }
    }
}

fn refused(cx: &Console, message: String) -> Response {
    let body = html! {
        p.error role="alert" { (cx.t("无法抽取：", "The draw cannot be made: ")) (message) }
        p { a href="/console/draws" { (cx.t("返回", "Back")) } }
    };
    let mut resp = page(cx, "draws", cx.t("抽查未完成", "Draw refused"), body).into_response();
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp
}

/// `POST /console/draws/run`: runs the draw and shows it, not yet sealed.
pub async fn run(
    State(state): State<AppState>,
    cx: Console,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let input = input_from_form(&cx, &state, &form)?;
    let result = match draws::draw(&state.reference, &cx.user, &input) {
        Ok(r) => r,
        Err(DrawError::Refused(reason)) => return Ok(refused(&cx, reason)),
        Err(e) => return Err(e.into()),
    };
    let due = form.get("due").map(str::to_owned);
    let digest = result.input_digest.clone();
    let (reference, user) = (state.reference.clone(), cx.user.clone());
    let existing = with_db(&state, move |conn| {
        draws::recorded_for_input(conn, &reference, &user, &digest)
    })
    .await?
    .map(|(d, _)| d);
    let planned = result.plans(due.as_deref());
    let body = html! {
        (draw_facts(&cx, &result))
        (result_table(&state, &cx, &result, &planned))
        @if let Some(d) = &existing {
            p #already-sealed { (cx.t("同一输入的抽查已记录并生成计划：", "A draw with this very input is already recorded and sealed: "))
                a href={ "/console/draws/" (encode(&d.id)) } { (d.id) } }
        } @else {
            form #seal-form method="post" action="/console/draws/seal" {
                input type="hidden" name="csrf" value=(cx.csrf);
                input type="hidden" name="input" value=(input.canonical_json());
                @if let Some(d) = &due { input type="hidden" name="due" value=(d); }
                button type="submit" { (cx.t("确认并生成密封检查计划", "Seal: create the plans for the drawn inspectors")) }
            }
        }
    };
    Ok(page(
        &cx,
        "draws",
        cx.t("抽查结果（未密封）", "Draw result (not sealed yet)"),
        body,
    )
    .into_response())
}

/// `POST /console/draws/seal`: re-runs the draw from its input and records it with its plans.
pub async fn seal(
    State(state): State<AppState>,
    cx: Console,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let input = parse_input(form.raw("input"))?;
    let due = form.get("due").map(str::to_owned);
    let (record, plans) = match draws::seal(&state.reference, &cx.user, &input, due, state.now()) {
        Ok(sealed) => sealed,
        Err(DrawError::Refused(reason)) => return Ok(refused(&cx, reason)),
        Err(e) => return Err(e.into()),
    };
    let id = record.id.clone();
    with_db(&state, move |conn| draws::record(conn, &record, &plans)).await?;
    tracing::info!(user = %cx.user.id, draw = %id, "draw sealed");
    super::audit::record(&state, &cx, "draw_seal", &id.to_string()).await;
    super::redirect(format!("/console/draws/{}", encode(&id)))
}

async fn load_visible(
    state: &AppState,
    cx: &Console,
    id: String,
) -> ConsoleResult<(DrawRecord, Vec<Plan>)> {
    let (reference, user) = (state.reference.clone(), cx.user.clone());
    with_db(state, move |conn| {
        draws::visible_draw(conn, &reference, &user, &id)
    })
    .await
}

pub async fn show(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Html<String>> {
    let (d, plans) = load_visible(&state, &cx, id).await?;
    let input = &d.input;
    let names = Names::new(&cx, &state);
    let body = html! {
        (draw_facts(&cx, &d.result))
        table {
            tr { th { (cx.t("辖区", "Territory")) } td { (super::unit_name(&state, input.filter.unit.as_str())) } }
            tr { th { (cx.t("行业", "Industries")) } td { @match &input.filter.industries { Some(l) => { @for i in l { (i.label_zh()) " " } }, None => { (cx.t("全部", "all")) } } } }
            tr { th { (cx.t("监管等级", "Grades")) } td { @match &input.filter.grades { Some(l) => { @for g in l { (name_of(g)) " " } }, None => { (cx.t("全部", "all")) } } } }
            tr { th { (cx.t("对象库", "Pool")) } td { @for e in &input.pool { (enterprise_label(&cx, &names, e)) "; " } } }
            tr { th { (cx.t("执法人员名录", "Roster")) } td { @for u in &input.roster { (inspector_label(&cx, &names, u)) "; " } } }
            tr { th { (cx.t("回避", "Conflicts")) } td { @for c in &input.conflicts { (inspector_label(&cx, &names, &c.inspector)) " – " (enterprise_label(&cx, &names, &c.enterprise)) "; " } } }
            tr { th { (cx.t("抽取数 / 每家人数", "Targets / per target")) } td { (input.targets) " / " (input.inspectors_per_target) } }
            tr { th { (cx.t("检查期限", "Visit by")) } td { (d.due.clone().unwrap_or_default()) } }
            tr { th { (cx.t("抽取人 / 时间", "Drawn by / at")) } td { (user_name(&state, &d.drawn_by)) " · " (when_secs(d.drawn_at)) } }
        }
        h2 { (cx.t("结果与密封检查计划", "Result and sealed plans")) }
        (result_table(&state, &cx, &d.result, &plans))
        p {
            a #rerun href={ "/console/draws/" (encode(&d.id)) "/rerun" } { (cx.t("按记录的输入重新抽取并比对", "Re-run from the recorded input and compare")) }
            " · "
            a href={ "/console/draws/" (encode(&d.id)) "/input.json" } { (cx.t("下载抽查输入（JSON，可用文档中的 Python 程序复核）", "Download the input (JSON; re-run it with the documented Python program)")) }
        }
    };
    Ok(page(
        &cx,
        "draws",
        &format!("{} {}", cx.t("抽查", "Draw"), d.id),
        body,
    ))
}

pub async fn input_json(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let (d, _) = load_visible(&state, &cx, id).await?;
    let mut resp = (StatusCode::OK, d.input.canonical_json()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(resp)
}

fn comparison(
    state: &AppState,
    cx: &Console,
    input: &DrawInput,
    recorded: Option<&DrawRecord>,
    plans: &[Plan],
) -> Markup {
    match run_draw(input) {
        Err(e) => {
            html! { p.bad { (cx.t("无法抽取：", "The draw cannot be made: ")) (e.to_string()) } }
        }
        Ok(again) => {
            let same = recorded.map(|r| r.result == again);
            html! {
                (draw_facts(cx, &again))
                @match same {
                    Some(true) => p #rerun-verdict.good data-same="true" { (cx.t("重新抽取的结果与记录完全一致。", "The re-run gives exactly the recorded result.")) },
                    Some(false) => p #rerun-verdict.bad data-same="false" { (cx.t("重新抽取的结果与记录不一致！", "The re-run DIFFERS from the recorded result!")) },
                    None => p #rerun-verdict.muted { (cx.t("没有以此输入记录的抽查。", "No recorded draw has this input.")) },
                }
                (result_table(state, cx, &again, plans))
                p.muted { (cx.t("算法", "Algorithm")) ": " (ALGORITHM) }
            }
        }
    }
}

pub async fn rerun(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Html<String>> {
    let (d, plans) = load_visible(&state, &cx, id).await?;
    let body = html! {
        (comparison(&state, &cx, &d.input, Some(&d), &plans))
        p { a href={ "/console/draws/" (encode(&d.id)) } { (cx.t("返回抽查", "Back to the draw")) } }
    };
    Ok(page(
        &cx,
        "draws",
        cx.t("复核抽查", "Re-run of a draw"),
        body,
    ))
}

/// `POST /console/draws/verify`: runs a pasted input and compares with the recorded draw of the
/// same input, if there is one the user may see.
pub async fn verify(
    State(state): State<AppState>,
    cx: Console,
    body: Bytes,
) -> ConsoleResult<Html<String>> {
    let form = cx.checked_form(&body)?;
    let input = parse_input(form.raw("input"))?;
    let digest = input.digest();
    let (reference, user) = (state.reference.clone(), cx.user.clone());
    let found = with_db(&state, move |conn| {
        draws::recorded_for_input(conn, &reference, &user, &digest)
    })
    .await?;
    let (recorded, plans) = match &found {
        Some((d, p)) => (Some(d), p.as_slice()),
        None => (None, &[][..]),
    };
    let names = Names::new(&cx, &state);
    let again = run_draw(&input).ok();
    let withheld = !names.all_visible(&input, again.as_ref());
    let body = html! {
        @if withheld {
            p #names-withheld.muted role="note" {
                (cx.t("此抽查输入涉及您管辖范围以外的单位、企业或执法人员：复核照常进行，但只显示其编号，不显示名称。",
                      "This draw input involves units, enterprises or inspectors outside the units you oversee: the re-run is done as usual, but they are shown by id only, without names."))
            }
        }
        (comparison(&state, &cx, &input, recorded, plans))
    };
    Ok(page(
        &cx,
        "draws",
        cx.t("复核抽查", "Re-run of a draw"),
        body,
    ))
}
