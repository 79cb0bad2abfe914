//! The judgement of pushed changes: whoever receives a record's changes from a device (the
//! sync server) accepts them only if each one is exactly what [`Inspection::apply`] produces
//! for the command it claims, made by the authenticated user on the authenticated device, on
//! the state its author saw.
//!
//! Every change a tablet writes carries, in its message ([`ChangeNote`]), who made it, on
//! which device, when (milliseconds) and the command itself. The judge walks the pushed
//! changes in causal order and, for each:
//!
//! 1. checks authorship: the change's Automerge actor is the pushing device's
//!    ([`actor_for`]), the note names the authenticated user and device, and its time is
//!    neither in the future (beyond [`MAX_CLOCK_SKEW_MS`]) nor before the device was
//!    registered;
//! 2. materialises the record as the author saw it (the change's dependencies: the current
//!    state when they are the current heads, otherwise a fork at them);
//! 3. checks the access rules for that state ([`access`]) and runs the command through
//!    [`InspectionDoc::apply`] as the authenticated user, at the note's time, with the
//!    record's template: the rules refuse, or the replay writes a change;
//! 4. requires the replayed change's hash to equal the pushed change's hash. A hash covers
//!    the actor, sequence number, operation counter, dependencies, time, message and every
//!    operation, so equality means the pushed change is, byte for byte, the one an honest
//!    tablet writes for that command: no extra field, no replaced object, no forged review.
//!
//! The change that creates a record is judged the same way: its content must be a fresh
//! draft ([`Inspection::new_draft`], plus its plan), with an id that is a UUID, the
//! creator's own unit or a plan assigned to them, an enterprise and template the reference
//! data knows, and the creator's authority to create it ([`access::can_create_record`]).
//! Finally every photo the changes add must be one the pusher has a right to
//! ([`World::may_name_photo`]).
//!
//! A content edit made on an earlier state is refused while the record is under review or
//! approved (the freeze holds for the merged record, not only for the state its author saw).
//! Other changes that were each legal when made may still merge into a state no single
//! replica made (two concurrent status moves); that is not refused — [`Inspection::violations`]
//! lists it, and whoever counts or publishes records must treat such a record as not clean.

use crate::access::{self, RecordScope};
use crate::checklist::{ChecklistTemplate, TemplateRef};
use crate::document::{
    ChangeNote, DocError, InspectionDoc, Part, actor_for, parse_strictly, read_fresh_draft,
    read_record_at, server_seal_statement, untrusted, write_part, write_record,
};
use crate::enterprise::Enterprise;
use crate::evidence::Sha256Hex;
use crate::geo::Timestamp;
use crate::ids::{DeviceId, EnterpriseId, InspectionId, PlanId, UserId};
use crate::inspection::{Command, Context, Inspection, InspectionStatus};
use crate::kind::InspectionKind;
use crate::plan::Plan;
use crate::signing::content_hash;
use crate::unit::UnitTree;
use crate::user::User;
use automerge::{AutoCommit, ChangeHash};
use recorder::{Identity, Recorder};
use std::collections::BTreeSet;
use std::fmt;

/// How far ahead of the receiver's clock a change's time may be (tablet clocks drift).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The device name (and so the Automerge actor) under which the server itself writes, e.g.
/// a supervisor's decision made in the console. No device may register it, and no pushed
/// change may use its actor.
pub const SERVER_DEVICE: &str = "server";

/// Who pushed the changes: the authenticated user and device.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    pub user: &'a User,
    pub device: &'a DeviceId,
    /// When the device was registered: no change of it can be older.
    pub registered_at: Timestamp,
}

/// What the judge needs to know about the world (the receiver's reference data and store).
pub trait World {
    /// The receiver's clock.
    fn now(&self) -> Timestamp;
    fn units(&self) -> &UnitTree;
    fn template(&self, reference: &TemplateRef) -> Option<&ChecklistTemplate>;
    fn enterprise(&self, id: &EnterpriseId) -> Option<&Enterprise>;
    fn plan(&self, id: &PlanId) -> Result<Option<Plan>, LookupError>;
    /// Whether the pusher may name this photo in a record: the pushing device uploaded it,
    /// or the pusher can already read a record that names it.
    fn may_name_photo(&self, digest: &Sha256Hex) -> Result<bool, LookupError>;
    /// The first of `digests` the pusher may not name, if any (one store lookup for all of
    /// them where the store allows).
    fn first_unnamable(&self, digests: &[&Sha256Hex]) -> Result<Option<Sha256Hex>, LookupError> {
        for d in digests {
            if !self.may_name_photo(d)? {
                return Ok(Some((*d).clone()));
            }
        }
        Ok(None)
    }
    /// A user by id, enabled or not: the supervisor a sealed server change names. Receivers
    /// that never accept server changes from a pusher need not know users.
    fn user(&self, _id: &UserId) -> Option<&User> {
        None
    }
    /// Whether `seal` (hex) is the server's signature over `statement`
    /// ([`server_seal_statement`]) by any key the server ever held. Only a server can say;
    /// elsewhere no seal is valid, so a pushed change under the server's actor is refused.
    fn server_seal_valid(&self, _statement: &[u8], _seal: &str) -> Result<bool, LookupError> {
        Ok(false)
    }
    /// The heads of a receipt the receiver signed itself for this record, sent with the push
    /// (`crate::wire::Receipt`; the receiver checks the signature before it passes them:
    /// nothing else may). The pushed changes inside their history are taken as they are,
    /// whoever made them: the receiver held exactly those changes once (a hash covers every
    /// change before it) and judged each when it arrived. That is how a colleague's tablet
    /// carries a lost tablet's changes back to a server restored from an older backup.
    fn vouched_heads(&self) -> &[ChangeHash] {
        &[]
    }
}

/// A lookup in the receiver's store failed (not a judgement on the changes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lookup failed: {0}")]
pub struct LookupError(pub String);

/// Why pushed changes were refused: the first refused change and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refused change's hash (hex), when one change is to blame.
    pub change: Option<String>,
    pub code: RefusalCode,
    /// In English, naming what is wrong.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCode {
    /// Not Automerge, not a record, or changes whose dependencies are missing.
    Malformed,
    /// The record id differs from the one pushed, or is not a UUID.
    BadId,
    /// The pusher may not create or change this record (or it does not exist for them).
    Forbidden,
    /// A change made by another device (or the server) that the receiver does not hold.
    NotAuthor,
    /// The change's note does not name the pusher, or lacks the command.
    BadNote,
    /// The change's time is in the future or before the device was registered.
    Clock,
    /// The rules refuse the command ([`Inspection::apply`]).
    Rule,
    /// The change is not what its command produces.
    NotReproducible,
    /// A new record's first change is not a fresh draft.
    NotFresh,
    /// The enterprise, template or plan of a new record is unknown or not the creator's.
    Reference,
    /// A signed version that does not describe the state it claims.
    SignedVersion,
    /// A photo the pusher has no right to name.
    Photo,
}

impl RefusalCode {
    /// The code sent to the client.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Malformed => "malformed",
            RefusalCode::BadId => "bad_id",
            RefusalCode::Forbidden => "forbidden",
            RefusalCode::NotAuthor => "not_author",
            RefusalCode::BadNote => "bad_note",
            RefusalCode::Clock => "clock",
            RefusalCode::Rule => "rule",
            RefusalCode::NotReproducible => "not_reproducible",
            RefusalCode::NotFresh => "not_fresh",
            RefusalCode::Reference => "reference",
            RefusalCode::SignedVersion => "signed_version",
            RefusalCode::Photo => "photo_not_yours",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Some(h) => write!(f, "{}: change {h}: {}", self.code.as_str(), self.message),
            None => write!(f, "{}: {}", self.code.as_str(), self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

impl From<Refusal> for JudgeError {
    fn from(r: Refusal) -> Self {
        JudgeError::Refused(r)
    }
}

/// The outcome of judging a push.
#[derive(Debug)]
pub enum Verdict {
    /// Every new change is accepted; `doc` is the document with them (its changes are
    /// exactly the pushed ones, so the pushed bytes may be stored as they came).
    Accepted {
        doc: Box<InspectionDoc>,
        /// How many changes were new to the receiver.
        new_changes: usize,
        /// Whether the changes were checked by replaying them into a document (the reference
        /// path) rather than by predicting their operations (the fast path for a new record
        /// pushed whole by its device).
        replayed: bool,
    },
    /// A new record pushed whole, accepted without loading it: the pushed bytes are exactly
    /// the document an honest device saves for these changes (see `judge_whole.rs`), so they
    /// may be stored as they came. `record` is the state after them, `heads` their heads.
    AcceptedNew {
        record: Box<Inspection>,
        heads: Vec<ChangeHash>,
        new_changes: usize,
    },
    /// The receiver already holds every pushed change.
    Replay,
}

impl Verdict {
    /// The accepted document: `Accepted`'s, or `pushed` loaded for `AcceptedNew` (tests and
    /// tools that want the document whatever path accepted it); `None` for `Replay`.
    pub fn into_doc(
        self,
        pushed: &[u8],
        device: &DeviceId,
    ) -> Result<Option<InspectionDoc>, DocError> {
        match self {
            Verdict::Accepted { doc, .. } => Ok(Some(*doc)),
            Verdict::AcceptedNew { .. } => InspectionDoc::load(pushed, device).map(Some),
            Verdict::Replay => Ok(None),
        }
    }
}

pub(crate) fn refuse(
    change: Option<&ChangeHash>,
    code: RefusalCode,
    message: impl Into<String>,
) -> Refusal {
    Refusal {
        change: change.map(ToString::to_string),
        code,
        message: message.into(),
    }
}

/// Whether `id` is a record id a device may mint: a UUID in its canonical lowercase form,
/// optionally prefixed `insp-`.
pub fn valid_record_id(id: &InspectionId) -> bool {
    let s = id.as_str();
    let uuid = s.strip_prefix("insp-").unwrap_or(s);
    uuid.len() == 36
        && uuid.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// One pushed change's identity, as the judge needs it.
#[derive(Clone)]
pub(crate) struct Meta {
    pub(crate) hash: ChangeHash,
    pub(crate) actor: automerge::ActorId,
    pub(crate) deps: Vec<ChangeHash>,
    pub(crate) time: i64,
    pub(crate) message: Option<String>,
    pub(crate) seq: u64,
    pub(crate) start_op: u64,
    pub(crate) extra: Vec<u8>,
    /// Whether the change names an author (tablets never do).
    pub(crate) authored: bool,
}

/// The changes of `doc` after `have`, in causal order, without their operations.
pub(crate) fn metas(doc: &mut AutoCommit, have: &[ChangeHash]) -> Vec<Meta> {
    doc.get_changes_meta(have)
        .into_iter()
        .map(|m| Meta {
            hash: m.hash,
            actor: m.actor.into_owned(),
            deps: m.deps,
            time: m.timestamp,
            message: m.message.map(|s| s.into_owned()),
            seq: m.seq,
            start_op: m.start_op,
            extra: m.extra.into_owned(),
            authored: m.author.is_some(),
        })
        .collect()
}

/// Judges the changes in `pushed` (Automerge bytes: a saved document or changes) against
/// `stored`, the receiver's copy of the record (None: the record is new to it). On success
/// the returned document holds the stored changes and the accepted ones.
pub fn judge(
    stored: Option<InspectionDoc>,
    record_id: &str,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Verdict, JudgeError> {
    match stored {
        None => judge_new(record_id, pushed, pusher, world),
        Some(doc) => judge_update(doc, pushed, pusher, world),
    }
}

pub(crate) fn malformed(e: impl fmt::Display) -> Refusal {
    refuse(None, RefusalCode::Malformed, e.to_string())
}

fn judge_new(
    record_id: &str,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Verdict, JudgeError> {
    if let Some(verdict) = fast_whole(pushed, record_id, pusher, world)? {
        return Ok(verdict);
    }
    let (mut full, changes) = loaded_whole(pushed, "record")?;
    let first = &changes[0];
    let vouched = vouched(&changes, world.vouched_heads());
    if vouched.contains(&first.hash) {
        return judge_vouched_new(full, &changes, &vouched, record_id, pusher, world);
    }
    // The fast path first, from the record as created guessed out of the current state (a
    // few root fields; reading the state at the first change walks every later operation).
    // The guess is used only once the first change's hash confirms it.
    if let Ok(guess) = read_fresh_draft(&full)
        && let Some(verdict) = fast_new(&mut full, &changes, guess, record_id, pusher, world)?
    {
        return Ok(verdict);
    }
    let (initial, at, template) = creation(&full, first, record_id, pusher, world)?;
    let mut doc = InspectionDoc::create(&initial, template, pusher.device, at)
        .map_err(|e| refuse(Some(&first.hash), RefusalCode::NotFresh, e.to_string()))?;
    if doc.heads() != [first.hash] {
        return Err(refuse(
            Some(&first.hash),
            RefusalCode::NotReproducible,
            "the creating change is not what creating this record writes",
        )
        .into());
    }
    let before = None;
    let count = changes.len();
    replay(
        &mut doc,
        &mut full,
        &changes[1..],
        template,
        pusher,
        world,
        before,
    )?;
    Ok(Verdict::Accepted {
        doc: Box::new(doc),
        new_changes: count,
        replayed: true,
    })
}

/// The pushed changes inside the history of `heads` (a receipt's: see
/// [`World::vouched_heads`]). `changes` are in causal order, so one walk back finds them.
/// (A path from the heads through a change the receiver already holds cannot reach a pushed
/// change: the receiver holds every change before one it holds.)
fn vouched(changes: &[Meta], heads: &[ChangeHash]) -> BTreeSet<ChangeHash> {
    let mut out = BTreeSet::new();
    if heads.is_empty() {
        return out;
    }
    let mut reach: BTreeSet<ChangeHash> = heads.iter().copied().collect();
    for c in changes.iter().rev() {
        if reach.contains(&c.hash) {
            out.insert(c.hash);
            reach.extend(c.deps.iter().copied());
        }
    }
    out
}

/// The receipt's heads among the pushed changes: the tips of the vouched history.
fn vouched_tips(world: &dyn World, vouched: &BTreeSet<ChangeHash>) -> Vec<ChangeHash> {
    world
        .vouched_heads()
        .iter()
        .filter(|h| vouched.contains(h))
        .copied()
        .collect()
}

/// The template of `record` (`whose`: the stored or the carried record, for the message).
fn template_of<'w>(
    world: &'w dyn World,
    record: &Inspection,
    whose: &str,
) -> Result<&'w ChecklistTemplate, LookupError> {
    world.template(&record.template).ok_or_else(|| {
        LookupError(format!(
            "the {whose} record's template {:?}",
            record.template
        ))
    })
}

/// A record new to the receiver whose creation lies inside a receipt's history (a lost
/// tablet's record, carried by a colleague after a restore): the state at the receipt's
/// heads is taken as it is; the changes after it are judged as usual.
fn judge_vouched_new(
    mut full: AutoCommit,
    changes: &[Meta],
    vouched: &BTreeSet<ChangeHash>,
    record_id: &str,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Verdict, JudgeError> {
    let heads = vouched_tips(world, vouched);
    let held = full
        .fork_at(&heads)
        .map_err(|e| malformed(format!("the receipt's state: {e}")))?
        .save();
    let mut doc = InspectionDoc::load(&held, pusher.device)
        .map_err(|e| malformed(format!("the receipt's state is not a record: {e}")))?;
    if doc.record().id.as_str() != record_id {
        return Err(refuse(
            None,
            RefusalCode::BadId,
            "the document's id differs from the pushed id",
        )
        .into());
    }
    let before = doc.record().clone();
    let template = template_of(world, &before, "carried")?;
    let rest: Vec<Meta> = changes
        .iter()
        .filter(|c| !vouched.contains(&c.hash))
        .cloned()
        .collect();
    replay(
        &mut doc,
        &mut full,
        &rest,
        template,
        pusher,
        world,
        Some(&before),
    )?;
    Ok(Verdict::Accepted {
        doc: Box::new(doc),
        new_changes: changes.len(),
        replayed: true,
    })
}

/// A new record's first change: its id, author and fresh content. Returns the record as
/// created, the creation time and its template.
fn creation<'w>(
    full: &AutoCommit,
    first: &Meta,
    record_id: &str,
    pusher: Pusher<'_>,
    world: &'w dyn World,
) -> Result<(Inspection, Timestamp, &'w ChecklistTemplate), JudgeError> {
    let initial = read_record_at(full, &[first.hash])
        .map_err(|e| refuse(Some(&first.hash), RefusalCode::Malformed, e.to_string()))?;
    let (at, template) = check_initial(&initial, first, record_id, pusher, world)?;
    Ok((initial, at, template))
}

/// The checks of a new record's first state (`initial`, what its first change `first`
/// wrote): its id, author and fresh content. Returns the creation time and its template.
fn check_initial<'w>(
    initial: &Inspection,
    first: &Meta,
    record_id: &str,
    pusher: Pusher<'_>,
    world: &'w dyn World,
) -> Result<(Timestamp, &'w ChecklistTemplate), JudgeError> {
    if initial.id.as_str() != record_id {
        return Err(refuse(
            Some(&first.hash),
            RefusalCode::BadId,
            "the document's id differs from the pushed id",
        )
        .into());
    }
    if !valid_record_id(&initial.id) {
        return Err(refuse(
            Some(&first.hash),
            RefusalCode::BadId,
            format!(
                "record id {:?} is not a UUID (optionally prefixed insp-)",
                initial.id.as_str()
            ),
        )
        .into());
    }
    let note = check_author(first, pusher, world)?;
    if note.command != "create" || note.op.is_some() {
        return Err(refuse(
            Some(&first.hash),
            RefusalCode::BadNote,
            "the first change of a record must be its creation",
        )
        .into());
    }
    let at = note.at.expect("check_author requires a time");
    check_creation(initial, at, &first.hash, pusher, world)?;
    let template = world
        .template(&initial.template)
        .expect("check_creation found the template");
    Ok((at, template))
}

/// The stored document `held` with the pushed changes added (a fork: `held` is left as it
/// is), and the pushed changes it did not hold, in causal order.
pub(crate) fn incoming(
    held: &mut AutoCommit,
    pushed: &[u8],
) -> Result<(AutoCommit, Vec<Meta>), JudgeError> {
    parse_strictly(pushed).map_err(|e| malformed(format!("not Automerge: {e}")))?;
    let heads = held.get_heads();
    let mut candidate = held.fork();
    untrusted(|| candidate.load_incremental(pushed))
        .map_err(|e| malformed(format!("not Automerge: {e}")))?;
    if !candidate.get_missing_deps(&[]).is_empty() {
        return Err(malformed(
            "some pushed changes depend on changes neither side sent (push the whole history)",
        )
        .into());
    }
    let changes = metas(&mut candidate, &heads);
    Ok((candidate, changes))
}

/// A new document pushed whole, loaded, and its changes in causal order (`what`: "record"
/// or "case", for the refusal).
pub(crate) fn loaded_whole(
    pushed: &[u8],
    what: &str,
) -> Result<(AutoCommit, Vec<Meta>), JudgeError> {
    let mut full = untrusted(|| AutoCommit::load(pushed))
        .map_err(|e| malformed(format!("not Automerge: {e}")))?;
    if !full.get_missing_deps(&[]).is_empty() {
        return Err(malformed(format!(
            "a new {what} must be pushed whole: some changes' dependencies are missing"
        ))
        .into());
    }
    let changes = metas(&mut full, &[]);
    let Some(first) = changes.first() else {
        return Err(malformed("the document has no changes").into());
    };
    if !first.deps.is_empty() {
        return Err(malformed("the first change has dependencies").into());
    }
    Ok((full, changes))
}

fn judge_update(
    mut doc: InspectionDoc,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Verdict, JudgeError> {
    let (mut candidate, changes) = incoming(doc.automerge_mut(), pushed)?;
    if changes.is_empty() {
        return Ok(Verdict::Replay);
    }
    let before = doc.record().clone();
    let template = template_of(world, &before, "stored")?;
    let count = changes.len();
    replay(
        &mut doc,
        &mut candidate,
        &changes,
        template,
        pusher,
        world,
        Some(&before),
    )?;
    Ok(Verdict::Accepted {
        doc: Box::new(doc),
        new_changes: count,
        replayed: true,
    })
}

/// The server's actor ([`SERVER_DEVICE`]'s), computed once.
fn server_actor() -> &'static automerge::ActorId {
    static ACTOR: std::sync::OnceLock<automerge::ActorId> = std::sync::OnceLock::new();
    ACTOR.get_or_init(|| actor_for(&DeviceId::from(SERVER_DEVICE)))
}

/// [`actor_for`] `device`, remembered for the last device asked on this thread (a push
/// checks every change against its one device: a hash per change otherwise).
fn device_actor(device: &DeviceId) -> automerge::ActorId {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(DeviceId, automerge::ActorId)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((d, a)) if d == device => a.clone(),
            _ => {
                let a = actor_for(device);
                *last = Some((device.clone(), a.clone()));
                a
            }
        }
    })
}

/// Checks a change's authorship and returns its note (which then has a time).
pub(crate) fn check_author(
    change: &Meta,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<ChangeNote, Refusal> {
    let hash = Some(&change.hash);
    if change.actor == *server_actor() {
        return Err(refuse(
            hash,
            RefusalCode::NotAuthor,
            "a change under the server's actor can only be made by the server",
        ));
    }
    if change.actor != device_actor(pusher.device) {
        return Err(refuse(
            hash,
            RefusalCode::NotAuthor,
            format!(
                "the change was made by actor {}, not by this device ({}); a device pushes only its own changes (another device's only inside the history of a receipt this server signed)",
                change.actor, pusher.device
            ),
        ));
    }
    let note: ChangeNote = change
        .message
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .ok_or_else(|| {
            refuse(
                hash,
                RefusalCode::BadNote,
                "the change has no note saying who made it and with which command",
            )
        })?;
    if note.by != pusher.user.id || note.device != *pusher.device {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            format!(
                "the change's note names user {} on device {}, but it was pushed by {} on {}",
                note.by, note.device, pusher.user.id, pusher.device
            ),
        ));
    }
    let Some(at) = note.at else {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the change's note has no time",
        ));
    };
    if at.0 > world.now().0 + MAX_CLOCK_SKEW_MS {
        return Err(refuse(
            hash,
            RefusalCode::Clock,
            format!(
                "the change is dated {} ms after the server's clock",
                at.0 - world.now().0
            ),
        ));
    }
    if at.0 < pusher.registered_at.0 - MAX_CLOCK_SKEW_MS {
        return Err(refuse(
            hash,
            RefusalCode::Clock,
            "the change is dated before its device was registered",
        ));
    }
    if change.time != at.0.div_euclid(1000) {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the change's time and its note's time differ",
        ));
    }
    Ok(note)
}

/// A new record's first state: a fresh draft the creator may make.
fn check_creation(
    initial: &Inspection,
    at: Timestamp,
    hash: &ChangeHash,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<(), JudgeError> {
    let bad = |code, message: String| JudgeError::Refused(refuse(Some(hash), code, message));
    let mut fresh = Inspection::new_draft(
        initial.id.clone(),
        initial.kind,
        initial.unit.clone(),
        initial.enterprise.clone(),
        initial.template.clone(),
        pusher.user.id.clone(),
        initial.created_at,
    );
    fresh.plan = initial.plan.clone();
    if *initial != fresh {
        return Err(bad(
            RefusalCode::NotFresh,
            format!(
                "a record is created as an empty draft by the pushing user ({}); its first state has more",
                pusher.user.id
            ),
        ));
    }
    if (initial.created_at.0 - at.0).abs() > MAX_CLOCK_SKEW_MS {
        return Err(bad(
            RefusalCode::NotFresh,
            "the record's creation time is not the time of its first change".into(),
        ));
    }
    if world.template(&initial.template).is_none() {
        return Err(bad(
            RefusalCode::Reference,
            format!("unknown checklist template {:?}", initial.template),
        ));
    }
    let Some(enterprise) = world.enterprise(&initial.enterprise.id) else {
        return Err(bad(
            RefusalCode::Reference,
            format!("unknown enterprise {}", initial.enterprise.id),
        ));
    };
    if enterprise.unit != initial.unit {
        return Err(bad(
            RefusalCode::Reference,
            format!(
                "the record's unit {} is not the enterprise's unit {}",
                initial.unit, enterprise.unit
            ),
        ));
    }
    if enterprise.name != initial.enterprise.name || enterprise.uscc != initial.enterprise.uscc {
        return Err(bad(
            RefusalCode::Reference,
            "the record's enterprise name or USCC differs from the reference data".into(),
        ));
    }
    let plan = match &initial.plan {
        None => None,
        Some(id) => {
            let Some(plan) = world.plan(id)? else {
                return Err(bad(RefusalCode::Reference, format!("unknown plan {id}")));
            };
            if plan.unit != initial.unit
                || plan.enterprise != initial.enterprise.id
                || plan.kind != initial.kind
                || !plan.assigned.contains(&pusher.user.id)
            {
                return Err(bad(
                    RefusalCode::Reference,
                    format!(
                        "plan {id} is not for this unit, enterprise and kind, or is not assigned to {}",
                        pusher.user.id
                    ),
                ));
            }
            Some(plan)
        }
    };
    if initial.kind == InspectionKind::RandomDraw && plan.as_ref().is_none_or(|p| p.draw.is_none())
    {
        return Err(bad(
            RefusalCode::Reference,
            "a 双随机 (random_draw) record must come from a plan sealed from a draw".into(),
        ));
    }
    if !access::can_create_record(pusher.user, &initial.unit, plan.as_ref()) {
        return Err(bad(
            RefusalCode::Forbidden,
            format!(
                "{} may not create a record in unit {}",
                pusher.user.id, initial.unit
            ),
        ));
    }
    Ok(())
}

/// Replays `changes` (causal order, all new to `doc`) onto `doc`, judging each.
#[allow(clippy::too_many_arguments)]
fn replay(
    doc: &mut InspectionDoc,
    source: &mut AutoCommit,
    changes: &[Meta],
    template: &ChecklistTemplate,
    pusher: Pusher<'_>,
    world: &dyn World,
    before: Option<&Inspection>,
) -> Result<(), JudgeError> {
    let mut plan: Option<Option<Plan>> = None;
    let vouched = vouched(changes, world.vouched_heads());
    for change in changes {
        let hash = Some(&change.hash);
        if vouched.contains(&change.hash) {
            take_change(doc, source, change)?;
            continue;
        }
        if change.actor == *server_actor() {
            replay_sealed(doc, source, change, template, world)?;
            continue;
        }
        let mut note = check_author(change, pusher, world)?;
        let at = note.at.expect("check_author requires a time");
        let command = &command_of(&mut note, hash)?;
        let linear = {
            let mut heads = doc.heads();
            heads.sort();
            let mut deps = change.deps.clone();
            deps.sort();
            heads == deps
        };
        // A content edit made on an earlier state must not land in a record that is under
        // review or approved now, whatever its author saw: the freeze holds for the merged
        // record. (The edit stays on the tablet; it merges once the record is returned.)
        let now_status = doc.record().status;
        if !linear && command.is_content_edit() && !now_status.allows_content_edits() {
            return Err(refuse(
                hash,
                RefusalCode::Rule,
                format!(
                    "the record is {now_status:?} now: an edit made on an earlier version of it cannot be merged until the record is returned"
                ),
            )
            .into());
        }
        let mut forked;
        let base: &mut InspectionDoc = if linear {
            &mut *doc
        } else {
            forked = doc
                .fork_at(&change.deps)
                .map_err(|e| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
            &mut forked
        };
        // Access, on the state the author saw.
        check_access(base.record(), &mut plan, command, pusher, world, hash)?;
        let heads = base.heads();
        check_claims(&heads, base.record(), command, pusher, at, hash)?;
        base.act_as(pusher.device);
        let cx = Context {
            actor: pusher.user,
            now: at,
            template,
        };
        let applied = base.apply(command, &cx, pusher.device);
        check_reproduced(base, applied, change, &note.command)?;
        if !linear {
            take_change(doc, source, change)?;
        }
    }
    let mut named: BTreeSet<Sha256Hex> = before.map(Inspection::photo_digests).unwrap_or_default();
    if !vouched.is_empty() {
        // The photos of the receipt's state were named by their own authors, judged then.
        let heads = vouched_tips(world, &vouched);
        let held = read_record_at(source, &heads)
            .map_err(|e| refuse(None, RefusalCode::Malformed, e.to_string()))?;
        named.extend(held.photo_digests());
    }
    check_new_photos(&named, doc.record(), world)
}

/// A change under the server's actor, carried by a tablet that pulled it (a supervisor's
/// decision the server made, pushed back to a server restored from an older backup). It is
/// accepted only with the server's valid seal over its note, on the state it was made on, and
/// only if the rules, applied as the supervisor the note names, write exactly this change.
fn replay_sealed(
    doc: &mut InspectionDoc,
    source: &mut AutoCommit,
    change: &Meta,
    template: &ChecklistTemplate,
    world: &dyn World,
) -> Result<(), JudgeError> {
    let hash = Some(&change.hash);
    let not_author = |why: &str| {
        refuse(
            hash,
            RefusalCode::NotAuthor,
            format!("a change under the server's actor can only be made by the server: {why}"),
        )
    };
    let mut note: ChangeNote = change
        .message
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .ok_or_else(|| not_author("it has no readable note"))?;
    let seal = note
        .seal
        .clone()
        .ok_or_else(|| not_author("it carries no seal"))?;
    if note.device.as_str() != SERVER_DEVICE {
        return Err(not_author("its note names another device").into());
    }
    let statement = server_seal_statement(doc.record().id.as_str(), &change.deps, &note);
    if !world.server_seal_valid(&statement, &seal)? {
        return Err(not_author("its seal is not the server's").into());
    }
    let at = note
        .at
        .ok_or_else(|| refuse(hash, RefusalCode::BadNote, "the change's note has no time"))?;
    let command = command_of(&mut note, hash)?;
    if !matches!(
        command,
        Command::Transition { .. } | Command::ReviewWithItems { .. }
    ) {
        return Err(not_author("the server makes review decisions only").into());
    }
    let reviewer = world.user(&note.by).ok_or_else(|| {
        refuse(
            hash,
            RefusalCode::BadNote,
            format!(
                "the sealed change names user {}, whom this server does not know",
                note.by
            ),
        )
    })?;
    let mut forked = doc
        .fork_at(&change.deps)
        .map_err(|e| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
    let device = DeviceId::from(SERVER_DEVICE);
    forked.act_as(&device);
    let cx = Context {
        actor: reviewer,
        now: at,
        template,
    };
    let mut same_seal = |_: &[u8]| seal.clone();
    let applied = forked.apply_sealed(&command, &cx, &device, &mut same_seal);
    check_reproduced(&mut forked, applied, change, &note.command)?;
    take_change(doc, source, change)
}

/// After a change's command was applied to `base` (`applied`: what the rules said): refused
/// if the rules refused it, or if what it wrote is not exactly the pushed `change`.
fn check_reproduced(
    base: &mut InspectionDoc,
    applied: Result<(), DocError>,
    change: &Meta,
    command: &str,
) -> Result<(), Refusal> {
    let hash = Some(&change.hash);
    match applied {
        Ok(()) => {}
        Err(DocError::Record(e)) => return Err(refuse(hash, RefusalCode::Rule, e.to_string())),
        Err(e) => return Err(refuse(hash, RefusalCode::Malformed, e.to_string())),
    }
    if base.heads() != [change.hash] {
        return Err(refuse(
            hash,
            RefusalCode::NotReproducible,
            format!("the change is not what command {command} writes on the state it was made on"),
        ));
    }
    Ok(())
}

/// Takes the pushed `change` (judged on a fork of `doc`) from `source` into `doc`.
fn take_change(
    doc: &mut InspectionDoc,
    source: &mut AutoCommit,
    change: &Meta,
) -> Result<(), JudgeError> {
    let raw = source
        .get_change_by_hash(&change.hash)
        .ok_or_else(|| malformed("a pushed change vanished"))?;
    doc.apply_changes(vec![raw])
        .map_err(|e| refuse(Some(&change.hash), RefusalCode::Malformed, e.to_string()))?;
    Ok(())
}

/// Values inside a command that claim something the rules cannot see: who added a photo,
/// and what a signed version describes (`heads`: the record's heads before the command).
fn check_claims(
    heads: &[ChangeHash],
    record: &Inspection,
    command: &Command,
    pusher: Pusher<'_>,
    at: Timestamp,
    hash: Option<&ChangeHash>,
) -> Result<(), Refusal> {
    let photo = match command {
        Command::AddItemPhoto { photo, .. } | Command::AddHazardPhoto { photo, .. } => Some(photo),
        _ => None,
    };
    if let Some(p) = photo
        && p.added_by != pusher.user.id
    {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            format!(
                "photo {} is claimed as added by {}, but {} added it",
                p.sha256, p.added_by, pusher.user.id
            ),
        ));
    }
    if let Command::RecordSignedVersion { version, .. } = command {
        let mut heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
        heads.sort();
        let mut claimed = version.heads.clone();
        claimed.sort();
        if claimed != heads
            || version.content_hash != content_hash(record)
            || version.by != pusher.user.id
            || version.at != at
        {
            return Err(refuse(
                hash,
                RefusalCode::SignedVersion,
                "the signed version does not describe the state it was recorded on (heads, content hash, signer or time)",
            ));
        }
    }
    Ok(())
}

/// Every photo the changes added (from `before` to `after`) must be the pusher's to name.
fn check_photos(
    before: Option<&Inspection>,
    after: &Inspection,
    world: &dyn World,
) -> Result<(), JudgeError> {
    check_new_photos(
        &before.map(Inspection::photo_digests).unwrap_or_default(),
        after,
        world,
    )
}

/// Every photo `after` names beyond `old` must be one the pusher may name.
fn check_new_photos(
    old: &BTreeSet<Sha256Hex>,
    after: &Inspection,
    world: &dyn World,
) -> Result<(), JudgeError> {
    let now = after.photo_digests();
    let added: Vec<&Sha256Hex> = now.difference(old).collect();
    match world.first_unnamable(&added)? {
        None => Ok(()),
        Some(digest) => Err(refuse(
            None,
            RefusalCode::Photo,
            format!(
                "photo {digest} was not uploaded from this device and is not in a record you can read; upload it first"
            ),
        )
        .into()),
    }
}

/// The note of a change with its command, or why it has none.
fn command_of(note: &mut ChangeNote, hash: Option<&ChangeHash>) -> Result<Command, Refusal> {
    let Some(command) = note.op.take() else {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the change's note does not carry its command, so it cannot be checked",
        ));
    };
    if command.name() != note.command {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the note's command name and command differ",
        ));
    }
    Ok(command)
}

/// The access rule for `command` on `record` as the pusher: review for approve/return,
/// write for everything else.
fn check_access(
    record: &Inspection,
    plan: &mut Option<Option<Plan>>,
    command: &Command,
    pusher: Pusher<'_>,
    world: &dyn World,
    hash: Option<&ChangeHash>,
) -> Result<(), JudgeError> {
    // Looked up once per push (the plan a record names never changes after creation).
    let plan = match plan {
        Some(p) => p.as_ref(),
        None => {
            let p = match &record.plan {
                Some(id) => world.plan(id)?,
                None => None,
            };
            plan.insert(p).as_ref()
        }
    };
    let scope = RecordScope::of(record, plan);
    let review = matches!(
        command,
        Command::Transition {
            to: InspectionStatus::Approved | InspectionStatus::Returned,
            ..
        } | Command::ReviewWithItems { .. }
    );
    let allowed = if review {
        access::can_review_record(pusher.user, &scope, world.units())
    } else {
        access::can_write_record(pusher.user, &scope, world.units())
    };
    if !allowed {
        return Err(refuse(
            hash,
            RefusalCode::Forbidden,
            format!(
                "{} may not {} this record",
                pusher.user.id,
                if review { "review" } else { "change" }
            ),
        )
        .into());
    }
    Ok(())
}

/// The fast path for a new record pushed whole by its one device (see `judge_recorder`):
/// `Some` with the verdict when every change is exactly the predicted one, `None` when the
/// history has another shape or a change differs from the prediction (the reference path
/// then decides). Refusals that do not depend on the prediction (author, time, access,
/// rules, claims) are final here as there.
///
/// `guess` is the record as created, read cheaply from the current state
/// (`read_fresh_draft`): taken as the first state only if the first change is exactly what
/// creating it writes (its hash), and then checked as the reference path checks the first
/// state it reads ([`check_initial`]).
fn fast_new(
    full: &mut AutoCommit,
    metas: &[Meta],
    guess: Inspection,
    record_id: &str,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Option<Verdict>, JudgeError> {
    let actor = actor_for(pusher.device);
    for (i, m) in metas.iter().enumerate() {
        let deps_ok = match i {
            0 => m.deps.is_empty(),
            _ => m.deps == [metas[i - 1].hash],
        };
        if m.actor != actor
            || m.seq != i as u64 + 1
            || !deps_ok
            || !m.extra.is_empty()
            || m.authored
        {
            return Ok(None);
        }
    }
    // The change an honest device writes for these operations, with the pushed change's
    // identity: its hash equals the pushed change's only if the two are the same change.
    let same = |recorder: &mut Recorder, m: &Meta| {
        let Some(start_op) = std::num::NonZeroU64::new(m.start_op) else {
            return false;
        };
        start_op.get() == recorder.pending_start()
            && recorder.change_hash(Identity {
                actor: &actor,
                seq: m.seq,
                start_op,
                time: m.time,
                message: m.message.as_deref(),
                deps: &m.deps,
                extra: &[],
            }) == m.hash
    };
    let mut recorder = Recorder::new();
    let mut state = guess;
    state.results.retain(|_, r| !r.is_empty());
    write_record(&mut recorder, None, &state).map_err(|_| LookupError("recorder".into()))?;
    if !same(&mut recorder, &metas[0]) {
        return Ok(None);
    }
    // The first change is exactly what creating `state` writes: `state` is the first state.
    let (_, template) = check_initial(&state, &metas[0], record_id, pusher, world)?;
    let mut plan = None;
    for (i, meta) in metas.iter().enumerate().skip(1) {
        let hash = Some(&meta.hash);
        let step = Prediction {
            state: &mut state,
            plan: &mut plan,
            recorder: &mut recorder,
            template,
        };
        if !step.advance(meta, &[metas[i - 1].hash], pusher, world, hash)?
            || !same(&mut recorder, meta)
        {
            return Ok(None);
        }
    }
    check_photos(None, &state, world)?;
    let mut doc = std::mem::take(full);
    doc.set_actor(actor);
    Ok(Some(Verdict::Accepted {
        doc: Box::new(InspectionDoc::from_parts(doc, state)),
        new_changes: metas.len(),
        replayed: false,
    }))
}

/// The fast path for a new record pushed whole as one device's linear history, judged without
/// loading it (`judge_whole.rs`): the pushed bytes are the tablet's stored form, a document
/// chunk (its last snapshot) and the changes saved since as chunks of their own. `Some` with
/// the acceptance when every change is exactly the predicted one and the document chunk is
/// exactly the document its changes make; `None` for anything else, refusals included (the
/// reference path then decides, and names the refused change by its real hash). Only a
/// lookup that fails is an error here.
fn fast_whole(
    pushed: &[u8],
    record_id: &str,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<Option<Verdict>, JudgeError> {
    // A fallback, not a judgement: the reference path decides.
    fn fallback<T>(r: Result<T, JudgeError>) -> Result<Option<T>, JudgeError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(JudgeError::Refused(_)) => Ok(None),
            Err(e @ JudgeError::Lookup(_)) => Err(e),
        }
    }
    /// One change to predict: its identity as pushed, and for a change chunk its hash and
    /// first operation (a document chunk holds neither: its changes are checked by its head
    /// and columns).
    struct Step<'b> {
        seq: u64,
        time: i64,
        message: Option<&'b str>,
        pushed: Option<(ChangeHash, u64)>,
    }
    if !world.vouched_heads().is_empty() {
        return Ok(None);
    }
    let Some((chunk, stored_changes)) = whole::parse_pushed(pushed) else {
        return Ok(None);
    };
    let actor = actor_for(pusher.device);
    let Some(rows) = chunk.changes() else {
        return Ok(None);
    };
    let shape_ok = rows.iter().enumerate().all(|(i, r)| {
        let deps_ok = match i {
            0 => r.deps.is_empty(),
            _ => r.deps == [i as u64 - 1],
        };
        r.actor == 0 && r.seq == i as u64 + 1 && deps_ok && !r.extra
    });
    if rows.is_empty() || !shape_ok || chunk.actors != [actor.to_bytes()] {
        return Ok(None);
    }
    let in_chunk = rows.len();
    let mut steps: Vec<Step<'_>> = rows
        .iter()
        .map(|r| Step {
            seq: r.seq,
            time: r.time,
            message: r.message,
            pushed: None,
        })
        .collect();
    for c in &stored_changes {
        if c.actor != actor.to_bytes() || c.seq != steps.len() as u64 + 1 {
            return Ok(None);
        }
        steps.push(Step {
            seq: c.seq,
            time: c.time,
            message: c.message.as_deref(),
            pushed: Some((c.hash, c.start_op)),
        });
    }
    let Some(created) = chunk.root_scalars(rows[0].max_op) else {
        return Ok(None);
    };
    let Ok(mut state) = crate::document::fresh_draft_from_scalars(created) else {
        return Ok(None);
    };
    // Each change's identity as pushed; its hash is the prediction's (a document chunk holds
    // only its heads), so a refusal here names none.
    let meta = |step: &Step<'_>, start_op: u64, deps: Vec<ChangeHash>| Meta {
        hash: ChangeHash([0; 32]),
        actor: actor.clone(),
        deps,
        time: step.time,
        message: step.message.map(str::to_owned),
        seq: step.seq,
        start_op,
        extra: Vec::new(),
        authored: false,
    };
    let mut recorder = Recorder::keeping();
    let mut hashes: Vec<ChangeHash> = Vec::with_capacity(steps.len());
    let mut max_ops: Vec<u64> = Vec::with_capacity(steps.len());
    // Closes the predicted change of `step` (the operations predicted since the last one);
    // `None` if a stored change is not exactly that change.
    let close = |recorder: &mut Recorder,
                 step: &Step<'_>,
                 deps: &[ChangeHash],
                 hashes: &mut Vec<ChangeHash>,
                 max_ops: &mut Vec<u64>| {
        let start_op = std::num::NonZeroU64::new(recorder.pending_start())?;
        let hash = recorder.change_hash(Identity {
            actor: &actor,
            seq: step.seq,
            start_op,
            time: step.time,
            message: step.message,
            deps,
            extra: &[],
        });
        if step
            .pushed
            .is_some_and(|(h, s)| h != hash || s != start_op.get())
        {
            return None;
        }
        hashes.push(hash);
        max_ops.push(recorder.pending_start() - 1);
        Some(())
    };
    state.results.retain(|_, r| !r.is_empty());
    if write_record(&mut recorder, None, &state).is_err() {
        return Ok(None);
    }
    let first = meta(&steps[0], 1, Vec::new());
    let Some((_, template)) = fallback(check_initial(&state, &first, record_id, pusher, world))?
    else {
        return Ok(None);
    };
    if close(&mut recorder, &steps[0], &[], &mut hashes, &mut max_ops).is_none() {
        return Ok(None);
    }
    let mut plan = None;
    for (i, step) in steps.iter().enumerate().skip(1) {
        let before_heads = [hashes[i - 1]];
        let m = meta(step, recorder.pending_start(), before_heads.to_vec());
        let advanced = Prediction {
            state: &mut state,
            plan: &mut plan,
            recorder: &mut recorder,
            template,
        }
        .advance(&m, &before_heads, pusher, world, None);
        if fallback(advanced)? != Some(true)
            || close(
                &mut recorder,
                step,
                &before_heads,
                &mut hashes,
                &mut max_ops,
            )
            .is_none()
        {
            return Ok(None);
        }
    }
    // The document chunk holds the first `in_chunk` changes: its operations are theirs.
    let chunk_ops = &recorder.kept()[..max_ops[in_chunk - 1] as usize];
    if !chunk.is_document_of(
        actor.to_bytes(),
        &rows,
        &max_ops[..in_chunk],
        chunk_ops,
        hashes[in_chunk - 1],
    ) {
        return Ok(None);
    }
    let head = *hashes.last().expect("at least one change");
    // The pushed bytes are the honest document of these changes: the photos they name are
    // judged as the reference path judges them (the refusal names no change there either).
    check_photos(None, &state, world)?;
    #[cfg(debug_assertions)]
    {
        // What every later load of the stored bytes will read (debug builds, so every test
        // of the server and the tablet checks the prediction against Automerge itself).
        let mut loaded =
            InspectionDoc::load(pushed, pusher.device).expect("a document accepted whole loads");
        assert_eq!(loaded.heads(), [head], "the whole judge's heads");
        assert_eq!(loaded.record(), &state, "the whole judge's record");
    }
    Ok(Some(Verdict::AcceptedNew {
        record: Box::new(state),
        heads: vec![head],
        new_changes: steps.len(),
    }))
}

/// The state of a prediction (both fast paths): the record so far, its plan once looked up,
/// the recorder of the operations predicted, the record's template.
struct Prediction<'p, 'w> {
    state: &'p mut Inspection,
    plan: &'p mut Option<Option<Plan>>,
    recorder: &'p mut Recorder,
    template: &'w ChecklistTemplate,
}

impl Prediction<'_, '_> {
    /// Judges the change `meta` made on `heads` (author, command, access, claims, the rules)
    /// and advances the record by its command, predicting the operations it writes; `false`
    /// when those cannot be predicted (the reference path then decides).
    fn advance(
        self,
        meta: &Meta,
        heads: &[ChangeHash],
        pusher: Pusher<'_>,
        world: &dyn World,
        hash: Option<&ChangeHash>,
    ) -> Result<bool, JudgeError> {
        let mut note = check_author(meta, pusher, world)?;
        let at = note.at.expect("check_author requires a time");
        let command = command_of(&mut note, hash)?;
        check_access(self.state, self.plan, &command, pusher, world, hash)?;
        check_claims(heads, self.state, &command, pusher, at, hash)?;
        let part = Part::of(&command);
        let before = self.state.part(&part);
        let cx = Context {
            actor: pusher.user,
            now: at,
            template: self.template,
        };
        self.state
            .apply_in_place(&command, &cx)
            .map_err(|e| refuse(hash, RefusalCode::Rule, e.to_string()))?;
        let after = self.state.part(&part);
        Ok(write_part(self.recorder, &part, &before, &after).is_ok())
    }
}

#[path = "judge_recorder.rs"]
mod recorder;

#[path = "judge_whole.rs"]
mod whole;

#[cfg(test)]
#[path = "judge_tests.rs"]
pub(crate) mod tests;
