//! Property test of the judge: random legal commands on several tablets, interleaved with
//! random illegal raw changes, pushed to a receiver in random orders and batches. Every
//! legal push is accepted, every illegal one refused, and at the end every replica holds the
//! same document as the receiver.

use crate::document::{ChangeNote, InspectionDoc, actor_for};
use crate::geo::Timestamp;
use crate::hazard::HazardLevel;
use crate::ids::DeviceId;
use crate::inspection::{Answer, Command, InspectionStatus};
use crate::judge::tests::{ID, TestWorld, dev, pusher, record};
use crate::judge::{JudgeError, RefusalCode, Verdict, judge};
use crate::test_support::*;
use crate::user::User;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ChangeHash, ROOT, ReadDoc};
use proptest::prelude::*;

const ITEMS: [&str; 3] = ["T-01", "T-02", "T-03"];

#[derive(Debug, Clone)]
enum Step {
    /// A tablet runs a command (skipped when its own rules refuse it).
    Legal(usize, Edit),
    /// A tablet pushes what the receiver lacks (everything since its last push, or only the
    /// first `n` of those changes when `n` is given).
    Push(usize, Option<usize>),
    /// A tablet pulls everything the receiver holds.
    Pull(usize),
    /// A hostile client derived from a tablet's replica pushes a raw change.
    Illegal(usize, Attack),
}

#[derive(Debug, Clone)]
enum Edit {
    Answer(usize, Option<u8>),
    Note(usize, u8),
    Summary(u8),
    Photo(usize, u8),
    Hazard(u8),
    Onsite,
}

#[derive(Debug, Clone, Copy)]
enum Attack {
    /// status = approved, note claiming an answer.
    RawStatus,
    /// a summary written with no command in the note.
    NoCommand,
    /// an honest summary edit plus an unknown top-level field.
    ExtraField,
    /// the note names the other inspector.
    OtherUser,
    /// the change is made under the other tablet's actor.
    OtherActor,
    /// dated a day after the receiver's clock.
    Future,
    /// an answer for an item the checklist does not have, through its command.
    UnknownItem,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0..ITEMS.len(), prop::option::of(0u8..3)).prop_map(|(i, a)| Edit::Answer(i, a)),
        2 => (0..ITEMS.len(), any::<u8>()).prop_map(|(i, n)| Edit::Note(i, n)),
        1 => any::<u8>().prop_map(Edit::Summary),
        2 => (0..ITEMS.len(), 0u8..4).prop_map(|(i, p)| Edit::Photo(i, p)),
        1 => (0u8..4).prop_map(Edit::Hazard),
        1 => Just(Edit::Onsite),
    ]
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        Just(Attack::RawStatus),
        Just(Attack::NoCommand),
        Just(Attack::ExtraField),
        Just(Attack::OtherUser),
        Just(Attack::OtherActor),
        Just(Attack::Future),
        Just(Attack::UnknownItem),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..2usize, edit()).prop_map(|(d, e)| Step::Legal(d, e)),
        3 => (0..2usize, prop::option::of(1usize..4)).prop_map(|(d, n)| Step::Push(d, n)),
        2 => (0..2usize).prop_map(Step::Pull),
        2 => (0..2usize, attack()).prop_map(|(d, a)| Step::Illegal(d, a)),
    ]
}

struct Tablet {
    user: User,
    device: DeviceId,
    doc: InspectionDoc,
    minute: i64,
}

impl Tablet {
    fn command(&self, e: &Edit) -> Command {
        match e {
            Edit::Answer(i, a) => Command::Answer {
                item: ITEMS[*i].into(),
                answer: a
                    .map(|a| [Answer::Complies, Answer::Fails, Answer::NotApplicable][a as usize]),
            },
            Edit::Note(i, n) => Command::SetNote {
                item: ITEMS[*i].into(),
                text: format!("{} 记录 {n}", self.user.name),
            },
            Edit::Summary(n) => Command::SetSummary {
                text: format!("检查情况 {n}"),
            },
            Edit::Photo(i, p) => Command::AddItemPhoto {
                item: ITEMS[*i].into(),
                photo: photo(&format!("{}-{i}-{p}", self.device), &self.user),
            },
            Edit::Hazard(h) => Command::RegisterHazard(hazard(
                &format!("h-{}-{h}", self.device),
                "T-03",
                HazardLevel::General,
            )),
            Edit::Onsite => onsite_person(),
        }
    }
}

fn note(user: &User, device: &DeviceId, command: &Command, at: i64) -> String {
    serde_json::to_string(&ChangeNote {
        by: user.id.clone(),
        device: device.clone(),
        command: command.name().into(),
        at: Some(Timestamp(at)),
        op: Some(command.clone()),
        seal: None,
    })
    .unwrap()
}

/// A raw change on a copy of `tablet`'s replica.
fn raw(tablet: &mut Tablet, other: &Tablet, a: Attack) -> Vec<u8> {
    let mut copy = tablet.doc.automerge_mut().fork();
    let from = copy.get_heads();
    let at = T0.0 + (tablet.minute + 500) * 60_000;
    let summary = Command::SetSummary { text: "改".into() };
    let (actor, message, time) = match a {
        Attack::RawStatus => (
            &tablet.device,
            note(
                &tablet.user,
                &tablet.device,
                &Command::Answer {
                    item: "T-01".into(),
                    answer: Some(Answer::Complies),
                },
                at,
            ),
            at,
        ),
        Attack::NoCommand => (
            &tablet.device,
            serde_json::to_string(&ChangeNote {
                by: tablet.user.id.clone(),
                device: tablet.device.clone(),
                command: "set_summary".into(),
                at: Some(Timestamp(at)),
                op: None,
                seal: None,
            })
            .unwrap(),
            at,
        ),
        Attack::ExtraField => (
            &tablet.device,
            note(&tablet.user, &tablet.device, &summary, at),
            at,
        ),
        Attack::OtherUser => (
            &tablet.device,
            note(&other.user, &tablet.device, &summary, at),
            at,
        ),
        Attack::OtherActor => (
            &other.device,
            note(&tablet.user, &tablet.device, &summary, at),
            at,
        ),
        Attack::Future => {
            let later = at + 10 * 86_400_000;
            (
                &tablet.device,
                note(&tablet.user, &tablet.device, &summary, later),
                later,
            )
        }
        Attack::UnknownItem => (
            &tablet.device,
            note(
                &tablet.user,
                &tablet.device,
                &Command::Answer {
                    item: "X-99".into(),
                    answer: Some(Answer::Fails),
                },
                at,
            ),
            at,
        ),
    };
    copy.set_actor(actor_for(actor));
    let results = match copy.get(&ROOT, "results").unwrap() {
        Some((_, id)) => id,
        None => unreachable!("results exist from creation"),
    };
    match a {
        Attack::RawStatus => {
            copy.put(&ROOT, "status", "approved").unwrap();
        }
        Attack::ExtraField => {
            copy.put(&ROOT, "summary", "改").unwrap();
            copy.put(&ROOT, "smuggled", "x").unwrap();
        }
        Attack::UnknownItem => {
            copy.put(&results, "X-99/answer", "fails").unwrap();
        }
        _ => {
            copy.put(&ROOT, "summary", "改").unwrap();
        }
    }
    copy.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(time.div_euclid(1000)),
    );
    copy.save_after(&from)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn legal_changes_are_accepted_illegal_refused_and_replicas_converge(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        let t = template();
        let (w, l) = (wang(), li());
        // tab-a creates the record with both inspectors; the receiver accepts it.
        let mut r = record();
        r.kind = crate::kind::InspectionKind::Routine;
        let mut a = InspectionDoc::create(&r, &t, &dev("tab-a"), T0).unwrap();
        for (i, c) in [Command::AddInspector(inspector_ref(&w)), Command::AddInspector(inspector_ref(&l))]
            .iter()
            .enumerate()
        {
            a.apply(c, &cx(&w, &t, i as i64 + 1), &dev("tab-a")).unwrap();
        }
        a.apply(
            &Command::Transition { to: InspectionStatus::OnSite, comment: String::new() },
            &cx(&w, &t, 3),
            &dev("tab-a"),
        )
        .unwrap();
        let world = TestWorld::new();
        let da = dev("tab-a");
        let created = a.save();
        let mut server = match judge(None, ID, &created, pusher(&w, &da), &world) {
            Ok(v) => v.into_doc(&created, &da).unwrap().expect("a new record"),
            other => panic!("creation refused: {other:?}"),
        };
        let b = InspectionDoc::load(&server.save(), &dev("tab-b")).unwrap();
        let mut tablets = [
            Tablet { user: w.clone(), device: dev("tab-a"), doc: a, minute: 10 },
            Tablet { user: l.clone(), device: dev("tab-b"), doc: b, minute: 10 },
        ];
        let mut legal = 0;
        for s in steps {
            match s {
                Step::Legal(d, e) => {
                    let tab = &mut tablets[d];
                    tab.minute += 1;
                    let c = tab.command(&e);
                    if tab.doc.apply(&c, &cx(&tab.user, &t, tab.minute), &tab.device).is_ok() {
                        legal += 1;
                    }
                }
                Step::Push(d, n) => {
                    let tab = &mut tablets[d];
                    let held = server.heads();
                    // Only changes the receiver lacks; `n` sends a causal prefix of them.
                    let mut missing: Vec<ChangeHash> = tab
                        .doc
                        .automerge_mut()
                        .get_changes(&held)
                        .iter()
                        .map(|c| c.hash())
                        .collect();
                    let bytes = match n {
                        Some(n) if n < missing.len() => {
                            missing.truncate(n);
                            let mut partial = tab.doc.automerge_mut().fork_at(&missing[n - 1..]).unwrap();
                            partial.save_after(&held)
                        }
                        _ => tab.doc.automerge_mut().save_after(&held),
                    };
                    let p = pusher(&tab.user, &tab.device);
                    let current = InspectionDoc::load(&server.save(), &dev("receiver")).unwrap();
                    match judge(Some(current), ID, &bytes, p, &world) {
                        Ok(Verdict::Accepted { doc, .. }) => server = *doc,
                        Ok(Verdict::AcceptedNew { .. }) => unreachable!("an update"),
                        Ok(Verdict::Replay) => {}
                        Err(e) => panic!("a legal push was refused: {e}"),
                    }
                }
                Step::Pull(d) => {
                    let bytes = server.save();
                    let tab = &mut tablets[d];
                    tab.doc.load_incremental(&bytes).unwrap();
                }
                Step::Illegal(d, attack) => {
                    let (x, y) = tablets.split_at_mut(1);
                    let (tab, other) = if d == 0 { (&mut x[0], &y[0]) } else { (&mut y[0], &x[0]) };
                    let bytes = {
                        // The hostile change sits on top of everything the tablet has, so the
                        // tablet's own pending changes travel with it (and are refused too).
                        let mut all = tab.doc.automerge_mut().save_after(&server.heads());
                        all.extend(raw(tab, other, attack));
                        all
                    };
                    let before = server.heads();
                    let current = InspectionDoc::load(&server.save(), &dev("receiver")).unwrap();
                    let p = pusher(&tab.user, &tab.device);
                    match judge(Some(current), ID, &bytes, p, &world) {
                        Err(JudgeError::Refused(r)) => {
                            let expected = match attack {
                                Attack::RawStatus | Attack::ExtraField => RefusalCode::NotReproducible,
                                Attack::NoCommand | Attack::OtherUser => RefusalCode::BadNote,
                                Attack::OtherActor => RefusalCode::NotAuthor,
                                Attack::Future => RefusalCode::Clock,
                                Attack::UnknownItem => RefusalCode::Rule,
                            };
                            // Under the other tablet's actor the change may also reuse one of
                            // its sequence numbers, which fails the strict parse first.
                            let also = matches!(attack, Attack::OtherActor)
                                && r.code == RefusalCode::Malformed;
                            prop_assert!(r.code == expected || also, "{:?}: {}", attack, r);
                        }
                        other => panic!("an illegal change ({attack:?}) was not refused: {other:?}"),
                    }
                    prop_assert_eq!(server.heads(), before);
                }
            }
        }
        // Everyone pushes and pulls: all replicas converge on the receiver's document.
        for (d, tab) in tablets.iter_mut().enumerate() {
            let bytes = tab.doc.automerge_mut().save_after(&server.heads());
            let current = InspectionDoc::load(&server.save(), &dev("receiver")).unwrap();
            match judge(Some(current), ID, &bytes, pusher(&tab.user, &tab.device), &world) {
                Ok(Verdict::Accepted { doc, .. }) => server = *doc,
                Ok(Verdict::AcceptedNew { .. }) => unreachable!("an update"),
                Ok(Verdict::Replay) => {}
                Err(e) => panic!("the final push of tablet {d} was refused: {e}"),
            }
        }
        let all = server.save();
        for tab in &mut tablets {
            tab.doc.load_incremental(&all).unwrap();
            prop_assert_eq!(tab.doc.heads(), server.heads());
            prop_assert_eq!(tab.doc.record(), server.record());
        }
        let _ = legal;
    }
}
