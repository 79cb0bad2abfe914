//! The page shell: head, stylesheet, navigation, language switch and sign-out; the console's
//! static assets (stylesheet, script); and the security headers every console response
//! carries.
//!
//! Pages have no inline style or script: the stylesheet and the one script are served from
//! `/console/static/`, so the Content-Security-Policy can allow only this origin's files
//! (`'self'`) and nothing inline.

use super::form::encode;
use super::session::Console;
use app_core::geo::Timestamp;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/console/static/console.css";
/// Where the case-file verify form's script is served.
pub const VERIFY_SCRIPT_PATH: &str = "/console/static/verify.js";

/// The console's Content-Security-Policy: only this origin's stylesheet, script, images, audio
/// and video, and fetches; forms post only here; no frames, plugins, or `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
    script-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to a console response: the CSP above, no framing, no MIME
/// sniffing, no `Referer` sent to links (URLs may name records), and no caching (pages show
/// enforcement records and are often opened on shared office computers).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /console/static/console.css`.
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// `GET /console/static/verify.js`.
pub async fn verify_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        super::casefile::VERIFY_SCRIPT,
    )
        .into_response()
}

const STYLE: &str = r#"
:root { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; color: #1d2733; }
body { margin: 0; background: #f4f6f8; }
header.top { background: #1f4e79; color: #fff; padding: .5rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; padding: .25rem .5rem; border-radius: 3px; }
header.top a.active, header.top a:hover { background: rgba(255,255,255,.2); }
header.top .who { margin-left: auto; font-size: .9rem; }
header.top form { display: inline; }
main { padding: 1rem 1.5rem; max-width: 2400px; margin: 0 auto; }
main.narrow { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 6px; }
main.narrow label { display: block; margin: .75rem 0; }
main.narrow input { display: block; width: 100%; padding: .4rem; box-sizing: border-box; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d5dbe1; padding: .35rem .5rem; text-align: left; vertical-align: top; font-size: .92rem; }
th { background: #e8edf2; }
section { background: #fff; padding: .75rem 1rem; margin: 0 0 1rem; border-radius: 6px; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; background: #fff; padding: .75rem; border-radius: 6px; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; background: #e8edf2; font-size: .85rem; }
.bad, .overdue { color: #b00020; font-weight: bold; }
.good { color: #1b7f3b; font-weight: bold; }
.error { color: #b00020; }
.muted { color: #667; font-size: .85rem; }
.mono { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
img.full { max-width: 100%; height: auto; border: 1px solid #ccc; }
img.thumb { max-width: 160px; max-height: 120px; border: 1px solid #ccc; }
nav.paging { margin: .5rem 0; display: flex; gap: 1rem; }
textarea { width: 100%; min-height: 4rem; }
.badge.flag { background: #fff1cc; color: #7a4b00; border: 1px solid #e0b040; font-weight: bold; }
.badge.major { background: #b00020; color: #fff; }
details.flag { margin: .25rem 0; }
details.flag p { margin: .25rem 0 .5rem 1rem; }
section#decide { border: 2px solid #1f4e79; }
section#decide .actions { display: flex; gap: 1rem; align-items: center; margin: .5rem 0; }
section#decide button { font-size: 1.1rem; padding: .5rem 1.5rem; min-height: 44px; }
section#decide .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
p.notice { background: #e6f4ea; padding: .5rem 1rem; border-radius: 4px; }
p.error[role=alert] { background: #fdecee; padding: .5rem 1rem; border-radius: 4px; font-weight: bold; }
"#;

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body { (body) }
        }
    }
}

/// A console page with navigation; `active` names the section (`records`, `hazards`, …).
pub fn page(cx: &Console, active: &str, title: &str, body: Markup) -> Html<String> {
    let nav = [
        (
            "records",
            "/console/records",
            cx.t("检查记录", "Inspections"),
        ),
        ("queue", "/console/queue", cx.t("审核队列", "Review queue")),
        (
            "hazards",
            "/console/hazards",
            cx.t("隐患台账", "Hazard ledger"),
        ),
        ("cases", "/console/cases", cx.t("行政处罚", "Penalty cases")),
        ("figures", "/console/figures", cx.t("统计", "Figures")),
        (
            "draws",
            "/console/draws",
            cx.t("双随机抽查", "Random draws"),
        ),
        (
            "publication",
            "/console/publication",
            cx.t("一公开", "Publication"),
        ),
        (
            "casefiles",
            "/console/casefiles",
            cx.t("电子案卷", "Case files"),
        ),
        (
            "checklists",
            "/console/checklists",
            cx.t(
                app_core::messages::checklists::TITLE.0,
                app_core::messages::checklists::TITLE.1,
            ),
        ),
        (
            "audit",
            "/console/audit",
            cx.t(
                app_core::messages::audit::TITLE.0,
                app_core::messages::audit::TITLE.1,
            ),
        ),
    ];
    let back = encode(&cx.path);
    let other = match cx.lang {
        super::Lang::Zh => ("en", "English"),
        super::Lang::En => ("zh", "中文"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(cx.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (cx.t("审核控制台", "Console")) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header.top {
                    strong { (cx.t("审核控制台", "Supervisors' console")) }
                    @for (key, href, label) in nav {
                        a href=(href) class=[(key == active).then_some("active")] { (label) }
                    }
                    span.who {
                        span title=(cx.user.id) { (cx.user.name) } " · "
                        a href={ "/console/lang/" (other.0) "?back=" (back) } { (other.1) }
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(cx.csrf);
                            button type="submit" { (cx.t("退出", "Sign out")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string())
}

/// An instant in Asia/Shanghai, `2026-11-23 14:05`.
pub fn when(t: Timestamp) -> String {
    t.display_shanghai()
}

/// Seconds since the epoch in Asia/Shanghai.
pub fn when_secs(secs: i64) -> String {
    Timestamp(secs.saturating_mul(1000)).display_shanghai()
}
