//! The hazard ledger (隐患台账): every hazard of the records a supervisor may read, with its
//! stage, deadline, overdue flag (app-core's `Hazard::is_overdue`, as of `today`), 挂牌督办
//! for major hazards and re-inspection results; filtered, and as the table the page and the
//! CSV/XLSX downloads show.

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::console_query::{HazardFilter, HazardRow};
use crate::store::{ConsoleIndex, StoreResult};
use app_core::geo::Day;
use app_core::hazard::HazardLevel;
use app_core::messages::Lang;
use app_core::user::User;

/// The ledger's rows and the unit it was narrowed to (if the asked one is the viewer's).
#[derive(Debug, Clone)]
pub struct Ledger {
    pub rows: Vec<HazardRow>,
    pub chosen: Option<String>,
}

/// The hazards `viewer` may see that match `filter`, overdue judged as of `today`: the
/// filter's units are the subtree of `unit` if `viewer` oversees it, otherwise all the units
/// they oversee (whatever `filter.units` said).
pub fn ledger<S: ConsoleIndex + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    unit: Option<&str>,
    mut filter: HazardFilter,
    today: Day,
) -> StoreResult<Ledger> {
    let (units, chosen) = access::searched_units(reference, viewer, unit);
    filter.units = units;
    Ok(Ledger {
        rows: store.list_hazards(&filter, today)?,
        chosen,
    })
}

/// The ledger's column titles.
pub fn header(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Zh => &HEADER_ZH,
        Lang::En => &HEADER_EN,
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

/// The ledger's cells, one row per hazard, in the columns of [`header`].
pub fn cells(
    reference: &ReferenceData,
    rows: &[HazardRow],
    lang: Lang,
    today: Day,
) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let h = &r.hazard;
            vec![
                r.record_id.clone(),
                reference.unit_name(&r.unit),
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
