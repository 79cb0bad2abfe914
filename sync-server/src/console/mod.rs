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

pub mod audit;
mod casefile;
mod cases;
mod checklists;
pub use casefile::key_history_json;
mod draws;
mod export;
mod figures;
mod form;
mod hazards;
pub(crate) mod i18n;
mod layout;
mod photos;
mod publication;
/// The console index's queries (`store::console_query`) and a record's access scope.
pub mod query {
    pub use crate::service::access::scope;
    pub use crate::store::console_query::*;
}
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
        .route(
            "/console/records/{id}/documents/{n}",
            get(records::document),
        )
        .route("/console/queue", get(records::queue))
        .route("/console/queue/next", get(records::queue_next))
        .route("/console/records/{id}/review", post(records::review))
        .route("/console/cases", get(cases::list))
        .route("/console/cases/{id}", get(cases::show))
        .route("/console/cases/{id}/act", post(cases::act))
        .route("/console/cases/{id}/casefile", post(casefile::start_case))
        .route("/console/cases/{id}/media/{sha256}", get(cases::media))
        .route("/console/penalty-rules", get(cases::rules_page))
        .route("/console/violations", get(cases::violations))
        .route("/console/penalty-rules/{part}", post(cases::save_rules))
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
        .route("/console/audit", get(audit::page_handler))
        .route("/console/audit.csv", get(audit::csv))
        .route("/console/audit.xlsx", get(audit::xlsx))
        .route("/console/casefiles", get(casefile::about))
        .route("/console/checklists", get(checklists::index))
        .route("/console/checklists/{id}/{file}", get(checklists::download))
        .route("/console/checklists/{id}/upload", post(checklists::upload))
        .route(
            "/console/casefiles/keys.json",
            get(casefile::key_history_json),
        )
        .route("/console/casefiles/verify", post(casefile::verify))
        .route("/console/casefiles/jobs/{job}", get(casefile::job_page))
        .route(
            "/console/casefiles/jobs/{job}/download",
            get(casefile::download),
        )
}

/// The console as served: its routes and static assets, every response with the security
/// headers (`layout::security_headers`).
pub fn service() -> Router<AppState> {
    routes()
        .route(layout::STYLESHEET_PATH, get(layout::stylesheet))
        .route(layout::VERIFY_SCRIPT_PATH, get(layout::verify_script))
        .layer(axum::middleware::from_fn(layout::security_headers))
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
    /// A parameter the user sent is malformed or out of range: 400 with the message in
    /// Chinese and in English.
    #[error("{en}")]
    Invalid { zh: String, en: String },
    /// The form's CSRF token is missing or wrong.
    #[error("the form expired; reload the page and try again")]
    Csrf,
    #[error("internal error")]
    Internal(#[from] crate::error::Internal),
}

impl From<rusqlite::Error> for ConsoleError {
    fn from(e: rusqlite::Error) -> Self {
        ConsoleError::Internal(e.into())
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        ConsoleError::Internal(e.into())
    }
}

impl From<crate::service::draws::DrawError> for ConsoleError {
    fn from(e: crate::service::draws::DrawError) -> Self {
        use crate::service::draws::DrawError;
        match e {
            DrawError::NotFound => ConsoleError::NotFound,
            DrawError::Invalid { zh, en } => ConsoleError::Invalid { zh, en },
            DrawError::Refused(m) => ConsoleError::BadRequest(m),
            DrawError::Store(e) => e.into(),
        }
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

impl From<crate::service::sessions::ConsoleAccess> for ConsoleError {
    fn from(e: crate::service::sessions::ConsoleAccess) -> Self {
        use crate::service::sessions::ConsoleAccess;
        match e {
            ConsoleAccess::SignIn => ConsoleError::SignIn,
            ConsoleAccess::NotForRole => ConsoleError::NotForRole,
            ConsoleAccess::Store(e) => e.into(),
        }
    }
}

impl From<crate::service::lockouts::LockoutError> for ConsoleError {
    fn from(e: crate::service::lockouts::LockoutError) -> Self {
        use crate::service::lockouts::LockoutError;
        match e {
            LockoutError::NotFound => ConsoleError::NotFound,
            LockoutError::Store(e) => e.into(),
        }
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

/// The answer to a form that did what it asked: go to `to`.
pub fn redirect(to: String) -> ConsoleResult<Response> {
    Ok(Redirect::to(&to).into_response())
}

/// Runs `f` (a use case, usually) with the database's connection on a blocking thread; its
/// error becomes the console's.
pub async fn with_db<T, E>(
    state: &AppState,
    f: impl FnOnce(&mut crate::store::any::AnyConn) -> Result<T, E> + Send + 'static,
) -> ConsoleResult<T>
where
    T: Send + 'static,
    E: Send + 'static,
    ConsoleError: From<E>,
{
    state
        .db
        .call(move |conn| f(conn).map_err(ConsoleError::from))
        .await
}

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
            ConsoleError::Invalid { zh, en } => (StatusCode::BAD_REQUEST, zh.clone(), en.clone()),
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
    crate::service::access::overseen_units(&state.reference, &cx.user)
}

/// The units a page searches: the subtree of the `unit` filter when the user may read it,
/// otherwise everything the user may read. Returns the ids and the chosen unit.
pub fn searched_units(cx: &Console, state: &AppState) -> (Vec<String>, Option<String>) {
    crate::service::access::searched_units(&state.reference, &cx.user, cx.query.get("unit"))
}

/// A unit's name (or its id if unknown).
pub fn unit_name(state: &AppState, id: &str) -> String {
    state.reference.unit_name(id)
}

/// Today in Asia/Shanghai, by the server's clock.
pub fn today(state: &AppState) -> app_core::geo::Day {
    app_core::geo::Timestamp(state.now().saturating_mul(1000)).shanghai_date()
}

/// The earliest and latest dates a console query accepts. Wider than any inspection record,
/// narrow enough that date arithmetic (the day after, midnight in Asia/Shanghai as
/// milliseconds) cannot overflow.
pub const FIRST_DAY: (i32, u8, u8) = (1900, 1, 1);
pub const LAST_DAY: (i32, u8, u8) = (2999, 12, 31);

/// A `YYYY-MM-DD` query parameter: `None` when absent or blank, 400 when it is not a date or
/// lies outside [`FIRST_DAY`]..=[`LAST_DAY`].
pub fn day_param(cx: &Console, key: &str) -> ConsoleResult<Option<app_core::geo::Day>> {
    let Some(raw) = cx.query.get(key) else {
        return Ok(None);
    };
    let shown: String = raw.chars().take(40).collect();
    let (first, last) = (
        app_core::geo::Day::ymd(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2),
        app_core::geo::Day::ymd(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2),
    );
    match app_core::geo::Day::parse(raw) {
        Ok(day) if (first..=last).contains(&day) => Ok(Some(day)),
        Ok(_) => Err(ConsoleError::Invalid {
            zh: format!("日期参数 {key}={shown:?} 超出范围：应在 {first} 至 {last} 之间。"),
            en: format!(
                "Date parameter {key}={shown:?} is out of range: it must lie between {first} and {last}."
            ),
        }),
        Err(_) => Err(ConsoleError::Invalid {
            zh: format!("日期参数 {key}={shown:?} 无效：应为 YYYY-MM-DD 格式的日期。"),
            en: format!("Date parameter {key}={shown:?} is not a date: expected YYYY-MM-DD."),
        }),
    }
}

/// The `from` and `to` date parameters, `from` not after `to` when both are given.
pub fn period_params(
    cx: &Console,
) -> ConsoleResult<(Option<app_core::geo::Day>, Option<app_core::geo::Day>)> {
    let (from, to) = (day_param(cx, "from")?, day_param(cx, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ConsoleError::Invalid {
            zh: format!("起始日期 {f} 晚于截止日期 {t}。"),
            en: format!("The start date {f} is after the end date {t}."),
        });
    }
    Ok((from, to))
}
