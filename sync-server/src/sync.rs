//! The sync endpoint: `POST /api/v1/sync` with a CBOR [`SyncRequest`], answered with a CBOR
//! [`SyncResponse`] (see `app_core::wire` for the protocol).
//!
//! Every change the server stores gets the next number of one global sequence (`changes.seq`),
//! and a device's cursor is the highest number it has received. A sync therefore reads only
//! the changes after the cursor — its cost grows with what changed, not with how many
//! documents exist, and when nothing changed both messages are a few bytes. Changes are never
//! sent back to the device they came from.
//!
//! A push is checked before anything of it is stored, each document on its own: a user who
//! may neither write nor review an existing record is refused at once (`forbidden`, the same
//! answer as for a record that does not exist); otherwise every pushed change the server does
//! not hold is judged by `app_core::judge` as the authenticated user and device — its author,
//! its time, its command replayed through the rules on the state its author saw, a new
//! record's fresh creation, and the right to every photo it adds.
//!
//! Replaying a batch is harmless: changes the server already holds leave its heads unchanged
//! and nothing is stored. The response is sent only after the transaction holding every
//! accepted push has committed (WAL, synchronous = FULL).

use crate::auth::Session;
use crate::docstore::{self, RecordStore};
use crate::error::{ApiError, ApiResult};
use crate::plans;
use crate::state::AppState;
use app_core::access::{RecordScope, can_read_record, can_review_record, can_write_record};
use app_core::checklist::{ChecklistTemplate, TemplateRef};
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use app_core::ids::{EnterpriseId, PlanId};
use app_core::inspection::Inspection;
use app_core::judge::{self, JudgeError, LookupError, Pusher, Verdict, World};
use app_core::plan::Plan;
use app_core::user::{Role, User};
use app_core::wire::{DocChanges, PROTOCOL_VERSION, Rejection, SyncRequest, SyncResponse};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeMap;

pub const CBOR: &str = "application/cbor";

/// A pull answer stops growing past this many bytes of changes (the client asks again).
pub const MAX_PULL_BYTES: usize = 8 * 1024 * 1024;

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    ciborium::from_reader(bytes)
        .map_err(|e| ApiError::BadRequest("malformed", format!("not a valid sync message: {e}")))
}

pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

pub fn require_content_type(headers: &HeaderMap, expected: &'static str) -> ApiResult<()> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(expected))
    }
}

pub async fn sync(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, CBOR)?;
    let request: SyncRequest = decode(&body)?;
    if request.version != PROTOCOL_VERSION {
        return Err(ApiError::BadRequest(
            "version",
            format!(
                "protocol version {} is not supported (server speaks {PROTOCOL_VERSION})",
                request.version
            ),
        ));
    }
    let device = session.device()?.clone();
    let user = session.user.clone();
    let reference = state.reference.clone();
    let pushed = request.push.len();
    // 1. The server's copies of the pushed records and when the device was registered (on the
    //    reading connection).
    let ids: Vec<String> = request.push.iter().map(|p| p.id.clone()).collect();
    let dev = device.clone();
    let (stored, registered_at) = state
        .db
        .read(move |conn| -> ApiResult<_> {
            let stored = ids
                .iter()
                .map(|id| conn.snapshot(id))
                .collect::<ApiResult<Vec<_>>>()?;
            let registered_at: Option<i64> = conn
                .query_row(
                    "SELECT registered_at FROM devices WHERE id = ?1",
                    [dev.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            Ok((stored, registered_at))
        })
        .await?;
    let author = Author {
        user: user.clone(),
        device: device.clone(),
        // Seconds in the table; a device the table does not know cannot have a token bound
        // to it, so the fallback is never used in practice.
        registered_at: Timestamp(registered_at.unwrap_or(i64::MAX / 2_000) * 1000),
        now_ms: state.now() * 1000,
    };
    // 2. The checks and the Automerge work, outside the lock (in parallel across requests).
    let (r, a, db) = (reference.clone(), author.clone(), state.db.clone());
    // As many checks at once as there are cores: more would only interleave them (each
    // request's documents then compete for the caches) and hold more documents in memory.
    let permit = check_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("check slots closed: {e}")))?;
    let (request, checked) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        // Plans are looked up as records name them (a brief lock each, remembered).
        let mut known: std::collections::HashMap<String, Option<Plan>> = Default::default();
        let mut lookup = |id: &str| -> ApiResult<Option<Plan>> {
            if let Some(p) = known.get(id) {
                return Ok(p.clone());
            }
            let p = db.with_reader(|conn| plans::find(conn, &r, id))?;
            known.insert(id.to_owned(), p.clone());
            Ok(p)
        };
        let mut photos = |digests: &[&Sha256Hex]| -> ApiResult<Option<Sha256Hex>> {
            db.with_reader(|conn| first_unnamable(conn, &r, &a, digests))
        };
        let checked = request
            .push
            .iter()
            .zip(stored)
            .map(|(push, stored)| check_push(&r, &mut lookup, &mut photos, &a, push, stored))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((request, checked))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("sync check task failed: {e}")))??;
    drop(permit);
    // 3. Write what was accepted, in a transaction shared with other requests' writes (group
    //    commit); answered only once that is durable.
    //    The write may run twice (see `db::commit_groups`), so it only borrows what it writes.
    let request = std::sync::Arc::new(request);
    let (r, a, req) = (reference.clone(), author.clone(), request.clone());
    let (accepted, rejected) = state
        .db
        .write_grouped(move |conn| write_pushes(conn, &r, &a, &req, &checked))
        .await?;
    // 4. The pull: what other devices wrote since the tablet's cursor.
    let response = state
        .db
        .read(move |conn| {
            pull(
                conn, &reference, &user, &device, &request, accepted, rejected,
            )
        })
        .await?;
    tracing::info!(
        user = %session.user.id,
        pushed,
        accepted = response.accepted.len(),
        rejected = response.rejected.len(),
        pulled = response.pull.len(),
        cursor = response.cursor,
        "sync"
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, CBOR)],
        encode(&response),
    )
        .into_response())
}

/// The limit on pushes checked at once (step 2 of [`sync`]): the number of cores.
fn check_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// Looks plans up by id (fixture plans and the console's sealed plans in the database).
type PlanLookup<'a> = dyn FnMut(&str) -> ApiResult<Option<Plan>> + 'a;

fn scope(record: &Inspection, plans: &mut PlanLookup<'_>) -> ApiResult<RecordScope> {
    let plan = match &record.plan {
        Some(id) => plans(id.as_str())?,
        None => None,
    };
    Ok(RecordScope::of(record, plan.as_ref()))
}

fn reject(id: &str, code: &str, message: impl Into<String>) -> Rejection {
    Rejection {
        id: id.to_owned(),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// The outcome of checking one pushed document against the server's copy.
#[derive(Debug)]
enum Checked {
    /// Accepted: this version is to be written.
    Write {
        record: Box<Inspection>,
        /// None: the change is the whole document (see `docstore::DocWrite::snapshot`).
        snapshot: Option<Vec<u8>>,
        change: Vec<u8>,
        heads: Vec<String>,
        /// The heads of the server's copy the check was made against (None: a new record).
        base: Option<Vec<String>>,
    },
    /// The server already holds all of it.
    Replay,
    Refused(Rejection),
}

/// What the judge asks of the server: reference data, plans, photo rights and the clock.
struct ServerWorld<'a, 'p> {
    reference: &'a crate::reference::ReferenceData,
    plans: std::cell::RefCell<&'a mut PlanLookup<'p>>,
    photos: std::cell::RefCell<&'a mut PhotoLookup<'p>>,
    now_ms: i64,
}

/// The first of the photos the pusher may not name (`blobs::may_name`), if any.
type PhotoLookup<'a> = dyn FnMut(&[&Sha256Hex]) -> ApiResult<Option<Sha256Hex>> + 'a;

fn lookup_error(e: ApiError) -> LookupError {
    LookupError(format!("{e:?}"))
}

impl World for ServerWorld<'_, '_> {
    fn now(&self) -> Timestamp {
        Timestamp(self.now_ms)
    }
    fn units(&self) -> &app_core::unit::UnitTree {
        &self.reference.units
    }
    fn template(&self, reference: &TemplateRef) -> Option<&ChecklistTemplate> {
        self.reference.templates.get(reference)
    }
    fn enterprise(&self, id: &EnterpriseId) -> Option<&Enterprise> {
        self.reference.enterprises.iter().find(|e| e.id == *id)
    }
    fn plan(&self, id: &PlanId) -> Result<Option<Plan>, LookupError> {
        (self.plans.borrow_mut())(id.as_str()).map_err(lookup_error)
    }
    fn may_name_photo(&self, digest: &Sha256Hex) -> Result<bool, LookupError> {
        Ok(self.first_unnamable(&[digest])?.is_none())
    }
    fn first_unnamable(&self, digests: &[&Sha256Hex]) -> Result<Option<Sha256Hex>, LookupError> {
        (self.photos.borrow_mut())(digests).map_err(lookup_error)
    }
}

/// Who pushes, as the check needs it.
#[derive(Clone)]
struct Author {
    user: User,
    device: DeviceId,
    registered_at: Timestamp,
    now_ms: i64,
}

/// Checks one document's push against the server's copy (`stored`: its snapshot and heads),
/// and prepares what to write. Pure Automerge and rule work: no database access, so pushes of
/// different requests are checked in parallel, outside the database lock. Every pushed change
/// is judged by `app_core::judge` as the authenticated user and device.
fn check_push(
    reference: &crate::reference::ReferenceData,
    plans: &mut PlanLookup<'_>,
    photos: &mut PhotoLookup<'_>,
    author: &Author,
    push: &DocChanges,
    stored: Option<(Vec<u8>, Vec<String>)>,
) -> ApiResult<Checked> {
    let id = push.id.as_str();
    let units = &reference.units;
    let user = &author.user;
    let device = &author.device;
    // Existence must not leak: a document the user may not read is refused exactly like one
    // the user may read but not write.
    let denied = || {
        Checked::Refused(reject(
            id,
            "forbidden",
            "you may not change this record (or it does not exist)",
        ))
    };
    let (doc, before_heads) = match stored {
        None => (None, None),
        Some((snapshot, before_heads)) => {
            let doc = InspectionDoc::load(&snapshot, device)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored doc {id}: {e}")))?;
            let s = scope(doc.record(), plans)?;
            if !can_write_record(user, &s, units) && !can_review_record(user, &s, units) {
                return Ok(denied());
            }
            (Some(doc), Some(before_heads))
        }
    };
    let world = ServerWorld {
        reference,
        plans: std::cell::RefCell::new(plans),
        photos: std::cell::RefCell::new(photos),
        now_ms: author.now_ms,
    };
    let pusher = Pusher {
        user,
        device,
        registered_at: author.registered_at,
    };
    let verdict = match judge::judge(doc, id, &push.bytes, pusher, &world) {
        Ok(v) => v,
        Err(JudgeError::Refused(r)) => {
            return Ok(Checked::Refused(reject(id, r.code.as_str(), r.to_string())));
        }
        Err(JudgeError::Lookup(e)) => {
            return Err(ApiError::Internal(anyhow::anyhow!("judging {id}: {}", e.0)));
        }
    };
    let mut doc = match verdict {
        Verdict::Replay => return Ok(Checked::Replay),
        Verdict::Accepted { doc, .. } => doc,
    };
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    match before_heads {
        // The pushed bytes were replayed change by change into exactly this document, so they
        // are stored as they came, once: no second encoding, no second copy.
        None => Ok(Checked::Write {
            record: Box::new(doc.into_record()),
            snapshot: None,
            change: push.bytes.clone(),
            heads,
            base: None,
        }),
        Some(before_heads) => {
            let change = doc
                .automerge_mut()
                .save_after(&docstore::change_hashes(id, &before_heads)?);
            Ok(Checked::Write {
                snapshot: Some(doc.save()),
                record: Box::new(doc.into_record()),
                change,
                heads,
                base: Some(before_heads),
            })
        }
    }
}

/// The first photo the pusher may not name in a record, if any: each must be one the device
/// uploaded, or in a record the user can already read (`blobs::may_name`). One hold of the
/// connection for all of a record's photos.
fn first_unnamable(
    conn: &Connection,
    reference: &crate::reference::ReferenceData,
    author: &Author,
    digests: &[&Sha256Hex],
) -> ApiResult<Option<Sha256Hex>> {
    Ok(crate::blobs::first_unnamable(
        conn,
        reference,
        &author.user,
        &author.device,
        digests,
    )?)
}

/// The SQL condition (on `d`, a row of `docs`) for "this user may read the record", with
/// its parameters: the units the user oversees, and the user id.
fn readable_units(user: &User, reference: &crate::reference::ReferenceData) -> Vec<String> {
    match user.role {
        Role::Inspector { .. } => vec![user.unit.to_string()],
        Role::Supervisor => reference
            .units
            .subtree(&user.unit)
            .map(|u| u.id.to_string())
            .collect(),
        Role::Admin => Vec::new(),
    }
}

/// Writes the accepted pushes (in the caller's transaction); returns the positions accepted
/// and the refusals.
fn write_pushes(
    tx: &Connection,
    reference: &crate::reference::ReferenceData,
    author: &Author,
    request: &SyncRequest,
    checked: &[Checked],
) -> ApiResult<(Vec<u32>, Vec<Rejection>)> {
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for (index, (push, checked)) in request.push.iter().zip(checked).enumerate() {
        // The check ran against the copy read before the lock was taken; if another sync
        // changed the record since, check again against the current copy (now under the lock).
        let rechecked;
        let outcome = match checked {
            Checked::Write { base, .. } if tx.heads(&push.id)?.as_ref() != base.as_ref() => {
                let stored = tx.snapshot(&push.id)?;
                let mut lookup =
                    |id: &str| -> ApiResult<Option<Plan>> { Ok(plans::find(tx, reference, id)?) };
                let mut photos = |digests: &[&Sha256Hex]| -> ApiResult<Option<Sha256Hex>> {
                    first_unnamable(tx, reference, author, digests)
                };
                rechecked = check_push(reference, &mut lookup, &mut photos, author, push, stored)?;
                &rechecked
            }
            other => other,
        };
        match outcome {
            Checked::Write {
                record,
                snapshot,
                change,
                heads,
                base,
            } => {
                tx.write(&docstore::DocWrite {
                    id: &push.id,
                    record,
                    snapshot: snapshot.as_deref(),
                    change,
                    heads,
                    origin_device: author.device.as_str(),
                    existed: base.is_some(),
                })?;
                accepted.push(index as u32);
            }
            Checked::Replay => accepted.push(index as u32),
            Checked::Refused(rejection) => {
                tracing::warn!(user = %author.user.id, doc = %rejection.id, code = %rejection.code, "push refused");
                rejected.push(rejection.clone());
            }
        }
    }
    Ok((accepted, rejected))
}

/// The answer to a sync: the pushes' outcome and the pull (changes of records the user may
/// read, from other devices, after the request's cursor).
fn pull(
    conn: &Connection,
    reference: &crate::reference::ReferenceData,
    user: &User,
    device: &DeviceId,
    request: &SyncRequest,
    accepted: Vec<u32>,
    rejected: Vec<Rejection>,
) -> ApiResult<SyncResponse> {
    // Pull: changes after the cursor, from other devices, of records the user may read.
    let units = readable_units(user, reference);
    let assigned_plans: Vec<String> = plans::assigned_to(conn, reference, &user.id)?
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    let inspector = user.is_inspector();
    let page = conn.changes_after(&docstore::PullFilter {
        cursor: request.cursor as i64,
        device: device.as_str(),
        units: &units,
        inspector: inspector.then_some((&assigned_plans[..], user.id.as_str())),
        max_bytes: MAX_PULL_BYTES,
    })?;
    let more = page.more;
    let last_seq = page.changes.last().map(|c| c.0);
    let mut grouped: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (_, doc, bytes) in page.changes {
        let entry = grouped.entry(doc.clone()).or_insert_with(|| {
            order.push(doc);
            Vec::new()
        });
        entry.extend_from_slice(&bytes);
    }
    let cursor = if more {
        last_seq.unwrap_or(request.cursor as i64)
    } else {
        conn.latest_seq()?
    };
    // Double-check every pulled record with the app-core rule the SQL mirrors.
    let pull = order
        .into_iter()
        .filter_map(|id| {
            let bytes = grouped.remove(&id)?;
            Some(DocChanges { id, bytes })
        })
        .collect::<Vec<_>>();
    let pull = verify_readable(conn, reference, user, pull)?;
    Ok(SyncResponse {
        cursor: cursor.max(request.cursor as i64) as u64,
        accepted,
        rejected,
        pull,
        more,
    })
}

/// Keeps only documents the app-core access rule lets `user` read (the SQL filter is a fast
/// path for the same rule; this makes sure they never disagree in the user's favour).
fn verify_readable(
    conn: &Connection,
    reference: &crate::reference::ReferenceData,
    user: &User,
    pull: Vec<DocChanges>,
) -> ApiResult<Vec<DocChanges>> {
    let mut out = Vec::with_capacity(pull.len());
    for d in pull {
        let s = crate::console::query::scope(conn, reference, &d.id)?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("pulled record {} is not stored", d.id))
        })?;
        if can_read_record(user, &s, &reference.units) {
            out.push(d);
        } else {
            tracing::error!(doc = %d.id, user = %user.id, "SQL read filter and access rule disagree");
        }
    }
    Ok(out)
}
