//! The judgement of pushed case changes, by replay: the receiver (the sync server) accepts a
//! case change only if it is exactly what [`PenaltyCase::apply`] writes for the command its
//! note carries, made by the authenticated user on the authenticated device, on the state
//! its author saw. This is the reference path of [`crate::judge`], for [`CaseDoc`]:
//!
//! 1. authorship, by the inspection judge's own check ([`crate::judge`]'s `check_author`):
//!    the change's actor is the pushing device's, the note names the authenticated user and
//!    device, and its time is neither in the future (beyond
//!    [`crate::judge::MAX_CLOCK_SKEW_MS`]) nor before the device was registered;
//! 2. the case as the author saw it (the current state when the change's dependencies are
//!    the current heads, otherwise a fork at them);
//! 3. access: an inspector of the case's unit or on the case, or a supervisor over its unit
//!    (the same rules as a record's, [`crate::access`]); then the command through
//!    [`CaseDoc::apply`] as the authenticated user at the note's time, with the unit's
//!    settings, calendar and discretion table ([`CaseWorld`]): the rules refuse, or the
//!    replay writes a change;
//! 4. the replayed change's hash must equal the pushed change's: the pushed change is, byte
//!    for byte, what an honest tablet writes for that command, so a raw write (a stage moved
//!    to 结案, a frozen document edited, a field the command does not touch) is refused.
//!
//! The change that creates a case is judged the same way: its content must be exactly what
//! [`PenaltyCase::open`] makes of it for the pusher at the note's time (the opener on the
//! case, two inspectors, facts and provisions), in a unit the pusher may create records in.
//! Every media file the changes add must be one the pusher may name
//! ([`World::may_name_photo`]).
//!
//! Changes each legal on the state their author saw may still merge into a state no single
//! replica made (two notices issued at once, a payment on each tablet); that is not refused
//! here: [`PenaltyCase::violations`] lists it, and [`CaseDoc::conflicts`] shows it.
//!
//! Left to the fast path of [`crate::judge`] and not done here: prediction without a replay,
//! receipts vouching for another device's changes, and server-sealed changes (a case change
//! under the server's actor is refused). The settings, calendar and table are the receiver's
//! current ones: a change made under an older discretion table or calendar replays
//! differently and is refused as not reproducible (the tablet then re-applies it).

use super::calendar::WorkCalendar;
use super::case::{CaseCommand, CaseContext, OpenCase, PenaltyCase};
use super::deadlines::PenaltySettings;
use super::discretion::DiscretionTable;
use super::doc::{CREATE, CaseDoc, CaseDocError, CaseNote, read_case};
use crate::access::{self, RecordScope};
use crate::document::{ChangeNote, DocError};
use crate::evidence::Sha256Hex;
use crate::ids::{InspectionId, UnitId};
use crate::judge::{
    JudgeError, LookupError, Meta, Pusher, Refusal, RefusalCode, World, check_author, incoming,
    loaded_whole, malformed, refuse, valid_record_id,
};
use crate::user::Role;
use automerge::{AutoCommit, ChangeHash};

/// What judging a case needs besides what judging a record needs: the unit's rules.
pub trait CaseWorld: World {
    /// The unit's penalty settings (periods, thresholds).
    fn penalty_settings(&self, unit: &UnitId) -> Option<&PenaltySettings>;
    /// The working-day calendar.
    fn work_calendar(&self) -> &WorkCalendar;
    /// The unit's current discretion table, if it has one.
    fn discretion(&self, unit: &UnitId) -> Option<&DiscretionTable>;
}

/// The outcome of judging a push of case changes.
#[derive(Debug)]
pub enum CaseVerdict {
    /// Every new change is accepted; `doc` holds the stored changes and the pushed ones.
    Accepted {
        doc: Box<CaseDoc>,
        new_changes: usize,
    },
    /// The receiver already holds every pushed change.
    Replay,
}

/// Judges the changes in `pushed` (Automerge bytes: a saved document or changes) against
/// `stored`, the receiver's copy of the case (None: the case is new to it).
pub fn judge_case(
    stored: Option<CaseDoc>,
    case_id: &str,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn CaseWorld,
) -> Result<CaseVerdict, JudgeError> {
    match stored {
        None => judge_new(case_id, pushed, pusher, world),
        Some(doc) => judge_update(doc, pushed, pusher, world),
    }
}

fn judge_new(
    case_id: &str,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn CaseWorld,
) -> Result<CaseVerdict, JudgeError> {
    let (mut full, changes) = loaded_whole(pushed, "case")?;
    let first = &changes[0];
    let hash = Some(&first.hash);
    let note = check_case_author(first, pusher, world)?;
    if note.command != CREATE || note.op.is_some() {
        return Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the first change of a case must be its creation",
        )
        .into());
    }
    let at = note.at.expect("check_author requires a time");
    let initial = read_case(&full, Some(&[first.hash]))
        .map_err(|e| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
    if initial.id.as_str() != case_id {
        return Err(refuse(
            hash,
            RefusalCode::BadId,
            "the document's id differs from the pushed id",
        )
        .into());
    }
    if !valid_record_id(&InspectionId::from(initial.id.as_str())) {
        return Err(refuse(
            hash,
            RefusalCode::BadId,
            format!("case id {:?} is not a UUID", initial.id.as_str()),
        )
        .into());
    }
    if !access::can_create_record(pusher.user, &initial.unit, None) {
        return Err(refuse(
            hash,
            RefusalCode::Forbidden,
            format!(
                "{} may not open a case in unit {}",
                pusher.user.id, initial.unit
            ),
        )
        .into());
    }
    let open = OpenCase {
        id: initial.id.clone(),
        unit: initial.unit.clone(),
        enterprise: initial.enterprise.clone(),
        source: initial.source.clone(),
        facts: initial.facts.clone(),
        violated: initial.violated.clone(),
        penalty_basis: initial.penalty_basis.clone(),
        inspectors: initial.inspectors.values().cloned().collect(),
    };
    let opened = with_context(world, &initial.unit, pusher, at, |cx| {
        PenaltyCase::open(open, cx)
    })?
    .map_err(|e| refuse(hash, RefusalCode::Rule, e.to_string()))?;
    if opened != initial {
        return Err(refuse(
            hash,
            RefusalCode::NotFresh,
            format!(
                "a case is created as {} opens it at the change's time; its first state differs",
                pusher.user.id
            ),
        )
        .into());
    }
    let mut doc = CaseDoc::create(&opened, pusher.device)
        .map_err(|e| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
    if doc.heads() != [first.hash] {
        return Err(refuse(
            hash,
            RefusalCode::NotReproducible,
            "the creating change is not what opening this case writes",
        )
        .into());
    }
    let count = changes.len();
    replay(&mut doc, &mut full, &changes[1..], pusher, world)?;
    Ok(CaseVerdict::Accepted {
        doc: Box::new(doc),
        new_changes: count,
    })
}

fn judge_update(
    mut doc: CaseDoc,
    pushed: &[u8],
    pusher: Pusher<'_>,
    world: &dyn CaseWorld,
) -> Result<CaseVerdict, JudgeError> {
    let (mut candidate, changes) = incoming(doc.automerge_mut(), pushed)?;
    if changes.is_empty() {
        return Ok(CaseVerdict::Replay);
    }
    let count = changes.len();
    replay(&mut doc, &mut candidate, &changes, pusher, world)?;
    Ok(CaseVerdict::Accepted {
        doc: Box::new(doc),
        new_changes: count,
    })
}

/// Runs `f` with the case context of `unit` for the pusher at `at`.
fn with_context<T>(
    world: &dyn CaseWorld,
    unit: &UnitId,
    pusher: Pusher<'_>,
    at: crate::geo::Timestamp,
    f: impl FnOnce(&CaseContext<'_>) -> T,
) -> Result<T, LookupError> {
    let settings = world
        .penalty_settings(unit)
        .ok_or_else(|| LookupError(format!("the penalty settings of unit {unit}")))?;
    let cx = CaseContext {
        actor: pusher.user,
        now: at,
        settings,
        calendar: world.work_calendar(),
        discretion: world.discretion(unit),
    };
    Ok(f(&cx))
}

/// The inspection judge's authorship check on a case change: its note read as a
/// [`CaseNote`], and checked as a record change's note is (actor, user, device, time) on the
/// note's authorship fields. Case notes never carry a seal.
fn check_case_author(
    change: &Meta,
    pusher: Pusher<'_>,
    world: &dyn World,
) -> Result<CaseNote, Refusal> {
    let note: Option<CaseNote> = change
        .message
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    let authorship = Meta {
        message: note.as_ref().map(|n| {
            serde_json::to_string(&ChangeNote {
                by: n.by.clone(),
                device: n.device.clone(),
                command: n.command.clone(),
                at: n.at,
                op: None,
                seal: n.seal.clone(),
            })
            .expect("notes serialise")
        }),
        ..change.clone()
    };
    check_author(&authorship, pusher, world)?;
    match note {
        Some(n) if n.seal.is_none() => Ok(n),
        _ => Err(refuse(
            Some(&change.hash),
            RefusalCode::BadNote,
            "the change's note is not a case change's note",
        )),
    }
}

/// The command a note carries, or why it has none.
fn command_of(note: &mut CaseNote, hash: Option<&ChangeHash>) -> Result<CaseCommand, Refusal> {
    match note.op.take() {
        Some(c) if c.name() == note.command => Ok(c),
        Some(_) => Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the note's command name and command differ",
        )),
        None => Err(refuse(
            hash,
            RefusalCode::BadNote,
            "the change's note does not carry its command, so it cannot be checked",
        )),
    }
}

/// Whether the pusher may act on `case`: a supervisor over its unit, or an inspector of its
/// unit or on it.
fn may_act(case: &PenaltyCase, pusher: Pusher<'_>, world: &dyn CaseWorld) -> bool {
    let scope = RecordScope {
        unit: case.unit.clone(),
        inspectors: case.inspectors.keys().cloned().collect(),
        assigned: Vec::new(),
    };
    match pusher.user.role {
        Role::Supervisor => access::can_review_record(pusher.user, &scope, world.units()),
        _ => access::can_write_record(pusher.user, &scope, world.units()),
    }
}

/// Replays `changes` (causal order, all new to `doc`) onto `doc`, judging each.
fn replay(
    doc: &mut CaseDoc,
    source: &mut AutoCommit,
    changes: &[Meta],
    pusher: Pusher<'_>,
    world: &dyn CaseWorld,
) -> Result<(), JudgeError> {
    for change in changes {
        let hash = Some(&change.hash);
        let mut note = check_case_author(change, pusher, world)?;
        let at = note.at.expect("check_author requires a time");
        let command = command_of(&mut note, hash)?;
        let linear = {
            let mut heads = doc.heads();
            heads.sort();
            let mut deps = change.deps.clone();
            deps.sort();
            heads == deps
        };
        let mut forked;
        let base: &mut CaseDoc = if linear {
            &mut *doc
        } else {
            forked = doc
                .fork_at(&change.deps)
                .map_err(|e| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
            &mut forked
        };
        if !may_act(base.case(), pusher, world) {
            return Err(refuse(
                hash,
                RefusalCode::Forbidden,
                format!("{} may not change this case", pusher.user.id),
            )
            .into());
        }
        if let CaseCommand::AddMedia(m) = &command {
            check_media(&m.sha256, world, hash)?;
        }
        base.act_as(pusher.device);
        let unit = base.case().unit.clone();
        let applied = with_context(world, &unit, pusher, at, |cx| {
            base.apply(&command, cx, pusher.device)
        })?;
        match applied {
            Ok(()) => {}
            Err(CaseDocError::Case(e)) => {
                return Err(refuse(hash, RefusalCode::Rule, e.to_string()).into());
            }
            Err(CaseDocError::Doc(e)) => {
                return Err(refuse(hash, RefusalCode::Malformed, e.to_string()).into());
            }
        }
        if base.heads() != [change.hash] {
            return Err(refuse(
                hash,
                RefusalCode::NotReproducible,
                format!(
                    "the change is not what command {} writes on the state it was made on",
                    note.command
                ),
            )
            .into());
        }
        if !linear {
            let raw = source
                .get_change_by_hash(&change.hash)
                .ok_or_else(|| malformed("a pushed change vanished"))?;
            doc.apply_changes(vec![raw])
                .map_err(|e: DocError| refuse(hash, RefusalCode::Malformed, e.to_string()))?;
        }
    }
    Ok(())
}

/// A media file named by a change must be one the pusher may name (uploaded from the
/// device, or already in something the pusher can read).
fn check_media(
    digest: &Sha256Hex,
    world: &dyn CaseWorld,
    hash: Option<&ChangeHash>,
) -> Result<(), JudgeError> {
    if world.may_name_photo(digest)? {
        Ok(())
    } else {
        Err(refuse(
            hash,
            RefusalCode::Photo,
            format!("media file {digest} was not uploaded from this device; upload it first"),
        )
        .into())
    }
}
