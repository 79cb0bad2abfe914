//! The hazard ledger (隐患台账): every hazard of the records the user may read, with its stage,
//! deadline, overdue flag (app-core's `Hazard::is_overdue`, as of today in Asia/Shanghai),
//! 挂牌督办 for major hazards and re-inspection results; filtered, and exported as CSV or XLSX.

use super::export::{self, CSV, XLSX};
use super::form::encode;
use super::i18n::Lang;
use super::layout::page;
use super::query::{HazardFilter, HazardRow};
use super::{Console, ConsoleResult, period_params, searched_units, today, unit_name};
use crate::state::AppState;
use crate::store::ConsoleIndex;
use app_core::geo::Day;
use app_core::hazard::{HazardLevel, HazardStage};
use axum::extract::State;
use axum::response::{Html, Response};
use maud::html;

const STAGES: [HazardStage; 5] = [
    HazardStage::Registered,
    HazardStage::Ordered,
    HazardStage::Rectified,
    HazardStage::Reinspected,
    HazardStage::Closed,
];

fn filter(cx: &Console, state: &AppState) -> ConsoleResult<(HazardFilter, Option<String>)> {
    let (units, chosen) = searched_units(cx, state);
    let (from, to) = period_params(cx)?;
    Ok((
        HazardFilter {
            units,
            from,
            to,
            level: cx.query.get("level").map(str::to_owned),
            stage: cx.query.get("stage").map(str::to_owned),
            enterprise: cx.query.get("enterprise").map(str::to_owned),
            overdue: cx.query.get("overdue").is_some(),
            supervised: cx.query.get("supervised").is_some(),
        },
        chosen,
    ))
}

async fn rows(state: &AppState, f: HazardFilter, today: Day) -> ConsoleResult<Vec<HazardRow>> {
    state
        .db
        .call(move |conn| -> ConsoleResult<_> { Ok(conn.list_hazards(&f, today)?) })
        .await
}

fn reinspections(row: &HazardRow, lang: Lang) -> String {
    row.hazard
        .reinspections
        .values()
        .map(|r| {
            let mut s = format!(
                "{} {}",
                r.on,
                if r.passed {
                    lang.t("通过", "passed")
                } else {
                    lang.t("未通过", "failed")
                }
            );
            if let Some(d) = r.new_deadline {
                s.push_str(&format!(" → {d}"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn supervision(row: &HazardRow, lang: Lang) -> String {
    match &row.hazard.supervision {
        Some(s) => format!("{} · {} · {}", s.level, s.responsible, s.listed_on),
        None if row.hazard.level == HazardLevel::Major => lang
            .t(
                "未挂牌（重大隐患须挂牌督办）",
                "not listed (required for major hazards)",
            )
            .into(),
        None => String::new(),
    }
}

const HEADER_ZH: [&str; 13] = [
    "记录编号",
    "单位",
    "企业",
    "隐患描述",
    "位置",
    "级别",
    "阶段",
    "登记日期",
    "整改期限",
    "逾期",
    "挂牌督办",
    "复查结果",
    "销号日期",
];
const HEADER_EN: [&str; 13] = [
    "Record",
    "Unit",
    "Enterprise",
    "Hazard",
    "Place",
    "Level",
    "Stage",
    "Registered",
    "Deadline",
    "Overdue",
    "Supervision",
    "Re-inspections",
    "Closed on",
];

fn table_rows(state: &AppState, rows: &[HazardRow], lang: Lang, today: Day) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let h = &r.hazard;
            vec![
                r.record_id.clone(),
                unit_name(state, &r.unit),
                r.enterprise_name.clone(),
                h.description.clone(),
                h.place.clone(),
                lang.level(h.level).into(),
                lang.stage(h.stage).into(),
                h.registered_on.to_string(),
                h.deadline.map(|d| d.to_string()).unwrap_or_default(),
                lang.yes_no(h.is_overdue(today)).into(),
                supervision(r, lang),
                reinspections(r, lang),
                h.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect()
}

pub async fn ledger(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (f, chosen) = filter(&cx, &state)?;
    let today = today(&state);
    let rows = rows(&state, f, today).await?;
    let lang = cx.lang;
    let readable = super::readable_units(&cx, &state);
    let keep = cx.query.query_without(&["lang"]);
    let selected = |key: &str, value: &str| cx.query.get(key) == Some(value);
    let body = html! {
        form.filters method="get" action="/console/hazards" {
            label { (cx.t("单位", "Unit"))
                select name="unit" {
                    option value="" { (cx.t("全部", "All")) }
                    @for u in &readable { option value=(u.id) selected[chosen.as_deref() == Some(u.id.as_str())] { (u.name) } }
                }
            }
            label { (cx.t("登记日期自", "Registered from")) input type="date" name="from" value=[cx.query.get("from")]; }
            label { (cx.t("至", "to")) input type="date" name="to" value=[cx.query.get("to")]; }
            label { (cx.t("级别", "Level"))
                select name="level" {
                    option value="" { (cx.t("全部", "All")) }
                    @for (v, l) in [("general", HazardLevel::General), ("major", HazardLevel::Major)] {
                        option value=(v) selected[selected("level", v)] { (lang.level(l)) }
                    }
                }
            }
            label { (cx.t("阶段", "Stage"))
                select name="stage" {
                    option value="" { (cx.t("全部", "All")) }
                    @for s in STAGES { option value=(s.as_str()) selected[selected("stage", s.as_str())] { (lang.stage(s)) } }
                }
            }
            label { (cx.t("仅逾期", "Overdue only")) input type="checkbox" name="overdue" value="1" checked[cx.query.get("overdue").is_some()]; }
            label { (cx.t("仅挂牌督办", "Listed only")) input type="checkbox" name="supervised" value="1" checked[cx.query.get("supervised").is_some()]; }
            button type="submit" { (cx.t("筛选", "Filter")) }
            a #export-csv href={ "/console/hazards.csv?" (keep) } { (cx.t("导出 CSV", "Export CSV")) }
            a #export-xlsx href={ "/console/hazards.xlsx?" (keep) } { (cx.t("导出 Excel", "Export XLSX")) }
        }
        p.muted { (cx.t("共", "Total: ")) (rows.len()) (cx.t(" 项隐患；逾期按今天（北京时间）", " hazards; overdue as of today (Asia/Shanghai) ")) (today) }
        table #ledger {
            thead { tr { @for h in (match lang { Lang::Zh => HEADER_ZH, Lang::En => HEADER_EN }) { th { (h) } } } }
            tbody {
                @for (r, cells) in rows.iter().zip(table_rows(&state, &rows, lang, today)) {
                    tr data-hazard=(r.hazard.id) class=[r.hazard.is_overdue(today).then_some("overdue")] {
                        td { a href={ "/console/records/" (encode(&r.record_id)) } { (r.record_id) } }
                        @for c in &cells[1..] { td { (c) } }
                    }
                }
            }
        }
    };
    Ok(page(
        &cx,
        "hazards",
        cx.t("隐患台账", "Hazard ledger"),
        body,
    ))
}

async fn export_rows(
    state: &AppState,
    cx: &Console,
) -> ConsoleResult<(&'static [&'static str], Vec<Vec<String>>)> {
    let (f, _) = filter(cx, state)?;
    let today = today(state);
    let rows = rows(state, f, today).await?;
    let header: &'static [&'static str] = match cx.lang {
        Lang::Zh => &HEADER_ZH,
        Lang::En => &HEADER_EN,
    };
    Ok((header, table_rows(state, &rows, cx.lang, today)))
}

pub async fn csv(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (header, rows) = export_rows(&state, &cx).await?;
    Ok(export::download(
        export::csv(header, &rows),
        CSV,
        "hazard-ledger.csv",
    ))
}

pub async fn xlsx(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (header, rows) = export_rows(&state, &cx).await?;
    let bytes = export::xlsx(cx.t("隐患台账", "Hazard ledger"), header, &rows)?;
    Ok(export::download(bytes, XLSX, "hazard-ledger.xlsx"))
}
