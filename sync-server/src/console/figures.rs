//! Figures for a unit (with its subtree) and a period, computed by `app_core::figures` from the
//! index: inspections by kind, the share of unannounced checks against 1/5, the share of
//! random-draw checks against 1/3, hazards open / overdue / closed.

use super::layout::page as render_page;
use super::{Console, ConsoleResult, period_params, today, with_db};
use crate::service::figures;
use crate::state::AppState;
use app_core::figures::Share;
use app_core::kind::InspectionKind;
use axum::extract::State;
use axum::response::Html;
use maud::{Markup, html};

fn share(cx: &Console, id: &str, s: &Share) -> Markup {
    html! {
        tr id=(id) data-count=(s.count) data-of=(s.of) data-meets=(s.meets_rule()) {
            td { (s.count) " / " (s.of) }
            td { @if let Some(p) = s.percent() { (format!("{p:.1}%")) } @else { "—" } }
            td { "≥ " (s.min_num) "/" (s.min_den) }
            td { @if s.meets_rule() { span.good { (cx.t("达标", "meets the rule")) } } @else { span.bad { (cx.t("未达标", "below the rule")) } } }
        }
    }
}

pub async fn page_handler(state: AppState, cx: Console) -> ConsoleResult<Html<String>> {
    let (from, to) = period_params(&cx)?;
    let scope = figures::scope(
        &state.reference,
        &cx.user,
        cx.query.get("unit"),
        from,
        to,
        today(&state),
    );
    let asked = scope.clone();
    let facts = with_db(&state, move |conn| figures::facts(conn, &asked)).await?;
    let figures = figures::compute(&state.reference, &scope, &facts);
    let (root, from, to) = (&scope.root, scope.period.from, scope.period.to);
    let readable = super::readable_units(&cx, &state);
    let lang = cx.lang;
    let body = html! {
        form.filters method="get" action="/console/figures" {
            label { (cx.t("单位", "Unit"))
                select name="unit" {
                    @for u in &readable { option value=(u.id) selected[root.as_str() == u.id.as_str()] { (u.name) } }
                }
            }
            label { (cx.t("自", "From")) input type="date" name="from" value=(from); }
            label { (cx.t("至", "To")) input type="date" name="to" value=(to); }
            button type="submit" { (cx.t("统计", "Compute")) }
        }
        @if scope.units.is_empty() { p.muted { (cx.t("没有可查阅的单位。", "No unit to show.")) } }
        p.muted { (super::unit_name(&state, root)) " · " (from) " — " (to) " · "
            (cx.t("计数：已完成及以后的检查，按现场检查开始日（北京时间）。", "Counted: visits completed or later, by the day the on-site check started (Asia/Shanghai).")) }
        section {
            h2 { (cx.t("按类型", "Inspections by kind")) }
            table #by-kind {
                @for k in InspectionKind::ALL {
                    tr data-kind=(super::i18n::kind_str(k)) { th { (lang.kind(k)) } td { (figures.by_kind.get(&k).copied().unwrap_or(0)) } }
                }
                tr { th { (cx.t("例行检查合计", "Routine checks")) } td #routine { (figures.routine_checks) } }
            }
        }
        section {
            h2 { (cx.t("比例", "Shares of routine checks")) }
            table {
                thead { tr { th {} th { (cx.t("数量", "Count")) } th { "%" } th { (cx.t("要求", "Rule")) } th {} } }
                tr { th { (cx.t("四不两直", "Unannounced")) } }
                (share(&cx, "share-unannounced", &figures.unannounced))
                tr { th { (cx.t("双随机", "Random draw")) } }
                (share(&cx, "share-random", &figures.random_draw))
            }
        }
        section {
            h2 { (cx.t("隐患", "Hazards")) }
            table #hazard-figures {
                tr { th { (cx.t("未闭环", "Open")) } td #hazards-open { (figures.hazards_open) } }
                tr { th { (cx.t("逾期", "Overdue")) } td #hazards-overdue { (figures.hazards_overdue) } }
                tr { th { (cx.t("已闭环（复查通过或销号）", "Closed (re-inspected or closed)")) } td #hazards-closed { (figures.hazards_closed) } }
                tr { th { (cx.t("重大隐患未闭环", "Major, open")) } td { (figures.hazards_major_open) } }
                tr { th { (cx.t("重大隐患未挂牌督办", "Major, not listed for supervision")) } td { (figures.hazards_major_unsupervised) } }
            }
        }
    };
    Ok(render_page(&cx, "figures", cx.t("统计", "Figures"), body))
}

pub async fn page(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    page_handler(state, cx).await
}
