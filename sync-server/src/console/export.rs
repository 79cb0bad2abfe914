//! Downloads of the console's tables: the bytes are `service::tables`' (CSV, XLSX); this
//! makes them an attachment.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::service::tables::csv;

/// `service::tables::xlsx`, its failure an internal one.
pub fn xlsx(
    sheet: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> crate::error::InternalResult<Vec<u8>> {
    Ok(crate::service::tables::xlsx(sheet, header, rows)?)
}

/// A download response.
pub fn download(bytes: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
