//! A photo at full size with its capture time, position, camera and SHA-256, and whether the
//! stored original still hashes to its name (re-computed on every view). A photo is visible to
//! whoever may read a record that refers to it; to everyone else it answers 404.

use super::form::encode;
use super::layout::{page, when};
use super::{Console, ConsoleError, ConsoleResult};
use crate::exif::{self, PhotoFacts};
use crate::service::photos::{self, PhotoPage};
use crate::state::AppState;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::Timestamp;
use app_core::ids::UserId;
use app_core::inspection::{Inspection, SignOutcome};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, Response};
use maud::html;
use sha2::{Digest, Sha256};
use std::io::Read;

/// Where a record uses the photo: (what, linked at, linked by).
fn uses(record: &Inspection, sha: &Sha256Hex) -> Vec<(String, Timestamp, UserId)> {
    let mut out = Vec::new();
    let mut push = |what: String, p: &PhotoRef| out.push((what, p.added_at, p.added_by.clone()));
    for (item, r) in &record.results {
        if let Some(p) = r.photos.get(sha) {
            push(format!("检查项 item {item}"), p);
        }
    }
    for h in record.hazards.values() {
        if let Some(p) = h.photos.get(sha) {
            push(format!("隐患 hazard {}", h.description), p);
        }
        for ri in h.reinspections.values() {
            if let Some(p) = ri.photos.get(sha) {
                push(format!("复查 re-inspection {} {}", h.description, ri.on), p);
            }
        }
    }
    if let Some(a) = &record.arrival
        && &a.entrance_photo == sha
    {
        out.push((
            "四不两直入口照片 entrance photo".into(),
            a.at,
            record.created_by.clone(),
        ));
    }
    for s in record.signatures.values() {
        if let SignOutcome::Signed { image } = &s.outcome
            && image == sha
        {
            out.push((
                format!("签名 signature {}", s.name),
                s.at,
                record.created_by.clone(),
            ));
        }
    }
    out
}

/// Originals up to this size are read whole (a photo: hash and EXIF from one read); larger
/// ones (recordings) are hashed as they stream from the store.
const WHOLE_MAX: u64 = 64 << 20;

/// The result of re-hashing the stored original.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HashCheck {
    Matches,
    Differs(String),
    NotUploaded,
}

pub async fn show(
    State(state): State<AppState>,
    cx: Console,
    Path(raw): Path<String>,
) -> ConsoleResult<Html<String>> {
    let sha = Sha256Hex::parse(&raw).map_err(|_| ConsoleError::NotFound)?;
    let wanted = cx.query.get("record").map(str::to_owned);
    let (reference, user, key) = (state.reference.clone(), cx.user.clone(), sha.to_string());
    let cache = state.plausibility.clone();
    let (
        PhotoPage {
            records,
            record,
            size,
        },
        labels,
    ) = state
        .db
        .call(move |conn| -> ConsoleResult<_> {
            let page = photos::photo_page(conn, &reference, &user, &key, wanted.as_deref())?
                .ok_or(ConsoleError::NotFound)?;
            let mut labels = Vec::with_capacity(page.records.len());
            for id in &page.records {
                labels.push(
                    crate::service::plausibility::record_label(conn, &cache, id)?
                        .unwrap_or_default(),
                );
            }
            Ok((page, labels))
        })
        .await?;
    let size = size.map(|s| s as i64);
    let (blobs, key) = (state.blobs.clone(), sha.clone());
    let expected = sha.clone();
    let held = size.is_some();
    let whole = size.is_some_and(|s| s as u64 <= WHOLE_MAX);
    let (check, facts, kind) = tokio::task::spawn_blocking(
        move || -> (HashCheck, PhotoFacts, Option<casefile::media::MediaKind>) {
            if !held {
                return (HashCheck::NotUploaded, PhotoFacts::default(), None);
            }
            let verdict = |found: Sha256Hex| {
                if found == expected {
                    HashCheck::Matches
                } else {
                    HashCheck::Differs(found.to_string())
                }
            };
            if whole {
                // A photo: read whole once, for the hash and its EXIF.
                return match blobs.read_blocking(&key) {
                    Ok(Some(bytes)) => {
                        let found = Sha256Hex::from_digest(&Sha256::digest(&bytes));
                        let kind = casefile::media::MediaKind::sniff(
                            &bytes[..bytes.len().min(casefile::media::SNIFF_LEN)],
                        );
                        (verdict(found), exif::read(&bytes), kind)
                    }
                    Ok(None) | Err(_) => {
                        (HashCheck::Differs("—".into()), PhotoFacts::default(), None)
                    }
                };
            }
            // A recording: hashed as it streams from the store, never held whole.
            match blobs.reader_blocking(&key) {
                Ok(Some(mut reader)) => {
                    let mut hasher = Sha256::new();
                    let mut buf = vec![0u8; 1 << 20];
                    let mut head = Vec::new();
                    loop {
                        match reader.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => {
                                if head.len() < casefile::media::SNIFF_LEN {
                                    let take = n.min(casefile::media::SNIFF_LEN - head.len());
                                    head.extend_from_slice(&buf[..take]);
                                }
                                hasher.update(&buf[..n]);
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(_) => {
                                return (
                                    HashCheck::Differs("—".into()),
                                    PhotoFacts::default(),
                                    None,
                                );
                            }
                        }
                    }
                    let found = Sha256Hex::from_digest(&hasher.finalize());
                    (
                        verdict(found),
                        PhotoFacts::default(),
                        casefile::media::MediaKind::sniff(&head),
                    )
                }
                Ok(None) | Err(_) => (HashCheck::Differs("—".into()), PhotoFacts::default(), None),
            }
        },
    )
    .await
    .map_err(|e| crate::internal!("hash task: {e}"))?;
    let uses = uses(&record, &sha);
    let body = html! {
        section #photo {
            table {
                tr { th { "SHA-256" } td.mono #sha256 { (sha) } }
                tr { th { (cx.t("原件校验", "Original check")) } td #hash-check data-check=(match &check { HashCheck::Matches => "match", HashCheck::Differs(_) => "mismatch", HashCheck::NotUploaded => "missing" }) {
                    @match &check {
                        HashCheck::Matches => span.good { (cx.t("一致：存储的原件与 SHA-256 相符", "Matches: the stored original hashes to its SHA-256")) },
                        HashCheck::Differs(found) => span.bad { (cx.t("不一致：存储的原件已被改动或损坏，计算值 ", "MISMATCH: the stored original was altered or damaged; it hashes to ")) span.mono { (found) } },
                        HashCheck::NotUploaded => span.muted { (cx.t("原件尚未从平板上传", "The original has not been uploaded from the tablet yet")) },
                    }
                } }
                @if let Some(s) = size { tr { th { (cx.t("大小", "Size")) } td { (s) " " (cx.t("字节", "bytes")) } } }
                tr { th { (cx.t("拍摄时间（相机）", "Captured (camera clock)")) } td #taken-at { (facts.taken_at.clone().unwrap_or_else(|| "—".into())) } }
                tr { th { (cx.t("拍摄位置", "Position")) } td #position {
                    @if let Some((lat, lon)) = facts.gps { (format!("{lat:.6}, {lon:.6}")) @if let Some(a) = facts.altitude_m { " · " (format!("{a:.0}")) " m" } }
                    @else { "—" }
                } }
                tr { th { (cx.t("相机", "Camera")) } td #camera { (facts.camera.clone().unwrap_or_else(|| "—".into())) } }
                tr { th { (cx.t("所属记录", "Record")) } td {
                    @for (id, label) in records.iter().zip(&labels) { a href={ "/console/records/" (encode(id)) } { (label) } " " }
                } }
                @for (what, at, by) in &uses {
                    tr { th { (cx.t("用途", "Used as")) } td { (what) " · " (cx.t("平板记录于", "linked on the tablet at")) " " (when(*at)) " · " (state.user(by.as_str()).map(|u| u.name).unwrap_or_else(|| by.to_string())) } }
                }
            }
            @if held {
                @match kind {
                    // Audio and video play in the page; seeking asks the server for ranges.
                    Some(k) if k.is_audio() => {
                        audio #original controls preload="metadata" src={ "/console/photos/" (sha) "/original" } {}
                    }
                    Some(_) => {
                        video.full #original controls preload="metadata" src={ "/console/photos/" (sha) "/original" } {}
                    }
                    None => {
                        a href={ "/console/photos/" (sha) "/original" } {
                            img.full #original src={ "/console/photos/" (sha) "/original" } alt=(sha);
                        }
                    }
                }
            }
        }
    };
    Ok(page(&cx, "records", cx.t("照片", "Photo"), body))
}

fn content_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if let Some(kind) = casefile::media::MediaKind::sniff(bytes) {
        // Audio and video evidence, played in the browser (seeking by range requests).
        kind.mime_type()
    } else {
        "application/octet-stream"
    }
}

/// The original's bytes, unchanged: streamed from the store, the whole file or the range the
/// browser asks for (a video seeks with range requests: 206, `Accept-Ranges`, `If-Range`, 416
/// for a range past the end).
pub async fn original(
    State(state): State<AppState>,
    cx: Console,
    Path(raw): Path<String>,
    headers: axum::http::HeaderMap,
) -> ConsoleResult<Response> {
    let sha = Sha256Hex::parse(&raw).map_err(|_| ConsoleError::NotFound)?;
    let (reference, user, key) = (state.reference.clone(), cx.user.clone(), sha.to_string());
    let held = state
        .db
        .call(move |conn| -> ConsoleResult<bool> {
            Ok(photos::may_see_original(conn, &reference, &user, &key)?)
        })
        .await?;
    if !held {
        return Err(ConsoleError::NotFound);
    }
    let head = state
        .blobs
        .head(&sha, casefile::media::SNIFF_LEN as u64)
        .await
        .map_err(|e| crate::internal!("reading photo {sha}: {e}"))?;
    let mut resp = match crate::blobs::ranged_response(
        &state.blobs,
        &sha,
        &headers,
        content_type(&head),
    )
    .await
    {
        Ok(Some(resp)) => resp,
        Ok(None) => return Err(ConsoleError::NotFound),
        Err(e) => return Err(crate::internal!("reading photo {sha}: {e}").into()),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(resp)
}
