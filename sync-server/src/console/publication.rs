//! 一公开: the results of random-draw (双随机) checks in a period, for publication, as a page
//! and as CSV.

use super::export::{self, CSV};
use super::i18n::Lang;
use super::layout::{page as render_page, when};
use super::query::RecordRow;
use super::{Console, ConsoleResult, period_params, searched_units, today, with_db};
use crate::service::reports;
use crate::state::AppState;
use app_core::geo::{Day, Timestamp};
use app_core::inspection::InspectionStatus;
use axum::extract::State;
use axum::response::{Html, Response};
use maud::html;

/// The rows to publish and the period they cover.
async fn rows(state: &AppState, cx: &Console) -> ConsoleResult<(Vec<RecordRow>, Day, Day)> {
    let (units, _) = searched_units(cx, state);
    let (from, to) = period_params(cx)?;
    let (from, to) = reports::period_or_year_to_date(from, to, today(state));
    let rows = with_db(state, move |conn| reports::published(conn, units, from, to)).await?;
    Ok((rows, from, to))
}

fn cells(state: &AppState, r: &RecordRow, lang: Lang) -> Vec<String> {
    let uscc = state
        .reference
        .enterprises
        .iter()
        .find(|e| e.id.as_str() == r.enterprise_id)
        .map(|e| e.uscc.as_str().to_owned())
        .unwrap_or_default();
    let result = if r.hazards == 0 {
        lang.t("未发现问题", "No problems found").to_owned()
    } else {
        match lang {
            Lang::Zh => format!("发现隐患 {} 项，已责令整改", r.hazards),
            Lang::En => format!("{} hazard(s) found, rectification ordered", r.hazards),
        }
    };
    vec![
        r.enterprise_name.clone(),
        uscc,
        when(Timestamp(r.visit_at))[..10].to_owned(),
        r.inspectors.clone(),
        result,
        InspectionStatus::parse(&r.status)
            .map(|s| lang.status(s).to_owned())
            .unwrap_or_default(),
        r.id.clone(),
    ]
}

const HEADER_ZH: [&str; 7] = [
    "企业名称",
    "统一社会信用代码",
    "检查日期",
    "执法人员",
    "检查结果",
    "状态",
    "记录编号",
];
const HEADER_EN: [&str; 7] = [
    "Enterprise",
    "USCC",
    "Date",
    "Inspectors",
    "Result",
    "Status",
    "Record",
];

pub async fn page(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (rows, from, to) = rows(&state, &cx).await?;
    let readable = super::readable_units(&cx, &state);
    let header = match cx.lang {
        Lang::Zh => HEADER_ZH,
        Lang::En => HEADER_EN,
    };
    let keep = format!(
        "from={from}&to={to}{}",
        cx.query
            .get("unit")
            .map(|u| format!("&unit={}", super::form::encode(u)))
            .unwrap_or_default()
    );
    let body = html! {
        form.filters method="get" action="/console/publication" {
            label { (cx.t("单位", "Unit"))
                select name="unit" {
                    option value="" { (cx.t("全部", "All")) }
                    @for u in &readable { option value=(u.id) selected[cx.query.get("unit") == Some(u.id.as_str())] { (u.name) } }
                }
            }
            label { (cx.t("自", "From")) input type="date" name="from" value=(from); }
            label { (cx.t("至", "To")) input type="date" name="to" value=(to); }
            button type="submit" { (cx.t("查询", "Show")) }
            a #export-publication href={ "/console/publication.csv?" (keep) } { (cx.t("导出 CSV", "Export CSV")) }
        }
        p.muted { (cx.t("双随机抽查结果（已完成的检查）", "Results of random-draw checks (visits that took place)")) " · " (from) " — " (to) }
        table #publication {
            thead { tr { @for h in header { th { (h) } } } }
            tbody {
                @if rows.is_empty() { tr.empty { td colspan=(header.len()) { (cx.t("暂无", "None")) } } }
                @for r in &rows { tr { @for c in cells(&state, r, cx.lang) { td { (c) } } } }
            }
        }
    };
    Ok(render_page(
        &cx,
        "publication",
        cx.t(
            "一公开：双随机抽查结果",
            "Publication of random-draw results",
        ),
        body,
    ))
}

pub async fn csv(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (rows, from, to) = rows(&state, &cx).await?;
    let header: &[&str] = match cx.lang {
        Lang::Zh => &HEADER_ZH,
        Lang::En => &HEADER_EN,
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(&state, r, cx.lang)).collect();
    super::audit::record(
        &state,
        &cx,
        "export_table",
        &format!("random-draw-results-{from}-{to}.csv"),
    )
    .await;
    Ok(export::download(
        export::csv(header, &cells),
        CSV,
        &format!("random-draw-results-{from}-{to}.csv"),
    ))
}
