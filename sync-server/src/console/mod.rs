//! The supervisors' console: server-rendered HTML pages under `/console`, for supervisors (and
//! admins), over the same model and rules as the tablet. Handlers call app-core directly:
//! access with `app_core::access`, review with `Command::Transition` through
//! `InspectionDoc::apply`, figures with `app_core::figures`, draws with `app_core::draw`.
//!
//! Pages are rendered with maud, which escapes every interpolated string, so enterprise names,
//! notes and comments entered on tablets can never become markup. Sign-in reuses the API's
//! Argon2 sign-in and tokens (`auth.rs`); the token travels in an HttpOnly, SameSite=Strict
//! cookie, and every form that changes something carries a per-session token (CSRF) derived
//! from it. A record, photo, plan or draw the user may not see answers 404, exactly like a
//! missing one. Simplified Chinese first; `?lang=en` (remembered in a cookie) switches to
//! English. Times are shown in Asia/Shanghai.

mod casefile;
mod draws;
mod exif;
mod export;
mod figures;
mod form;
mod hazards;
mod i18n;
mod layout;
mod photos;
mod publication;
pub mod query;
mod records;
mod session;

pub use i18n::Lang;
pub use session::Console;

use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// Every console route (merged into the API router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/records") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/records") }),
        )
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route(
            "/console/lockouts",
            get(session::lockouts).post(session::lift_lockout),
        )
        .route("/console/lang/{code}", get(session::set_lang))
        .route("/console/records", get(records::list))
        .route("/console/records/{id}", get(records::show))
        .route("/console/records/{id}/review", post(records::review))
        .route("/console/photos/{sha256}", get(photos::show))
        .route("/console/photos/{sha256}/original", get(photos::original))
        .route("/console/hazards", get(hazards::ledger))
        .route("/console/hazards.csv", get(hazards::csv))
        .route("/console/hazards.xlsx", get(hazards::xlsx))
        .route("/console/figures", get(figures::page))
        .route("/console/draws", get(draws::index))
        .route("/console/draws/run", post(draws::run))
        .route("/console/draws/seal", post(draws::seal))
        .route("/console/draws/verify", post(draws::verify))
        .route("/console/draws/{id}", get(draws::show))
        .route("/console/draws/{id}/input.json", get(draws::input_json))
        .route("/console/draws/{id}/rerun", get(draws::rerun))
        .route("/console/publication", get(publication::page))
        .route("/console/publication.csv", get(publication::csv))
        .route("/console/records/{id}/casefile", post(casefile::start))
        .route("/console/casefiles", get(casefile::about))
        .route("/console/casefiles/verify", post(casefile::verify))
        .route("/console/casefiles/jobs/{job}", get(casefile::job_page))
        .route(
            "/console/casefiles/jobs/{job}/download",
            get(casefile::download),
        )
}

/// Why a console request failed. Rendered as a page in both languages (the error may come
/// before the language is known).
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session: go to the sign-in page.
    #[error("sign in first")]
    SignIn,
    /// An inspector (or anyone else without console access) signed in.
    #[error("the console is for supervisors and admins")]
    NotForRole,
    /// Missing, or not visible to this user (the two are indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    /// The form's CSRF token is missing or wrong.
    #[error("the form expired; reload the page and try again")]
    Csrf,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for ConsoleError {
    fn from(e: rusqlite::Error) -> Self {
        ConsoleError::Internal(e.into())
    }
}

impl From<crate::error::ApiError> for ConsoleError {
    fn from(e: crate::error::ApiError) -> Self {
        match e {
            crate::error::ApiError::NotFound => ConsoleError::NotFound,
            crate::error::ApiError::Unauthorized => ConsoleError::SignIn,
            crate::error::ApiError::Internal(e) => ConsoleError::Internal(e),
            other => ConsoleError::BadRequest(other.to_string()),
        }
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, zh, en) = match &self {
            ConsoleError::SignIn => return Redirect::to("/console/login").into_response(),
            ConsoleError::NotForRole => (
                StatusCode::FORBIDDEN,
                "控制台仅供审核人和管理员使用。执法人员请使用平板应用。".to_owned(),
                "The console is for supervisors and admins. Inspectors use the tablet app."
                    .to_owned(),
            ),
            ConsoleError::NotFound => (
                StatusCode::NOT_FOUND,
                "未找到该页面或记录。".to_owned(),
                "No such page or record.".to_owned(),
            ),
            ConsoleError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), m.clone()),
            ConsoleError::Csrf => (
                StatusCode::FORBIDDEN,
                "表单已失效，请刷新页面后重试。".to_owned(),
                self.to_string(),
            ),
            ConsoleError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "console internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器内部错误。".to_owned(),
                    "Internal error.".to_owned(),
                )
            }
        };
        let body = layout::bare(
            "错误 · Error",
            maud::html! {
                main.narrow {
                    h1 { (status.as_u16()) }
                    p.error-zh { (zh) }
                    p.error-en lang="en" { (en) }
                    p { a href="/console/records" { "返回控制台 · Back to the console" } }
                }
            },
        );
        (status, Html(body.into_string())).into_response()
    }
}

/// The units whose records `cx.user` may read (app-core: a supervisor reads their unit's
/// subtree; an admin reads no enforcement records), in tree order.
pub fn readable_units(cx: &Console, state: &AppState) -> Vec<app_core::unit::Unit> {
    match cx.user.role {
        app_core::user::Role::Supervisor => state
            .reference
            .units
            .subtree(&cx.user.unit)
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// The units a page searches: the subtree of the `unit` filter when the user may read it,
/// otherwise everything the user may read. Returns the ids and the chosen unit.
pub fn searched_units(cx: &Console, state: &AppState) -> (Vec<String>, Option<String>) {
    let readable = readable_units(cx, state);
    let chosen = cx
        .query
        .get("unit")
        .filter(|u| readable.iter().any(|x| x.id.as_str() == *u))
        .map(str::to_owned);
    let ids = match &chosen {
        Some(u) => {
            let root = app_core::ids::UnitId::new(u.clone());
            state
                .reference
                .units
                .subtree(&root)
                .map(|x| x.id.to_string())
                .collect()
        }
        None => readable.iter().map(|u| u.id.to_string()).collect(),
    };
    (ids, chosen)
}

/// A unit's name (or its id if unknown).
pub fn unit_name(state: &AppState, id: &str) -> String {
    state
        .reference
        .units
        .get(&app_core::ids::UnitId::new(id))
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// Today in Asia/Shanghai, by the server's clock.
pub fn today(state: &AppState) -> app_core::geo::Day {
    app_core::geo::Timestamp(state.now().saturating_mul(1000)).shanghai_date()
}

/// A `YYYY-MM-DD` query parameter.
pub fn day_param(cx: &Console, key: &str) -> Option<app_core::geo::Day> {
    cx.query
        .get(key)
        .and_then(|d| app_core::geo::Day::parse(d).ok())
}
