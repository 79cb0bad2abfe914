//! Console sessions on top of the API's sign-in (`auth.rs`: Argon2 passwords, random tokens
//! stored as SHA-256, expiring and revocable). The token travels in the `console_session`
//! cookie (HttpOnly, SameSite=Strict, Path=/console), so page scripts cannot read it and other
//! sites cannot send it. Forms that change something also carry a CSRF token derived from
//! the session token (SHA-256 of a fixed label and the token): other sites cannot compute it.
//! Only supervisors and admins get a console session; an inspector who signs in is told so,
//! and the token issued by the check is revoked at once.

use super::form::FormData;
use super::i18n::Lang;
use super::{ConsoleError, ConsoleResult, layout};
use crate::auth::{LoginRequest, login as api_login};
use crate::error::{ApiError, JsonBody};
use crate::state::AppState;
use app_core::user::{Role, User};
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

const SESSION_COOKIE: &str = "console_session";
const LANG_COOKIE: &str = "console_lang";

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn lang_of(parts: &Parts) -> Lang {
    let from_query = parts
        .uri
        .query()
        .map(FormData::parse)
        .and_then(|q| q.get("lang").and_then(Lang::parse));
    from_query
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default()
}

fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"console-csrf:");
    h.update(token.as_bytes());
    app_core::evidence::hex(&h.finalize())
}

/// The signed-in supervisor or admin behind a console request, and the page language.
#[derive(Debug, Clone)]
pub struct Console {
    pub user: User,
    pub lang: Lang,
    /// The CSRF token every state-changing form must send back as `csrf`.
    pub csrf: String,
    /// The request's query string (filters), decoded.
    pub query: FormData,
    /// The request path (for the language switch's way back).
    pub path: String,
    token_hash: Vec<u8>,
}

impl Console {
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.lang.t(zh, en)
    }

    /// Refuses a form without this session's CSRF token.
    pub fn check_csrf(&self, form: &FormData) -> ConsoleResult<()> {
        let sent = form.raw("csrf").as_bytes();
        let expected = self.csrf.as_bytes();
        // Compared without an early exit, so timing does not reveal a matching prefix.
        let same = sent.len() == expected.len()
            && sent
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or(ConsoleError::SignIn)?
            .to_owned();
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let now = state.now();
        let lookup = hash.clone();
        let user_id: Option<String> = state
            .db
            .call(move |conn| -> Result<_, ConsoleError> {
                // Records stored before the console's index existed are indexed once.
                crate::index::backfill(conn)?;
                Ok(conn
                    .query_row(
                        "SELECT user_id FROM tokens
                         WHERE token_hash = ?1 AND revoked = 0 AND expires_at > ?2",
                        params![lookup, now],
                        |r| r.get(0),
                    )
                    .optional()?)
            })
            .await?;
        let user = user_id
            .and_then(|id| state.user(&id))
            .ok_or(ConsoleError::SignIn)?;
        if user.is_inspector() {
            return Err(ConsoleError::NotForRole);
        }
        Ok(Console {
            user,
            lang,
            csrf: csrf_for(&token),
            query: parts.uri.query().map(FormData::parse).unwrap_or_default(),
            path: parts.uri.path().to_owned(),
            token_hash: hash,
        })
    }
}

/// The page language for pages shown before sign-in.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(lang_of(parts)))
    }
}

fn login_form(lang: Lang, error: Option<&str>, user: &str) -> Html<String> {
    let t = |zh, en| lang.t(zh, en);
    let body = html! {
        main.narrow {
            h1 { (t("安全生产执法检查 · 审核控制台", "Work-safety inspections · Supervisors' console")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/console/login" {
                label { (t("用户名", "User")) input name="user" value=(user) autocomplete="username" required; }
                label { (t("密码", "Password")) input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (t("登录", "Sign in")) }
            }
            p.lang-switch {
                a href="/console/lang/zh?back=/console/login" { "中文" } " · "
                a href="/console/lang/en?back=/console/login" { "English" }
            }
        }
    };
    Html(layout::bare(t("登录", "Sign in"), body).into_string())
}

pub async fn login_page(PageLang(lang): PageLang) -> Html<String> {
    login_form(lang, None, "")
}

pub async fn login(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = FormData::parse_bytes(&body);
    let user = form.get("user").unwrap_or_default().to_owned();
    let password = form.raw("password").to_owned();
    let request = LoginRequest {
        user: user.clone(),
        password,
    };
    let response = match api_login(State(state.clone()), JsonBody(request)).await {
        Ok(axum::Json(r)) => r,
        Err(ApiError::BadCredentials) => {
            let message = lang.t("用户名或密码错误。", "Wrong user name or password.");
            let mut page = login_form(lang, Some(message), &user).into_response();
            *page.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            return Ok(page);
        }
        Err(e) => return Err(e.into()),
    };
    if !matches!(response.user.role, Role::Supervisor | Role::Admin) {
        let hash = Sha256::digest(response.token.as_bytes()).to_vec();
        state
            .db
            .call(move |conn| -> Result<_, ConsoleError> {
                conn.execute(
                    "UPDATE tokens SET revoked = 1 WHERE token_hash = ?1",
                    [hash],
                )?;
                Ok(())
            })
            .await?;
        return Err(ConsoleError::NotForRole);
    }
    tracing::info!(user = %response.user.id, "console sign-in");
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict",
        response.token
    );
    let mut out = Redirect::to("/console/records").into_response();
    out.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    Ok(out)
}

pub async fn logout(
    State(state): State<AppState>,
    console: Console,
    body: Bytes,
) -> ConsoleResult<Response> {
    console.check_csrf(&FormData::parse_bytes(&body))?;
    let hash = console.token_hash.clone();
    state
        .db
        .call(move |conn| -> Result<_, ConsoleError> {
            conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE token_hash = ?1",
                [hash],
            )?;
            Ok(())
        })
        .await?;
    let mut out = Redirect::to("/console/login").into_response();
    out.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "console_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(out)
}

/// `GET /console/lang/{zh|en}?back=/console/...`: remembers the language, goes back.
pub async fn set_lang(Path(code): Path<String>, RawQuery(query): RawQuery) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let query = FormData::parse(query.as_deref().unwrap_or(""));
    let back = query
        .get("back")
        .filter(|b| b.starts_with("/console") && !b.starts_with("//"))
        .unwrap_or("/console/records")
        .to_owned();
    let mut out = Redirect::to(&back).into_response();
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/console; SameSite=Lax; Max-Age=31536000",
        if lang == Lang::En { "en" } else { "zh" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        out.headers_mut().append(header::SET_COOKIE, v);
    }
    out
}
