//! HTTP range requests (RFC 9110 §14) for blobs: a video in the console seeks by asking for
//! the bytes it needs, and a large download can resume.
//!
//! One range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a request for several ranges is
//! answered with the whole blob (200), which RFC 9110 allows. `If-Range` with the blob's ETag
//! (its SHA-256 in quotes: the content never changes) keeps the range; any other validator,
//! a date included, gets the whole blob. A range unit other than `bytes` is ignored. A
//! `bytes` range that is malformed or starts past the end is refused with 416 and
//! `Content-Range: bytes */<size>`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

/// What to send of a blob of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The whole blob, 200.
    Whole,
    /// Bytes `start..end` (end exclusive, `start < end <= size`), 206.
    Part { start: u64, end: u64 },
    /// 416.
    Unsatisfiable,
}

/// Decides from the request's `Range` and `If-Range` what to send of a blob of `size` bytes
/// whose ETag is `etag` (with its quotes).
pub fn plan(headers: &HeaderMap, size: u64, etag: &str) -> Plan {
    let Some(range) = headers.get(header::RANGE) else {
        return Plan::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE) {
        // Only a strong ETag match keeps the range (we send no Last-Modified, so a date can
        // never match).
        if if_range.to_str().ok().map(str::trim) != Some(etag) {
            return Plan::Whole;
        }
    }
    let Ok(range) = range.to_str() else {
        return Plan::Unsatisfiable;
    };
    let Some((unit, set)) = range.split_once('=') else {
        return Plan::Unsatisfiable;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Plan::Whole;
    }
    if set.contains(',') {
        return Plan::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return Plan::Unsatisfiable;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // The last `n` bytes.
        return match number(last) {
            Some(0) | None => Plan::Unsatisfiable,
            Some(_) if size == 0 => Plan::Unsatisfiable,
            Some(n) => Plan::Part {
                start: size.saturating_sub(n),
                end: size,
            },
        };
    }
    let Some(start) = number(first) else {
        return Plan::Unsatisfiable;
    };
    let end = if last.is_empty() {
        size
    } else {
        match number(last) {
            Some(l) if l >= start => l.saturating_add(1).min(size),
            _ => return Plan::Unsatisfiable,
        }
    };
    if start >= size {
        return Plan::Unsatisfiable;
    }
    Plan::Part { start, end }
}

/// The status and the range headers of the answer for `plan` (besides the body's own
/// `Content-Length`): `Accept-Ranges` always, `Content-Range` for 206 and 416.
pub fn headers_for(plan: Plan, size: u64) -> (StatusCode, Vec<(header::HeaderName, HeaderValue)>) {
    let mut h = vec![(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"))];
    let status = match plan {
        Plan::Whole => StatusCode::OK,
        Plan::Part { start, end } => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)) {
                h.push((header::CONTENT_RANGE, v));
            }
            StatusCode::PARTIAL_CONTENT
        }
        Plan::Unsatisfiable => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                h.push((header::CONTENT_RANGE, v));
            }
            StatusCode::RANGE_NOT_SATISFIABLE
        }
    };
    (status, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(range: &str, if_range: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        if let Some(v) = if_range {
            h.insert(header::IF_RANGE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let e = "\"abc\"";
        let part = |start, end| Plan::Part { start, end };
        assert_eq!(plan(&HeaderMap::new(), 100, e), Plan::Whole);
        assert_eq!(plan(&with("bytes=0-9", None), 100, e), part(0, 10));
        assert_eq!(plan(&with("bytes=90-", None), 100, e), part(90, 100));
        assert_eq!(plan(&with("bytes=90-500", None), 100, e), part(90, 100));
        assert_eq!(plan(&with("bytes=-10", None), 100, e), part(90, 100));
        assert_eq!(plan(&with("bytes=-500", None), 100, e), part(0, 100));
        assert_eq!(plan(&with("bytes=99-99", None), 100, e), part(99, 100));
        assert_eq!(plan(&with("BYTES = 5-6", None), 100, e), part(5, 7));
        // Past the end, reversed, malformed: 416.
        for bad in [
            "bytes=100-",
            "bytes=100-200",
            "bytes=9-5",
            "bytes=-0",
            "bytes=x-5",
            "bytes=5",
            "bytes=+5-6",
            "bytes",
        ] {
            assert_eq!(plan(&with(bad, None), 100, e), Plan::Unsatisfiable, "{bad}");
        }
        assert_eq!(plan(&with("bytes=-5", None), 0, e), Plan::Unsatisfiable);
        // Other units and several ranges: the whole blob.
        assert_eq!(plan(&with("items=0-5", None), 100, e), Plan::Whole);
        assert_eq!(plan(&with("bytes=0-5,10-20", None), 100, e), Plan::Whole);
        // If-Range: only the blob's own ETag keeps the range.
        assert_eq!(plan(&with("bytes=0-9", Some(e)), 100, e), part(0, 10));
        assert_eq!(
            plan(&with("bytes=0-9", Some("\"other\"")), 100, e),
            Plan::Whole
        );
        assert_eq!(
            plan(
                &with("bytes=0-9", Some("Sun, 06 Dec 2026 10:00:00 GMT")),
                100,
                e
            ),
            Plan::Whole
        );
        let (status, h) = headers_for(part(90, 100), 100);
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert!(h.contains(&(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 90-99/100")
        )));
        let (status, h) = headers_for(Plan::Unsatisfiable, 100);
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert!(h.contains(&(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes */100")
        )));
    }
}
