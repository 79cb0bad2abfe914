//! The steps of a penalty-case sync (`POST /api/v1/cases/sync`, `crate::case_sync`), shaped
//! like the records' (`service::sync`): (1) read the server's copies of the pushed cases,
//! (2) judge each push outside the database lock ([`check_case`]: every change replayed by
//! `app_core::penalty::judge_case` as the authenticated user and device), (3) write what was
//! accepted in the group commit ([`write_case_pushes`], judging again a case another request
//! changed meanwhile), each change numbered in the records' global sequence, (4) read the
//! pull ([`pull_cases`]).
//!
//! **The unit's rules.** Each case is judged with its unit's penalty settings, working-day
//! calendar and discretion table (`service::case_rules`: the unit's own, else its nearest
//! ancestor's, else app-core's defaults and no table), read from `PenaltyRulesStore` through
//! the [`RulesLookup`] the handler lends; a new case's unit is read from the pushed document
//! before it is judged.
//!
//! **Who receives a case.** Like a record, by `app_core::access` on the case's scope (its
//! unit and its inspectors): a supervisor's tablets pull every case of their unit subtree, an
//! inspector's the cases the inspector is on; every pulled case is checked again with
//! `can_read_record`.

use super::case_rules::{CaseRules, rules_for};
use super::sync::{Author, PhotoLookup, ServerWorld, SyncError, SyncResult, by_document, reject};
use crate::reference::ReferenceData;
use crate::store::PenaltyRulesStore;
use crate::store::StoreResult;
use crate::store::cases::{CasePullFilter, CaseStore, CaseWrite};
use crate::store::records::{RecordStore, change_hashes};
use app_core::access::{RecordScope, can_read_record, can_review_record, can_write_record};
use app_core::checklist::{ChecklistTemplate, TemplateRef};
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, EnterpriseId, PlanId, UnitId, UserId};
use app_core::judge::{JudgeError, LookupError, Pusher, World};
use app_core::penalty::{
    CaseDoc, CaseSource, CaseVerdict, CaseWorld, DiscretionTable, PenaltyCase, PenaltySettings,
    WorkCalendar, judge_case,
};
use app_core::unit::UnitTree;
use app_core::user::{Role, User};
use app_core::wire::{CaseSyncRequest, CaseSyncResponse, DocChanges, Rejection};

/// A unit's case rules, read when a check needs them (from the store, see
/// `service::case_rules::rules_for`).
pub type RulesLookup<'a> = dyn FnMut(&UnitId) -> StoreResult<CaseRules> + 'a;

/// The access scope of a stored inspection record (`None`: not stored): a new case's source
/// must be one its opener may read (`service::access::scope`).
pub type SourceLookup<'a> = dyn FnMut(&str) -> StoreResult<Option<RecordScope>> + 'a;

/// The judge's world for one case: the server's world and the case's unit's rules.
pub(crate) struct UnitWorld<'w> {
    pub(crate) inner: &'w dyn World,
    pub(crate) rules: &'w CaseRules,
}

impl World for UnitWorld<'_> {
    fn now(&self) -> Timestamp {
        self.inner.now()
    }
    fn units(&self) -> &UnitTree {
        self.inner.units()
    }
    fn template(&self, reference: &TemplateRef) -> Option<&ChecklistTemplate> {
        self.inner.template(reference)
    }
    fn enterprise(&self, id: &EnterpriseId) -> Option<&Enterprise> {
        self.inner.enterprise(id)
    }
    fn plan(&self, id: &PlanId) -> Result<Option<app_core::plan::Plan>, LookupError> {
        self.inner.plan(id)
    }
    fn may_name_photo(&self, digest: &Sha256Hex) -> Result<bool, LookupError> {
        self.inner.may_name_photo(digest)
    }
    fn first_unnamable(&self, digests: &[&Sha256Hex]) -> Result<Option<Sha256Hex>, LookupError> {
        self.inner.first_unnamable(digests)
    }
    fn user(&self, id: &UserId) -> Option<&User> {
        self.inner.user(id)
    }
    fn server_seal_valid(&self, statement: &[u8], seal: &str) -> Result<bool, LookupError> {
        self.inner.server_seal_valid(statement, seal)
    }
    fn vouched_heads(&self) -> &[automerge::ChangeHash] {
        self.inner.vouched_heads()
    }
}

impl CaseWorld for UnitWorld<'_> {
    fn penalty_settings(&self, _unit: &UnitId) -> Option<&PenaltySettings> {
        Some(&self.rules.settings)
    }
    fn work_calendar(&self) -> &WorkCalendar {
        &self.rules.calendar
    }
    fn discretion(&self, _unit: &UnitId) -> Option<&DiscretionTable> {
        self.rules.discretion.as_ref()
    }
}

/// A case's access scope: its unit and its inspectors (a case belongs to no plan).
pub fn case_scope(case: &PenaltyCase) -> RecordScope {
    RecordScope {
        unit: case.unit.clone(),
        inspectors: case.inspectors.keys().cloned().collect(),
        assigned: Vec::new(),
    }
}

/// A stored case's bytes and heads, as the check reads them.
pub type StoredCase = Option<(Vec<u8>, Vec<String>)>;

/// Step 1: the server's bytes and heads of each pushed case.
pub fn read_stored_cases<S: CaseStore + ?Sized>(
    store: &S,
    ids: &[String],
) -> StoreResult<Vec<StoredCase>> {
    ids.iter().map(|id| store.case_snapshot(id)).collect()
}

/// The outcome of checking one pushed case against the server's copy.
#[derive(Debug)]
pub enum CaseChecked {
    /// Accepted: this version is to be written.
    Write {
        case: Box<PenaltyCase>,
        snapshot: Vec<u8>,
        change: Vec<u8>,
        heads: Vec<String>,
        /// The heads of the server's copy the check was made against (None: a new case).
        base: Option<Vec<String>>,
    },
    /// The server already holds all of it.
    Replay,
    Refused(Rejection),
}

/// Step 2: judges one case's push against the server's copy and prepares what to write. No
/// database access but the lookups: `photos` (the right to name each media file a change
/// adds), `rules` (the case's unit's) and `sources` (a new case's source record, which must
/// exist and be readable by the one who opens the case).
pub fn check_case(
    reference: &ReferenceData,
    photos: &mut PhotoLookup<'_>,
    rules: &mut RulesLookup<'_>,
    sources: &mut SourceLookup<'_>,
    author: &Author,
    push: &DocChanges,
    stored: StoredCase,
) -> SyncResult<CaseChecked> {
    let id = push.id.as_str();
    let (user, device) = (&author.user, &author.device);
    let (doc, base) = match stored {
        None => (None, None),
        Some((bytes, heads)) => {
            let doc = CaseDoc::load(&bytes, device)
                .map_err(|e| crate::store::StoreError::Corrupt(format!("stored case {id}: {e}")))?;
            let scope = case_scope(doc.case());
            if !can_write_record(user, &scope, &reference.units)
                && !can_review_record(user, &scope, &reference.units)
            {
                // Existence must not leak: the same answer as for a case that does not exist.
                return Ok(CaseChecked::Refused(reject(
                    id,
                    "forbidden",
                    "you may not change this case (or it does not exist)",
                )));
            }
            (Some(doc), Some(heads))
        }
    };
    // Cases name no plan and carry no server seal (the case judge refuses one).
    let mut no_plans = |_: &str| -> StoreResult<Option<app_core::plan::Plan>> { Ok(None) };
    let mut no_keys = || -> StoreResult<Vec<ed25519_dalek::VerifyingKey>> { Ok(Vec::new()) };
    let world = ServerWorld::new(
        reference,
        &mut no_plans,
        photos,
        &mut no_keys,
        author.now_ms,
    );
    // The unit whose rules judge the case: the stored copy's, or the pushed document's (one
    // that does not load is refused by the judge, whatever the rules).
    let unit = match &doc {
        Some(d) => Some(d.case().unit.clone()),
        None => CaseDoc::load(&push.bytes, device)
            .ok()
            .map(|d| d.case().unit.clone()),
    };
    let unit_rules = match unit {
        Some(unit) => rules(&unit)?,
        None => CaseRules::default(),
    };
    let world = UnitWorld {
        inner: &world,
        rules: &unit_rules,
    };
    let pusher = Pusher {
        user,
        device,
        registered_at: author.registered_at,
    };
    let mut doc = match judge_case(doc, id, &push.bytes, pusher, &world) {
        Ok(CaseVerdict::Replay) => return Ok(CaseChecked::Replay),
        Ok(CaseVerdict::Accepted { doc, .. }) => doc,
        Err(JudgeError::Refused(r)) => {
            return Ok(CaseChecked::Refused(reject(
                id,
                r.code.as_str(),
                r.to_string(),
            )));
        }
        Err(JudgeError::Lookup(e)) => {
            return Err(SyncError::Judge {
                id: id.to_owned(),
                message: e.0,
            });
        }
    };
    // A case opened from an inspection: that record is stored and its opener may read it
    // (nobody opens a case on a record of another unit, or on one that was never synced).
    if base.is_none()
        && let CaseSource::Inspection { inspection, .. } = &doc.case().source
        && !sources(inspection.as_str())?
            .is_some_and(|scope| can_read_record(user, &scope, &reference.units))
    {
        return Ok(CaseChecked::Refused(reject(
            id,
            app_core::judge::RefusalCode::Reference.as_str(),
            format!(
                "the record this case is opened from ({inspection}) is not on the server or you may not read it: sync the record first"
            ),
        )));
    }
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    let snapshot = doc.save();
    let change = match &base {
        // A new case: the document the server re-made by replay (the same change hashes).
        None => snapshot.clone(),
        Some(before) => doc.save_after(&change_hashes(id, before)?),
    };
    Ok(CaseChecked::Write {
        case: Box::new(doc.into_case()),
        snapshot,
        change,
        heads,
        base,
    })
}

/// Step 3: writes the accepted case pushes (in the caller's transaction); returns the
/// positions accepted and the refusals. A case whose heads moved since its check is judged
/// again against the current copy, under its lock.
pub fn write_case_pushes<
    S: CaseStore + RecordStore + PenaltyRulesStore + crate::store::PlanStore + ?Sized,
>(
    tx: &S,
    photos: &mut PhotoLookup<'_>,
    reference: &ReferenceData,
    author: &Author,
    cases: &[DocChanges],
    checked: &[CaseChecked],
) -> SyncResult<(Vec<u32>, Vec<Rejection>)> {
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    super::sync::lock_in_order(tx, cases)?;
    for (index, (push, checked)) in cases.iter().zip(checked).enumerate() {
        let rechecked;
        let outcome = match checked {
            CaseChecked::Write { base, .. }
                if tx.case_heads(&push.id)?.as_ref() != base.as_ref() =>
            {
                let mut rules = |unit: &UnitId| rules_for(tx, &reference.units, unit);
                let mut sources = |record: &str| super::access::scope(tx, reference, record);
                rechecked = check_case(
                    reference,
                    photos,
                    &mut rules,
                    &mut sources,
                    author,
                    push,
                    tx.case_snapshot(&push.id)?,
                )?;
                &rechecked
            }
            other => other,
        };
        match outcome {
            CaseChecked::Write {
                case,
                snapshot,
                change,
                heads,
                base,
            } => {
                tx.write_case(&CaseWrite {
                    id: &push.id,
                    case,
                    snapshot,
                    change,
                    heads,
                    origin_device: author.device.as_str(),
                    existed: base.is_some(),
                })?;
                accepted.push(index as u32);
            }
            CaseChecked::Replay => accepted.push(index as u32),
            CaseChecked::Refused(rejection) => {
                tracing::warn!(user = %author.user.id, case = %rejection.id, code = %rejection.code, "case push refused");
                rejected.push(rejection.clone());
            }
        }
    }
    Ok((accepted, rejected))
}

/// The units whose every penalty case is pulled to the user's tablets: a supervisor's subtree
/// (they approve and decide cases of it). None for an inspector: an inspector's tablet pulls
/// the cases they are on. Records are pulled by what the user has a part in, supervisors
/// included (`service::sync::pull`; see docs/ARCHITECTURE.md, "What a tablet pulls").
pub(crate) fn pulled_units(user: &User, reference: &ReferenceData) -> Vec<String> {
    match user.role {
        Role::Supervisor => reference
            .units
            .subtree(&user.unit)
            .map(|u| u.id.to_string())
            .collect(),
        Role::Inspector { .. } | Role::Admin => Vec::new(),
    }
}

/// What of the case change log is pulled to `user`'s `device` after `cursor` (`units`: the
/// user's [`pulled_units`]).
fn case_filter<'a>(
    user: &'a User,
    device: &'a DeviceId,
    units: &'a [String],
    cursor: u64,
) -> CasePullFilter<'a> {
    CasePullFilter {
        cursor: cursor as i64,
        device: device.as_str(),
        units,
        inspector: user.is_inspector().then_some(user.id.as_str()),
        max_bytes: super::sync::MAX_PULL_BYTES,
    }
}

/// Whether the cases' sync after `cursor` would pull anything to this device (asked in a
/// records' sync, `app_core::wire::SyncResponse::cases`). The SQL filter may let through a
/// case the access rule then keeps back; that costs the tablet one empty round trip, never a
/// missed change.
pub fn cases_waiting<S: CaseStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    cursor: u64,
) -> SyncResult<bool> {
    let units = pulled_units(user, reference);
    Ok(conn.case_changes_wait(&case_filter(user, device, &units, cursor))?)
}

/// Step 4: the answer: the pushes' outcome and the changes of the cases pulled to the user's
/// tablets, from other devices, after the request's cursor.
pub fn pull_cases<S: CaseStore + RecordStore + ?Sized>(
    conn: &S,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    request: &CaseSyncRequest,
    accepted: Vec<u32>,
    rejected: Vec<Rejection>,
) -> SyncResult<CaseSyncResponse> {
    let units = pulled_units(user, reference);
    let page = conn.case_changes_after(&case_filter(user, device, &units, request.cursor))?;
    let more = page.more;
    let cursor = match page.changes.last() {
        Some(&(seq, _, _)) if more => seq,
        _ => conn.latest_seq()?,
    };
    let mut cases = Vec::new();
    for pulled in by_document(page) {
        // The SQL filter is a fast path for the access rule; the rule has the last word.
        let row = conn
            .case_row(&pulled.id)?
            .ok_or_else(|| SyncError::PulledMissing(pulled.id.clone()))?;
        let scope = RecordScope {
            unit: row.unit,
            inspectors: row.inspectors,
            assigned: Vec::new(),
        };
        if can_read_record(user, &scope, &reference.units) {
            cases.push(pulled);
        } else {
            tracing::error!(case = %pulled.id, user = %user.id, "SQL read filter and access rule disagree");
        }
    }
    Ok(CaseSyncResponse {
        cursor: cursor.max(request.cursor as i64) as u64,
        accepted,
        rejected,
        cases,
        more,
    })
}
