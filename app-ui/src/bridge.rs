//! Calls into the Tauri shell (`window.__TAURI__.core.invoke`, `withGlobalTauri`), the
//! file and canvas bytes, and the device position.
//!
//! Every screen call is a typed request of `tablet-api` (`backend::call`); over Tauri IPC it
//! travels as the serialised [`Request`] and comes back as the serialised [`Answer`]
//! ([`invoke_api`]). No method names, no untyped JSON.

use app_core::evidence::Sha256Hex;
use serde::de::DeserializeOwned;
use tablet_api::{Answer, ApiError, PhotoAnswer, PhotoArgs, Request};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export async function invoke_json(cmd, args) {
  if (!window.__TAURI__) { throw JSON.stringify({code: "internal", zh: "未在平板应用中运行", en: "not running inside the tablet app", field: null}); }
  try {
    const r = await window.__TAURI__.core.invoke(cmd, JSON.parse(args));
    return JSON.stringify(r === undefined ? null : r);
  } catch (e) { throw (typeof e === "string") ? JSON.stringify({code: "internal", zh: e, en: e, field: null}) : JSON.stringify(e); }
}
export async function invoke_raw(cmd, bytes, header) {
  try {
    const r = await window.__TAURI__.core.invoke(cmd, bytes, { headers: { "x-args": header } });
    return JSON.stringify(r === undefined ? null : r);
  } catch (e) { throw (typeof e === "string") ? JSON.stringify({code: "internal", zh: e, en: e, field: null}) : JSON.stringify(e); }
}
export async function file_bytes(file) { return new Uint8Array(await file.arrayBuffer()); }
export function canvas_png(canvas) {
  return new Promise((resolve, reject) => canvas.toBlob(b => b ? b.arrayBuffer().then(a => resolve(new Uint8Array(a))) : reject("no image"), "image/png"));
}
export function device_position(timeout) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject("unavailable"); return; }
    navigator.geolocation.getCurrentPosition(
      p => resolve([p.coords.latitude, p.coords.longitude]),
      e => reject(String(e && (e.message || e.code))),
      { timeout, enableHighAccuracy: true, maximumAge: 60000 });
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn invoke_json(cmd: &str, args: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn invoke_raw(
        cmd: &str,
        bytes: js_sys::Uint8Array,
        header: &str,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn file_bytes(file: &web_sys::File) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn canvas_png(canvas: &web_sys::HtmlCanvasElement) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn device_position(timeout: u32) -> Result<JsValue, JsValue>;
}

/// An error thrown by the shell: an [`ApiError`] as JSON, or a bare message (a request the
/// shell could not read, or no shell at all).
fn error_of(e: JsValue) -> ApiError {
    let text = e.as_string().unwrap_or_else(|| format!("{e:?}"));
    serde_json::from_str(&text).unwrap_or_else(|_| ApiError::internal(&text))
}

fn parse<T: DeserializeOwned>(v: JsValue) -> Result<T, ApiError> {
    let text = v.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| ApiError::internal(&format!("bad answer: {e}")))
}

/// The shell's `api` command's arguments.
#[derive(serde::Serialize)]
struct ApiArgs {
    request: Request,
}

/// Sends one request to the tablet library through the shell's `api` command
/// (`App::handle`); the [`TauriIpc`](crate::backend::TauriIpc) backend.
pub(crate) async fn invoke_api(request: Request) -> Result<Answer, ApiError> {
    let body = serde_json::to_string(&ApiArgs { request })
        .map_err(|e| ApiError::internal(&format!("request not serialisable: {e}")))?;
    parse(invoke_json("api", &body).await.map_err(error_of)?)
}

/// Sends a photo file's bytes to be ingested (and linked, per `args`). A photo kept as
/// evidence that cannot be displayed is announced at once (every screen that takes photos
/// comes through here).
pub async fn send_photo(file: &web_sys::File, args: &PhotoArgs) -> Result<PhotoAnswer, ApiError> {
    let bytes: js_sys::Uint8Array = file_bytes(file).await.map_err(error_of)?.into();
    let header = serde_json::to_string(args).expect("args serialise");
    let answer: PhotoAnswer = parse(
        invoke_raw("photo", bytes, &header)
            .await
            .map_err(error_of)?,
    )?;
    if let (Some(warning), Some(window)) = (&answer.warning, web_sys::window()) {
        let _ = window.alert_with_message(warning);
    }
    Ok(answer)
}

/// Exports the signature pad as PNG and stores it; returns its SHA-256.
pub async fn send_signature(canvas: &web_sys::HtmlCanvasElement) -> Result<Sha256Hex, ApiError> {
    let bytes: js_sys::Uint8Array = canvas_png(canvas).await.map_err(error_of)?.into();
    parse(
        invoke_raw("signature", bytes, "{}")
            .await
            .map_err(error_of)?,
    )
}

/// The device's position, if it has a location service that answers in time.
pub async fn position(timeout_ms: u32) -> Option<(f64, f64)> {
    let v = device_position(timeout_ms).await.ok()?;
    let arr: js_sys::Array = v.into();
    Some((arr.get(0).as_f64()?, arr.get(1).as_f64()?))
}

/// Milliseconds since the epoch, from the device clock.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}
