//! The case as an Automerge document ([`CaseDoc`]) and the judgement of its changes.

use super::tests::{World, at, direct, interview, num, opened, video, zhao};
use super::*;
use crate::document::{Conflict, commit};
use crate::evidence::Sha256Hex;
use crate::geo::{Day, Timestamp};
use crate::ids::{DeviceId, UnitId, UserId};
use crate::inspection::SignOutcome;
use crate::judge::tests::{TestWorld, pusher};
use crate::judge::{JudgeError, RefusalCode};
use crate::test_support::{li, wang};
use crate::user::User;
use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use proptest::prelude::*;
use std::sync::LazyLock;

const CASE_ID: &str = "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e11";

static RULES: LazyLock<World> = LazyLock::new(World::new);

impl CaseWorld for TestWorld {
    fn penalty_settings(&self, _unit: &UnitId) -> Option<&PenaltySettings> {
        Some(&RULES.settings)
    }
    fn work_calendar(&self) -> &WorkCalendar {
        &RULES.calendar
    }
    fn discretion(&self, _unit: &UnitId) -> Option<&DiscretionTable> {
        Some(&RULES.table)
    }
}

fn dev(name: &str) -> DeviceId {
    DeviceId::from(name)
}

/// Each person's own tablet.
fn device_of(u: &User) -> DeviceId {
    dev(&format!("tab-{}", u.id))
}

/// The case as opened by wang at day 0, with a UUID id.
fn new_case() -> PenaltyCase {
    let mut c = opened(&RULES);
    c.id = CaseId::from(CASE_ID);
    c
}

fn signed(signer: PageSigner) -> PageSignature {
    PageSignature {
        signer,
        outcome: SignOutcome::Signed {
            image: Sha256Hex::of(b"signature"),
        },
        at: Timestamp(0),
    }
}

fn sign(interview: &str, page: usize, signer: PageSigner) -> CaseCommand {
    CaseCommand::SignInterviewPage {
        interview: interview.into(),
        page,
        signature: signed(signer),
    }
}

fn add_interview(id: &str, seq: u32, ended: Timestamp) -> CaseCommand {
    let (interview, number) = interview(id, seq, 1, ended);
    CaseCommand::AddInterview { interview, number }
}

fn media(now: Timestamp, by: &User, seed: &[u8]) -> CaseCommand {
    let mut m = video(now, by);
    m.sha256 = Sha256Hex::of(seed);
    CaseCommand::AddMedia(m)
}

/// 立案 to 结案: who, when, what.
fn script() -> Vec<(User, Timestamp, CaseCommand)> {
    use CaseCommand as C;
    let fine = Penalty {
        fine_yuan: 40_000,
        other: Default::default(),
    };
    vec![
        (
            zhao(),
            at(0, 10),
            C::ApproveFiling {
                number: num(CaseDocKind::FilingApproval, 1),
                comment: "同意立案".into(),
            },
        ),
        (li(), at(0, 70), add_interview("iv-1", 1, at(0, 60))),
        (wang(), at(0, 80), sign("iv-1", 0, PageSigner::Interviewee)),
        (
            wang(),
            at(0, 81),
            sign("iv-1", 0, PageSigner::Inspector(wang().id)),
        ),
        (
            li(),
            at(0, 82),
            sign("iv-1", 0, PageSigner::Inspector(li().id)),
        ),
        (wang(), at(0, 90), media(at(0, 90), &wang(), b"video")),
        (
            wang(),
            at(0, 100),
            C::ProposePenalty {
                circumstance: "97-2".into(),
                penalty: fine.clone(),
                reasons: "情节一般".into(),
            },
        ),
        (
            wang(),
            at(0, 120),
            C::Notify {
                number: num(CaseDocKind::Notice, 1),
            },
        ),
        (
            wang(),
            at(0, 180),
            C::RecordService {
                document: num(CaseDocKind::Notice, 1).text,
                method: direct(),
                at: at(0, 170),
                number: num(CaseDocKind::ServiceReceipt, 1),
            },
        ),
        (
            li(),
            at(1, 0),
            C::RecordStatement {
                speaker: "李明（法定代表人）".into(),
                text: "已安排补训，请求从轻处罚".into(),
                review: "补训属实，维持拟处罚".into(),
                number: num(CaseDocKind::Statement, 1),
            },
        ),
        (
            zhao(),
            at(4, 0),
            C::Decide {
                penalty: fine,
                number: num(CaseDocKind::Decision, 1),
            },
        ),
        (
            wang(),
            at(4, 60),
            C::RecordService {
                document: num(CaseDocKind::Decision, 1).text,
                method: direct(),
                at: at(4, 30),
                number: num(CaseDocKind::ServiceReceipt, 2),
            },
        ),
        (
            zhao(),
            at(5, 0),
            C::RecordPublication {
                on: Day::ymd(2026, 11, 28),
                channel: "区政府网站 行政执法公示".into(),
            },
        ),
        (
            wang(),
            at(6, 0),
            C::RecordPayment {
                on: Day::ymd(2026, 11, 29),
                amount_yuan: 40_000,
                receipt: "NO.0001".into(),
            },
        ),
        (
            zhao(),
            at(7, 0),
            C::Close {
                number: num(CaseDocKind::ClosingApproval, 1),
                comment: "同意结案".into(),
            },
        ),
    ]
}

/// The case's content, for comparing replicas.
fn content(doc: &CaseDoc) -> Vec<u8> {
    serde_json::to_vec(doc.case()).unwrap()
}

fn reloaded(doc: &mut CaseDoc) -> PenaltyCase {
    CaseDoc::load(&doc.save(), &dev("check"))
        .unwrap()
        .into_case()
}

#[test]
fn a_case_runs_from_filing_to_closing_through_its_document_and_loads_back_equal() {
    let mut plain = new_case();
    let mut doc = CaseDoc::create(&plain, &dev("tab-wang")).unwrap();
    assert_eq!(reloaded(&mut doc), plain);
    for (actor, now, command) in script() {
        plain.apply(&command, &RULES.cx(&actor, now)).unwrap();
        doc.apply(&command, &RULES.cx(&actor, now), &device_of(&actor))
            .unwrap();
        assert_eq!(doc.case(), &plain, "{}", command.name());
        assert_eq!(reloaded(&mut doc), plain, "{} read back", command.name());
    }
    assert_eq!(doc.case().stage, CaseStage::Closed);
    assert!(doc.conflicts().is_empty(), "{:?}", doc.conflicts());
    // Every change is noted with its author, device, time and command.
    let changes = doc.automerge_mut().get_changes(&[]);
    let notes: Vec<CaseNote> = changes
        .iter()
        .map(|c| serde_json::from_str(c.message().unwrap()).unwrap())
        .collect();
    assert_eq!(notes.len(), script().len() + 1);
    assert_eq!(notes[0].command, CASE_CREATE);
    assert_eq!(notes[0].by, wang().id);
    for ((actor, now, command), note) in script().into_iter().zip(&notes[1..]) {
        assert_eq!(note.by, actor.id);
        assert_eq!(note.device, device_of(&actor));
        assert_eq!(note.at, Some(now));
        assert_eq!(note.op.as_ref(), Some(&command));
    }
    // The state at an earlier head is the case as it was then.
    let at_filing = doc.case_at(&[changes[1].hash()]).unwrap();
    assert_eq!(at_filing.stage, CaseStage::Investigating);
}

/// The SHA-256 of the scripted case's saved document: the layout pinned until a golden file
/// under `tests/golden/` takes over (a change of the layout or of what a command writes
/// changes it, and must say in its commit why and what reads the old one).
const SCRIPTED_CASE_SHA256: &str =
    "5823fff72ab80fbdad0e7d5750a15a4b1966dfce3e36bfedd25debc38e931b14";

#[test]
fn the_case_documents_layout_is_pinned() {
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    for (actor, now, command) in script() {
        doc.apply(&command, &RULES.cx(&actor, now), &device_of(&actor))
            .unwrap();
    }
    assert_eq!(Sha256Hex::of(&doc.save()).as_str(), SCRIPTED_CASE_SHA256);
}

#[test]
fn a_refused_command_writes_nothing() {
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let heads = doc.heads();
    let saved = doc.save();
    // wang is on the case: he may not approve its filing.
    let refused = doc.apply(
        &script()[0].2,
        &RULES.cx(&wang(), at(0, 10)),
        &dev("tab-wang"),
    );
    assert!(matches!(
        refused,
        Err(CaseDocError::Case(
            CaseError::NotSupervisor | CaseError::ApproverOnCase(_)
        ))
    ));
    assert_eq!(doc.heads(), heads);
    assert_eq!(doc.save(), saved);
    assert_eq!(doc.case(), &new_case());
}

#[test]
fn a_document_that_is_not_a_case_names_the_bad_field() {
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let am = doc.automerge_mut();
    am.put(ROOT, "stage", "nowhere").unwrap();
    am.commit();
    let err = CaseDoc::load(&doc.save(), &dev("x")).unwrap_err();
    assert!(err.to_string().contains("stage"), "{err}");

    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let am = doc.automerge_mut();
    let media = match am.get(ROOT, "media").unwrap() {
        Some((_, id)) => id,
        None => panic!("the media map exists from the creation on"),
    };
    let m = video(at(0, 1), &wang());
    am.put(&media, "not-the-digest", serde_json::to_string(&m).unwrap())
        .unwrap();
    am.commit();
    let err = CaseDoc::load(&doc.save(), &dev("x")).unwrap_err();
    assert!(err.to_string().contains("media/not-the-digest"), "{err}");

    // An inspection record is not a case.
    let t = crate::test_support::template();
    let mut record = crate::document::InspectionDoc::create(
        &crate::judge::tests::record(),
        &t,
        &dev("tab-wang"),
        crate::test_support::T0,
    )
    .unwrap();
    let err = CaseDoc::load(&record.save(), &dev("x")).unwrap_err();
    assert!(err.to_string().contains("case_schema"), "{err}");
}

/// The case with its filing approved, on wang's tablet.
fn filed() -> CaseDoc {
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let (actor, now, c) = &script()[0];
    doc.apply(c, &RULES.cx(actor, *now), &device_of(actor))
        .unwrap();
    doc
}

/// `actor` applies `c` at `now` on their own tablet.
fn act(doc: &mut CaseDoc, actor: &User, now: Timestamp, c: &CaseCommand) {
    doc.apply(c, &RULES.cx(actor, now), &device_of(actor))
        .unwrap();
}

fn replica(doc: &mut CaseDoc, device: &str) -> CaseDoc {
    CaseDoc::load(&doc.save(), &dev(device)).unwrap()
}

/// A replica of `doc` on `device` without saving and loading it (cheap).
fn copy(doc: &mut CaseDoc, device: &str) -> CaseDoc {
    let am = doc
        .automerge_mut()
        .fork()
        .with_actor(crate::document::actor_for(&dev(device)));
    CaseDoc::from_automerge(am).unwrap()
}

/// Merges `b` into a copy of `a` and `a` into a copy of `b`; both must end with the same
/// changes and the same content, byte for byte (the case's JSON), read back alike.
fn merge_both_ways(a: &mut CaseDoc, b: &mut CaseDoc) -> CaseDoc {
    let mut ab = replica(a, "m1");
    ab.merge(&mut replica(b, "x")).unwrap();
    let mut ba = replica(b, "m2");
    ba.merge(&mut replica(a, "y")).unwrap();
    assert_eq!(content(&ab), content(&ba));
    let (mut h1, mut h2) = (ab.heads(), ba.heads());
    h1.sort();
    h2.sort();
    assert_eq!(h1, h2, "the same changes");
    assert_eq!(ab.conflicts(), ba.conflicts());
    assert_eq!(reloaded(&mut ab), *ab.case());
    ab
}

#[test]
fn two_inspectors_interviewing_and_adding_evidence_on_two_tablets_merge_without_loss() {
    let mut a = filed();
    let mut b = replica(&mut a, "tab-li");
    // wang takes one interview and adds a video on his tablet; li another, and a video too.
    act(
        &mut a,
        &wang(),
        at(0, 70),
        &add_interview("iv-a", 1, at(0, 60)),
    );
    act(
        &mut a,
        &wang(),
        at(0, 71),
        &sign("iv-a", 0, PageSigner::Interviewee),
    );
    act(
        &mut a,
        &wang(),
        at(0, 80),
        &media(at(0, 80), &wang(), b"video-a"),
    );
    act(
        &mut b,
        &li(),
        at(0, 75),
        &add_interview("iv-b", 2, at(0, 65)),
    );
    act(
        &mut b,
        &li(),
        at(0, 85),
        &media(at(0, 85), &li(), b"video-b"),
    );
    let mut merged = merge_both_ways(&mut a, &mut b);
    let c = merged.case().clone();
    assert_eq!(c.interviews.len(), 2);
    assert_eq!(c.media.len(), 2);
    assert_eq!(c.interviews["iv-a"].pages[0].signatures.len(), 1);
    assert!(merged.conflicts().is_empty(), "{:?}", merged.conflicts());

    // Then both sign pages of the same interview at once: every signature is kept, and the
    // record is complete (but frozen by neither tablet: the merged state says so).
    let mut a = replica(&mut merged, "tab-wang");
    let mut b = replica(&mut merged, "tab-li");
    act(
        &mut a,
        &wang(),
        at(0, 90),
        &sign("iv-b", 0, PageSigner::Interviewee),
    );
    act(
        &mut a,
        &wang(),
        at(0, 91),
        &sign("iv-b", 0, PageSigner::Inspector(wang().id)),
    );
    act(
        &mut b,
        &li(),
        at(0, 92),
        &sign("iv-b", 0, PageSigner::Inspector(li().id)),
    );
    let merged = merge_both_ways(&mut a, &mut b);
    assert!(merged.case().interviews["iv-b"].is_signed());
    assert_eq!(
        merged.conflicts(),
        vec![Conflict::Invalid {
            reason: CaseViolation::InterviewNotFrozen("iv-b".into()).to_string()
        }]
    );
}

#[test]
fn concurrent_edits_of_one_field_and_an_impossible_merge_are_listed() {
    let mut a = filed();
    let mut b = replica(&mut a, "tab-li");
    act(
        &mut a,
        &wang(),
        at(0, 30),
        &CaseCommand::SetFacts {
            facts: "3名新员工未经培训上岗".into(),
        },
    );
    act(
        &mut b,
        &li(),
        at(0, 31),
        &CaseCommand::SetFacts {
            facts: "4名新员工未经培训上岗".into(),
        },
    );
    let merged = merge_both_ways(&mut a, &mut b);
    let conflicts = merged.conflicts();
    assert!(
        conflicts.iter().any(|c| matches!(c,
            Conflict::Field { path, values } if path == "facts" && values.len() == 2)),
        "{conflicts:?}"
    );

    // Two notices issued at once on two tablets: both kept, the first listed as superseded.
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    for (actor, now, c) in &script()[..7] {
        doc.apply(c, &RULES.cx(actor, *now), &device_of(actor))
            .unwrap();
    }
    let notify = |n| CaseCommand::Notify {
        number: num(CaseDocKind::Notice, n),
    };
    let mut a = replica(&mut doc, "tab-wang");
    let mut b = replica(&mut doc, "tab-li");
    act(&mut a, &wang(), at(0, 120), &notify(1));
    act(&mut b, &li(), at(0, 121), &notify(2));
    let merged = merge_both_ways(&mut a, &mut b);
    assert_eq!(merged.case().notices.len(), 2);
    let first = merged.case().notices[0].number.clone();
    assert!(merged.conflicts().contains(&Conflict::Invalid {
        reason: CaseViolation::NoticeSuperseded(first).to_string()
    }));

    // The whole fine paid on both tablets: both payments kept, the overpayment listed.
    let mut doc = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let script = script();
    for (actor, now, c) in &script[..script.len() - 2] {
        doc.apply(c, &RULES.cx(actor, *now), &device_of(actor))
            .unwrap();
    }
    let (actor, now, pay) = &script[script.len() - 2];
    let mut a = replica(&mut doc, "tab-wang");
    let mut b = replica(&mut doc, "tab-li");
    a.apply(pay, &RULES.cx(actor, *now), &dev("tab-wang"))
        .unwrap();
    act(&mut b, &li(), *now, pay);
    let merged = merge_both_ways(&mut a, &mut b);
    assert_eq!(merged.case().payments.len(), 2);
    assert!(
        merged.conflicts().contains(&Conflict::Invalid {
            reason: CaseViolation::Overpaid {
                paid: 80_000,
                fine: 40_000
            }
            .to_string()
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Random edits on 2–3 replicas with random syncs converge.

#[derive(Debug, Clone)]
enum Op {
    /// Replica `r` applies command template `t` with small parameters.
    Edit { r: usize, t: u8, a: u8, b: u8 },
    /// Replica `to` takes everything replica `from` has.
    Sync { from: usize, to: usize },
}

fn op(replicas: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..replicas, 0u8..9, 0u8..4, 0u8..4).prop_map(|(r, t, a, b)| Op::Edit { r, t, a, b }),
        1 => (0..replicas, 0..replicas).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

/// The command of template `t` on replica `r` (its own numbers and ids: each tablet issues
/// from its own block), by wang or li.
fn random_command(
    doc: &CaseDoc,
    r: usize,
    t: u8,
    a: u8,
    b: u8,
    now: Timestamp,
) -> (CaseCommand, User) {
    use CaseCommand as C;
    let who = if a.is_multiple_of(2) { wang() } else { li() };
    let seq = (r as u32 + 1) * 100 + u32::from(b);
    let c = match t {
        0 => {
            let (mut i, n) = interview(&format!("iv-{r}-{b}"), seq, usize::from(a % 2) + 1, now);
            i.number = n.text.clone();
            C::AddInterview {
                interview: i,
                number: n,
            }
        }
        1 | 2 => {
            let ids: Vec<&String> = doc.case().interviews.keys().collect();
            let id = ids
                .get(usize::from(b) % ids.len().max(1))
                .map_or("iv-none".to_owned(), |s| (*s).clone());
            let signer = match a % 3 {
                0 => PageSigner::Interviewee,
                1 => PageSigner::Inspector(wang().id),
                _ => PageSigner::Inspector(li().id),
            };
            sign(&id, usize::from(b % 2), signer)
        }
        3 => media(now, &who, &[r as u8, a, b]),
        4 => C::SetFacts {
            facts: format!("事实{r}{a}"),
        },
        5 => C::MarkMajor {
            reason: if a.is_multiple_of(2) {
                MajorReason::Complex
            } else {
                MajorReason::Other(format!("理由{r}"))
            },
        },
        6 => {
            let n = num(CaseDocKind::EvidencePreservation, seq);
            C::AddMeasure {
                measure: OnSiteMeasure {
                    id: format!("m-{r}-{b}"),
                    kind: MeasureKind::EvidencePreservation,
                    number: n.text.clone(),
                    at: now,
                    items: vec!["台账".into()],
                    basis: vec![],
                    outcome: None,
                },
                number: n,
            }
        }
        7 => C::ResolvePreservation {
            measure: format!("m-{r}-{b}"),
            outcome: PreservationOutcome {
                on: now.shanghai_date(),
                decision: "解除".into(),
            },
        },
        _ => C::ProposePenalty {
            circumstance: "97-2".into(),
            penalty: Penalty {
                fine_yuan: 30_000 + u64::from(a) * 10_000,
                other: Default::default(),
            },
            reasons: format!("理由{r}"),
        },
    };
    let who = match t {
        3..=5 => who,
        _ => wang(),
    };
    (c, who)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_edits_on_replicas_with_random_syncs_converge(
        n in 2usize..=3,
        ops in prop::collection::vec(op(3), 1..30),
    ) {
        let mut base = filed();
        let mut replicas: Vec<CaseDoc> = (0..n)
            .map(|r| copy(&mut base, &format!("tab-{r}")))
            .collect();
        for (step, o) in ops.iter().enumerate() {
            let now = at(0, 20 + step as i64);
            match *o {
                Op::Edit { r, t, a, b } => {
                    let r = r % n;
                    let (c, who) = random_command(&replicas[r], r, t, a, b, now);
                    let device = dev(&format!("tab-{r}"));
                    let before = replicas[r].heads();
                    let doc = &mut replicas[r];
                    match doc.apply(&c, &RULES.cx(&who, now), &device) {
                        // What a replica holds in memory is what its document reads.
                        Ok(()) => {
                            let read = super::doc::read_case(doc.automerge_mut(), None).unwrap();
                            prop_assert_eq!(&read, doc.case());
                        }
                        Err(_) => prop_assert_eq!(doc.heads(), before),
                    }
                }
                Op::Sync { from, to } => {
                    let (from, to) = (from % n, to % n);
                    if from != to {
                        let mut other = copy(&mut replicas[from], "sync");
                        replicas[to].merge(&mut other).unwrap();
                    }
                }
            }
        }
        // Everyone syncs with everyone, in two different orders.
        let mut forward = copy(&mut replicas[0], "f");
        for r in replicas.iter_mut().skip(1) {
            forward.merge(r).unwrap();
        }
        let mut backward = copy(&mut replicas[n - 1], "b");
        for r in replicas.iter_mut().rev().skip(1) {
            backward.merge(r).unwrap();
        }
        prop_assert_eq!(content(&forward), content(&backward));
        prop_assert_eq!(forward.conflicts(), backward.conflicts());
        prop_assert_eq!(&reloaded(&mut forward), forward.case());
    }
}

// ---------------------------------------------------------------------------------------------
// The judge

fn world_at(now: Timestamp) -> TestWorld {
    let mut w = TestWorld::new();
    w.now = Timestamp(now.0 + 60_000);
    w
}

/// The server's copy after judging `pushed` (by `user` on `device`).
fn judged(
    stored: Option<&mut CaseDoc>,
    pushed: &[u8],
    user: &User,
    device: &DeviceId,
    now: Timestamp,
) -> Result<CaseDoc, JudgeError> {
    let stored = stored.map(|d| replica(d, "server"));
    match judge_case(
        stored,
        CASE_ID,
        pushed,
        pusher(user, device),
        &world_at(now),
    )? {
        CaseVerdict::Accepted { doc, .. } => Ok(*doc),
        CaseVerdict::Replay => panic!("nothing new was pushed"),
    }
}

/// Why the server refuses `push` from wang's tablet at day 0, 30 min.
fn wang_pushes(server: &mut CaseDoc, push: &[u8]) -> RefusalCode {
    refusal(judged(
        Some(server),
        push,
        &wang(),
        &dev("tab-wang"),
        at(0, 30),
    ))
}

fn refusal(r: Result<CaseDoc, JudgeError>) -> RefusalCode {
    match r {
        Err(JudgeError::Refused(refusal)) => refusal.code,
        Err(e) => panic!("not a refusal: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn the_judge_accepts_each_honest_tablets_changes_from_filing_to_closing() {
    let mut tablet = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let mut server = judged(None, &tablet.save(), &wang(), &dev("tab-wang"), at(0, 0)).unwrap();
    for (actor, now, command) in script() {
        let device = device_of(&actor);
        let mut mine = replica(&mut server, device.as_str());
        let from = mine.heads();
        mine.apply(&command, &RULES.cx(&actor, now), &device)
            .unwrap();
        let push = mine.save_after(&from);
        server = judged(Some(&mut server), &push, &actor, &device, now)
            .unwrap_or_else(|e| panic!("{}: {e}", command.name()));
    }
    assert_eq!(server.case().stage, CaseStage::Closed);
    assert_eq!(reloaded(&mut server), *server.case());
    // Pushed again: nothing new.
    let all = server.save();
    let stored = replica(&mut server, "server");
    assert!(matches!(
        judge_case(
            Some(stored),
            CASE_ID,
            &all,
            pusher(&wang(), &dev("tab-wang")),
            &world_at(at(8, 0))
        ),
        Ok(CaseVerdict::Replay)
    ));
    // Concurrent honest edits on two tablets, pushed one after the other.
    let mut server = filed_on_server();
    let mut a = replica(&mut server, "tab-wang");
    let mut b = replica(&mut server, "tab-li");
    let from = a.heads();
    act(
        &mut a,
        &wang(),
        at(0, 70),
        &add_interview("iv-a", 1, at(0, 60)),
    );
    act(
        &mut b,
        &li(),
        at(0, 71),
        &add_interview("iv-b", 2, at(0, 60)),
    );
    let mut server = judged(
        Some(&mut server),
        &a.save_after(&from),
        &wang(),
        &dev("tab-wang"),
        at(0, 72),
    )
    .unwrap();
    let server = judged(
        Some(&mut server),
        &b.save_after(&from),
        &li(),
        &dev("tab-li"),
        at(0, 72),
    )
    .unwrap();
    assert_eq!(server.case().interviews.len(), 2);
}

/// The server's copy of the case with its filing approved.
fn filed_on_server() -> CaseDoc {
    let mut tablet = CaseDoc::create(&new_case(), &dev("tab-wang")).unwrap();
    let mut server = judged(None, &tablet.save(), &wang(), &dev("tab-wang"), at(0, 0)).unwrap();
    let mut z = replica(&mut server, "tab-zhao");
    let from = z.heads();
    let (actor, now, c) = &script()[0];
    z.apply(c, &RULES.cx(actor, *now), &dev("tab-zhao"))
        .unwrap();
    judged(
        Some(&mut server),
        &z.save_after(&from),
        &zhao(),
        &dev("tab-zhao"),
        *now,
    )
    .unwrap()
}

/// A raw change on `doc` (whatever `edit` writes), noted as `command` by `by` on `device`.
fn forged(
    doc: &mut CaseDoc,
    by: &User,
    device: &str,
    now: Timestamp,
    command: CaseCommand,
    edit: impl FnOnce(&mut automerge::AutoCommit),
) -> Vec<u8> {
    let from = doc.heads();
    let am = doc.automerge_mut();
    am.set_actor(crate::document::actor_for(&dev(device)));
    edit(am);
    let note = CaseNote {
        by: by.id.clone(),
        device: dev(device),
        command: command.name().into(),
        at: Some(now),
        op: Some(command),
        seal: None,
    };
    commit(am, &note, now);
    am.save_after(&from)
}

#[test]
fn the_judge_refuses_others_changes_forged_moves_and_edits_of_frozen_documents() {
    let mut server = filed_on_server();
    let facts = || CaseCommand::SetFacts {
        facts: "3名新员工未经培训上岗，未建立培训档案".into(),
    };
    let honest = |server: &mut CaseDoc, actor: &User, on: &str, now: Timestamp| {
        let mut t = replica(server, on);
        let from = t.heads();
        t.apply(&facts(), &RULES.cx(actor, now), &dev(on)).unwrap();
        t.save_after(&from)
    };
    // The honest change is accepted...
    let push = honest(&mut server, &wang(), "tab-wang", at(0, 30));
    assert!(
        judged(
            Some(&mut server),
            &push,
            &wang(),
            &dev("tab-wang"),
            at(0, 30)
        )
        .is_ok()
    );
    // ...but not from another device (its actor is tab-li's).
    let push = honest(&mut server, &wang(), "tab-li", at(0, 30));
    assert_eq!(wang_pushes(&mut server, &push), RefusalCode::NotAuthor);
    // A note naming another user (li's edit on wang's tablet, pushed by wang).
    let push = honest(&mut server, &li(), "tab-wang", at(0, 30));
    assert_eq!(wang_pushes(&mut server, &push), RefusalCode::BadNote);
    // A time in the future (the server's clock is a minute after day 0, 30 min).
    let push = honest(&mut server, &wang(), "tab-wang", at(0, 90));
    assert_eq!(wang_pushes(&mut server, &push), RefusalCode::Clock);
    // A forged move to 结案, noted as an edit of the facts.
    let mut t = replica(&mut server, "tab-wang");
    let push = forged(&mut t, &wang(), "tab-wang", at(0, 30), facts(), |am| {
        am.put(ROOT, "facts", "3名新员工未经培训上岗，未建立培训档案")
            .unwrap();
        am.put(ROOT, "stage", "closed").unwrap();
    });
    assert_eq!(
        wang_pushes(&mut server, &push),
        RefusalCode::NotReproducible
    );
    // The same move noted as what it is: the rules refuse closing now.
    let mut t = replica(&mut server, "tab-wang");
    let close = CaseCommand::Close {
        number: num(CaseDocKind::ClosingApproval, 1),
        comment: String::new(),
    };
    let push = forged(&mut t, &wang(), "tab-wang", at(0, 30), close, |am| {
        am.put(ROOT, "stage", "closed").unwrap();
    });
    assert_eq!(wang_pushes(&mut server, &push), RefusalCode::Rule);
    // An edit of the frozen 立案审批表, slipped into an honest command's change.
    let number = num(CaseDocKind::FilingApproval, 1).text;
    let mut frozen = server.case().documents[&number].clone();
    frozen.by = UserId::from("wang");
    let mut t = replica(&mut server, "tab-wang");
    let push = forged(&mut t, &wang(), "tab-wang", at(0, 30), facts(), |am| {
        am.put(ROOT, "facts", "3名新员工未经培训上岗，未建立培训档案")
            .unwrap();
        let docs = match am.get(ROOT, "documents").unwrap() {
            Some((_, id)) => id,
            None => panic!("documents"),
        };
        am.put(
            &docs,
            number.as_str(),
            serde_json::to_string(&frozen).unwrap(),
        )
        .unwrap();
    });
    assert_eq!(
        wang_pushes(&mut server, &push),
        RefusalCode::NotReproducible
    );
    // A new case whose first state is not what opening it makes (already filed).
    let mut t = replica(&mut server, "tab-wang");
    assert_eq!(
        refusal(judged(
            None,
            &t.save(),
            &wang(),
            &dev("tab-wang"),
            at(0, 30)
        )),
        RefusalCode::NotAuthor,
        "the filing approval in a new case's push is zhao's change, not wang's"
    );
    let mut fresh = new_case();
    fresh.stage = CaseStage::Closed;
    let mut t = CaseDoc::create(&fresh, &dev("tab-wang")).unwrap();
    assert_eq!(
        refusal(judged(None, &t.save(), &wang(), &dev("tab-wang"), at(0, 0))),
        RefusalCode::NotFresh
    );
}

#[test]
fn changes_received_over_the_network_are_taken_only_if_the_case_still_reads() {
    let mut tablet = filed();
    let mut server = replica(&mut tablet, "server");
    let from = tablet.heads();
    act(
        &mut tablet,
        &wang(),
        at(0, 90),
        &media(at(0, 90), &wang(), b"video"),
    );
    server.load_incremental(&tablet.save_after(&from)).unwrap();
    assert_eq!(server.case(), tablet.case());
    // A change that breaks the case (a stage nobody knows) is refused, and nothing is kept.
    let heads = server.heads();
    let bad = forged(
        &mut tablet,
        &wang(),
        "tab-wang",
        at(0, 95),
        CaseCommand::SetFacts { facts: "x".into() },
        |am| {
            am.put(ROOT, "stage", "nowhere").unwrap();
        },
    );
    assert!(server.load_incremental(&bad).is_err());
    assert!(server.load_incremental(b"not automerge").is_err());
    assert_eq!(server.heads(), heads);
    assert_eq!(reloaded(&mut server), *server.case());
}
