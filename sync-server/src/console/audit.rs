//! The audit log in the console (`store::audit`): recording what supervisors do, the page
//! `GET /console/audit` (supervisors see the entries of their unit and the units under it;
//! the top unit's supervisors and administrators also see the command line's and unknown
//! users' entries) with the chain's state and head hash, and its export (CSV, XLSX).

use super::export::{self, CSV, XLSX};
use super::layout::page;
use super::{Console, ConsoleError, ConsoleResult, with_db};
use crate::state::AppState;
use crate::store::AuditStore;
use crate::store::audit::{self, Entry, NewEntry};
use app_core::messages::audit as text;
use app_core::user::{Role, User};
use axum::extract::State;
use axum::response::{Html, Response};
use maud::html;

/// How many entries the page and an export show at most.
pub const SHOWN: u32 = 2_000;

/// Appends an entry for `user` at `client` (an audit write failing is logged, never hides
/// the action's own answer).
pub async fn record_for(
    state: &AppState,
    user: &str,
    unit: &str,
    client: Option<std::net::IpAddr>,
    action: &str,
    target: &str,
) {
    let entry = NewEntry {
        at: state.now(),
        actor: user.to_owned(),
        unit: unit.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        client: client.map(|a| a.to_string()).unwrap_or_default(),
    };
    let result = state
        .db
        .call(move |conn| -> crate::error::InternalResult<_> {
            Ok(audit::append_locked(conn, &entry)?)
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action, "the audit log could not be written");
    }
}

/// Appends an entry for the signed-in supervisor.
pub async fn record(state: &AppState, cx: &Console, action: &str, target: &str) {
    record_for(
        state,
        cx.user.id.as_str(),
        cx.user.unit.as_str(),
        cx.client,
        action,
        target,
    )
    .await;
}

/// The units whose entries `user` sees (None: all), or None if the user sees no log.
fn visible_units(state: &AppState, user: &User) -> Result<Option<Vec<String>>, ConsoleError> {
    match user.role {
        Role::Admin => Ok(None),
        Role::Supervisor => {
            let mut units: Vec<String> = state
                .reference
                .units
                .subtree(&user.unit)
                .map(|u| u.id.to_string())
                .collect();
            // The top unit's supervisors also see what has no unit (the command line,
            // unknown user names at sign-in).
            if state
                .reference
                .units
                .get(&user.unit)
                .is_some_and(|u| u.parent.is_none())
            {
                units.push(String::new());
            }
            Ok(Some(units))
        }
        Role::Inspector { .. } => Err(ConsoleError::NotFound),
    }
}

struct Shown {
    entries: Vec<Entry>,
    chain: Result<(usize, String), audit::ChainBreak>,
}

async fn load(state: &AppState, cx: &Console) -> ConsoleResult<Shown> {
    let units = visible_units(state, &cx.user)?;
    with_db(state, move |conn| -> crate::error::InternalResult<_> {
        let all = conn.all_audit()?;
        let chain = audit::verify_chain(&all);
        let entries = conn.audit_entries(units.as_deref(), SHOWN)?;
        Ok(Shown { entries, chain })
    })
    .await
}

fn when(secs: i64) -> String {
    app_core::geo::Timestamp(secs.saturating_mul(1000)).display_shanghai()
}

fn t2(cx: &Console, pair: (&'static str, &'static str)) -> &'static str {
    cx.t(pair.0, pair.1)
}

/// `GET /console/audit`.
pub async fn page_handler(
    State(state): State<AppState>,
    cx: Console,
) -> ConsoleResult<Html<String>> {
    let shown = load(&state, &cx).await?;
    let body = html! {
        p.muted { (t2(&cx, text::INTRO)) }
        @match &shown.chain {
            Ok((n, head)) => {
                p.good #audit-chain data-holds="true" { (t2(&cx, text::CHAIN_OK).replace("{n}", &n.to_string())) }
                p { (t2(&cx, text::HEAD)) "：" span.mono #audit-head { (head) } }
            }
            Err(e) => {
                p.bad #audit-chain data-holds="false" role="alert" { (t2(&cx, text::CHAIN_BROKEN)) (e.to_string()) }
            }
        }
        p.muted { (t2(&cx, text::SHOWN).replace("{n}", &SHOWN.to_string())) }
        p {
            a #audit-csv href="/console/audit.csv" { (t2(&cx, text::EXPORT_CSV)) }
            " · "
            a #audit-xlsx href="/console/audit.xlsx" { (t2(&cx, text::EXPORT_XLSX)) }
        }
        @if shown.entries.is_empty() {
            p #audit-empty { (t2(&cx, text::EMPTY)) }
        } @else {
            table #audit-log {
                tr {
                    th { "#" } th { (t2(&cx, text::WHEN)) } th { (t2(&cx, text::WHO)) }
                    th { (t2(&cx, text::UNIT)) } th { (t2(&cx, text::ACTION)) }
                    th { (t2(&cx, text::TARGET)) } th { (t2(&cx, text::FROM)) }
                }
                @for e in &shown.entries {
                    tr.audit-entry data-seq=(e.seq) data-action=(e.entry.action) data-actor=(e.entry.actor) {
                        td { (e.seq) }
                        td { (when(e.entry.at)) }
                        td { (actor_name(&state, &e.entry.actor)) }
                        td { (super::unit_name(&state, &e.entry.unit)) }
                        td { (t2(&cx, text::action(&e.entry.action))) }
                        td.mono { (e.entry.target) }
                        td.mono { (e.entry.client) }
                    }
                }
            }
        }
    };
    Ok(page(&cx, "audit", t2(&cx, text::TITLE), body))
}

fn actor_name(state: &AppState, id: &str) -> String {
    match state.user(id) {
        Some(u) => format!("{} ({id})", u.name),
        None => id.to_owned(),
    }
}

fn rows(
    state: &AppState,
    cx: &Console,
    entries: &[Entry],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "#",
        t2(cx, text::WHEN),
        t2(cx, text::WHO),
        t2(cx, text::UNIT),
        t2(cx, text::ACTION),
        t2(cx, text::TARGET),
        t2(cx, text::FROM),
        t2(cx, text::HASH),
    ];
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                when(e.entry.at),
                actor_name(state, &e.entry.actor),
                super::unit_name(state, &e.entry.unit),
                format!(
                    "{} ({})",
                    t2(cx, text::action(&e.entry.action)),
                    e.entry.action
                ),
                e.entry.target.clone(),
                e.entry.client.clone(),
                e.hash.clone(),
            ]
        })
        .collect();
    (header, rows)
}

/// `GET /console/audit.csv`.
pub async fn csv(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let shown = load(&state, &cx).await?;
    record(&state, &cx, "export_audit", "audit.csv").await;
    let (header, rows) = rows(&state, &cx, &shown.entries);
    Ok(export::download(
        export::csv(&header, &rows),
        CSV,
        "audit-log.csv",
    ))
}

/// `GET /console/audit.xlsx`.
pub async fn xlsx(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let shown = load(&state, &cx).await?;
    record(&state, &cx, "export_audit", "audit.xlsx").await;
    let (header, rows) = rows(&state, &cx, &shown.entries);
    let bytes = export::xlsx(t2(&cx, text::TITLE), &header, &rows)?;
    Ok(export::download(bytes, XLSX, "audit-log.xlsx"))
}
