//! The steps of a sync as plain functions over the storage traits (`crate::store`); the
//! handler (`crate::sync`) runs them in order: (1) read the server's copies of the pushed
//! records, (2) check each push outside the database lock ([`check_push`], in parallel across
//! requests), (3) write what was accepted in a group commit ([`write_pushes`], re-checking a
//! record another request changed meanwhile), (4) read the pull ([`pull`]).

use crate::plans;
use crate::reference::ReferenceData;
use crate::store::records::{self, DocWrite, PullFilter};
use crate::store::{DeviceStore, PlanStore, RecordStore, StoreError, StoreResult};
use app_core::access::{RecordScope, can_read_record, can_review_record, can_write_record};
use app_core::checklist::{ChecklistTemplate, TemplateRef};
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, EnterpriseId, PlanId};
use app_core::inspection::Inspection;
use app_core::judge::{self, JudgeError, LookupError, Pusher, Verdict, World};
use app_core::plan::Plan;
use app_core::user::{Role, User};
use app_core::wire::{DocChanges, Rejection, SyncRequest, SyncResponse};
use std::collections::{BTreeMap, HashMap};

/// A pull answer stops growing past this many bytes of changes (the client asks again).
pub const MAX_PULL_BYTES: usize = 8 * 1024 * 1024;

/// Why a sync step failed (never a refusal: refusals are answers, see [`Checked::Refused`]).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The judge could not look something up.
    #[error("judging {id}: {message}")]
    Judge { id: String, message: String },
    /// A record the pull's SQL filter returned is not stored.
    #[error("pulled record {0} is not stored")]
    PulledMissing(String),
}

pub type SyncResult<T> = Result<T, SyncError>;

/// A stored record's snapshot and heads, as the check reads it.
pub type StoredCopy = Option<records::Snapshot>;

/// Step 1: the server's snapshot and heads of each pushed record, and when the device was
/// registered (seconds).
pub fn read_stored<S: RecordStore + DeviceStore + ?Sized>(
    store: &S,
    ids: &[String],
    device: &DeviceId,
) -> StoreResult<(Vec<StoredCopy>, Option<i64>)> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let stored = store.snapshots(&ids)?;
    let registered_at = store.registered_at(device.as_str())?;
    Ok((stored, registered_at))
}

/// Looks plans up by id (fixture plans and the console's sealed plans in the store).
pub type PlanLookup<'a> = dyn FnMut(&str) -> StoreResult<Option<Plan>> + 'a;

fn scope(record: &Inspection, plans: &mut PlanLookup<'_>) -> StoreResult<RecordScope> {
    let plan = match &record.plan {
        Some(id) => plans(id.as_str())?,
        None => None,
    };
    Ok(RecordScope::of(record, plan.as_ref()))
}

pub(crate) fn reject(id: &str, code: &str, message: impl Into<String>) -> Rejection {
    Rejection {
        id: id.to_owned(),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// The outcome of checking one pushed document against the server's copy.
#[derive(Debug)]
pub enum Checked {
    /// Accepted: this version is to be written.
    Write {
        record: Box<Inspection>,
        /// None: the change is the whole document (see `records::DocWrite::snapshot`).
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

/// What the judge asks of the server: reference data, plans, photo rights, the server's
/// keys (for sealed changes) and the clock (for cases also the unit's rules:
/// `service::cases`).
pub(crate) struct ServerWorld<'a, 'p> {
    pub(crate) reference: &'a ReferenceData,
    plans: std::cell::RefCell<&'a mut PlanLookup<'p>>,
    photos: std::cell::RefCell<&'a mut PhotoLookup<'p>>,
    seal_keys: std::cell::RefCell<&'a mut SealKeys<'p>>,
    now_ms: i64,
    /// The heads of the push's receipt, once its seal is found to be this server's.
    vouched: Vec<automerge::ChangeHash>,
}

impl<'a, 'p> ServerWorld<'a, 'p> {
    pub(crate) fn new(
        reference: &'a ReferenceData,
        plans: &'a mut PlanLookup<'p>,
        photos: &'a mut PhotoLookup<'p>,
        seal_keys: &'a mut SealKeys<'p>,
        now_ms: i64,
    ) -> Self {
        Self {
            reference,
            plans: std::cell::RefCell::new(plans),
            photos: std::cell::RefCell::new(photos),
            seal_keys: std::cell::RefCell::new(seal_keys),
            now_ms,
            vouched: Vec::new(),
        }
    }
}

/// Every public key the server ever held (its key history), read only when a pushed change
/// under the server's actor asks for it (`app_core::judge::World::server_seal_valid`).
pub type SealKeys<'a> = dyn FnMut() -> StoreResult<Vec<ed25519_dalek::VerifyingKey>> + 'a;

/// [`SealKeys`] from a store's key history.
pub fn seal_keys_of<S: crate::store::KeyHistoryStore + ?Sized>(
    store: &S,
) -> StoreResult<Vec<ed25519_dalek::VerifyingKey>> {
    Ok(store
        .key_history()?
        .keys
        .iter()
        .filter_map(|k| {
            let bytes: [u8; 32] = casefile::manifest::unhex(&k.public_key)?.try_into().ok()?;
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
        })
        .collect())
}

/// The server's seal over `statement` (`app_core::document::server_seal_statement`), hex.
pub fn seal(key: &ed25519_dalek::SigningKey, statement: &[u8]) -> String {
    use ed25519_dalek::Signer;
    app_core::evidence::hex(&key.sign(statement).to_bytes())
}

/// The first of the photos the pusher may not name (`blobs::may_name`), if any.
pub type PhotoLookup<'a> = dyn FnMut(&[&Sha256Hex]) -> StoreResult<Option<Sha256Hex>> + 'a;

fn lookup_error(e: StoreError) -> LookupError {
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
    fn user(&self, id: &app_core::ids::UserId) -> Option<&User> {
        let r = self.reference;
        r.users
            .iter()
            .chain(&r.disabled_users)
            .find(|u| u.id == *id)
    }
    fn vouched_heads(&self) -> &[automerge::ChangeHash] {
        &self.vouched
    }
    fn server_seal_valid(&self, statement: &[u8], seal: &str) -> Result<bool, LookupError> {
        let Some(bytes) = casefile::manifest::unhex(seal) else {
            return Ok(false);
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(&bytes) else {
            return Ok(false);
        };
        let keys = (self.seal_keys.borrow_mut())().map_err(lookup_error)?;
        Ok(keys
            .iter()
            .any(|k| k.verify_strict(statement, &signature).is_ok()))
    }
}

/// Who pushes, as the check needs it.
#[derive(Debug, Clone)]
pub struct Author {
    pub user: User,
    pub device: DeviceId,
    /// When the device was registered.
    pub registered_at: Timestamp,
    /// The server's clock.
    pub now_ms: i64,
}

impl Author {
    /// The authenticated user and device, with the device's registration as its table keeps
    /// it (seconds; a device the table does not know cannot have a token bound to it, so the
    /// fallback, far in the future, is never used in practice) and the server's clock
    /// (seconds).
    pub fn new(user: User, device: DeviceId, registered_secs: Option<i64>, now_secs: i64) -> Self {
        Author {
            user,
            device,
            registered_at: Timestamp(registered_secs.unwrap_or(i64::MAX / 2_000) * 1000),
            now_ms: now_secs * 1000,
        }
    }
}

/// Checks one document's push against the server's copy (`stored`: its snapshot and heads),
/// and prepares what to write. Pure Automerge and rule work: no database access, so pushes of
/// different requests are checked in parallel, outside the database lock. Every pushed change
/// is judged by `app_core::judge` as the authenticated user and device.
pub fn check_push(
    reference: &ReferenceData,
    plans: &mut PlanLookup<'_>,
    photos: &mut PhotoLookup<'_>,
    seal_keys: &mut SealKeys<'_>,
    author: &Author,
    push: &DocChanges,
    stored: StoredCopy,
) -> SyncResult<Checked> {
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
                .map_err(|e| StoreError::Corrupt(format!("stored doc {id}: {e}")))?;
            let s = scope(doc.record(), plans)?;
            if !can_write_record(user, &s, units) && !can_review_record(user, &s, units) {
                return Ok(denied());
            }
            (Some(doc), Some(before_heads))
        }
    };
    let mut world = ServerWorld::new(reference, plans, photos, seal_keys, author.now_ms);
    // A receipt this server signed (a tablet carrying changes of another device back to a
    // restored server); one that is not this server's vouches for nothing.
    if let Some(receipt) = &push.receipt
        && let Some(heads) = receipt.change_hashes()
    {
        let statement = app_core::document::receipt_statement(id, &receipt.heads);
        if world
            .server_seal_valid(&statement, &app_core::evidence::hex(&receipt.seal))
            .map_err(|e| SyncError::Judge {
                id: id.to_owned(),
                message: e.0,
            })?
        {
            world.vouched = heads;
        }
    }
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
            return Err(SyncError::Judge {
                id: id.to_owned(),
                message: e.0,
            });
        }
    };
    let mut doc = match verdict {
        Verdict::Replay => return Ok(Checked::Replay),
        Verdict::Accepted { doc, .. } => doc,
        // A new record judged whole without loading it: the pushed bytes are exactly the
        // document of the judged changes, so they are stored as they came.
        Verdict::AcceptedNew { record, heads, .. } => {
            return Ok(Checked::Write {
                record,
                snapshot: None,
                change: push.bytes.clone(),
                heads: heads.iter().map(ToString::to_string).collect(),
                base: None,
            });
        }
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
                .save_after(&records::change_hashes(id, &before_heads)?);
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

/// Step 3: writes the accepted pushes (in the caller's transaction); returns the positions
/// accepted and the refusals. `photos` answers photo rights on the same transaction (for a
/// re-check).
pub fn write_pushes<S: RecordStore + PlanStore + crate::store::KeyHistoryStore + ?Sized>(
    tx: &S,
    photos: &mut PhotoLookup<'_>,
    reference: &ReferenceData,
    author: &Author,
    request: &SyncRequest,
    checked: &[Checked],
) -> SyncResult<(Vec<u32>, Vec<Rejection>)> {
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    lock_in_order(tx, &request.push)?;
    // The heads held now, under the locks; kept up to date as records are written below (a
    // request may push a record twice).
    let ids: Vec<&str> = request.push.iter().map(|p| p.id.as_str()).collect();
    let mut held: HashMap<&str, Option<Vec<String>>> =
        ids.iter().copied().zip(tx.heads_many(&ids)?).collect();
    // The writes are made together (`RecordStore::write_many`), each record at most once per
    // batch: a record pushed again is written after the batch before it.
    let mut rechecked: Vec<Checked> = Vec::new();
    let mut batch: Vec<(usize, Option<usize>)> = Vec::new();
    let flush = |batch: &mut Vec<(usize, Option<usize>)>, rechecked: &[Checked]| {
        let writes: Vec<DocWrite<'_>> = batch
            .drain(..)
            .filter_map(|(index, again)| {
                let checked = match again {
                    Some(i) => &rechecked[i],
                    None => &checked[index],
                };
                let Checked::Write {
                    record,
                    snapshot,
                    change,
                    heads,
                    base,
                } = checked
                else {
                    return None;
                };
                Some(DocWrite {
                    id: &request.push[index].id,
                    record,
                    snapshot: snapshot.as_deref(),
                    change,
                    heads,
                    origin_device: author.device.as_str(),
                    existed: base.is_some(),
                })
            })
            .collect();
        tx.write_many(&writes)
    };
    for (index, (push, first_check)) in request.push.iter().zip(checked).enumerate() {
        if batch.iter().any(|(i, _)| request.push[*i].id == push.id) {
            flush(&mut batch, &rechecked)?;
        }
        // The check ran against the copy read before the lock was taken; if another sync
        // changed the record since, check again against the current copy (now under the lock).
        let mut again = None;
        let outcome = match first_check {
            Checked::Write { base, .. } if held[push.id.as_str()].as_ref() != base.as_ref() => {
                let stored = tx.snapshot(&push.id)?;
                let mut lookup = |id: &str| plans::find(tx, reference, id);
                let mut keys = || seal_keys_of(tx);
                rechecked.push(check_push(
                    reference,
                    &mut lookup,
                    photos,
                    &mut keys,
                    author,
                    push,
                    stored,
                )?);
                again = Some(rechecked.len() - 1);
                &rechecked[rechecked.len() - 1]
            }
            other => other,
        };
        match outcome {
            Checked::Write { heads, .. } => {
                held.insert(push.id.as_str(), Some(heads.clone()));
                batch.push((index, again));
                accepted.push(index as u32);
            }
            Checked::Replay => accepted.push(index as u32),
            Checked::Refused(rejection) => {
                tracing::warn!(user = %author.user.id, doc = %rejection.id, code = %rejection.code, "push refused");
                rejected.push(rejection.clone());
            }
        }
    }
    flush(&mut batch, &rechecked)?;
    Ok((accepted, rejected))
}

/// Locks the pushed documents (`RecordStore::lock_record`) to the end of the transaction, in
/// id order, so no two writers wait on each other.
pub(crate) fn lock_in_order<S: RecordStore + ?Sized>(
    tx: &S,
    pushed: &[DocChanges],
) -> StoreResult<()> {
    let mut ids: Vec<&str> = pushed.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    tx.lock_records(&ids)
}

/// Step 4: the answer to a sync: the pushes' outcome and the pull (changes of records the user
/// may read, from other devices, after the request's cursor).
pub fn pull<S: RecordStore + PlanStore + crate::store::casefiles::CaseFileStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    request: &SyncRequest,
    accepted: Vec<u32>,
    rejected: Vec<Rejection>,
) -> SyncResult<SyncResponse> {
    // Pull: changes after the cursor, from other devices, of the records the user has a part
    // in (inspectors and supervisors alike; an administrator's tablet holds no records). A
    // supervisor reviews, returns and follows hazards in the console, which reads the server;
    // their tablet, like an inspector's, holds what they work on offline and fetches the rest
    // of their subtree on demand (see docs/ARCHITECTURE.md, "What a tablet pulls").
    let assigned_plans: Vec<String> = plans::assigned_to(conn, reference, &user.id)?
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    let person = !matches!(user.role, Role::Admin);
    let page = conn.changes_after(&PullFilter {
        cursor: request.cursor as i64,
        device: device.as_str(),
        units: &[],
        person: person.then_some((&assigned_plans[..], user.id.as_str())),
        max_bytes: MAX_PULL_BYTES,
    })?;
    let more = page.more;
    let cursor = match page.changes.last() {
        Some(&(seq, _, _)) if more => seq,
        _ => conn.latest_seq()?,
    };
    // Double-check every pulled record with the app-core rule the SQL mirrors.
    let pull = by_document(page);
    let mut pull = verify_readable(conn, reference, user, pull)?;
    if request.version >= app_core::wire::RECEIPTS_SINCE {
        add_receipts(conn, &mut pull)?;
    }
    Ok(SyncResponse {
        revoked: false,
        cursor: cursor.max(request.cursor as i64) as u64,
        accepted,
        rejected,
        pull,
        more,
        epoch: None,
        cases: None,
    })
}

/// A page of the change log as one entry per document (its changes concatenated), in the
/// order of each document's first change.
pub fn by_document(page: records::ChangePage) -> Vec<DocChanges> {
    let mut grouped: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (_, doc, bytes) in page.changes {
        grouped
            .entry(doc.clone())
            .or_insert_with(|| {
                order.push(doc);
                Vec::new()
            })
            .extend_from_slice(&bytes);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let bytes = grouped.remove(&id)?;
            Some(DocChanges {
                id,
                bytes,
                receipt: None,
            })
        })
        .collect()
}

/// An on-demand fetch, step 1 (on a reading connection): the records `query` names that
/// `user` may read. `None`: a record asked for by id that the user may not read, or that does
/// not exist (one answer for both).
pub fn fetch_ids<S: RecordStore + PlanStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    query: &app_core::wire::FetchQuery,
) -> SyncResult<Option<Vec<String>>> {
    use app_core::wire::{FETCH_ENTERPRISE_LIMIT, FetchQuery};
    let readable = |id: &str| -> SyncResult<bool> {
        Ok(crate::service::access::scope(conn, reference, id)?
            .is_some_and(|s| can_read_record(user, &s, &reference.units)))
    };
    match query {
        FetchQuery::Record(id) => Ok(readable(id)?.then(|| vec![id.clone()])),
        FetchQuery::Enterprise(enterprise) => {
            let mut out = Vec::new();
            // Read a few times the limit, as some may be another unit's.
            for id in conn.records_of_enterprise(enterprise, 4 * FETCH_ENTERPRISE_LIMIT)? {
                if out.len() == FETCH_ENTERPRISE_LIMIT {
                    break;
                }
                if readable(&id)? {
                    out.push(id);
                }
            }
            Ok(Some(out))
        }
    }
}

/// An on-demand fetch, step 2 (committed before step 3): `user` follows the records, so their
/// later changes are pulled to the user's tablets. Committed first, so that no change falls
/// between the copy step 3 reads and the next pull.
pub fn follow<S: RecordStore + ?Sized>(
    conn: &S,
    user: &User,
    ids: &[String],
    now_s: i64,
) -> SyncResult<()> {
    for id in ids {
        conn.follow(user.id.as_str(), id, now_s)?;
    }
    Ok(())
}

/// An on-demand fetch, step 3 (on a reading connection): each record whole as stored, with
/// its receipt for a tablet speaking version 3 or later; checked again with the access rule.
pub fn fetched<S: RecordStore + PlanStore + crate::store::casefiles::CaseFileStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    ids: &[String],
    version: u32,
) -> SyncResult<Vec<DocChanges>> {
    let mut docs = Vec::with_capacity(ids.len());
    for id in ids {
        let Some((bytes, _)) = conn.snapshot(id)? else {
            continue;
        };
        docs.push(DocChanges {
            id: id.clone(),
            bytes,
            receipt: None,
        });
    }
    let mut docs = verify_readable(conn, reference, user, docs)?;
    if version >= app_core::wire::RECEIPTS_SINCE {
        add_receipts(conn, &mut docs)?;
    }
    Ok(docs)
}

/// Signs a [`app_core::wire::Receipt`] for every pulled document: its heads as the server
/// holds them now (the pulled changes and every change before them). Only when the server
/// has its key (made at its first start); a reader never makes one.
fn add_receipts<S: RecordStore + crate::store::casefiles::CaseFileStore + ?Sized>(
    conn: &S,
    pull: &mut [DocChanges],
) -> SyncResult<()> {
    if pull.is_empty() {
        return Ok(());
    }
    let Some(secret) = conn.server_secret()? else {
        return Ok(());
    };
    let Ok(secret) = <[u8; 32]>::try_from(secret.as_slice()) else {
        return Err(StoreError::Corrupt("the server key".into()).into());
    };
    let key = ed25519_dalek::SigningKey::from_bytes(&secret);
    let held = conn.heads_many(&pull.iter().map(|d| d.id.as_str()).collect::<Vec<_>>())?;
    for (d, heads) in pull.iter_mut().zip(held) {
        let Some(heads) = heads else {
            continue;
        };
        let heads = app_core::wire::Receipt::heads_bytes(&records::change_hashes(&d.id, &heads)?);
        use ed25519_dalek::Signer;
        let seal = key
            .sign(&app_core::document::receipt_statement(&d.id, &heads))
            .to_bytes()
            .to_vec();
        d.receipt = Some(app_core::wire::Receipt { heads, seal });
    }
    Ok(())
}

/// Keeps only documents the app-core access rule lets `user` read (the SQL filter is a fast
/// path for the same rule; this makes sure they never disagree in the user's favour).
fn verify_readable<S: RecordStore + PlanStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    pull: Vec<DocChanges>,
) -> SyncResult<Vec<DocChanges>> {
    let ids: Vec<&str> = pull.iter().map(|d| d.id.as_str()).collect();
    let scopes = crate::service::access::scopes(conn, reference, &ids)?;
    let mut out = Vec::with_capacity(pull.len());
    for (d, s) in pull.into_iter().zip(scopes) {
        let s = s.ok_or_else(|| SyncError::PulledMissing(d.id.clone()))?;
        if can_read_record(user, &s, &reference.units) {
            out.push(d);
        } else {
            tracing::error!(doc = %d.id, user = %user.id, "SQL read filter and access rule disagree");
        }
    }
    Ok(out)
}
