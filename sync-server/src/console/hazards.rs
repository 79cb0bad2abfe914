//! The hazard ledger (隐患台账): every hazard of the records the user may read, with its stage,
//! deadline, overdue flag (app-core's `Hazard::is_overdue`, as of today in Asia/Shanghai),
//! 挂牌督办 for major hazards and re-inspection results; filtered, and exported as CSV or XLSX.

use super::export::{self, CSV, XLSX};
use super::form::encode;
use super::layout::page;
use super::query::HazardFilter;
use super::{Console, ConsoleResult, period_params, today, with_db};
use crate::service::ledger::{self, Ledger};
use crate::state::AppState;
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

/// The ledger the request's filters ask for (`service::ledger`), as of today.
async fn asked_ledger(
    state: &AppState,
    cx: &Console,
) -> ConsoleResult<(Ledger, app_core::geo::Day)> {
    let (from, to) = period_params(cx)?;
    let filter = HazardFilter {
        units: Vec::new(),
        from,
        to,
        level: cx.query.get("level").map(str::to_owned),
        stage: cx.query.get("stage").map(str::to_owned),
        enterprise: cx.query.get("enterprise").map(str::to_owned),
        overdue: cx.query.get("overdue").is_some(),
        supervised: cx.query.get("supervised").is_some(),
    };
    let (today, reference, viewer) = (today(state), state.reference.clone(), cx.user.clone());
    let unit = cx.query.get("unit").map(str::to_owned);
    let ledger = with_db(state, move |conn| {
        ledger::ledger(conn, &reference, &viewer, unit.as_deref(), filter, today)
    })
    .await?;
    Ok((ledger, today))
}

pub async fn ledger(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let (Ledger { rows, chosen }, today) = asked_ledger(&state, &cx).await?;
    let lang = cx.lang;
    // Each record by its document number (文号), not its id.
    let ids: Vec<String> = rows.iter().map(|r| r.record_id.clone()).collect();
    let cache = state.plausibility.clone();
    let labels = with_db(&state, move |conn| {
        let mut out = std::collections::HashMap::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(id) {
                let label = crate::service::plausibility::record_label(conn, &cache, slot.key())?
                    .unwrap_or_default();
                slot.insert(label);
            }
        }
        Ok::<_, crate::store::StoreError>(out)
    })
    .await?;
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
        @if rows.is_empty() { p.muted #ledger-empty { (cx.t("暂无", "None")) } }
        table #ledger {
            thead { tr { @for (i, h) in ledger::header(lang).iter().enumerate() {
                th { @if i == 0 { (cx.t("文号", "Document number")) } @else { (h) } }
            } } }
            tbody {
                @for (r, cells) in rows.iter().zip(ledger::cells(&state.reference, &rows, lang, today)) {
                    tr data-hazard=(r.hazard.id) class=[r.hazard.is_overdue(today).then_some("overdue")] {
                        td { a href={ "/console/records/" (encode(&r.record_id)) } { (labels.get(&r.record_id).cloned().unwrap_or_default()) } }
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

/// The ledger's title row and cells for a download.
async fn export_rows(
    state: &AppState,
    cx: &Console,
) -> ConsoleResult<(&'static [&'static str], Vec<Vec<String>>)> {
    let (Ledger { rows, .. }, today) = asked_ledger(state, cx).await?;
    let cells = ledger::cells(&state.reference, &rows, cx.lang, today);
    Ok((ledger::header(cx.lang), cells))
}

pub async fn csv(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (header, rows) = export_rows(&state, &cx).await?;
    super::audit::record(&state, &cx, "export_table", "hazard-ledger.csv").await;
    Ok(export::download(
        export::csv(header, &rows),
        CSV,
        "hazard-ledger.csv",
    ))
}

pub async fn xlsx(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (header, rows) = export_rows(&state, &cx).await?;
    let bytes = export::xlsx(cx.t("隐患台账", "Hazard ledger"), header, &rows)?;
    super::audit::record(&state, &cx, "export_table", "hazard-ledger.xlsx").await;
    Ok(export::download(bytes, XLSX, "hazard-ledger.xlsx"))
}
