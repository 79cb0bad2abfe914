//! The inspector's tablet app: a Tauri v2 window showing the Yew front end (`app-ui`), with
//! three thin commands over the tablet library's [`tablet::app::App`]: `api` (every screen
//! call, as JSON), `photo` and `signature` (raw image bytes).
//!
//! Where the data lives and which server it syncs with come from the environment
//! (`INSPECTION_DATA`, `INSPECTION_SERVER`, see [`AppConfig::from_env`]); by default the
//! platform's app data folder and `http://127.0.0.1:8080`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use tablet::app::{App, AppConfig, AppError, PhotoAnswer, PhotoArgs};
use tauri::Manager;
use tauri::ipc::{InvokeBody, Request};

/// Runs library work off the async runtime: the sync client is blocking HTTP, which must not
/// run (or be dropped) on a runtime thread, and SQLite fsyncs should not hold one either.
async fn blocking<T: Send + 'static>(
    app: tauri::AppHandle,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<App>()))
        .await
        .map_err(|e| AppError::new("应用内部错误，请重试", format!("worker failed: {e}")))?
}

#[tauri::command]
async fn api(
    app: tauri::AppHandle,
    method: String,
    args: serde_json::Value,
) -> Result<serde_json::Value, AppError> {
    blocking(app, move |s| s.call(&method, args)).await
}

fn raw_body(request: &Request<'_>) -> Result<Vec<u8>, AppError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        InvokeBody::Json(_) => Err(AppError::new(
            "应发送图像文件的字节",
            "expected the image's raw bytes",
        )),
    }
}

#[tauri::command]
async fn photo(app: tauri::AppHandle, request: Request<'_>) -> Result<PhotoAnswer, AppError> {
    let args: PhotoArgs = request
        .headers()
        .get("x-args")
        .and_then(|h| h.to_str().ok())
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| AppError::new("照片缺少去向", "photo without its target (x-args)"))?;
    let bytes = raw_body(&request)?;
    blocking(app, move |s| s.ingest_photo(&args, &bytes)).await
}

#[tauri::command]
async fn signature(app: tauri::AppHandle, request: Request<'_>) -> Result<String, AppError> {
    let bytes = raw_body(&request)?;
    blocking(app, move |s| Ok(s.ingest_signature(&bytes)?.to_string())).await
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
