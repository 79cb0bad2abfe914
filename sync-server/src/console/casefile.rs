//! Case files (电子案卷) in the console: export a signed record as a signed case file, and
//! verify a case file someone sends in.
//!
//! **Export.** The console's case files are signed with the server's own Ed25519 key (one
//! row in `server_key`, made on first use, so every instance on the same database signs
//! alike), naming the exporting supervisor as the signer. An export runs on a blocking
//! thread; its progress lives in `casefile_exports` (any instance can show it) and the file
//! is written under the data folder's `exports/` with a temporary name, renamed only when
//! complete, so nothing half-written is ever offered; with the blobs in S3 (several nodes) it
//! is then copied to the bucket (`casefiles/<job>.zip`) before the job is done, so every node
//! serves it. Access is the record page's: whoever may not read the record gets the same 404
//! as for a missing one.
//!
//! **Verify.** An uploaded case file is streamed to a temporary file under the data folder
//! (capped at [`MAX_UPLOAD_BYTES`]), checked by `casefile::verify` against this server's key
//! and every registered device key, and deleted. Nothing in it is extracted.

use super::form::{FormData, encode};
use super::layout::{page, when_secs};
use super::{Console, ConsoleError, ConsoleResult};
use crate::service::casefiles::{self, CaseFileError, ExportJob, Subject};
use crate::state::AppState;
use crate::store::any::AnyConn;
use app_core::inspection::Inspection;
use app_core::user::User;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use casefile::{CheckKind, Report, Status, TrustedKey, VerifyOptions};
use ed25519_dalek::{SigningKey, VerifyingKey};
use maud::{Markup, html};
use std::fs::{self, File};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// The largest case file the verify page accepts (the format itself stops at 4 GiB).
pub const MAX_UPLOAD_BYTES: u64 = 2 << 30;

// ---------------------------------------------------------------------------------------
// The server's signing key

/// The server's case-file signing key (see `service::casefiles::server_key`).
pub fn server_key(conn: &AnyConn, now: i64) -> crate::error::InternalResult<SigningKey> {
    Ok(casefiles::server_key(conn, now)?)
}

fn fingerprint(key: &VerifyingKey) -> String {
    casefile::manifest::fingerprint(key)
}

fn key_hex(key: &VerifyingKey) -> String {
    app_core::evidence::hex(key.as_bytes())
}

// ---------------------------------------------------------------------------------------
// Export jobs

/// One export, as stored (`store::casefiles`).
pub use crate::store::casefiles::{Job, JobState};

fn data_dir(state: &AppState) -> PathBuf {
    state.data.clone()
}

fn exports_dir(state: &AppState) -> PathBuf {
    data_dir(state).join("exports")
}

fn job_file(state: &AppState, id: &str) -> PathBuf {
    casefiles::job_file(&exports_dir(state), id)
}

/// Runs export job `job` of `record_id` (a record, or a case as [`Subject`] names it) for
/// `user` to the end (on a blocking thread):
/// `service::casefiles::run_export`, with the database lent a moment at a time.
fn run_job(state: &AppState, job: &str, record_id: &str, user: &User) {
    let clock = state.clock.clone();
    casefiles::run_export(
        &state.db,
        &ExportJob {
            id: job,
            record: record_id,
            user,
            reference: &state.reference,
            blobs: &state.blobs,
            exports: &exports_dir(state),
        },
        &*clock,
    );
}

impl From<CaseFileError> for ConsoleError {
    fn from(e: CaseFileError) -> Self {
        match e {
            CaseFileError::NotFound => ConsoleError::NotFound,
            other => ConsoleError::Internal(other.into()),
        }
    }
}

const NOT_SIGNED_ZH: &str =
    "该记录尚无签署版本，不能导出电子案卷。请先在平板上完成签名并生成签署版本。";
const NOT_SIGNED_EN: &str = "This record has no signed version, so no case file can be exported. Sign it on the tablet first.";

/// `POST /console/records/{id}/casefile`: starts an export of the record's latest signed
/// version and goes to its progress page.
pub async fn start(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
    body: Bytes,
) -> ConsoleResult<Response> {
    cx.check_csrf(&FormData::parse_bytes(&body))?;
    let job = casefiles::new_job_id()?;
    let now = state.now();
    let (st, user, rid, jid) = (state.clone(), cx.user.clone(), id.clone(), job.clone());
    let signed = state
        .db
        .call(move |conn| -> ConsoleResult<bool> {
            match casefiles::start_export(conn, &st.reference, &user, &rid, &jid, now) {
                Ok(()) => Ok(true),
                Err(CaseFileError::NotSigned) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    if signed {
        super::audit::record(&state, &cx, "export_casefile", &id).await;
    }
    if !signed {
        let body = html! {
            p.error #casefile-error role="alert" { (NOT_SIGNED_ZH) }
            p.muted lang="en" { (NOT_SIGNED_EN) }
            p { a href={ "/console/records/" (encode(&id)) } { (cx.t("返回记录", "Back to the record")) } }
        };
        let mut resp = page(
            &cx,
            "records",
            cx.t("无法导出电子案卷", "No case file"),
            body,
        )
        .into_response();
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    tracing::info!(job, record = %id, user = %cx.user.id, "case file export started");
    let (st, user, jid) = (state.clone(), cx.user.clone(), job.clone());
    // Not awaited: the export runs on while the browser follows its progress page.
    drop(tokio::task::spawn_blocking(move || {
        run_job(&st, &jid, &id, &user)
    }));
    super::redirect(format!("/console/casefiles/jobs/{job}"))
}

/// `POST /console/cases/{id}/casefile`: starts an export of penalty case `id` as it reads
/// now (its stage named in the file), then shows the job's progress page. 404 for a case
/// the user may not read.
pub async fn start_case(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
    body: Bytes,
) -> ConsoleResult<Response> {
    cx.check_csrf(&FormData::parse_bytes(&body))?;
    let job = casefiles::new_job_id()?;
    let now = state.now();
    let (st, user, cid, jid) = (state.clone(), cx.user.clone(), id.clone(), job.clone());
    state
        .db
        .call(move |conn| -> ConsoleResult<()> {
            Ok(casefiles::start_case_export(
                conn,
                &st.reference,
                &user,
                &cid,
                &jid,
                now,
            )?)
        })
        .await?;
    super::audit::record(&state, &cx, "export_case_casefile", &id).await;
    tracing::info!(job, case = %id, user = %cx.user.id, "case file export of a penalty case started");
    let (st, user, jid) = (state.clone(), cx.user.clone(), job.clone());
    let subject = Subject::Case(&id).stored();
    drop(tokio::task::spawn_blocking(move || {
        run_job(&st, &jid, &subject, &user)
    }));
    super::redirect(format!("/console/casefiles/jobs/{job}"))
}

/// The job, if it exists and the user may read its record or case (404 otherwise).
async fn readable_job(state: &AppState, cx: &Console, id: &str) -> ConsoleResult<Job> {
    if !casefiles::job_id_ok(id) {
        return Err(ConsoleError::NotFound);
    }
    let (st, user, jid, now) = (state.clone(), cx.user.clone(), id.to_owned(), state.now());
    state
        .db
        .call(move |conn| -> ConsoleResult<Job> {
            Ok(casefiles::readable_job(
                conn,
                &st.reference,
                &user,
                &jid,
                now,
            )?)
        })
        .await
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// `GET /console/casefiles/jobs/{job}`: the export's progress (refreshing itself while it
/// runs), then the download or the reason it failed.
pub async fn job_page(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Html<String>> {
    let job = readable_job(&state, &cx, &id).await?;
    let key = state
        .db
        .call({
            let now = state.now();
            move |conn| server_key(conn, now)
        })
        .await?
        .verifying_key();
    let percent = (job.bytes_done * 100)
        .checked_div(job.bytes_total)
        .unwrap_or(0)
        .min(100);
    let body = html! {
        @if job.state == JobState::Running {
            meta http-equiv="refresh" content="1";
        }
        section #casefile-job data-state=(job.state.as_str()) {
            table {
                @match Subject::of_job(&job.record_id) {
                    Subject::Record(r) => tr { th { (cx.t("检查记录", "Record")) } td.mono { a href={ "/console/records/" (encode(r)) } { (r) } } },
                    Subject::Case(c) => tr { th { (cx.t("行政处罚案件", "Penalty case")) } td.mono { a #casefile-case href={ "/console/cases/" (encode(c)) } { (c) } } },
                }
                tr { th { (cx.t("导出人", "Exported by")) } td { (job.requested_by) " · " (when_secs(job.requested_at)) } }
            }
            @match job.state {
                JobState::Running => {
                    p { (cx.t("正在导出……", "Exporting…")) }
                    progress #casefile-progress value=(job.bytes_done) max=(job.bytes_total.max(1)) { (percent) "%" }
                    p #casefile-bytes { (percent) "% · " (human_bytes(job.bytes_done)) " / " (human_bytes(job.bytes_total)) }
                    @if !job.current.is_empty() {
                        p { (cx.t("当前文件", "Current file")) ": " span.mono #casefile-current { (job.current) } }
                    }
                    p.muted { (cx.t("本页每秒自动刷新。", "This page refreshes every second.")) }
                }
                JobState::Done => {
                    p.good { (cx.t("导出完成。", "The case file is ready.")) }
                    p { a #casefile-download href={ "/console/casefiles/jobs/" (job.id) "/download" } {
                        (cx.t("下载电子案卷", "Download the case file")) " (" (human_bytes(job.size.unwrap_or(0))) ")"
                    } }
                    table {
                        tr { th { (cx.t("签署版本", "Signed version")) } td.mono { (job.signed_version.clone().unwrap_or_default()) } }
                        tr { th { (cx.t("清单 SHA-256", "Manifest SHA-256")) } td.mono { (job.manifest_sha256.clone().unwrap_or_default()) } }
                        tr { th { (cx.t("签名公钥（本服务器）", "Signing key (this server)")) } td.mono #casefile-key { (key_hex(&key)) } }
                        tr { th { (cx.t("公钥指纹", "Key fingerprint")) } td.mono { (fingerprint(&key)) } }
                    }
                    p.muted { (cx.t("收件人可离线核验：", "The recipient verifies it offline: ")) code { "casefile verify case.zip --expect-key " (key_hex(&key)) } }
                }
                JobState::Failed => {
                    p.error #casefile-error role="alert" { (job.error_zh.clone().unwrap_or_default()) }
                    p.muted lang="en" { (job.error_en.clone().unwrap_or_default()) }
                }
                JobState::Stalled => {
                    p.error #casefile-error role="alert" { (cx.t("导出中断（服务器在导出过程中停止），未生成文件。请重新导出。", "The export was interrupted (its server stopped); no file was made. Export again.")) }
                }
            }
        }
    };
    Ok(page(
        &cx,
        "casefiles",
        cx.t("电子案卷导出", "Case file export"),
        body,
    ))
}

/// A file name made of safe characters only.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `GET /console/casefiles/jobs/{job}/download`: the finished case file.
pub async fn download(
    State(state): State<AppState>,
    cx: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let job = readable_job(&state, &cx, &id).await?;
    if job.state != JobState::Done {
        return Err(ConsoleError::NotFound);
    }
    // In the object store (several nodes), else in this node's data folder.
    let kept = state
        .blobs
        .case_file(&job.id)
        .await
        .map_err(|e| crate::internal!("case file of job {}: {e}", job.id))?;
    let (len, body) = match kept {
        Some(kept) => kept,
        None => {
            let path = job_file(&state, &job.id);
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|_| ConsoleError::NotFound)?;
            let len = file
                .metadata()
                .await
                .map_err(|e| crate::internal!("{}: {e}", path.display()))?
                .len();
            let body =
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 16));
            (len, body)
        }
    };
    let name = format!(
        "casefile-{}-{}.zip",
        safe_name(&job.record_id),
        safe_name(job.signed_version.as_deref().unwrap_or(""))
    );
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .map_err(|e| crate::internal!("{e}"))?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

/// The `#casefile-export` section of the record page.
pub fn export_section(cx: &Console, record: &Inspection, jobs: &[Job]) -> Markup {
    let rid = encode(record.id.as_str());
    html! {
        section #casefile-export {
            h2 { (cx.t("电子案卷", "Case file")) }
            @if record.signed_versions.is_empty() {
                p.muted #casefile-unsigned { (NOT_SIGNED_ZH) @if cx.lang == super::Lang::En { br; (NOT_SIGNED_EN) } }
            } @else {
                p { (cx.t("导出最新签署版本的电子案卷（执法文书 PDF、原始照片、记录、审计轨迹），由本服务器的密钥签名。",
                          "Export the latest signed version as a case file (documents as PDF, original photos, the record, the audit trail), signed with this server's key.")) }
                form #casefile-export-form method="post" action={ "/console/records/" (rid) "/casefile" } {
                    input type="hidden" name="csrf" value=(cx.csrf);
                    button type="submit" { (cx.t("导出电子案卷", "Export case file")) }
                }
            }
            @if !jobs.is_empty() {
                table #casefile-jobs {
                    thead { tr { th { (cx.t("导出时间", "Requested")) } th { (cx.t("导出人", "By")) } th { (cx.t("状态", "State")) } } }
                    @for j in jobs {
                        tr {
                            td { a href={ "/console/casefiles/jobs/" (j.id) } { (when_secs(j.requested_at)) } }
                            td { (j.requested_by) }
                            td { @match j.state {
                                JobState::Running => { (cx.t("导出中", "running")) }
                                JobState::Done => span.good { (cx.t("已完成", "ready")) },
                                JobState::Failed => span.bad { (cx.t("失败", "failed")) },
                                JobState::Stalled => span.bad { (cx.t("中断", "interrupted")) },
                            } }
                        }
                    }
                }
            }
            p.muted { a href="/console/casefiles" { (cx.t("关于电子案卷与核验", "About case files and verification")) } }
        }
    }
}

// ---------------------------------------------------------------------------------------
// About case files, and verification

/// The verify form's script (served at `layout::VERIFY_SCRIPT_PATH`): uploads the chosen file
/// as the raw body, with the session's CSRF token in the `X-CSRF-Token` header (never in the
/// URL, where it would reach logs and history), and shows the report.
pub const VERIFY_SCRIPT: &str = r#"
document.getElementById('verify-form').addEventListener('submit', function (e) {
  e.preventDefault();
  var input = document.getElementById('verify-file');
  var file = input.files && input.files[0];
  if (!file) { return; }
  var status = document.getElementById('verify-status');
  status.textContent = status.getAttribute('data-busy');
  fetch(this.action, { method: 'POST', body: file, credentials: 'same-origin',
                       headers: { 'content-type': 'application/zip',
                                  'x-csrf-token': this.getAttribute('data-csrf') } })
    .then(function (r) { return r.text(); })
    .then(function (html) { document.open(); document.write(html); document.close(); })
    .catch(function (err) { status.textContent = String(err); });
});
"#;

/// `GET /console/casefiles`: this server's signing key (for recipients to compare) and the
/// verify form.
pub async fn about(State(state): State<AppState>, cx: Console) -> ConsoleResult<Html<String>> {
    let now = state.now();
    let (key, history) = state
        .db
        .call(move |conn| -> crate::error::InternalResult<_> {
            let key = server_key(conn, now)?.verifying_key();
            Ok((key, casefiles::key_history(conn, now)?))
        })
        .await?;
    let body = html! {
        section #server-key-section {
            h2 { (cx.t("本服务器的签名公钥", "This server's signing key")) }
            p { (cx.t("控制台导出的电子案卷由本服务器的 Ed25519 密钥签名，清单中写明导出的审核人。收件人应通过可信渠道（电话、公文）核对下面的公钥或指纹，再用核验程序检查：",
                      "Case files exported from the console are signed with this server's Ed25519 key, naming the exporting supervisor. Recipients should compare the key or its fingerprint below through a channel they trust (phone, official letter), then run the verifier:")) }
            table {
                tr { th { (cx.t("公钥", "Public key")) } td.mono #server-key { (key_hex(&key)) } }
                tr { th { (cx.t("指纹", "Fingerprint")) } td.mono #server-fingerprint { (fingerprint(&key)) } }
            }
            p { code { "casefile verify case.zip --expect-key " (key_hex(&key)) " --key-history server-keys.json" } }
            h3 { (cx.t("密钥历史", "Key history")) }
            p.muted { (cx.t("本服务器用过的全部签名公钥及其有效期。每次更换密钥都由旧密钥和新密钥共同签名，因此信任其中一把密钥即可核验用其他密钥签名的案卷；在有效期之外签名的案卷不予通过。",
                            "Every signing key this server has used, with its validity period. Each key change is signed by both the old and the new key, so trusting one key lets case files signed with the others verify; a case file signed outside its key's period fails.")) }
            table #key-history {
                tr { th { "#" } th { (cx.t("指纹", "Fingerprint")) } th { (cx.t("启用", "From")) } th { (cx.t("停用", "Until")) } }
                @for (i, e) in history.keys.iter().enumerate() {
                    tr {
                        td { (i + 1) }
                        td.mono { (casefile::manifest::parse_public_key(&e.public_key).map(|k| fingerprint(&k)).unwrap_or_default()) }
                        td { (shanghai(e.valid_from)) }
                        td { @match e.valid_until { Some(u) => (shanghai(u)), None => (cx.t("当前使用", "current")) } }
                    }
                }
            }
            p { a #key-history-download href="/console/casefiles/keys.json" download="server-keys.json" { (cx.t("下载密钥历史（server-keys.json）", "Download the key history (server-keys.json)")) } }
            p.muted { (cx.t("平板导出的电子案卷由平板的设备密钥签名；设备密钥在平板首次登录时登记到本服务器，下面的核验会据此识别。",
                            "Case files exported on a tablet are signed with the tablet's device key, registered with this server at its first sign-in; the check below recognises them.")) }
        }
        section #verify-section {
            h2 { (cx.t("核验电子案卷", "Verify a case file")) }
            p { (cx.t("选择收到的电子案卷（ZIP）。文件只用于核验，核验后即删除，不解压任何内容。",
                      "Choose a case file (ZIP). It is only checked, then deleted; nothing in it is extracted.")) }
            p.muted { (cx.t("最大", "Largest accepted: ")) " " (human_bytes(MAX_UPLOAD_BYTES)) }
            form #verify-form method="post" action="/console/casefiles/verify" data-csrf=(cx.csrf) {
                input #verify-file type="file" accept=".zip,application/zip" required;
                button type="submit" { (cx.t("核验", "Verify")) }
                " "
                span #verify-status data-busy=(cx.t("正在上传并核验……", "Uploading and checking…")) {}
            }
            script src=(super::layout::VERIFY_SCRIPT_PATH) {}
        }
    };
    Ok(page(&cx, "casefiles", cx.t("电子案卷", "Case files"), body))
}

/// Deletes the uploaded file however the request ends.
struct TempUpload(PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn upload_refused(cx: &Console, status: StatusCode, zh: &str, en: &str) -> Response {
    let body = html! {
        p.error #verify-error role="alert" { (zh) }
        p.muted lang="en" { (en) }
        p { a href="/console/casefiles" { (cx.t("返回", "Back")) } }
    };
    let mut resp = page(
        cx,
        "casefiles",
        cx.t("核验电子案卷", "Verify a case file"),
        body,
    )
    .into_response();
    *resp.status_mut() = status;
    resp
}

/// Whose key signed: this server's, a registered device's, or an unknown one.
#[derive(Debug)]
enum KeyOwner {
    Server,
    Device { device: String, user: String },
    Unknown,
}

/// The header that carries the CSRF token of an upload whose body is the file itself.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /console/casefiles/verify` with the case file as the raw body and the session's CSRF
/// token in the `X-CSRF-Token` header: the bilingual report.
pub async fn verify(
    State(state): State<AppState>,
    cx: Console,
    headers: HeaderMap,
    body: Body,
) -> ConsoleResult<Response> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    cx.check_csrf(&FormData::parse(&format!("csrf={}", encode(sent))))?;
    let too_large_zh = format!("文件过大：最大 {}。", human_bytes(MAX_UPLOAD_BYTES));
    let too_large_en = format!("The file is too large: at most {} bytes.", MAX_UPLOAD_BYTES);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Ok(upload_refused(
            &cx,
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large_zh,
            &too_large_en,
        ));
    }
    let dir = data_dir(&state).join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| crate::internal!("{}: {e}", dir.display()))?;
    let temp = TempUpload(dir.join(format!("{}.zip.upload", casefiles::new_job_id()?)));
    let mut file = tokio::fs::File::create(&temp.0)
        .await
        .map_err(|e| crate::internal!("{}: {e}", temp.0.display()))?;
    let mut body = body;
    let mut received: u64 = 0;
    while let Some(frame) =
        std::future::poll_fn(|c| std::pin::Pin::new(&mut body).poll_frame(c)).await
    {
        let frame = frame
            .map_err(|e| ConsoleError::BadRequest(format!("上传中断 · upload interrupted: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len() as u64;
        if received > MAX_UPLOAD_BYTES {
            return Ok(upload_refused(
                &cx,
                StatusCode::PAYLOAD_TOO_LARGE,
                &too_large_zh,
                &too_large_en,
            ));
        }
        file.write_all(&data)
            .await
            .map_err(|e| crate::internal!("{}: {e}", temp.0.display()))?;
    }
    file.flush()
        .await
        .map_err(|e| crate::internal!("{}: {e}", temp.0.display()))?;
    drop(file);
    if received == 0 {
        return Ok(upload_refused(
            &cx,
            StatusCode::BAD_REQUEST,
            "请选择要核验的电子案卷文件（需要浏览器启用 JavaScript）。",
            "Choose a case file to verify (the page needs JavaScript).",
        ));
    }
    let now = state.now();
    let (server, devices, history) = state
        .db
        .call(move |conn| -> crate::error::InternalResult<_> {
            let (server, devices) = casefiles::trusted_keys(conn, now)?;
            Ok((server, devices, casefiles::key_history(conn, now)?))
        })
        .await?;
    let devices: Vec<(String, String, VerifyingKey)> = devices
        .into_iter()
        .filter_map(|(d, u, k)| {
            let k: [u8; 32] = k.try_into().ok()?;
            Some((d, u, VerifyingKey::from_bytes(&k).ok()?))
        })
        .collect();
    let mut trusted = vec![TrustedKey {
        key: server,
        label: "本服务器 this server".into(),
    }];
    trusted.extend(devices.iter().map(|(d, u, k)| TrustedKey {
        key: *k,
        label: format!("设备 device {d}（{u}）"),
    }));
    let path = temp.0.clone();
    let history_for_check = history.clone();
    let report = tokio::task::spawn_blocking(move || -> std::io::Result<Report> {
        let file = File::open(&path)?;
        // The server's earlier keys are trusted through its key history (anchored by the
        // current key), each within its validity period.
        Ok(casefile::verify_with_history(
            std::io::BufReader::with_capacity(1 << 16, file),
            &VerifyOptions {
                trusted_keys: trusted,
            },
            &history_for_check,
        ))
    })
    .await
    .map_err(|e| crate::internal!("verify task: {e}"))?
    .map_err(|e| crate::internal!("reading the upload: {e}"))?;
    drop(temp);
    let owner = report.signed_by.map(|k| {
        if k == server || history.entry(&k).is_some() {
            KeyOwner::Server
        } else if let Some((d, u, _)) = devices.iter().find(|(_, _, dk)| *dk == k) {
            KeyOwner::Device {
                device: d.clone(),
                user: u.clone(),
            }
        } else {
            KeyOwner::Unknown
        }
    });
    tracing::info!(user = %cx.user.id, bytes = received, holds = report.holds(), "case file verified in the console");
    Ok(render_report(&state, &cx, &report, owner.as_ref(), received).into_response())
}

fn status_cell(cx: &Console, s: Status) -> Markup {
    match s {
        Status::Pass => html! { span.good { (cx.t("通过", "PASS")) } },
        Status::Fail => html! { span.bad { (cx.t("失败", "FAIL")) } },
        Status::NotChecked => html! { span.muted { (cx.t("未检查", "NOT CHECKED")) } },
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NotChecked => "not-checked",
    }
}

fn check_key(k: CheckKind) -> &'static str {
    match k {
        CheckKind::Container => "container",
        CheckKind::Manifest => "manifest",
        CheckKind::Signature => "signature",
        CheckKind::Files => "files",
        CheckKind::Trail => "trail",
        CheckKind::Record => "record",
        CheckKind::Signer => "signer",
    }
}

fn render_report(
    state: &AppState,
    cx: &Console,
    report: &Report,
    owner: Option<&KeyOwner>,
    size: u64,
) -> Html<String> {
    let holds = report.holds();
    let body = html! {
        section #verify-report data-holds=(holds) {
            @if holds {
                p.good #verify-result { "结论：全部检查通过。" br; span lang="en" { "Result: every check holds." } }
            } @else {
                p.bad #verify-result { "结论：核验未通过。" br; span lang="en" { "Result: verification FAILED." } }
            }
            p.muted { (cx.t("文件大小", "File size")) ": " (human_bytes(size)) }
            h2 { (cx.t("签名密钥", "Signing key")) }
            @if let Some(k) = report.signed_by {
                table {
                    tr { th { (cx.t("公钥", "Public key")) } td.mono #signed-by { (key_hex(&k)) } }
                    tr { th { (cx.t("指纹", "Fingerprint")) } td.mono { (fingerprint(&k)) } }
                    tr { th { (cx.t("归属", "Whose")) } td #key-owner data-owner=(match owner { Some(KeyOwner::Server) => "server", Some(KeyOwner::Device { .. }) => "device", _ => "unknown" }) {
                        @match owner {
                            Some(KeyOwner::Server) => span.good { "本服务器的密钥（由本控制台导出）" br; span lang="en" { "This server's key (exported from this console)" } },
                            Some(KeyOwner::Device { device, user }) => span.good {
                                "已登记的平板设备 " span.mono { (device) } "，用户 " (user) " " (state.user(user).map(|u| u.name).unwrap_or_default())
                                br; span lang="en" { "A registered tablet: device " (device) ", user " (user) }
                            },
                            _ => span.bad { "未登记的密钥：无法确认是谁签署的。" br; span lang="en" { "Not a key this server knows: who signed it cannot be confirmed." } },
                        }
                    } }
                }
            } @else {
                p.bad #signed-by-none { "签名不成立，无法确认签名密钥。" br; span lang="en" { "The signature does not hold; no signing key is confirmed." } }
            }
            @if let Some(m) = &report.manifest {
                h2 { (cx.t("清单所述", "What the manifest says")) }
                table {
                    tr { th { (cx.t("检查记录", "Inspection")) } td.mono { (m.inspection) } }
                    tr { th { (cx.t("签署版本", "Signed version")) } td.mono { (m.signed_version) } }
                    tr { th { (cx.t("导出时间", "Exported at")) } td { (m.exported_at.display_shanghai()) } }
                    tr { th { (cx.t("签名人", "Signer")) } td { (m.signer.name) "（" (m.signer.role_zh()) " " (m.signer.role) "，" (m.signer.user) "）· " (m.signer.unit_name) " · " (cx.t("设备", "device")) " " (m.signer.device) } }
                    @if m.amended {
                        tr { th { (cx.t("注意", "Note")) } td.bad { "签署后记录被修改过，见 amendments.json。" span lang="en" { " The record was amended after signing (see amendments.json)." } } }
                    }
                }
            }
            h2 { (cx.t("各项检查", "Checks")) }
            table #verify-checks {
                thead { tr { th { (cx.t("检查", "Check")) } th { (cx.t("结果", "Result")) } th { (cx.t("说明", "Details")) } } }
                @for c in &report.checks {
                    tr data-check=(check_key(c.kind)) data-status=(status_str(c.status)) {
                        td { (c.kind.title_zh()) br; span.muted lang="en" { (c.kind.title_en()) } }
                        td { (status_cell(cx, c.status)) }
                        td { @for m in &c.messages { div { (m.zh) br; span.muted lang="en" { (m.en) } } } }
                    }
                }
            }
            details {
                summary { (cx.t("文本报告（中文 / English）", "Text report (Chinese / English)")) }
                pre #verify-text { (report.render_zh_en()) }
            }
            p { a href="/console/casefiles" { (cx.t("核验另一个文件", "Verify another file")) } }
        }
    };
    page(
        cx,
        "casefiles",
        cx.t("核验结果", "Verification report"),
        body,
    )
}

/// A moment (Unix seconds) as people read it: Asia/Shanghai, to the minute.
fn shanghai(secs: i64) -> String {
    app_core::geo::Timestamp(secs.saturating_mul(1000)).display_shanghai()
}

/// `GET /console/casefiles/keys.json` and `GET /api/v1/casefile-keys`: the key history
/// (`casefile::keys`), for recipients' verifiers.
pub async fn key_history_json(State(state): State<AppState>) -> ConsoleResult<Response> {
    let now = state.now();
    let history = state
        .db
        .call(move |conn| -> crate::error::InternalResult<_> {
            Ok(casefiles::key_history(conn, now)?)
        })
        .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        history.to_json(),
    )
        .into_response())
}
