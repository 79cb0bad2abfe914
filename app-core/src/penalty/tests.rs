//! The penalty case's rules, one test (at least) per rule.

use super::*;
use crate::checklist::ChecklistTemplate;
use crate::evidence::Sha256Hex;
use crate::forms::findings;
use crate::geo::{Day, Timestamp};
use crate::ids::{DeviceId, UserId};
use crate::inspection::{Answer, SignOutcome};
use crate::kind::InspectionKind;
use crate::legal::LegalBasis;
use crate::messages::Lang;
use crate::test_support::{T0, inspector_ref, li, new_record, supervisor, wang};
use crate::user::{Role, User};

/// Test data, not a citation the product makes: the provision is marked 依据待核.
const TABLE: &str = r#"
id = "xw-2026"
version = 1
published = "2026-11-01"

[[provision]]
basis = "《安全生产法》第九十七条（依据待核）"
violation = "未按照规定对从业人员进行安全生产教育和培训"
fine_min = 0
fine_max = 100000

[[row]]
code = "97-1"
basis = "《安全生产法》第九十七条（依据待核）"
circumstance = "首次发现，涉及从业人员3人以下"
grade = "lighter"
fine_min = 10000
fine_max = 30000
other = ["warning"]

[[row]]
code = "97-2"
basis = "《安全生产法》第九十七条（依据待核）"
circumstance = "涉及从业人员4人至10人"
grade = "ordinary"
fine_min = 30000
fine_max = 60000

[[row]]
code = "97-3"
basis = "《安全生产法》第九十七条（依据待核）"
circumstance = "涉及从业人员10人以上，或拒不改正"
grade = "heavier"
fine_min = 60000
fine_max = 100000
other = ["suspend_production"]
"#;

pub(super) fn qian() -> User {
    User {
        id: UserId::from("qian"),
        name: "钱主任".into(),
        unit: "xw".into(),
        role: Role::Supervisor,
    }
}

pub(super) fn zhao() -> User {
    supervisor()
}

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

/// `days` days and `minutes` minutes after T0 (2026-11-23 08:00 Shanghai, a Monday).
pub(super) fn at(days: i64, minutes: i64) -> Timestamp {
    Timestamp(T0.0 + days * DAY + minutes * MIN)
}

pub(super) fn num(kind: CaseDocKind, seq: u32) -> IssuedNumber {
    IssuedNumber::new("玄武", kind, 2026, seq, DeviceId::from("tab-1"))
}

pub(super) struct World {
    pub(super) settings: PenaltySettings,
    pub(super) calendar: WorkCalendar,
    pub(super) table: DiscretionTable,
}

impl World {
    pub(super) fn new() -> Self {
        Self {
            settings: PenaltySettings::default(),
            calendar: WorkCalendar::default(),
            table: DiscretionTable::parse_toml(TABLE).expect("test table is valid"),
        }
    }

    pub(super) fn cx<'a>(&'a self, actor: &'a User, now: Timestamp) -> CaseContext<'a> {
        CaseContext {
            actor,
            now,
            settings: &self.settings,
            calendar: &self.calendar,
            discretion: Some(&self.table),
        }
    }

    pub(super) fn run(
        &self,
        case: &mut PenaltyCase,
        actor: &User,
        now: Timestamp,
        c: CaseCommand,
    ) -> Result<(), CaseError> {
        case.apply(&c, &self.cx(actor, now))
    }

    /// Runs `c` and requires it to be refused with `e`, leaving the case unchanged.
    fn refused(
        &self,
        case: &PenaltyCase,
        actor: &User,
        now: Timestamp,
        c: CaseCommand,
        e: CaseError,
    ) {
        let mut copy = case.clone();
        assert_eq!(self.run(&mut copy, actor, now, c), Err(e));
        assert_eq!(&copy, case, "a refused command leaves the case unchanged");
    }
}

/// The shared test template, with T-02's 处罚依据 (marked 依据待核: test data).
fn template() -> ChecklistTemplate {
    let mut t = crate::test_support::template();
    let t02 = t
        .categories
        .iter_mut()
        .flat_map(|c| c.items.iter_mut())
        .find(|i| i.code.as_str() == "T-02")
        .expect("the test template has T-02");
    t02.penalty = vec![LegalBasis::new("安全生产法", "第九十七条").pending()];
    t
}

/// The opening of a case from the record's failed T-02.
fn open_from_finding() -> OpenCase {
    let t = template();
    let mut r = new_record(InspectionKind::Routine);
    r.template = t.reference();
    let res = r.results.entry("T-02".into()).or_default();
    res.answer = Some(Answer::Fails);
    res.note = "3名新员工未经培训上岗".into();
    let f = findings(&r, &t);
    assert_eq!(f.len(), 1);
    OpenCase::from_finding(
        CaseId::from("case-1"),
        &r,
        &f[0],
        vec![inspector_ref(&wang()), inspector_ref(&li())],
    )
}

pub(super) fn opened(w: &World) -> PenaltyCase {
    PenaltyCase::open(open_from_finding(), &w.cx(&wang(), at(0, 0))).unwrap()
}

pub(super) fn interview(
    id: &str,
    seq: u32,
    pages: usize,
    ended: Timestamp,
) -> (Interview, IssuedNumber) {
    let number = num(CaseDocKind::Interview, seq);
    let page = InterviewPage {
        lines: vec![QuestionAnswer {
            question: "新员工上岗前是否经过安全培训？".into(),
            answer: "没有。".into(),
        }],
        signatures: Default::default(),
    };
    (
        Interview {
            id: id.into(),
            number: number.text.clone(),
            interviewee: Interviewee {
                name: "张三".into(),
                position: "安全管理员".into(),
                id_number: String::new(),
                phone: String::new(),
            },
            place: "企业会议室".into(),
            started_at: Timestamp(ended.0 - 30 * MIN),
            ended_at: ended,
            asked_by: wang().id,
            recorded_by: li().id,
            pages: vec![page; pages],
        },
        number,
    )
}

pub(super) fn signed(signer: PageSigner) -> PageSignature {
    PageSignature {
        signer,
        outcome: SignOutcome::Signed {
            image: Sha256Hex::of(b"signature"),
        },
        at: Timestamp(0),
    }
}

fn sign_all(w: &World, case: &mut PenaltyCase, id: &str, pages: usize, now: Timestamp) {
    for page in 0..pages {
        for s in [
            PageSigner::Interviewee,
            PageSigner::Inspector(wang().id),
            PageSigner::Inspector(li().id),
        ] {
            let c = CaseCommand::SignInterviewPage {
                interview: id.into(),
                page,
                signature: signed(s),
            };
            w.run(case, &wang(), now, c).unwrap();
        }
    }
}

pub(super) fn video(now: Timestamp, by: &User) -> MediaEvidence {
    MediaEvidence {
        sha256: Sha256Hex::of(b"video"),
        size: 1_073_741_824,
        kind: MediaKind::Video,
        mime: "video/mp4".into(),
        source: MediaSource::BodyCamera {
            camera: "DSJ-0042".into(),
            imported_at: Timestamp(now.0 - MIN),
            imported_on: DeviceId::from("tab-1"),
        },
        captured_at: Timestamp(now.0 - 60 * MIN),
        added_at: now,
        added_by: by.id.clone(),
        note: "执法记录仪全程录像".into(),
    }
}

pub(super) fn propose(circumstance: &str, fine: u64) -> CaseCommand {
    CaseCommand::ProposePenalty {
        circumstance: circumstance.into(),
        penalty: Penalty {
            fine_yuan: fine,
            other: Default::default(),
        },
        reasons: "情节一般".into(),
    }
}

pub(super) fn fine(fine_yuan: u64) -> Penalty {
    Penalty {
        fine_yuan,
        other: Default::default(),
    }
}

pub(super) fn direct() -> CaseServiceMethod {
    CaseServiceMethod::Direct {
        recipient: "李明".into(),
    }
}

/// A case investigated (filing approved, an interview signed, a video) with a proposed fine
/// of `amount` (row 97-2 or 97-3), at day 0.
pub(super) fn investigated(w: &World, row: &str, amount: u64) -> PenaltyCase {
    let mut c = opened(w);
    w.run(
        &mut c,
        &zhao(),
        at(0, 10),
        CaseCommand::ApproveFiling {
            number: num(CaseDocKind::FilingApproval, 1),
            comment: "同意立案".into(),
        },
    )
    .unwrap();
    let (i, n) = interview("iv-1", 1, 2, at(0, 60));
    w.run(
        &mut c,
        &li(),
        at(0, 70),
        CaseCommand::AddInterview {
            interview: i,
            number: n,
        },
    )
    .unwrap();
    sign_all(w, &mut c, "iv-1", 2, at(0, 80));
    w.run(
        &mut c,
        &wang(),
        at(0, 90),
        CaseCommand::AddMedia(video(at(0, 90), &wang())),
    )
    .unwrap();
    w.run(&mut c, &wang(), at(0, 100), propose(row, amount))
        .unwrap();
    c
}

/// Notified at day 0, 2 h, and the notice served directly at day 0, 3 h.
fn notified(w: &World, row: &str, amount: u64) -> PenaltyCase {
    let mut c = investigated(w, row, amount);
    w.run(
        &mut c,
        &wang(),
        at(0, 120),
        CaseCommand::Notify {
            number: num(CaseDocKind::Notice, 1),
        },
    )
    .unwrap();
    w.run(
        &mut c,
        &wang(),
        at(0, 180),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Notice, 1).text,
            method: direct(),
            at: at(0, 170),
            number: num(CaseDocKind::ServiceReceipt, 1),
        },
    )
    .unwrap();
    c
}

// ---------------------------------------------------------------------------------------
// The legal path

#[test]
fn a_case_runs_from_a_failed_item_to_closing() {
    let w = World::new();
    let mut c = opened(&w);
    assert_eq!(c.stage, CaseStage::Opened);
    // The item's provisions, the pending mark kept.
    assert_eq!(
        c.violated,
        vec![LegalBasis::new("安全生产法", "第二十八条")]
    );
    assert_eq!(
        c.penalty_basis,
        vec![LegalBasis::new("安全生产法", "第九十七条").pending()]
    );
    assert!(c.facts.contains("3名新员工未经培训上岗"));
    assert!(
        matches!(&c.source, CaseSource::Inspection { item: Some(i), .. } if i.as_str() == "T-02")
    );

    w.run(
        &mut c,
        &zhao(),
        at(0, 10),
        CaseCommand::ApproveFiling {
            number: num(CaseDocKind::FilingApproval, 1),
            comment: "同意立案".into(),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Investigating);
    assert_eq!(c.opened_on(), Some(Day::ymd(2026, 11, 23)));

    let (i, n) = interview("iv-1", 1, 2, at(0, 60));
    w.run(
        &mut c,
        &li(),
        at(0, 70),
        CaseCommand::AddInterview {
            interview: i,
            number: n,
        },
    )
    .unwrap();
    // The interviewee refuses to sign page 2, before a witness.
    for page in 0..2 {
        let interviewee = if page == 0 {
            signed(PageSigner::Interviewee)
        } else {
            PageSignature {
                signer: PageSigner::Interviewee,
                outcome: SignOutcome::Refused {
                    witness: "王五（村委会）".into(),
                    note: "称需请示老板".into(),
                },
                at: Timestamp(0),
            }
        };
        for s in [
            interviewee,
            signed(PageSigner::Inspector(wang().id)),
            signed(PageSigner::Inspector(li().id)),
        ] {
            assert!(!c.interviews["iv-1"].is_signed());
            w.run(
                &mut c,
                &li(),
                at(0, 80),
                CaseCommand::SignInterviewPage {
                    interview: "iv-1".into(),
                    page,
                    signature: s,
                },
            )
            .unwrap();
        }
    }
    assert!(c.interviews["iv-1"].is_signed());
    let iv_doc = &c.documents[&num(CaseDocKind::Interview, 1).text];
    let CaseDocument::Interview(content) = &iv_doc.content else {
        panic!("an interview record")
    };
    assert_eq!(content.pages.len(), 2);
    assert_eq!(content.pages[1].signatures.len(), 3);
    assert!(
        content.pages[1].signatures[0]
            .refusal
            .as_deref()
            .unwrap()
            .contains("王五")
    );

    w.run(
        &mut c,
        &wang(),
        at(0, 90),
        CaseCommand::AddMedia(video(at(0, 90), &wang())),
    )
    .unwrap();
    w.run(
        &mut c,
        &wang(),
        at(0, 95),
        CaseCommand::AddMeasure {
            measure: OnSiteMeasure {
                id: "m-1".into(),
                kind: MeasureKind::EvidencePreservation,
                number: num(CaseDocKind::EvidencePreservation, 1).text,
                at: Timestamp(0),
                items: vec!["培训记录台账1本（会议室）".into()],
                basis: vec![],
                outcome: None,
            },
            number: num(CaseDocKind::EvidencePreservation, 1),
        },
    )
    .unwrap();
    // The notice waits for the preserved evidence to be decided on.
    w.run(&mut c, &wang(), at(0, 100), propose("97-2", 40_000))
        .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 110),
        CaseCommand::Notify {
            number: num(CaseDocKind::Notice, 1),
        },
        CaseError::PreservationUndecided("m-1".into()),
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 115),
        CaseCommand::ResolvePreservation {
            measure: "m-1".into(),
            outcome: PreservationOutcome {
                on: Day::ymd(2026, 11, 23),
                decision: "解除登记保存，退还企业".into(),
            },
        },
    )
    .unwrap();
    w.run(
        &mut c,
        &wang(),
        at(0, 120),
        CaseCommand::Notify {
            number: num(CaseDocKind::Notice, 1),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Notified);
    assert!(
        !c.notice().unwrap().hearing_right,
        "40,000 is below the threshold"
    );

    // No decision before the notice is served, nor before its statement period ends.
    let decide = |n: u32, amount: u64| CaseCommand::Decide {
        penalty: fine(amount),
        number: num(CaseDocKind::Decision, n),
    };
    w.refused(
        &c,
        &zhao(),
        at(0, 130),
        decide(1, 40_000),
        CaseError::NoticeNotServed,
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 180),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Notice, 1).text,
            method: direct(),
            at: at(0, 170),
            number: num(CaseDocKind::ServiceReceipt, 1),
        },
    )
    .unwrap();
    // Served Monday 23 November: 3 working days → Thursday 26 November.
    assert_eq!(
        c.notice().unwrap().statement_ends,
        Some(Day::ymd(2026, 11, 26))
    );
    assert_eq!(c.notice().unwrap().hearing_ends, None);
    w.refused(
        &c,
        &zhao(),
        at(3, 0),
        decide(1, 40_000),
        CaseError::StatementPeriodRunning(Day::ymd(2026, 11, 26)),
    );
    w.run(
        &mut c,
        &wang(),
        at(1, 0),
        CaseCommand::RecordStatement {
            speaker: "李明（法定代表人）".into(),
            text: "已安排补训，请求从轻处罚".into(),
            review: "补训属实，但违法事实清楚，维持拟处罚".into(),
            number: num(CaseDocKind::Statement, 1),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Defence);
    // Heavier than noticed is refused; the noticed fine is not.
    w.refused(
        &c,
        &zhao(),
        at(4, 0),
        decide(1, 45_000),
        CaseError::HeavierThanNoticed,
    );
    w.refused(
        &c,
        &wang(),
        at(4, 0),
        decide(1, 40_000),
        CaseError::NotSupervisor,
    );
    w.run(&mut c, &zhao(), at(4, 0), decide(1, 40_000)).unwrap();
    assert_eq!(c.stage, CaseStage::Decided);

    w.run(
        &mut c,
        &wang(),
        at(4, 60),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Decision, 1).text,
            method: CaseServiceMethod::Left {
                recipient: "李明".into(),
                witness: "王五（村委会）".into(),
                reason: "拒绝签收".into(),
            },
            at: at(4, 30),
            number: num(CaseDocKind::ServiceReceipt, 2),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Served);
    let d = c.decision.as_ref().unwrap();
    assert_eq!(d.served_on, Some(Day::ymd(2026, 11, 27)));
    assert_eq!(d.payment_due, Some(Day::ymd(2026, 12, 12)));

    w.run(
        &mut c,
        &zhao(),
        at(5, 0),
        CaseCommand::RecordPublication {
            on: Day::ymd(2026, 11, 28),
            channel: "区政府网站 行政执法公示".into(),
        },
    )
    .unwrap();
    w.run(
        &mut c,
        &wang(),
        at(6, 0),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 29),
            amount_yuan: 15_000,
            receipt: "NO.0001".into(),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Executing);
    let close = |n| CaseCommand::Close {
        number: num(CaseDocKind::ClosingApproval, n),
        comment: "同意结案".into(),
    };
    w.refused(
        &c,
        &zhao(),
        at(7, 0),
        close(1),
        CaseError::FineOutstanding {
            paid: 15_000,
            fine: 40_000,
        },
    );
    w.refused(
        &c,
        &wang(),
        at(7, 0),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 30),
            amount_yuan: 30_000,
            receipt: "NO.0002".into(),
        },
        CaseError::Overpaid { owed: 25_000 },
    );
    w.run(
        &mut c,
        &wang(),
        at(7, 0),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 30),
            amount_yuan: 25_000,
            receipt: "NO.0002".into(),
        },
    )
    .unwrap();
    w.refused(&c, &wang(), at(8, 0), close(1), CaseError::NotSupervisor);
    w.run(&mut c, &zhao(), at(8, 0), close(1)).unwrap();
    assert_eq!(c.stage, CaseStage::Closed);

    // Every document, numbered and frozen, in the order of a case file.
    let mut kinds: Vec<CaseDocKind> = c.documents.values().map(|d| d.kind).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            CaseDocKind::FilingApproval,
            CaseDocKind::Interview,
            CaseDocKind::EvidencePreservation,
            CaseDocKind::Notice,
            CaseDocKind::Statement,
            CaseDocKind::Decision,
            CaseDocKind::ServiceReceipt,
            CaseDocKind::ServiceReceipt,
            CaseDocKind::ClosingApproval,
        ]
    );
    for d in c.documents.values() {
        assert!(d.verify(), "{}", d.number);
        assert!(
            !matches!(d.content, CaseDocument::Missing { .. }),
            "{}",
            d.number
        );
    }
    let CaseDocument::Decision(dc) = &c.documents[&num(CaseDocKind::Decision, 1).text].content
    else {
        panic!("a decision")
    };
    assert_eq!(dc.penalty.zh(), "罚款人民币40000元");
    assert_eq!(dc.circumstance, "涉及从业人员4人至10人");
    assert!(dc.defence[0].contains("请求从轻处罚"));
    assert!(dc.evidence.iter().any(|e| e == "视频1份"));
    let CaseDocument::ClosingApproval(cc) =
        &c.documents[&num(CaseDocKind::ClosingApproval, 1).text].content
    else {
        panic!("a closing approval")
    };
    assert_eq!(cc.paid_yuan, 40_000);
    assert_eq!(cc.published, Some(Day::ymd(2026, 11, 28)));

    // Nothing moves a closed case.
    w.refused(
        &c,
        &wang(),
        at(9, 0),
        CaseCommand::RecordExecution {
            on: Day::ymd(2026, 12, 2),
            note: "x".into(),
        },
        CaseError::WrongStage {
            action: "record_execution",
            stage: CaseStage::Closed,
        },
    );

    // The case file's order: each 送达回证 after the document it served.
    let order: Vec<CaseDocKind> = c.documents_in_file_order().iter().map(|d| d.kind).collect();
    assert_eq!(
        order,
        vec![
            CaseDocKind::FilingApproval,
            CaseDocKind::Interview,
            CaseDocKind::EvidencePreservation,
            CaseDocKind::Notice,
            CaseDocKind::ServiceReceipt,
            CaseDocKind::Statement,
            CaseDocKind::Decision,
            CaseDocKind::ServiceReceipt,
            CaseDocKind::ClosingApproval,
        ]
    );

    // The case reads back from its JSON exactly.
    let json = serde_json::to_string(&c).unwrap();
    let back: PenaltyCase = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);

    // Its deadlines are all met.
    let ds = case_deadlines(&c, &w.settings, &w.calendar, Day::ymd(2026, 12, 1));
    assert!(ds.iter().all(|d| d.state == DeadlineState::Met), "{ds:?}");
}

#[test]
fn a_major_case_is_heard_and_reviewed_before_its_decision() {
    let w = World::new();
    let mut c = notified(&w, "97-3", 80_000);
    let n = c.notice().unwrap();
    assert!(n.hearing_right, "80,000 reaches the 50,000 threshold");
    // Served Monday 23 November: 5 working days → Monday 30 November.
    assert_eq!(n.hearing_ends, Some(Day::ymd(2026, 11, 30)));
    w.run(
        &mut c,
        &wang(),
        at(1, 0),
        CaseCommand::RequestHearing {
            by: "李明".into()
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Defence);
    w.refused(
        &c,
        &wang(),
        at(1, 10),
        CaseCommand::RequestHearing {
            by: "李明".into()
        },
        CaseError::HearingAlreadyRequested,
    );
    w.refused(
        &c,
        &wang(),
        at(8, 0),
        CaseCommand::SubmitLegalReview,
        CaseError::HearingNotHeld,
    );
    let hearing = |host: UserId| CaseCommand::RecordHearing {
        host,
        host_name: "孙主持".into(),
        place: "局听证室".into(),
        summary: "当事人对事实无异议，对罚款数额有异议".into(),
        number: num(CaseDocKind::Hearing, 1),
    };
    w.refused(
        &c,
        &wang(),
        at(8, 0),
        hearing(li().id),
        CaseError::HostIsInvestigator(li().id),
    );
    w.refused(
        &c,
        &wang(),
        at(8, 0),
        hearing(UserId::from("sun")),
        CaseError::HearingNotScheduled,
    );
    let schedule = |when| CaseCommand::ScheduleHearing {
        at: when,
        place: "局听证室".into(),
        host: UserId::from("sun"),
        host_name: "孙主持".into(),
    };
    // Told on Tuesday 24 November: the hearing is 1 December at the earliest (七日前).
    w.refused(
        &c,
        &wang(),
        at(1, 10),
        schedule(at(7, 0)),
        CaseError::HearingNoticeTooShort {
            earliest: Day::ymd(2026, 12, 1),
        },
    );
    w.run(&mut c, &wang(), at(1, 10), schedule(at(8, 0)))
        .unwrap();
    w.refused(
        &c,
        &wang(),
        at(7, 0),
        hearing(UserId::from("sun")),
        CaseError::HearingNotYet,
    );
    w.run(&mut c, &wang(), at(8, 0), hearing(UserId::from("sun")))
        .unwrap();
    assert!(c.is_major(&w.settings), "a hearing was held (第五十八条)");
    let decide = CaseCommand::Decide {
        penalty: fine(80_000),
        number: num(CaseDocKind::Decision, 1),
    };
    w.refused(
        &c,
        &zhao(),
        at(8, 10),
        decide.clone(),
        CaseError::MajorNeedsLegalReview,
    );
    w.run(&mut c, &wang(), at(8, 20), CaseCommand::SubmitLegalReview)
        .unwrap();
    assert_eq!(c.stage, CaseStage::LegalReview);
    w.refused(
        &c,
        &zhao(),
        at(8, 30),
        decide.clone(),
        CaseError::LegalReviewNotAgreed,
    );
    let review = |opinion| CaseCommand::RecordLegalReview {
        opinion,
        text: "事实清楚，证据充分，裁量适当".into(),
        number: num(CaseDocKind::LegalReview, 1),
    };
    w.refused(
        &c,
        &wang(),
        at(9, 0),
        review(ReviewOpinion::Agree),
        CaseError::NotSupervisor,
    );
    w.run(&mut c, &qian(), at(9, 0), review(ReviewOpinion::Agree))
        .unwrap();
    w.refused(
        &c,
        &qian(),
        at(9, 5),
        review(ReviewOpinion::Agree),
        CaseError::AlreadyReviewed,
    );
    // A lighter decision than noticed is allowed, within the circumstance's range.
    w.refused(
        &c,
        &zhao(),
        at(9, 10),
        CaseCommand::Decide {
            penalty: fine(50_000),
            number: num(CaseDocKind::Decision, 1),
        },
        CaseError::FineOutsideRange {
            fine: 50_000,
            min: 60_000,
            max: 100_000,
        },
    );
    w.run(
        &mut c,
        &zhao(),
        at(9, 10),
        CaseCommand::Decide {
            penalty: fine(70_000),
            number: num(CaseDocKind::Decision, 1),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Decided);
    assert!(c.documents.values().any(|d| d.kind == CaseDocKind::Hearing));
    assert!(
        c.documents
            .values()
            .any(|d| d.kind == CaseDocKind::LegalReview)
    );
}

#[test]
fn a_legal_review_can_send_the_case_back_for_a_new_notice() {
    let w = World::new();
    let mut c = notified(&w, "97-2", 40_000);
    w.run(
        &mut c,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: true,
            hearing: false,
        },
    )
    .unwrap();
    // Waived: no need to wait for the period.
    w.run(&mut c, &wang(), at(0, 210), CaseCommand::SubmitLegalReview)
        .unwrap();
    w.run(
        &mut c,
        &qian(),
        at(0, 220),
        CaseCommand::RecordLegalReview {
            opinion: ReviewOpinion::Supplement,
            text: "培训人数证据不足，建议补充调查".into(),
            number: num(CaseDocKind::LegalReview, 1),
        },
    )
    .unwrap();
    assert_eq!(c.stage, CaseStage::Investigating);
    w.run(&mut c, &wang(), at(1, 0), propose("97-2", 35_000))
        .unwrap();
    w.run(
        &mut c,
        &wang(),
        at(1, 10),
        CaseCommand::Notify {
            number: num(CaseDocKind::Notice, 2),
        },
    )
    .unwrap();
    assert_eq!(c.notices.len(), 2);
    assert!(
        c.notice().unwrap().served_on.is_none(),
        "a new notice starts afresh"
    );
}

#[test]
fn a_waiver_lets_the_decision_come_before_the_periods_end() {
    let w = World::new();
    let mut c = notified(&w, "97-3", 80_000);
    w.refused(
        &c,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: false,
            hearing: false,
        },
        CaseError::EmptyWaiver,
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: true,
            hearing: false,
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 210),
        CaseCommand::SubmitLegalReview,
        CaseError::HearingPeriodRunning(Day::ymd(2026, 11, 30)),
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 220),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: false,
            hearing: true,
        },
    )
    .unwrap();
    let waiver = c.notice().unwrap().waiver.clone().unwrap();
    assert!(waiver.statement && waiver.hearing, "waivers add up");
    w.refused(
        &c,
        &wang(),
        at(0, 230),
        CaseCommand::RequestHearing {
            by: "李明".into()
        },
        CaseError::HearingPeriodOver(Day::ymd(2026, 11, 30)),
    );
    // Not major (no hearing held, no reason, no fine threshold set): decided at once.
    w.run(
        &mut c,
        &zhao(),
        at(0, 240),
        CaseCommand::Decide {
            penalty: fine(80_000),
            number: num(CaseDocKind::Decision, 1),
        },
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// Each rule refused with its error

#[test]
fn opening_needs_two_inspectors_the_provisions_and_facts_and_an_opener_on_the_case() {
    let w = World::new();
    let opener = wang();
    let cx = w.cx(&opener, at(0, 0));
    let mut one = open_from_finding();
    one.inspectors.truncate(1);
    assert_eq!(
        PenaltyCase::open(one, &cx),
        Err(CaseError::FewerThanTwoInspectors(1))
    );
    let mut twice = open_from_finding();
    twice.inspectors[1] = inspector_ref(&wang());
    assert_eq!(
        PenaltyCase::open(twice, &cx),
        Err(CaseError::DuplicateInspector(wang().id))
    );
    let mut no_basis = open_from_finding();
    no_basis.penalty_basis.clear();
    assert_eq!(
        PenaltyCase::open(no_basis, &cx),
        Err(CaseError::NoPenaltyProvision)
    );
    let mut no_violated = open_from_finding();
    no_violated.violated.clear();
    assert_eq!(
        PenaltyCase::open(no_violated, &cx),
        Err(CaseError::NoViolatedProvision)
    );
    let mut no_facts = open_from_finding();
    no_facts.facts = "  ".into();
    assert_eq!(PenaltyCase::open(no_facts, &cx), Err(CaseError::NoFacts));
    let other = crate::test_support::inspector("chen", "陈");
    assert_eq!(
        PenaltyCase::open(open_from_finding(), &w.cx(&other, at(0, 0))),
        Err(CaseError::NotOnCase(other.id.clone()))
    );
    assert_eq!(
        PenaltyCase::open(open_from_finding(), &w.cx(&zhao(), at(0, 0))),
        Err(CaseError::NotOnCase(zhao().id))
    );
}

#[test]
fn a_case_opens_from_a_complaint_or_a_referral() {
    let w = World::new();
    let base = open_from_finding();
    for (source, text) in [
        (
            CaseSource::Complaint {
                reference: "12345热线 No.88".into(),
                received_on: Day::ymd(2026, 11, 20),
            },
            "投诉举报（12345热线 No.88，2026-11-20 收到）",
        ),
        (
            CaseSource::Referral {
                from: "区市场监管局".into(),
                reference: "移字〔2026〕3号".into(),
                received_on: Day::ymd(2026, 11, 21),
            },
            "区市场监管局移送（移字〔2026〕3号，2026-11-21 收到）",
        ),
    ] {
        let mut c = PenaltyCase::open(
            OpenCase {
                source,
                ..base.clone()
            },
            &w.cx(&li(), at(0, 0)),
        )
        .unwrap();
        w.run(
            &mut c,
            &zhao(),
            at(0, 10),
            CaseCommand::ApproveFiling {
                number: num(CaseDocKind::FilingApproval, 1),
                comment: "同意".into(),
            },
        )
        .unwrap();
        let CaseDocument::FilingApproval(f) =
            &c.documents[&num(CaseDocKind::FilingApproval, 1).text].content
        else {
            panic!("a filing approval")
        };
        assert_eq!(f.source, text);
        assert_eq!(f.officers.len(), 2);
        assert_eq!(f.approver, "赵科长");
        assert_eq!(
            f.penalty_basis[0].to_string(),
            "《安全生产法》第九十七条（依据待核）"
        );
    }
}

#[test]
fn filing_is_approved_by_a_supervisor_with_a_proper_number() {
    let w = World::new();
    let c = opened(&w);
    let approve = |number| CaseCommand::ApproveFiling {
        number,
        comment: "同意".into(),
    };
    let n = num(CaseDocKind::FilingApproval, 1);
    w.refused(
        &c,
        &wang(),
        at(0, 5),
        approve(n.clone()),
        CaseError::NotSupervisor,
    );
    // A supervisor who is also on the case may not approve it.
    let mut c2 = c.clone();
    let boss = User {
        id: wang().id,
        name: "王强".into(),
        unit: "xw".into(),
        role: Role::Supervisor,
    };
    w.refused(
        &c2,
        &boss,
        at(0, 5),
        approve(n.clone()),
        CaseError::ApproverOnCase(wang().id),
    );
    // The wrong kind, the wrong year, a malformed text.
    let wrong_kind = num(CaseDocKind::Notice, 1);
    w.refused(
        &c,
        &zhao(),
        at(0, 5),
        approve(wrong_kind.clone()),
        CaseError::BadNumber {
            number: wrong_kind.text,
            code: "立审",
            year: 2026,
        },
    );
    let last_year = IssuedNumber::new(
        "玄武",
        CaseDocKind::FilingApproval,
        2025,
        9,
        DeviceId::from("t"),
    );
    assert!(matches!(
        c.clone()
            .apply(&approve(last_year), &w.cx(&zhao(), at(0, 5))),
        Err(CaseError::BadNumber { .. })
    ));
    let mut forged = n.clone();
    forged.text = "应急立审〔2026〕1号".into();
    assert!(matches!(
        c.clone().apply(&approve(forged), &w.cx(&zhao(), at(0, 5))),
        Err(CaseError::BadNumber { .. })
    ));
    w.run(&mut c2, &zhao(), at(0, 5), approve(n.clone()))
        .unwrap();
    w.refused(
        &c2,
        &zhao(),
        at(0, 6),
        approve(n),
        CaseError::WrongStage {
            action: "approve_filing",
            stage: CaseStage::Investigating,
        },
    );
}

#[test]
fn interviews_are_taken_by_two_inspectors_and_signed_page_by_page() {
    let w = World::new();
    let mut c = opened(&w);
    let (mut i, n) = interview("iv-1", 1, 1, at(0, 30));
    i.recorded_by = wang().id;
    w.refused(
        &c,
        &wang(),
        at(0, 40),
        CaseCommand::AddInterview {
            interview: i,
            number: n.clone(),
        },
        CaseError::InterviewersNotOnCase,
    );
    let (mut i, _) = interview("iv-1", 1, 1, at(0, 30));
    i.pages[0].lines[0].answer = " ".into();
    w.refused(
        &c,
        &wang(),
        at(0, 40),
        CaseCommand::AddInterview {
            interview: i,
            number: n.clone(),
        },
        CaseError::EmptyInterview,
    );
    let (i, _) = interview("iv-1", 1, 1, at(0, 50));
    w.refused(
        &c,
        &wang(),
        at(0, 40),
        CaseCommand::AddInterview {
            interview: i,
            number: n.clone(),
        },
        CaseError::InterviewTimes,
    );
    let (i, n) = interview("iv-1", 1, 1, at(0, 30));
    w.run(
        &mut c,
        &wang(),
        at(0, 40),
        CaseCommand::AddInterview {
            interview: i.clone(),
            number: n.clone(),
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 41),
        CaseCommand::AddInterview {
            interview: i,
            number: n.clone(),
        },
        CaseError::DuplicateInterview("iv-1".into()),
    );
    let (i2, _) = interview("iv-2", 1, 1, at(0, 30));
    w.refused(
        &c,
        &wang(),
        at(0, 41),
        CaseCommand::AddInterview {
            interview: i2,
            number: n.clone(),
        },
        CaseError::DuplicateNumber(n.text.clone()),
    );
    let sign = |page, signature| CaseCommand::SignInterviewPage {
        interview: "iv-1".into(),
        page,
        signature,
    };
    let refusal = |signer, witness: &str| PageSignature {
        signer,
        outcome: SignOutcome::Refused {
            witness: witness.into(),
            note: String::new(),
        },
        at: Timestamp(0),
    };
    w.refused(
        &c,
        &wang(),
        at(0, 42),
        sign(0, refusal(PageSigner::Inspector(wang().id), "x")),
        CaseError::InspectorCannotRefuse,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 42),
        sign(0, refusal(PageSigner::Interviewee, " ")),
        CaseError::RefusalWithoutWitness,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 42),
        sign(0, signed(PageSigner::Inspector(UserId::from("chen")))),
        CaseError::NotASigner,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 42),
        sign(1, signed(PageSigner::Interviewee)),
        CaseError::NoSuchPage {
            interview: "iv-1".into(),
            page: 1,
        },
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 42),
        sign(0, signed(PageSigner::Interviewee)),
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 43),
        sign(0, signed(PageSigner::Interviewee)),
        CaseError::AlreadySigned,
    );
    assert!(
        !c.documents.contains_key(&n.text),
        "frozen only when every signature is in"
    );
    sign_all_remaining(&w, &mut c);
    assert!(c.documents[&n.text].verify());
    w.refused(
        &c,
        &wang(),
        at(0, 50),
        sign(0, signed(PageSigner::Interviewee)),
        CaseError::InterviewFrozen,
    );
}

fn sign_all_remaining(w: &World, c: &mut PenaltyCase) {
    for s in [
        PageSigner::Inspector(wang().id),
        PageSigner::Inspector(li().id),
    ] {
        w.run(
            c,
            &li(),
            at(0, 45),
            CaseCommand::SignInterviewPage {
                interview: "iv-1".into(),
                page: 0,
                signature: signed(s),
            },
        )
        .unwrap();
    }
}

#[test]
fn media_evidence_is_checked() {
    let w = World::new();
    let mut c = opened(&w);
    let now = at(0, 30);
    let mut empty = video(now, &wang());
    empty.size = 0;
    w.refused(
        &c,
        &wang(),
        now,
        CaseCommand::AddMedia(empty),
        CaseError::EmptyMedia,
    );
    let mut mime = video(now, &wang());
    mime.mime = "image/jpeg".into();
    w.refused(
        &c,
        &wang(),
        now,
        CaseCommand::AddMedia(mime),
        CaseError::MimeMismatch {
            kind: MediaKind::Video,
            mime: "image/jpeg".into(),
        },
    );
    let mut imported_before_capture = video(now, &wang());
    imported_before_capture.captured_at = Timestamp(now.0 + MIN);
    w.refused(
        &c,
        &wang(),
        now,
        CaseCommand::AddMedia(imported_before_capture),
        CaseError::MediaTimes,
    );
    let mut someone_else = video(now, &li());
    someone_else.added_by = li().id;
    w.refused(
        &c,
        &wang(),
        now,
        CaseCommand::AddMedia(someone_else),
        CaseError::MediaTimes,
    );
    let audio = MediaEvidence {
        sha256: Sha256Hex::of(b"audio"),
        size: 123,
        kind: MediaKind::Audio,
        mime: "audio/mp4".into(),
        source: MediaSource::Tablet {
            device: DeviceId::from("tab-1"),
        },
        captured_at: Timestamp(now.0 - MIN),
        added_at: now,
        added_by: wang().id,
        note: String::new(),
    };
    w.run(&mut c, &wang(), now, CaseCommand::AddMedia(audio.clone()))
        .unwrap();
    w.refused(
        &c,
        &wang(),
        now,
        CaseCommand::AddMedia(audio.clone()),
        CaseError::DuplicateMedia(audio.sha256.clone()),
    );
    let outsider = crate::test_support::inspector("chen", "陈");
    w.refused(
        &c,
        &outsider,
        now,
        CaseCommand::AddMedia(video(now, &outsider)),
        CaseError::NotOnCase(outsider.id.clone()),
    );
}

#[test]
fn the_notice_needs_evidence_signed_interviews_and_a_proposal_within_the_table() {
    let w = World::new();
    let mut c = opened(&w);
    let notify = CaseCommand::Notify {
        number: num(CaseDocKind::Notice, 1),
    };
    w.refused(
        &c,
        &wang(),
        at(0, 5),
        notify.clone(),
        CaseError::WrongStage {
            action: "notify",
            stage: CaseStage::Opened,
        },
    );
    w.run(
        &mut c,
        &zhao(),
        at(0, 10),
        CaseCommand::ApproveFiling {
            number: num(CaseDocKind::FilingApproval, 1),
            comment: String::new(),
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 20),
        notify.clone(),
        CaseError::NoEvidence,
    );
    let (i, n) = interview("iv-1", 1, 1, at(0, 30));
    w.run(
        &mut c,
        &wang(),
        at(0, 40),
        CaseCommand::AddInterview {
            interview: i,
            number: n,
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 41),
        notify.clone(),
        CaseError::UnsignedInterview("iv-1".into()),
    );
    sign_all(&w, &mut c, "iv-1", 1, at(0, 45));
    w.refused(
        &c,
        &wang(),
        at(0, 50),
        notify.clone(),
        CaseError::NoProposal,
    );
    // Proposals: within the row's range, the row's kinds only, a row of the case's provision.
    w.refused(
        &c,
        &wang(),
        at(0, 50),
        propose("97-2", 70_000),
        CaseError::FineOutsideRange {
            fine: 70_000,
            min: 30_000,
            max: 60_000,
        },
    );
    w.refused(
        &c,
        &wang(),
        at(0, 50),
        propose("97-9", 40_000),
        CaseError::Propose(ProposeError::NoSuchRow { row: "97-9".into() }),
    );
    w.refused(
        &c,
        &wang(),
        at(0, 50),
        CaseCommand::ProposePenalty {
            circumstance: "97-2".into(),
            penalty: Penalty {
                fine_yuan: 40_000,
                other: [OtherPenalty::Warning].into(),
            },
            reasons: String::new(),
        },
        CaseError::OtherNotInRow,
    );
    let actor = wang();
    let no_table = CaseContext {
        discretion: None,
        ..w.cx(&actor, at(0, 50))
    };
    assert_eq!(
        c.clone().apply(&propose("97-2", 40_000), &no_table),
        Err(CaseError::NoDiscretionTable)
    );
    w.run(&mut c, &wang(), at(0, 50), propose("97-2", 40_000))
        .unwrap();
    w.run(&mut c, &wang(), at(0, 60), notify).unwrap();
}

#[test]
fn statements_and_hearings_keep_their_periods() {
    let w = World::new();
    let c = investigated(&w, "97-2", 40_000);
    let mut c = c;
    w.run(
        &mut c,
        &wang(),
        at(0, 120),
        CaseCommand::Notify {
            number: num(CaseDocKind::Notice, 1),
        },
    )
    .unwrap();
    let statement = |seq| CaseCommand::RecordStatement {
        speaker: "李明".into(),
        text: "无异议".into(),
        review: String::new(),
        number: num(CaseDocKind::Statement, seq),
    };
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        statement(1),
        CaseError::NoticeNotServed,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        CaseCommand::RequestHearing {
            by: "李明".into()
        },
        CaseError::NoHearingRight,
    );
    // The service: not in the future, not before the notice was signed.
    let serve = |t| CaseCommand::RecordService {
        document: num(CaseDocKind::Notice, 1).text,
        method: direct(),
        at: t,
        number: num(CaseDocKind::ServiceReceipt, 1),
    };
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        serve(at(0, 140)),
        CaseError::ServiceTimes,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        serve(at(0, 100)),
        CaseError::ServiceTimes,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Notice, 1).text,
            method: CaseServiceMethod::Left {
                recipient: "李明".into(),
                witness: String::new(),
                reason: "拒收".into(),
            },
            at: at(0, 125),
            number: num(CaseDocKind::ServiceReceipt, 1),
        },
        CaseError::NoWitness,
    );
    w.refused(
        &c,
        &wang(),
        at(0, 130),
        CaseCommand::RecordService {
            document: num(CaseDocKind::FilingApproval, 1).text,
            method: direct(),
            at: at(0, 125),
            number: num(CaseDocKind::ServiceReceipt, 1),
        },
        CaseError::NotServable(CaseDocKind::FilingApproval),
    );
    w.run(&mut c, &wang(), at(0, 130), serve(at(0, 125)))
        .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 131),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Notice, 1).text,
            method: direct(),
            at: at(0, 125),
            number: num(CaseDocKind::ServiceReceipt, 2),
        },
        CaseError::AlreadyServed(num(CaseDocKind::Notice, 1).text),
    );
    // Friday 27 November is after the period (ends Thursday 26).
    w.refused(
        &c,
        &wang(),
        at(4, 0),
        statement(1),
        CaseError::StatementPeriodOver(Day::ymd(2026, 11, 26)),
    );
    w.run(&mut c, &wang(), at(3, 0), statement(1)).unwrap();
    w.refused(
        &c,
        &wang(),
        at(3, 5),
        CaseCommand::RecordHearing {
            host: UserId::from("sun"),
            host_name: "孙".into(),
            place: "x".into(),
            summary: "x".into(),
            number: num(CaseDocKind::Hearing, 1),
        },
        CaseError::NoHearingRequested,
    );
}

#[test]
fn a_marked_reason_or_the_units_threshold_makes_a_decision_major() {
    let w = World::new();
    let mut c = notified(&w, "97-2", 40_000);
    assert!(!c.is_major(&w.settings));
    let mut strict = World::new();
    strict.settings.major_fine_threshold = Some(30_000);
    assert!(c.is_major(&strict.settings));
    w.run(
        &mut c,
        &zhao(),
        at(0, 200),
        CaseCommand::MarkMajor {
            reason: MajorReason::Complex,
        },
    )
    .unwrap();
    assert!(c.is_major(&w.settings));
    w.refused(
        &c,
        &zhao(),
        at(5, 0),
        CaseCommand::Decide {
            penalty: fine(40_000),
            number: num(CaseDocKind::Decision, 1),
        },
        CaseError::MajorNeedsLegalReview,
    );
}

#[test]
fn an_edit_after_signing_shows_against_the_frozen_document() {
    let w = World::new();
    let mut c = opened(&w);
    w.run(
        &mut c,
        &zhao(),
        at(0, 10),
        CaseCommand::ApproveFiling {
            number: num(CaseDocKind::FilingApproval, 1),
            comment: "同意".into(),
        },
    )
    .unwrap();
    let doc = c.documents[&num(CaseDocKind::FilingApproval, 1).text].clone();
    assert!(!doc.differs_from_case(&c, &w.settings, &w.calendar));
    w.run(
        &mut c,
        &wang(),
        at(0, 20),
        CaseCommand::SetFacts {
            facts: "5名新员工未经培训上岗".into(),
        },
    )
    .unwrap();
    let frozen = &c.documents[&num(CaseDocKind::FilingApproval, 1).text];
    assert_eq!(frozen, &doc, "the signed content stays");
    assert!(frozen.differs_from_case(&c, &w.settings, &w.calendar));
    let mut tampered = frozen.clone();
    if let CaseDocument::FilingApproval(f) = &mut tampered.content {
        f.facts = "无".into();
    }
    assert!(!tampered.verify());
}

#[test]
fn close_needs_the_other_penalties_carried_out() {
    let w = World::new();
    let mut c = notified(&w, "97-3", 60_000);
    w.run(
        &mut c,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: true,
            hearing: true,
        },
    )
    .unwrap();
    // The notice carried only the fine: 责令停产停业 now would be heavier.
    w.refused(
        &c,
        &zhao(),
        at(0, 210),
        CaseCommand::Decide {
            penalty: Penalty {
                fine_yuan: 60_000,
                other: [OtherPenalty::SuspendProduction].into(),
            },
            number: num(CaseDocKind::Decision, 1),
        },
        CaseError::HeavierThanNoticed,
    );
    w.run(
        &mut c,
        &zhao(),
        at(0, 210),
        CaseCommand::Decide {
            penalty: fine(60_000),
            number: num(CaseDocKind::Decision, 1),
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(0, 215),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 23),
            amount_yuan: 60_000,
            receipt: "r".into(),
        },
        CaseError::WrongStage {
            action: "record_payment",
            stage: CaseStage::Decided,
        },
    );
    w.run(
        &mut c,
        &wang(),
        at(0, 220),
        CaseCommand::RecordService {
            document: num(CaseDocKind::Decision, 1).text,
            method: CaseServiceMethod::Post {
                tracking: "EMS1234567890".into(),
            },
            at: at(0, 215),
            number: num(CaseDocKind::ServiceReceipt, 2),
        },
    )
    .unwrap();
    w.refused(
        &c,
        &wang(),
        at(1, 0),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 25),
            amount_yuan: 60_000,
            receipt: "r".into(),
        },
        CaseError::DayOutOfRange,
    );
    w.run(
        &mut c,
        &wang(),
        at(1, 0),
        CaseCommand::RecordPayment {
            on: Day::ymd(2026, 11, 24),
            amount_yuan: 60_000,
            receipt: "r".into(),
        },
    )
    .unwrap();
    w.run(
        &mut c,
        &zhao(),
        at(1, 10),
        CaseCommand::Close {
            number: num(CaseDocKind::ClosingApproval, 1),
            comment: String::new(),
        },
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// The calendar

/// The 2025 holidays as a unit would enter them from the State Council's notice (test data).
fn calendar_2025() -> WorkCalendar {
    let mut c = WorkCalendar::default();
    for d in 28..=31 {
        c.holidays.insert(Day::ymd(2025, 1, d));
    }
    for d in 1..=4 {
        c.holidays.insert(Day::ymd(2025, 2, d));
    }
    for d in 1..=8 {
        c.holidays.insert(Day::ymd(2025, 10, d));
    }
    c.workdays.insert(Day::ymd(2025, 1, 26));
    c.workdays.insert(Day::ymd(2025, 2, 8));
    c.workdays.insert(Day::ymd(2025, 9, 28));
    c.workdays.insert(Day::ymd(2025, 10, 11));
    c
}

#[test]
fn working_days_skip_holidays_and_count_make_up_weekends() {
    let c = calendar_2025();
    assert!(c.validate().is_empty());
    let fri = Day::ymd(2025, 1, 24);
    assert!(
        c.is_working(Day::ymd(2025, 1, 26)),
        "a Sunday worked (调休)"
    );
    assert!(!c.is_working(Day::ymd(2025, 1, 29)), "春节");
    assert_eq!(c.add_working_days(fri, 0), fri);
    assert_eq!(c.add_working_days(fri, 1), Day::ymd(2025, 1, 26));
    assert_eq!(c.add_working_days(fri, 2), Day::ymd(2025, 1, 27));
    assert_eq!(c.add_working_days(fri, 3), Day::ymd(2025, 2, 5));
    assert_eq!(c.add_working_days(fri, 5), Day::ymd(2025, 2, 7));
    assert_eq!(
        c.add_working_days(fri, 6),
        Day::ymd(2025, 2, 8),
        "a Saturday worked"
    );
    assert_eq!(c.add_working_days(fri, 7), Day::ymd(2025, 2, 10));
    // 国庆: 7 working days from Friday 26 September.
    let sep26 = Day::ymd(2025, 9, 26);
    assert_eq!(c.add_working_days(sep26, 7), Day::ymd(2025, 10, 13));
    assert_eq!(c.working_days_between(sep26, Day::ymd(2025, 10, 13)), 7);
    assert_eq!(Period::working(7).end(sep26, &c), Day::ymd(2025, 10, 13));
    assert_eq!(Period::calendar(7).end(sep26, &c), Day::ymd(2025, 10, 3));
    // Without the unit's calendar, the same count lands in the holiday.
    assert_eq!(
        WorkCalendar::default().add_working_days(sep26, 7),
        Day::ymd(2025, 10, 7)
    );
}

#[test]
fn a_calendar_with_impossible_days_is_refused() {
    let mut c = calendar_2025();
    c.workdays.insert(Day::ymd(2025, 10, 1));
    c.workdays.insert(Day::ymd(2025, 10, 15));
    assert_eq!(
        c.validate(),
        vec![
            CalendarError::BothHolidayAndWorkday(Day::ymd(2025, 10, 1)),
            CalendarError::WorkdayNotWeekend(Day::ymd(2025, 10, 15)),
        ]
    );
    assert_eq!(
        Lang::Zh.err(&c.validate()[1]),
        "2025-10-15 不是周六或周日，不能设为调休上班日"
    );
    let json = serde_json::to_string(&calendar_2025()).unwrap();
    assert_eq!(
        serde_json::from_str::<WorkCalendar>(&json).unwrap(),
        calendar_2025()
    );
}

// ---------------------------------------------------------------------------------------
// Deadlines and figures

#[test]
fn deadlines_warn_before_and_after_they_pass() {
    let w = World::new();
    let c = investigated(&w, "97-2", 40_000);
    // Opened 2026-11-23: decision due 90 days later, 2027-02-21.
    let on = |d| case_deadlines(&c, &w.settings, &w.calendar, d);
    let decision = |d| {
        on(d)
            .into_iter()
            .find(|x| x.kind == DeadlineKind::Decision)
            .unwrap()
    };
    assert_eq!(decision(Day::ymd(2026, 12, 1)).due, Day::ymd(2027, 2, 21));
    assert_eq!(decision(Day::ymd(2026, 12, 1)).state, DeadlineState::Open);
    assert_eq!(
        decision(Day::ymd(2027, 2, 18)).state,
        DeadlineState::DueSoon
    );
    assert_eq!(
        decision(Day::ymd(2027, 2, 22)).state,
        DeadlineState::Overdue
    );
    let f = figures([&c], &w.settings, &w.calendar, Day::ymd(2027, 2, 22));
    assert_eq!(
        f,
        CaseFigures {
            opened: 1,
            closed: 0,
            overdue: 1,
            due_soon: 0,
            published_late: 0
        }
    );
    // A unit that allows 60 days sees it overdue sooner.
    let mut s = w.settings.clone();
    s.decision_period = Period::calendar(60);
    assert_eq!(
        case_deadlines(&c, &s, &w.calendar, Day::ymd(2027, 1, 23))[0].state,
        DeadlineState::Overdue
    );
}

#[test]
fn a_late_publication_is_counted() {
    let w = World::new();
    let mut c = notified(&w, "97-2", 40_000);
    w.run(
        &mut c,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: true,
            hearing: false,
        },
    )
    .unwrap();
    w.run(
        &mut c,
        &zhao(),
        at(0, 210),
        CaseCommand::Decide {
            penalty: fine(40_000),
            number: num(CaseDocKind::Decision, 1),
        },
    )
    .unwrap();
    // Decided Monday 23 November: 7 working days → Wednesday 2 December.
    let publication = |c: &PenaltyCase, today| {
        case_deadlines(c, &w.settings, &w.calendar, today)
            .into_iter()
            .find(|d| d.kind == DeadlineKind::Publication)
            .unwrap()
    };
    assert_eq!(
        publication(&c, Day::ymd(2026, 11, 30)).due,
        Day::ymd(2026, 12, 2)
    );
    assert_eq!(
        publication(&c, Day::ymd(2026, 11, 30)).state,
        DeadlineState::DueSoon
    );
    assert_eq!(
        publication(&c, Day::ymd(2026, 12, 3)).state,
        DeadlineState::Overdue
    );
    w.run(
        &mut c,
        &zhao(),
        at(12, 0),
        CaseCommand::RecordPublication {
            on: Day::ymd(2026, 12, 4),
            channel: "网站".into(),
        },
    )
    .unwrap();
    assert_eq!(
        publication(&c, Day::ymd(2026, 12, 5)).state,
        DeadlineState::MetLate
    );
    let f = figures([&c], &w.settings, &w.calendar, Day::ymd(2026, 12, 5));
    assert_eq!(f.published_late, 1);
    assert_eq!(Lang::Zh.deadline_state(DeadlineState::MetLate), "逾期完成");
}

// ---------------------------------------------------------------------------------------
// The discretion table

#[test]
fn the_table_proposes_a_penalty_for_a_provision_and_circumstance() {
    let w = World::new();
    // The case cites the provision marked 依据待核; the table does too; either way it matches.
    let basis = vec![LegalBasis::new("安全生产法", "第九十七条")];
    let p = propose_penalty(&w.table, &basis, "97-1");
    assert_eq!(p.grade, Grade::Lighter);
    assert_eq!((p.fine_min, p.fine_max), (10_000, 30_000));
    assert_eq!(p.suggested.fine_yuan, 20_000);
    assert_eq!(p.suggested.other, [OtherPenalty::Warning].into());
    assert_eq!(p.discretion.row, "97-1");
    assert_eq!(p.discretion.version, 1);
    let p3 = propose_penalty(&w.table, &basis, "97-3");
    assert_eq!(p3.suggested.fine_yuan, 80_000);
    assert_eq!(
        super::propose(&w.table, &[], "97-1"),
        Err(ProposeError::NoBasis)
    );
    let other = vec![LegalBasis::new("安全生产法", "第一百零一条")];
    assert_eq!(
        super::propose(&w.table, &other, "97-1"),
        Err(ProposeError::NotInTable(other[0].clone()))
    );
}

fn propose_penalty(table: &DiscretionTable, basis: &[LegalBasis], row: &str) -> Proposal {
    super::propose(table, basis, row).unwrap()
}

#[test]
fn a_bad_table_is_refused_with_every_problem_and_its_row() {
    let bad = r#"
id = "xw"
version = 1
published = "2026-11-01"

[[provision]]
basis = "《安全生产法》第九十七条"
fine_min = 0
fine_max = 100000

[[provision]]
basis = "安全生产法九十七"
fine_min = 0
fine_max = 1

[[row]]
code = "A"
basis = "《安全生产法》第九十七条"
circumstance = "较重"
grade = "heavier"
fine_min = 60000
fine_max = 100000

[[row]]
code = "A"
basis = "《安全生产法》第九十七条"
circumstance = "较轻"
grade = "lighter"
fine_min = 70000
fine_max = 20000

[[row]]
code = "B"
basis = "《安全生产法》第九十九条"
circumstance = ""
grade = "ordinary"
fine_min = 0
fine_max = 200000
"#;
    let problems = DiscretionTable::parse_toml(bad).unwrap_err();
    let got: Vec<(TablePlace, TableProblem)> = problems
        .iter()
        .map(|p| (p.place, p.problem.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                TablePlace::Provision(2),
                TableProblem::BadCitation("安全生产法九十七".into())
            ),
            (
                TablePlace::Row(2),
                TableProblem::DuplicateCode {
                    code: "A".into(),
                    first_row: 1
                }
            ),
            (
                TablePlace::Row(2),
                TableProblem::InvertedRange {
                    min: 70000,
                    max: 20000
                }
            ),
            (
                TablePlace::Row(2),
                TableProblem::GradesOutOfOrder {
                    grade: Grade::Lighter,
                    other_row: 1
                }
            ),
            (TablePlace::Row(3), TableProblem::NoCircumstance),
            (
                TablePlace::Row(3),
                TableProblem::UnknownProvision("《安全生产法》第九十九条".into())
            ),
        ]
    );
    assert_eq!(
        Lang::Zh.err(&problems[1]),
        "第 2 行裁量情节（[[row]]）：情节编号“A”重复（第 1 行已使用）"
    );
    assert_eq!(
        Lang::En.err(&problems[4]),
        "row 3: the circumstance is empty"
    );
    let outside = TABLE.replace(
        "fine_max = 100000\n\n[[row]]",
        "fine_max = 50000\n\n[[row]]",
    );
    let problems = DiscretionTable::parse_toml(&outside).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| matches!(p.problem, TableProblem::OutsideStatutory { .. }))
    );
    assert!(matches!(
        DiscretionTable::parse_toml("id = ")
            .unwrap_err()
            .first()
            .map(|p| &p.problem),
        Some(TableProblem::Toml(_))
    ));
}

// ---------------------------------------------------------------------------------------
// The enterprise's record

fn entry(case: &str, on: Day, fine_yuan: u64) -> ViolationEntry {
    ViolationEntry {
        enterprise: "e1".into(),
        enterprise_name: "南京示例机械有限公司".into(),
        case: CaseId::from(case),
        decision: format!("罚决-{case}"),
        decided_on: on,
        violated: vec![],
        basis: LegalBasis::new("安全生产法", "第九十七条"),
        penalty: fine(fine_yuan),
        major: false,
    }
}

#[test]
fn decided_cases_enter_the_history_and_repeated_ones_the_blacklist() {
    let w = World::new();
    let mut decided = notified(&w, "97-2", 40_000);
    w.run(
        &mut decided,
        &wang(),
        at(0, 200),
        CaseCommand::Waive {
            speaker: "李明".into(),
            statement: true,
            hearing: false,
        },
    )
    .unwrap();
    w.run(
        &mut decided,
        &zhao(),
        at(0, 210),
        CaseCommand::Decide {
            penalty: fine(40_000),
            number: num(CaseDocKind::Decision, 1),
        },
    )
    .unwrap();
    let undecided = investigated(&w, "97-2", 40_000);
    let history = violation_history([&decided, &undecided]);
    assert_eq!(history.len(), 1);
    let e = &history[&crate::ids::EnterpriseId::from("e1")];
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].decided_on, Day::ymd(2026, 11, 23));
    assert_eq!(e[0].penalty.fine_yuan, 40_000);

    let rules = vec![
        BlacklistRule {
            id: "repeat".into(),
            reason: "一年内因违法行为受到两次以上行政处罚".into(),
            condition: BlacklistCondition::Repeated {
                count: 2,
                within_days: 365,
            },
            listed_days: 365,
        },
        BlacklistRule {
            id: "big".into(),
            reason: "受到10万元以上罚款".into(),
            condition: BlacklistCondition::FineAtLeast { yuan: 100_000 },
            listed_days: 180,
        },
    ];
    let h = vec![
        entry("c1", Day::ymd(2025, 3, 1), 20_000),
        entry("c2", Day::ymd(2025, 12, 1), 30_000),
        entry("c3", Day::ymd(2026, 2, 1), 100_000),
    ];
    let today = Day::ymd(2026, 6, 1);
    let list = evaluate_blacklist(&h, &rules, today);
    assert_eq!(list.len(), 2, "{list:?}");
    let repeat = &list[0];
    assert_eq!(repeat.rule, "repeat");
    assert_eq!(repeat.listed_on, Day::ymd(2025, 12, 1));
    // Triggered again on 2026-02-01 while listed: extended to a year after that.
    assert_eq!(repeat.ends_on, Day::ymd(2027, 2, 1));
    assert_eq!(
        repeat.cases,
        vec![CaseId::from("c1"), CaseId::from("c2"), CaseId::from("c3")]
    );
    assert_eq!(repeat.reason, "一年内因违法行为受到两次以上行政处罚");
    let big = &list[1];
    assert_eq!(
        (big.listed_on, big.ends_on),
        (Day::ymd(2026, 2, 1), Day::ymd(2026, 7, 31))
    );
    assert!(big.is_active(today));
    // Expired listings stay as history.
    let later = evaluate_blacklist(&h, &rules, Day::ymd(2027, 6, 1));
    assert_eq!(later.len(), 2);
    assert!(later.iter().all(|l| !l.is_active(Day::ymd(2027, 6, 1))));
    // Only decisions up to `today` count.
    assert!(evaluate_blacklist(&h, &rules, Day::ymd(2025, 6, 1)).is_empty());

    let weights = DrawWeights::default();
    assert_eq!(draw_weight(&[], &[], &weights, today), 1);
    // Listed (+2) and two decisions in the last 365 days (+2).
    assert_eq!(draw_weight(&h, &list, &weights, today), 5);
    assert_eq!(draw_weight(&h, &later, &weights, Day::ymd(2027, 6, 1)), 1);
}

// ---------------------------------------------------------------------------------------
// Texts and formats

#[test]
fn every_case_error_reads_in_chinese() {
    let samples = [
        CaseError::WrongStage {
            action: "decide",
            stage: CaseStage::Investigating,
        },
        CaseError::StatementPeriodRunning(Day::ymd(2026, 11, 26)),
        CaseError::MajorNeedsLegalReview,
        CaseError::Propose(ProposeError::NoBasis),
        CaseError::NotServable(CaseDocKind::FilingApproval),
    ];
    for e in samples {
        let zh = Lang::Zh.err(&e);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert_eq!(Lang::En.err(&e), e.to_string());
    }
    assert_eq!(
        CaseError::WrongStage {
            action: "decide",
            stage: CaseStage::Investigating
        }
        .zh(),
        "案件处于“调查取证”阶段，不能这样操作"
    );
    assert_eq!(
        Lang::En.case_stage(CaseStage::Defence),
        "Statement / hearing"
    );
    assert_eq!(
        Lang::Zh.case_document(CaseDocKind::Decision),
        "行政处罚决定书"
    );
    assert_eq!(CaseError::NoFacts.field(), Some("facts"));
}

#[test]
fn commands_and_numbers_read_back_from_json() {
    let c = CaseCommand::RecordService {
        document: num(CaseDocKind::Decision, 3).text,
        method: direct(),
        at: at(1, 0),
        number: num(CaseDocKind::ServiceReceipt, 4),
    };
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.starts_with(r#"{"command":"record_service""#), "{json}");
    assert!(json.contains("（玄武）应急罚决〔2026〕3号"), "{json}");
    assert_eq!(serde_json::from_str::<CaseCommand>(&json).unwrap(), c);
    assert_eq!(c.name(), "record_service");
    let n = num(CaseDocKind::Decision, 3);
    assert!(n.is_of(CaseDocKind::Decision, 2026));
    assert!(!n.is_of(CaseDocKind::Notice, 2026));
    assert!(!n.is_of(CaseDocKind::Decision, 2027));
    let settings = serde_json::to_string(&PenaltySettings::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<PenaltySettings>(&settings).unwrap(),
        PenaltySettings::default()
    );
}
