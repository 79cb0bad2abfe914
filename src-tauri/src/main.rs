//! The inspector's tablet app: a Tauri v2 window showing the Yew front end (`app-ui`), with
//! three thin commands over the tablet library's [`tablet::app::App`]: `api` (every screen
//! call, a typed `tablet_api::Request` answered by a typed `tablet_api::Answer`), `photo`
//! and `signature` (raw image bytes).
//!
//! Where the data lives and which server it syncs with come from the environment
//! (`INSPECTION_DATA`, `INSPECTION_SERVER`, see [`AppConfig::from_env`]); by default the
//! platform's app data folder and `http://127.0.0.1:8080`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use app_core::evidence::Sha256Hex;
use tablet::app::{App, AppConfig};
use tablet_api::{Answer, ApiError, ErrorCode, PhotoAnswer, PhotoArgs};
use tauri::Manager;
use tauri::ipc::InvokeBody;

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

fn main() {
    tauri::Builder::default()
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
