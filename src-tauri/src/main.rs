//! The inspector's tablet app: a Tauri v2 window showing the Yew front end (`app-ui`), with
//! three thin commands over the tablet library's [`tablet::app::App`]: `api` (every screen
//! call, a typed `tablet_api::Request` answered by a typed `tablet_api::Answer`), `photo`
//! and `signature` (raw image bytes); and the `thumb://` protocol the screens load photo
//! thumbnails from (`<img src="thumb://localhost/<sha256>">`).
//!
//! Where the data lives and which server it syncs with come from the environment
//! (`INSPECTION_DATA`, `INSPECTION_SERVER`, see [`AppConfig::from_env`]); by default the
//! platform's app data folder and `http://127.0.0.1:8080`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use app_core::evidence::Sha256Hex;
use tablet::app::{App, AppConfig, ThumbResponse};
use tablet_api::{Answer, ApiError, ErrorCode, PhotoAnswer, PhotoArgs};
use tauri::Manager;
use tauri::ipc::InvokeBody;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs library work off the async runtime: the sync client is blocking HTTP, which must not
/// run (or be dropped) on a runtime thread, and SQLite fsyncs should not hold one either.
async fn blocking<T: Send + 'static>(
    app: tauri::AppHandle,
    work: impl FnOnce(&App) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<App>()))
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                "应用内部错误，请重试",
                format!("worker failed: {e}"),
            )
        })?
}

#[tauri::command]
async fn api(app: tauri::AppHandle, request: tablet_api::Request) -> Result<Answer, ApiError> {
    blocking(app, move |s| s.handle(request)).await
}

fn raw_body(request: &tauri::ipc::Request<'_>) -> Result<Vec<u8>, ApiError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        InvokeBody::Json(_) => Err(ApiError::new(
            ErrorCode::Internal,
            "应发送图像文件的字节",
            "expected the image's raw bytes",
        )),
    }
}

#[tauri::command]
async fn photo(
    app: tauri::AppHandle,
    request: tauri::ipc::Request<'_>,
) -> Result<PhotoAnswer, ApiError> {
    let args: PhotoArgs = request
        .headers()
        .get("x-args")
        .and_then(|h| h.to_str().ok())
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "照片缺少去向",
                "photo without its target (x-args)",
            )
        })?;
    let bytes = raw_body(&request)?;
    blocking(app, move |s| s.ingest_photo(&args, &bytes)).await
}

#[tauri::command]
async fn signature(
    app: tauri::AppHandle,
    request: tauri::ipc::Request<'_>,
) -> Result<Sha256Hex, ApiError> {
    let bytes = raw_body(&request)?;
    blocking(app, move |s| s.ingest_signature(&bytes)).await
}

/// Serves `thumb://localhost/<sha256>` ([`tablet_api::thumb_url`]): the thumbnail of a photo
/// ingested on this tablet, read from its blob store off the async runtime. The tablet
/// library checks the address (`/` and 64 lowercase hex digits, nothing else) and serves
/// only photos it ingested; thumbnails are content-addressed, so they never go stale.
fn thumb_protocol(
    ctx: tauri::UriSchemeContext<'_, tauri::Wry>,
    request: tauri::http::Request<Vec<u8>>,
    responder: tauri::UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_owned();
    tauri::async_runtime::spawn_blocking(move || {
        let answer = match app.try_state::<App>() {
            Some(state) => state.thumb_response(&path),
            None => ThumbResponse {
                status: 503,
                content_type: "text/plain; charset=utf-8",
                body: b"the app is starting".to_vec(),
            },
        };
        let cache = if answer.status == 200 {
            "max-age=31536000, immutable"
        } else {
            "no-store"
        };
        let response = tauri::http::Response::builder()
            .status(answer.status)
            .header(tauri::http::header::CONTENT_TYPE, answer.content_type)
            .header(tauri::http::header::CACHE_CONTROL, cache)
            .header(tauri::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .body(answer.body);
        match response {
            Ok(r) => responder.respond(r),
            Err(e) => {
                eprintln!("inspection-app: thumbnail answer: {e}");
                let mut failed = tauri::http::Response::new(Vec::new());
                *failed.status_mut() = tauri::http::StatusCode::INTERNAL_SERVER_ERROR;
                responder.respond(failed);
            }
        }
    });
}

fn main() {
    tauri::Builder::default()
        .register_asynchronous_uri_scheme_protocol(tablet_api::THUMB_SCHEME, thumb_protocol)
        .setup(|app| {
            let config = AppConfig::from_env(app.path().app_data_dir()?);
            eprintln!(
                "inspection-app: data {}, server {}",
                config.db.display(),
                config.server
            );
            let state = App::open(config).map_err(|e| e.en)?;
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![api, photo, signature])
        .run(tauri::generate_context!())
        .expect("the app window could not start");
}
