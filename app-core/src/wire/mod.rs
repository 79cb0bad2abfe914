//! The sync protocol's messages, shared by the server and the tablet's client (version 1).
//! They travel as CBOR (`application/cbor`); Automerge bytes are CBOR byte strings, so a
//! document costs its own size plus a few bytes of framing. Unknown fields are refused.
//!
//! One round trip: the tablet sends its cursor (the highest server change sequence it has
//! seen) and the changes the server lacks, for as many documents as it likes; the server
//! stores them durably, then answers with its new cursor, what it accepted or refused, and
//! the changes of documents the tablet may read that arrived after the tablet's cursor from
//! other devices. When nothing changed on either side both messages are a few bytes,
//! however many documents exist. Field names on the wire are one letter (`v`, `c`, `p`, …):
//! a one-answer edit is a couple of hundred bytes, so every byte of framing shows.
//!
//! Server epochs: see [`SyncResponse::epoch`]. Both `e` fields are optional, so the bytes of
//! either side from before epochs read as they did; so are both `k` fields (whether penalty
//! cases wait, [`SyncResponse::cases`]).
//!
//! The JSON messages of the rest of the HTTP API (errors, sign-in, reference data, number
//! reservations, blob status) are in [`http`].

use serde::{Deserialize, Serialize};

/// The version this build speaks. Version 3 added [`Receipt`]s; a server answers version 2
/// requests as before (no receipts, so their bytes are unchanged).
pub const PROTOCOL_VERSION: u32 = 3;
/// The oldest version a server still answers.
pub const OLDEST_PROTOCOL_VERSION: u32 = 2;
/// The first version whose pulled documents carry a [`Receipt`].
pub const RECEIPTS_SINCE: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[serde(rename = "v")]
    pub version: u32,
    /// The highest server change sequence this device has received (0 at first).
    #[serde(rename = "c")]
    pub cursor: u64,
    #[serde(rename = "p")]
    pub push: Vec<DocChanges>,
    /// The server epoch this device last synced with (`Some("")` before its first sync with a
    /// server that has epochs). Sending it (even empty) asks the server to name its epoch in
    /// the answer; absent in the bytes of tablets older than epochs, which then get answers
    /// without one (their parser refuses unknown fields).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// The device's cursor in the penalty cases' sync ([`CaseSyncRequest::cursor`]). Sending
    /// it asks the server whether case changes wait after it ([`SyncResponse::cases`]), so a
    /// tablet with nothing to push skips the case round trip when none do. Absent in the bytes
    /// of tablets older than cases.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub case_cursor: Option<u64>,
}

/// Automerge changes of one document (a saved document, or concatenated change chunks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocChanges {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "b", with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// Pulled: the server's receipt for the document as it now holds it. Pushed: the latest
    /// receipt the device holds for it, sent when it pushes the document whole (after a
    /// restore). Absent otherwise, so older messages' bytes are unchanged.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// The server's signed word that it held a record with these heads (and so every change
/// before them, each judged when it arrived). A tablet keeps the latest receipt of every
/// record it pulled; if the server is later restored from an older backup and the device
/// that made some of those changes is gone (a lost tablet), a colleague's tablet carries
/// them back: the server accepts a change of another device only inside the history of a
/// receipt it signed itself (`crate::judge`, [`crate::document::receipt_statement`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The heads: 32-byte Automerge change hashes, concatenated in ascending order.
    #[serde(rename = "h", with = "serde_bytes")]
    pub heads: Vec<u8>,
    /// The server's Ed25519 signature over [`crate::document::receipt_statement`].
    #[serde(rename = "s", with = "serde_bytes")]
    pub seal: Vec<u8>,
}

impl Receipt {
    /// The heads as change hashes (None: not a whole number of hashes).
    pub fn change_hashes(&self) -> Option<Vec<automerge::ChangeHash>> {
        if !self.heads.len().is_multiple_of(32) {
            return None;
        }
        self.heads
            .chunks(32)
            .map(|c| automerge::ChangeHash::try_from(c).ok())
            .collect()
    }

    /// `heads` in the receipt's form (sorted, concatenated).
    pub fn heads_bytes(heads: &[automerge::ChangeHash]) -> Vec<u8> {
        let mut sorted = heads.to_vec();
        sorted.sort();
        sorted.iter().flat_map(|h| h.0).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncResponse {
    /// The cursor to send next time.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// The positions in the request's `push` of the documents whose pushed changes are now
    /// durably stored (or were already there).
    #[serde(rename = "a")]
    pub accepted: Vec<u32>,
    /// Documents whose push was refused, with why; nothing of them was stored.
    #[serde(rename = "r")]
    pub rejected: Vec<Rejection>,
    /// Changes from other devices since the request's cursor, one entry per document.
    #[serde(rename = "l")]
    pub pull: Vec<DocChanges>,
    /// More changes are waiting: sync again at once with the new cursor.
    #[serde(rename = "m")]
    pub more: bool,
    /// The device was revoked (a lost tablet): its pushes were judged and stored as usual, but
    /// nothing is pulled (`pull` is empty, `cursor` unchanged). Once it holds nothing the
    /// server lacks, the tablet wipes its local copy. Sent only when true, so the message of a
    /// device in good standing is unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
    /// The server's epoch: a random id kept in its database and replaced whenever the
    /// database is restored from a backup. A device that sees another epoch than the one it
    /// last synced with cannot trust its "already synced" marks (the restored server may lack
    /// what it once acknowledged): it pushes its whole history and its photos again, and
    /// re-announces its document-number blocks. Sent only when the request carried `e`.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// Whether changes of penalty cases this user is sent wait after the request's
    /// [`SyncRequest::case_cursor`] (from other devices). Sent only when the request carried
    /// `k`; absent (a revoked device, an older server), the tablet runs the case sync anyway.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub id: String,
    /// A stable code to branch on: `forbidden`, `malformed`, `immutable_field`, `not_a_record`,
    /// `review_by_supervisor_only`.
    pub code: String,
    pub message: String,
}

/// Where a tablet fetches records on demand (`POST`, CBOR [`FetchRequest`] →
/// [`FetchResponse`]).
pub const FETCH_PATH: &str = "/api/v1/fetch";

/// An on-demand fetch: records the user may read but that are not pulled to the tablet by
/// default (an inspector's tablet pulls only the records it has a part in; see
/// docs/ARCHITECTURE.md, "What a tablet pulls"). Each record fetched is then pulled like the
/// tablet's own: its later changes arrive at the next syncs. Its own message, so the sync
/// messages' bytes are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    /// The sync protocol version the tablet speaks (receipts from [`RECEIPTS_SINCE`]).
    #[serde(rename = "v")]
    pub version: u32,
    #[serde(rename = "q")]
    pub query: FetchQuery,
}

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FetchQuery {
    /// One record by id. Refused (403 `forbidden`) when the user may not read it or it does
    /// not exist (the same answer, so existence does not leak).
    #[serde(rename = "r")]
    Record(String),
    /// The records of an enterprise (by its id) that the user may read, newest visit first,
    /// at most [`FETCH_ENTERPRISE_LIMIT`]; none is not a refusal.
    #[serde(rename = "e")]
    Enterprise(String),
}

/// The most records one enterprise fetch answers.
pub const FETCH_ENTERPRISE_LIMIT: usize = 50;

/// The fetched records, each whole as the server holds it (with its receipt for version 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchResponse {
    #[serde(rename = "l")]
    pub docs: Vec<DocChanges>,
}

/// Where a tablet syncs penalty cases (`POST`, CBOR [`CaseSyncRequest`] →
/// [`CaseSyncResponse`]).
pub const CASE_SYNC_PATH: &str = "/api/v1/cases/sync";

/// One round trip of penalty cases (`app_core::penalty::CaseDoc`), beside the records' sync
/// and shaped like it: the tablet's cursor and the case changes the server lacks; its own
/// message, so the bytes of the records' sync messages (pinned) are unchanged and a tablet
/// that knows no cases never sees one. The cursor counts in the one global change sequence
/// records use (a case change gets the next number like a record change), so a tablet may
/// keep one cursor per endpoint and never miss a change of either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSyncRequest {
    #[serde(rename = "v")]
    pub version: u32,
    /// The highest server change sequence this device has received here (0 at first).
    #[serde(rename = "c")]
    pub cursor: u64,
    /// The cases' changes the server lacks (each a saved case document or its changes).
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<DocChanges>,
}

/// The answer to a [`CaseSyncRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSyncResponse {
    /// The cursor to send next time.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// The positions in the request's `cases` now durably stored (or already there).
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<u32>,
    /// Cases whose push was refused, with why (codes as for records); nothing of them was
    /// stored.
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejection>,
    /// Changes of cases pulled to the user's tablets, from other devices, since the cursor.
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<DocChanges>,
    /// More changes are waiting: sync again at once with the new cursor.
    #[serde(rename = "m", default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

pub mod http;

#[cfg(test)]
mod case_tests;
