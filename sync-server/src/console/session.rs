//! Console sessions on top of the API's sign-in (`auth.rs`: Argon2 passwords, random tokens
//! stored as SHA-256, expiring and revocable). The token travels in the `console_session`
//! cookie (HttpOnly, SameSite=Strict, Path=/console), so page scripts cannot read it and other
//! sites cannot send it. Forms that change something also carry a CSRF token derived from
//! the session token (SHA-256 of a fixed label and the token): other sites cannot compute it.
//! Only supervisors and admins get a console session; an inspector who signs in is told so,
//! and the token issued by the check is revoked at once.
//!
//! The sign-in form itself is protected against login CSRF (a pre-sign-in cookie matched by
//! a hidden field, and cross-site `Origin`/`Sec-Fetch-Site` refused), and failed sign-ins are
//! throttled (`signin.rs`); supervisors lift account locks at `/console/lockouts`.

use super::form::FormData;
use super::i18n::Lang;
use super::{ConsoleError, ConsoleResult, layout, with_db};
use crate::auth::{LoginRequest, sign_in};
use crate::error::ApiError;
use crate::service::{lockouts, sessions};
use crate::signin::{self, ClientAddress};
use crate::state::AppState;
use app_core::user::User;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
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
    /// The client's address as the handlers see it (`signin::ClientAddress`), for the audit
    /// log.
    pub client: Option<std::net::IpAddr>,
    token_hash: Vec<u8>,
}

impl Console {
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.lang.t(zh, en)
    }

    /// The posted form `body`, refused without this session's CSRF token.
    pub fn checked_form(&self, body: &[u8]) -> ConsoleResult<FormData> {
        let form = FormData::parse_bytes(body);
        self.check_csrf(&form)?;
        Ok(form)
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
        let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(parts, state).await;
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or(ConsoleError::SignIn)?
            .to_owned();
        let hash = sessions::token_hash(&token);
        let (reference, lookup, now) = (state.reference.clone(), hash.clone(), state.now());
        let user = with_db(state, move |conn| {
            sessions::console_user(conn, &reference, &lookup, now)
        })
        .await?;
        Ok(Console {
            user,
            lang,
            csrf: csrf_for(&token),
            query: parts.uri.query().map(FormData::parse).unwrap_or_default(),
            path: parts.uri.path().to_owned(),
            client,
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

/// The pre-sign-in cookie against login CSRF: a random value, also sent as the form's hidden
/// `login_csrf` field; a sign-in is accepted only when both are present and equal. Another
/// site can make a browser post the form but can neither read nor set this cookie
/// (HttpOnly, SameSite=Strict), so it cannot sign the victim in to the attacker's account.
const LOGIN_COOKIE: &str = "console_login";

/// Whether `value` looks like a value this server issued (43 base64url characters).
fn is_login_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the browser says the request comes from another site: `Sec-Fetch-Site` other than
/// same-origin (or none: typed by the user), or an `Origin` whose host is not this server's.
fn cross_site(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // A browser that sends Fetch Metadata says where the request comes from; it is the
    // authority then. (With `Referrer-Policy: no-referrer` Chromium sends `Origin: null` on a
    // same-origin form POST, so Origin alone would refuse every real sign-in.)
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    let Some((_, origin_host)) = origin.split_once("://") else {
        // "null" (a sandboxed or privacy-sensitive context) or garbage.
        return true;
    };
    let origin_host = origin_host.trim_end_matches('/');
    let forwarded = text("x-forwarded-host").map(|h| h.split(',').next().unwrap_or("").trim());
    let ours = [text("host"), forwarded, uri.authority().map(|a| a.as_str())];
    !ours
        .into_iter()
        .flatten()
        .any(|h| h.eq_ignore_ascii_case(origin_host))
}

/// The login CSRF value of this browser, or a new one; and the cookie to set.
fn login_token(headers: &HeaderMap) -> ConsoleResult<(String, HeaderValue)> {
    let token = match cookie(headers, LOGIN_COOKIE).filter(|v| is_login_token(v)) {
        Some(v) => v.to_owned(),
        None => crate::auth::new_token()?,
    };
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict");
    let header = HeaderValue::from_str(&cookie).map_err(|e| crate::internal!("{e}"))?;
    Ok((token, header))
}

/// The sign-in form (with `status`), setting the login CSRF cookie.
fn login_form(
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    error: Option<&str>,
    user: &str,
) -> ConsoleResult<Response> {
    let (token, set_cookie) = login_token(headers)?;
    let t = |zh, en| lang.t(zh, en);
    let body = html! {
        main.narrow {
            h1 { (t("安全生产执法检查 · 审核控制台", "Work-safety inspections · Supervisors' console")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/console/login" {
                input type="hidden" name="login_csrf" value=(token);
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
    let mut page = Html(layout::bare(t("登录", "Sign in"), body).into_string()).into_response();
    *page.status_mut() = status;
    page.headers_mut().append(header::SET_COOKIE, set_cookie);
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(page)
}

pub async fn login_page(PageLang(lang): PageLang, headers: HeaderMap) -> ConsoleResult<Response> {
    login_form(&headers, lang, StatusCode::OK, None, "")
}

pub async fn login(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> ConsoleResult<Response> {
    // Login CSRF: a cross-site post, or one without this browser's pre-sign-in value.
    if cross_site(&headers, &uri) {
        tracing::warn!("console sign-in refused: cross-site request");
        return Err(ConsoleError::Csrf);
    }
    let form = FormData::parse_bytes(&body);
    let user = form.get("user").unwrap_or_default().to_owned();
    let sent = form.raw("login_csrf");
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !is_login_token(expected) || !same_bytes(sent.as_bytes(), expected.as_bytes()) {
        let message =
            "登录表单已失效，请重新输入后登录。 · The sign-in form expired; please sign in again.";
        return login_form(&headers, lang, StatusCode::FORBIDDEN, Some(message), &user);
    }
    let password = form.raw("password").to_owned();
    let request = LoginRequest {
        user: user.clone(),
        password,
    };
    let attempted = state.user(&user);
    let attempted_unit = attempted
        .as_ref()
        .map(|u| u.unit.to_string())
        .unwrap_or_default();
    let response = match sign_in(&state, address, request).await {
        Ok(r) => r,
        Err(ApiError::BadCredentials) => {
            super::audit::record_for(&state, &user, &attempted_unit, address, "signin_failed", "")
                .await;
            let message = lang.t("用户名或密码错误。", "Wrong user name or password.");
            return login_form(
                &headers,
                lang,
                StatusCode::UNAUTHORIZED,
                Some(message),
                &user,
            );
        }
        Err(ApiError::TooManyAttempts { retry_after }) => {
            super::audit::record_for(&state, &user, &attempted_unit, address, "signin_locked", "")
                .await;
            let minutes = (retry_after + 59) / 60;
            let message = format!(
                "登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试，或请审核人解除锁定。 · \
                 Too many failed sign-ins: locked for {minutes} more minute(s); try again later \
                 or ask a supervisor to lift the lock."
            );
            let mut page = login_form(
                &headers,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&message),
                &user,
            )?;
            if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(page);
        }
        Err(ApiError::Busy(_)) => {
            let message = "登录请求过多，请稍后几秒再试。 · Too many sign-ins are being checked right now; try again in a few seconds.";
            return login_form(
                &headers,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(message),
                &user,
            );
        }
        Err(e) => return Err(e.into()),
    };
    let (user, hash) = (response.user.clone(), sessions::token_hash(&response.token));
    with_db(&state, move |conn| {
        sessions::keep_console_session(conn, &user, &hash)
    })
    .await?;
    tracing::info!(user = %response.user.id, "console sign-in");
    super::audit::record_for(
        &state,
        response.user.id.as_str(),
        response.user.unit.as_str(),
        address,
        "signin",
        "",
    )
    .await;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict",
        response.token
    );
    let mut out = Redirect::to("/console/records").into_response();
    out.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| crate::internal!("{e}"))?,
    );
    // The pre-sign-in value has served its purpose.
    out.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "console_login=; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(out)
}

/// `GET /console/lockouts`: the accounts of the supervisor's units that are locked after
/// failed sign-ins (or have failures in the current window), each with a button lifting it.
pub async fn lockouts(State(state): State<AppState>, cx: Console) -> ConsoleResult<Response> {
    let (reference, viewer, now) = (state.reference.clone(), cx.user.clone(), state.now());
    let page = state
        .db
        .read(move |conn| -> ConsoleResult<_> {
            Ok(lockouts::lockouts(conn, &reference, &viewer, now)?)
        })
        .await?;
    let lifted = cx.query.get("lifted").and_then(|id| page.account(id));
    let rows = &page.throttled;
    let limits = signin::limits();
    let body = html! {
        p.muted {
            "同一账户 " (limits.account_failures) " 次登录失败（" (limits.window_secs / 60)
            " 分钟内）后锁定 " (limits.lock_secs / 60) " 分钟。 · An account is locked for "
            (limits.lock_secs / 60) " minutes after " (limits.account_failures)
            " failed sign-ins within " (limits.window_secs / 60) " minutes."
        }
        @if let Some(u) = lifted {
            p.good role="status" { "已解除 " (u.name) "（" (u.id) "）的锁定。 · The lock of " (u.id) " was lifted." }
        }
        @if rows.is_empty() {
            p { "没有被锁定的账户。 · No locked accounts." }
        } @else {
            table {
                thead { tr {
                    th { "用户 · User" } th { "失败次数 · Failures" } th { "锁定至 · Locked until" } th {}
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (page.name(&r.user_id)) " (" (r.user_id) ")" }
                            td { (r.failures) }
                            td {
                                @if r.locked_until > 0 { span.bad { (layout::when_secs(r.locked_until)) } }
                                @else { "—" }
                            }
                            td {
                                form method="post" action="/console/lockouts" {
                                    input type="hidden" name="csrf" value=(cx.csrf);
                                    input type="hidden" name="user" value=(r.user_id);
                                    button type="submit" { "解除锁定 · Lift" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = cx.t("登录锁定", "Sign-in lockouts");
    Ok(layout::page(&cx, "", title, body).into_response())
}

/// `POST /console/lockouts` (`user`, `csrf`): a supervisor lifts the sign-in lock of an
/// account in a unit they oversee. Anyone else's answers 404.
pub async fn lift_lockout(
    State(state): State<AppState>,
    cx: Console,
    body: Bytes,
) -> ConsoleResult<Response> {
    let form = cx.checked_form(&body)?;
    let target = form.get("user").unwrap_or_default().to_owned();
    let (reference, viewer, now) = (state.reference.clone(), cx.user.clone(), state.now());
    let (target, lifted) = with_db(&state, move |conn| {
        lockouts::lift(conn, &reference, &viewer, &target, now)
    })
    .await?;
    tracing::info!(user = %target.id, by = %cx.user.id, lifted, "sign-in lock lifted");
    super::audit::record(&state, &cx, "unlock", target.id.as_str()).await;
    super::redirect(format!(
        "/console/lockouts?lifted={}",
        super::form::encode(target.id.as_str())
    ))
}

pub async fn logout(
    State(state): State<AppState>,
    console: Console,
    body: Bytes,
) -> ConsoleResult<Response> {
    console.check_csrf(&FormData::parse_bytes(&body))?;
    let hash = console.token_hash.clone();
    with_db(&state, move |conn| sessions::sign_out(conn, &hash)).await?;
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
