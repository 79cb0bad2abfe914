//! Figures for a unit (with its subtree) and a period, computed by `app_core::figures` from the
//! index: inspections by kind, the share of unannounced checks against 1/5, the share of
//! random-draw checks against 1/3, hazards open / overdue / closed; penalty cases opened,
//! closed, overdue and published late (`service::figures::case_figures`).

use super::layout::page as render_page;
use super::{Console, ConsoleResult, period_params, today, with_db};
use crate::service::figures;
use crate::state::AppState;
use app_core::figures::Share;
use app_core::kind::InspectionKind;
use app_core::messages::Lang;
use axum::extract::State;
use axum::response::Html;
use maud::{Markup, html};

/// One row of the shares table: the label, then count, percentage, rule and verdict, so
/// each value sits under its heading.
fn share(lang: Lang, id: &str, label: &str, s: &Share) -> Markup {
    html! {
        tr id=(id) data-count=(s.count) data-of=(s.of) data-meets=(s.meets_rule()) {
            th { (label) }
            td { (s.count) " / " (s.of) }
            td { @if let Some(p) = s.percent() { (format!("{p:.1}%")) } @else { "—" } }
            td { "≥ " (s.min_num) "/" (s.min_den) }
            td { @if s.meets_rule() { span.good { (lang.t("达标", "meets the rule")) } } @else { span.bad { (lang.t("未达标", "below the rule")) } } }
        }
    }
}

/// The shares table (四不两直 ≥ 1/5, 双随机 ≥ 1/3 of routine checks).
fn shares_table(lang: Lang, unannounced: &Share, random: &Share) -> Markup {
    html! {
        table #shares {
            thead { tr { th { (lang.t("类型", "Kind")) } th { (lang.t("数量", "Count")) } th { "%" } th { (lang.t("要求", "Rule")) } th { (lang.t("是否达标", "Verdict")) } } }
            tbody {
                (share(lang, "share-unannounced", lang.t("四不两直", "Unannounced"), unannounced))
                (share(lang, "share-random", lang.t("双随机", "Random draw"), random))
            }
        }
    }
}

/// Visits per month as an inline SVG bar chart (no script): one bar per month, its count
/// above it, the month below.
fn monthly_chart(lang: Lang, months: &[((i32, u8), u32)]) -> Markup {
    const BAR: usize = 36;
    const GAP: usize = 12;
    const HEIGHT: u32 = 160;
    let max = months.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let width = months.len() * (BAR + GAP) + GAP;
    html! {
        @if months.iter().all(|(_, n)| *n == 0) {
            p.muted #monthly-empty { (lang.t("暂无", "None")) }
        }
        svg #monthly xmlns="http://www.w3.org/2000/svg" role="img" width=(width) height=(HEIGHT + 40)
            viewBox={ "0 0 " (width) " " (HEIGHT + 40) } {
            title { (lang.t("每月检查次数", "Inspections per month")) }
            @for (i, ((y, m), n)) in months.iter().enumerate() {
                @let h = (*n * (HEIGHT - 20)) / max;
                @let x = GAP + i * (BAR + GAP);
                g data-month={ (y) "-" (format!("{m:02}")) } data-count=(n) {
                    rect x=(x) y=(HEIGHT - h) width=(BAR) height=(h) fill="#1f4e79" {}
                    text x=(x + BAR / 2) y=(HEIGHT - h - 4) text-anchor="middle" font-size="12" { (n) }
                    text x=(x + BAR / 2) y=(HEIGHT + 16) text-anchor="middle" font-size="12" { (m) (lang.t("月", "")) }
                    @if *m == 1 || i == 0 {
                        text x=(x + BAR / 2) y=(HEIGHT + 32) text-anchor="middle" font-size="11" fill="#667" { (y) }
                    }
                }
            }
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
    let (asked, reference) = (scope.clone(), state.reference.clone());
    let (facts, cases) = with_db(&state, move |conn| {
        Ok::<_, crate::store::StoreError>((
            figures::facts(conn, &asked)?,
            figures::case_figures(conn, &reference, &asked)?,
        ))
    })
    .await?;
    let figures = figures::compute(&state.reference, &scope, &facts);
    let root_id = app_core::ids::UnitId::new(scope.root.clone());
    let months =
        app_core::figures::monthly_tallied(&root_id, &state.reference.units, scope.period, &facts);
    // A city (or any unit with units below it) sees its direct subunits side by side.
    let districts: Vec<(String, app_core::figures::Figures)> = scope
        .units
        .iter()
        .filter_map(|u| {
            state
                .reference
                .units
                .get(&app_core::ids::UnitId::new(u.clone()))
        })
        .filter(|u| u.parent.as_ref() == Some(&root_id))
        .map(|u| {
            (
                u.name.clone(),
                app_core::figures::compute_tallied(
                    &u.id,
                    &state.reference.units,
                    scope.period,
                    &facts,
                ),
            )
        })
        .collect();
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
            (shares_table(lang, &figures.unannounced, &figures.random_draw))
        }
        section {
            h2 { (cx.t("每月检查次数", "Inspections per month")) }
            (monthly_chart(lang, &months))
        }
        @if !districts.is_empty() {
            section {
                h2 { (cx.t("下级单位对比", "Units side by side")) }
                table #districts {
                    thead { tr {
                        th { (cx.t("单位", "Unit")) } th { (cx.t("例行检查", "Routine checks")) }
                        th { (cx.t("四不两直", "Unannounced")) } th { (cx.t("双随机", "Random draw")) }
                        th { (cx.t("未闭环隐患", "Open hazards")) } th { (cx.t("逾期", "Overdue")) }
                    } }
                    tbody {
                        @for (name, f) in &districts {
                            tr {
                                th { (name) }
                                td { (f.routine_checks) }
                                td class=[(!f.unannounced.meets_rule()).then_some("bad")] { @if let Some(p) = f.unannounced.percent() { (format!("{p:.1}%")) } @else { "—" } }
                                td class=[(!f.random_draw.meets_rule()).then_some("bad")] { @if let Some(p) = f.random_draw.percent() { (format!("{p:.1}%")) } @else { "—" } }
                                td { (f.hazards_open) }
                                td { (f.hazards_overdue) }
                            }
                        }
                    }
                }
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
        section {
            h2 { (cx.t("行政处罚案件", "Penalty cases")) }
            p.muted { (cx.t("计数：期间内批准立案的案件；期限按各单位的处罚裁量设置。", "Counted: cases whose filing was approved in the period; deadlines by each unit's penalty rules.")) }
            table #case-figures {
                tr { th { (cx.t("立案", "Opened")) } td #cases-opened { (cases.opened) } }
                tr { th { (cx.t("结案", "Closed")) } td #cases-closed { (cases.closed) } }
                tr { th { (cx.t("有逾期期限", "With an overdue deadline")) } td #cases-overdue { (cases.overdue) } }
                tr { th { (cx.t("期限将至", "With a deadline due soon")) } td #cases-due-soon { (cases.due_soon) } }
                tr { th { (cx.t("决定公示超期", "Decision published late")) } td #cases-published-late { (cases.published_late) } }
            }
        }
    };
    Ok(render_page(&cx, "figures", cx.t("统计", "Figures"), body))
}

pub async fn page(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    page_handler(state, cx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the shares table has as many cells as its heading, the values under
    /// their headings (the label row used to stand alone, pushing the values one column off).
    #[test]
    fn the_shares_table_puts_each_value_under_its_heading() {
        let s = |count, of| Share {
            count,
            of,
            min_num: 1,
            min_den: 5,
        };
        let html = shares_table(Lang::Zh, &s(1, 4), &s(0, 4)).into_string();
        let rows: Vec<&str> = html.split("<tr").skip(1).collect();
        assert_eq!(rows.len(), 3, "{html}");
        for r in &rows {
            let cells = r.matches("<th").count() + r.matches("<td").count();
            assert_eq!(cells, 5, "{r}");
        }
        assert!(rows[1].starts_with(" id=\"share-unannounced\""), "{html}");
        assert!(
            rows[1].contains("<th>四不两直</th><td>1 / 4</td><td>25.0%</td>"),
            "{html}"
        );
        assert!(!html.contains("<th></th>"), "{html}");
    }

    #[test]
    fn the_monthly_chart_draws_a_bar_per_month_and_says_when_empty() {
        let html = monthly_chart(Lang::Zh, &[((2026, 11), 3), ((2026, 12), 0)]).into_string();
        assert_eq!(html.matches("<rect").count(), 2, "{html}");
        assert!(
            html.contains("data-month=\"2026-11\" data-count=\"3\""),
            "{html}"
        );
        assert!(!html.contains("暂无"));
        let empty = monthly_chart(Lang::Zh, &[((2026, 12), 0)]).into_string();
        assert!(empty.contains("暂无"), "{empty}");
    }
}
