//! Random command sequences against a case: whatever is applied, refused commands leave the
//! case unchanged, the stage moves only along the table's edges, and the invariants the
//! rules promise hold at every step (two inspectors, frozen documents that verify, no
//! decision before the notice's periods, a hearing's decision reviewed, a closed case paid).
//!
//! Most steps are "guided" (a command that moves the case on from its stage, often with the
//! right actor and parameters), the rest anything at all, so the sequences get deep: in a
//! measured run of the 400 cases, about 9 % reached 结案 and about half got past 调查取证.

use super::tests::{World, at, direct, interview, opened, qian, video, zhao};
use super::*;
use crate::evidence::Sha256Hex;
use crate::geo::{Day, Timestamp};
use crate::ids::{DeviceId, UserId};
use crate::inspection::SignOutcome;
use crate::test_support::{li, wang};
use crate::user::User;
use proptest::prelude::*;

/// One step: which command, its small parameters, whether the natural actor does it, and how
/// far time moves first.
#[derive(Debug, Clone)]
struct Step {
    template: u8,
    a: u8,
    b: u8,
    c: u8,
    natural_actor: bool,
    actor: u8,
    minutes: u32,
    /// Take a command that moves the case on from its stage (else any command).
    guided: bool,
    pick: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..23,
        0u8..6,
        0u8..6,
        0u8..6,
        prop::bool::weighted(0.85),
        0u8..5,
        0u32..(36 * 60),
        prop::bool::weighted(0.7),
        0u8..8,
    )
        .prop_map(
            |(template, a, b, c, natural_actor, actor, minutes, guided, pick)| Step {
                template,
                a,
                b,
                c,
                natural_actor,
                actor,
                minutes,
                guided,
                pick,
            },
        )
}

/// The commands that move a case on from `stage` (templates of [`command`]).
fn onward(stage: CaseStage) -> &'static [u8] {
    match stage {
        CaseStage::Opened => &[0],
        CaseStage::Investigating => &[2, 3, 3, 3, 3, 4, 7, 8],
        CaseStage::Notified => &[9, 9, 10, 11, 12, 14, 16],
        CaseStage::Defence => &[22, 13, 13, 14, 16, 16, 11],
        CaseStage::LegalReview => &[15, 16, 16],
        CaseStage::Decided => &[9, 17],
        CaseStage::Served => &[18, 19, 17],
        CaseStage::Executing => &[18, 20, 20],
        CaseStage::Closed => &[20],
    }
}

fn actors() -> [User; 5] {
    [
        wang(),
        li(),
        zhao(),
        qian(),
        crate::test_support::inspector("chen", "陈"),
    ]
}

/// A number of `kind` for the year of `now` (the year before, now and then), with a small
/// sequence so that numbers collide now and then.
fn number(kind: CaseDocKind, s: &Step, now: Timestamp) -> IssuedNumber {
    let year = now.shanghai_date().year() - i32::from(s.c == 5);
    IssuedNumber::new(
        "玄武",
        kind,
        year,
        u32::from(s.b % 3) + 1,
        DeviceId::from("tab-1"),
    )
}

const FINES: [u64; 6] = [10_000, 30_000, 40_000, 60_000, 80_000, 120_000];

/// The command of `s` at `now` in `case`, and its natural actor (index into [`actors`]).
fn command(s: &Step, case: &PenaltyCase, now: Timestamp) -> (CaseCommand, usize) {
    use CaseCommand as C;
    let doc_of = |kind: CaseDocKind| {
        case.documents
            .values()
            .filter(|d| d.kind == kind)
            .map(|d| d.number.clone())
            .next_back()
            .unwrap_or_default()
    };
    match s.template {
        0 => (
            C::ApproveFiling {
                number: number(CaseDocKind::FilingApproval, s, now),
                comment: "同意".into(),
            },
            2,
        ),
        1 => (
            C::SetFacts {
                facts: if s.a == 0 {
                    String::new()
                } else {
                    format!("事实{}", s.a)
                },
            },
            0,
        ),
        2 => {
            let n = number(CaseDocKind::Interview, s, now);
            let pages = if s.guided { 1 } else { usize::from(s.c % 3) };
            let (mut i, _) = interview(&format!("iv-{}", s.a % 2), 1, pages, now);
            i.number = n.text.clone();
            (
                C::AddInterview {
                    interview: i,
                    number: n,
                },
                1,
            )
        }
        3 if s.guided => {
            // The first signature an interview still lacks.
            let next = case.interviews.values().find_map(|i| {
                i.pages.iter().enumerate().find_map(|(page, p)| {
                    i.signers()
                        .into_iter()
                        .find(|x| !p.signatures.contains_key(&x.key()))
                        .map(|signer| (i.id.clone(), page, signer))
                })
            });
            let (interview, page, signer) =
                next.unwrap_or(("iv-0".into(), 0, PageSigner::Interviewee));
            (
                C::SignInterviewPage {
                    interview,
                    page,
                    signature: PageSignature {
                        signer,
                        outcome: SignOutcome::Signed {
                            image: Sha256Hex::of(b"sig"),
                        },
                        at: now,
                    },
                },
                0,
            )
        }
        3 => {
            let signer = match s.b % 4 {
                0 => PageSigner::Interviewee,
                1 => PageSigner::Inspector(wang().id),
                2 => PageSigner::Inspector(li().id),
                _ => PageSigner::Inspector(UserId::from("chen")),
            };
            let outcome = if s.c == 0 {
                SignOutcome::Refused {
                    witness: if s.a == 0 {
                        String::new()
                    } else {
                        "见证人".into()
                    },
                    note: String::new(),
                }
            } else {
                SignOutcome::Signed {
                    image: Sha256Hex::of(b"sig"),
                }
            };
            (
                C::SignInterviewPage {
                    interview: format!("iv-{}", s.a % 2),
                    page: usize::from(s.c % 3),
                    signature: PageSignature {
                        signer,
                        outcome,
                        at: now,
                    },
                },
                0,
            )
        }
        4 => {
            let mut m = video(now, &wang());
            m.sha256 = Sha256Hex::of(&[s.a]);
            if s.b == 0 {
                m.size = 0;
            }
            (C::AddMedia(m), 0)
        }
        5 => {
            let kind = if s.a.is_multiple_of(2) {
                MeasureKind::EvidencePreservation
            } else {
                MeasureKind::OnSiteMeasures
            };
            let doc = match kind {
                MeasureKind::EvidencePreservation => CaseDocKind::EvidencePreservation,
                MeasureKind::OnSiteMeasures => CaseDocKind::OnSiteMeasures,
            };
            let n = number(doc, s, now);
            (
                C::AddMeasure {
                    measure: OnSiteMeasure {
                        id: format!("m-{}", s.c % 2),
                        kind,
                        number: n.text.clone(),
                        at: now,
                        items: vec!["台账".into()],
                        basis: vec![],
                        outcome: None,
                    },
                    number: n,
                },
                0,
            )
        }
        6 => (
            C::ResolvePreservation {
                measure: format!("m-{}", s.c % 2),
                outcome: PreservationOutcome {
                    on: now.shanghai_date(),
                    decision: "解除".into(),
                },
            },
            0,
        ),
        7 => (
            C::ProposePenalty {
                circumstance: format!("97-{}", s.a % 3 + 1),
                penalty: Penalty {
                    fine_yuan: if s.guided {
                        [30_000, 40_000, 80_000][usize::from(s.a % 3)]
                    } else {
                        FINES[usize::from(s.b)]
                    },
                    other: Default::default(),
                },
                reasons: String::new(),
            },
            0,
        ),
        8 => (
            C::Notify {
                number: number(CaseDocKind::Notice, s, now),
            },
            0,
        ),
        9 => {
            let choice = if s.guided {
                match case.stage {
                    CaseStage::Notified => 0,
                    _ => 1,
                }
            } else {
                s.a % 3
            };
            let document = match choice {
                0 => case.notice().map(|n| n.number.clone()).unwrap_or_default(),
                1 => case
                    .decision
                    .as_ref()
                    .map(|d| d.number.clone())
                    .unwrap_or_default(),
                _ => doc_of(CaseDocKind::EvidencePreservation),
            };
            let method = match s.c % 3 {
                0 => CaseServiceMethod::Left {
                    recipient: "李明".into(),
                    witness: String::new(),
                    reason: "拒收".into(),
                },
                _ => direct(),
            };
            (
                C::RecordService {
                    document,
                    method,
                    at: Timestamp(now.0 - i64::from(s.b) * 60_000),
                    number: number(CaseDocKind::ServiceReceipt, s, now),
                },
                0,
            )
        }
        10 => (
            C::RecordStatement {
                speaker: "李明".into(),
                text: "陈述".into(),
                review: String::new(),
                number: number(CaseDocKind::Statement, s, now),
            },
            1,
        ),
        11 => (
            C::Waive {
                speaker: "李明".into(),
                statement: s.a.is_multiple_of(2),
                hearing: s.b.is_multiple_of(2),
            },
            0,
        ),
        12 => (
            C::RequestHearing {
                by: "李明".into()
            },
            0,
        ),
        13 => (
            C::RecordHearing {
                host: if s.a == 0 {
                    li().id
                } else {
                    UserId::from("sun")
                },
                host_name: "孙".into(),
                place: "听证室".into(),
                summary: "听证".into(),
                number: number(CaseDocKind::Hearing, s, now),
            },
            0,
        ),
        14 => (C::SubmitLegalReview, 0),
        15 => (
            C::RecordLegalReview {
                opinion: match s.a % 3 {
                    0 => ReviewOpinion::Supplement,
                    _ => ReviewOpinion::Agree,
                },
                text: "意见".into(),
                number: number(CaseDocKind::LegalReview, s, now),
            },
            3,
        ),
        16 => (
            C::Decide {
                penalty: Penalty {
                    fine_yuan: match case.notice() {
                        Some(n) if s.guided => n.proposal.penalty.fine_yuan,
                        _ => FINES[usize::from(s.a)],
                    },
                    other: if s.c == 0 && !s.guided {
                        [OtherPenalty::SuspendProduction].into()
                    } else {
                        Default::default()
                    },
                },
                number: number(CaseDocKind::Decision, s, now),
            },
            2,
        ),
        17 => (
            C::RecordPublication {
                on: now.shanghai_date(),
                channel: "网站".into(),
            },
            2,
        ),
        18 => (
            C::RecordPayment {
                on: now.shanghai_date(),
                amount_yuan: match &case.decision {
                    Some(d) if s.guided => d.penalty.fine_yuan.saturating_sub(case.paid()),
                    _ => FINES[usize::from(s.a)],
                },
                receipt: "r".into(),
            },
            0,
        ),
        19 => (
            C::RecordExecution {
                on: now.shanghai_date(),
                note: "已执行".into(),
            },
            0,
        ),
        20 => (
            C::Close {
                number: number(CaseDocKind::ClosingApproval, s, now),
                comment: String::new(),
            },
            2,
        ),
        21 => (
            C::MarkMajor {
                reason: MajorReason::Complex,
            },
            2,
        ),
        _ => (
            C::ScheduleHearing {
                at: Timestamp(now.0 + i64::from(s.a) * 2 * 24 * 3_600_000),
                place: "听证室".into(),
                host: if s.b == 0 {
                    li().id
                } else {
                    UserId::from("sun")
                },
                host_name: "孙".into(),
            },
            0,
        ),
    }
}

fn edge_allowed(from: CaseStage, to: CaseStage) -> bool {
    use CaseStage::*;
    from == to
        || matches!(
            (from, to),
            (Opened, Investigating)
                | (Investigating, Notified)
                | (Notified, Defence)
                | (Notified | Defence, LegalReview)
                | (LegalReview, Investigating)
                | (Notified | Defence | LegalReview, Decided)
                | (Decided, Served)
                | (Served, Executing)
                | (Executing, Closed)
        )
}

fn check_invariants(case: &PenaltyCase, w: &World) {
    assert!(case.inspectors.len() >= 2);
    for (n, d) in &case.documents {
        assert_eq!(n, &d.number);
        assert!(d.verify(), "{n}");
        assert!(d.number.contains(d.kind.code()), "{n}");
        assert!(!matches!(d.content, CaseDocument::Missing { .. }), "{n}");
    }
    if let Some(d) = &case.decision {
        let n = case.notice().expect("a decision follows a notice");
        let served = n.served_on.expect("the notice was served");
        let day = d.at.shanghai_date();
        assert!(day >= served);
        if let Some(end) = n.statement_ends {
            assert!(day > end || n.waiver.as_ref().is_some_and(|w| w.statement));
        }
        if let Some(h) = &n.hearing {
            assert!(
                h.held.is_some(),
                "a requested hearing is held before the decision"
            );
            assert!(
                n.legal_review
                    .as_ref()
                    .is_some_and(|r| r.opinion == ReviewOpinion::Agree)
            );
        }
        assert!(!d.penalty.heavier_than(&n.proposal.penalty));
    }
    if case.stage == CaseStage::Closed {
        let d = case.decision.as_ref().unwrap();
        assert!(case.paid() >= d.penalty.fine_yuan);
    }
    let _ = case_deadlines(case, &w.settings, &w.calendar, Day::ymd(2027, 1, 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_commands_keep_every_rule(steps in prop::collection::vec(step(), 1..80)) {
        let w = World::new();
        let mut case = opened(&w);
        let people = actors();
        let mut now = at(0, 1);
        for s in &steps {
            now = Timestamp(now.0 + i64::from(s.minutes) * 60_000);
            let mut s = s.clone();
            if s.guided {
                let onward = onward(case.stage);
                s.template = onward[usize::from(s.pick) % onward.len()];
            }
            let (c, natural) = command(&s, &case, now);
            let actor = if s.natural_actor { &people[natural] } else { &people[usize::from(s.actor)] };
            let before = case.clone();
            match case.apply(&c, &w.cx(actor, now)) {
                Ok(()) => {
                    prop_assert!(edge_allowed(before.stage, case.stage),
                        "{:?} → {:?} by {}", before.stage, case.stage, c.name());
                }
                Err(_) => prop_assert_eq!(&case, &before),
            }
            check_invariants(&case, &w);
        }
        let json = serde_json::to_string(&case).unwrap();
        prop_assert_eq!(serde_json::from_str::<PenaltyCase>(&json).unwrap(), case);
    }
}
