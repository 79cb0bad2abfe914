//! The documents of a penalty case (行政处罚) and its 卷内目录 as PDF: every kind of case
//! document, from content as its signing froze it, renders to an A4 PDF with embedded subset
//! fonts whose text carries the number, the party and (where it applies) the penalty; a rare
//! character in the party's name comes out exactly; the case file lists each document with
//! its page count.
//!
//! (app-core's case fixtures are private to its unit tests, and a case is driven there
//! through every rule; here the frozen documents are written out with the public types.)

mod common;

use app_core::evidence::Sha256Hex;
use app_core::geo::{Day, Timestamp};
use app_core::ids::UserId;
use app_core::inspection::{EnterpriseSnapshot, InspectorRef};
use app_core::legal::LegalBasis;
use app_core::penalty::*;
use app_core::user::CertificateNo;
use common::*;
use pdf_forms::{CaseInput, render_case_document, render_case_file, render_case_index};
use std::collections::{BTreeMap, HashMap};

const PARTY: &str = "南京𪚥㐀精密机械有限公司";
const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

fn at(days: i64, minutes: i64) -> Timestamp {
    Timestamp(T0.0 + days * DAY + minutes * MIN)
}

fn number(kind: CaseDocKind, seq: u32) -> String {
    format!("（玄武）应急{}〔2026〕{seq}号", kind.code())
}

fn party() -> PartyLine {
    PartyLine {
        name: PARTY.into(),
        uscc: "914403001922038216".into(),
        address: "南京市玄武区玄武大道699号".into(),
        legal_representative: "周建国".into(),
        phone: "025-84000000".into(),
    }
}

fn officers() -> Vec<OfficerLine> {
    vec![
        OfficerLine {
            name: "王强".into(),
            certificate: "32010220180004".into(),
        },
        OfficerLine {
            name: "李娜".into(),
            certificate: "32010220190011".into(),
        },
    ]
}

fn violated() -> Vec<LegalBasis> {
    vec![LegalBasis::new("安全生产法", "第二十八条")]
}

/// Test data, marked 依据待核 as app-core's case tests mark it.
fn basis() -> LegalBasis {
    LegalBasis::new("安全生产法", "第九十七条").pending()
}

fn fine(yuan: u64) -> Penalty {
    Penalty {
        fine_yuan: yuan,
        other: Default::default(),
    }
}

fn evidence() -> Vec<String> {
    vec![
        format!(
            "询问笔录（{}，被询问人：张三）",
            number(CaseDocKind::Interview, 1)
        ),
        "视频1份".into(),
    ]
}

/// One document of every kind, with the key and the day its signing gives it.
fn contents(images: &[Sha256Hex; 2]) -> Vec<(CaseDocKind, String, CaseDocument, Timestamp)> {
    use CaseDocKind as K;
    let sign = |who: &str, image: &Sha256Hex| PageSignatureLine {
        who: who.into(),
        image: Some(image.clone()),
        refusal: None,
    };
    let page = |interviewee: PageSignatureLine| InterviewPageContent {
        lines: vec![("新员工上岗前是否经过安全培训？".into(), "没有。".into())],
        signatures: vec![
            interviewee,
            sign("执法人员 王强", &images[0]),
            sign("执法人员 李娜", &images[1]),
        ],
    };
    let measure = |kind| MeasureContent {
        party: party(),
        kind,
        items: vec!["培训记录台账1本（会议室）".into()],
        basis: vec![basis()],
        on: Day::ymd(2026, 11, 23),
        officers: officers(),
    };
    // The 送达回证 of the document of kind `served`, signed at `signed`.
    let receipt = |served: CaseDocKind, method, signed: Timestamp| {
        let content = ServiceReceiptContent {
            party: PARTY.into(),
            document: number(served, 1),
            title: served.title_zh().into(),
            method,
            at: Timestamp(signed.0 - 10 * MIN),
            served_by: officers()[..1].to_vec(),
        };
        let content = CaseDocument::ServiceReceipt(content);
        (K::ServiceReceipt, number(served, 1), content, signed)
    };
    vec![
        (
            K::FilingApproval,
            String::new(),
            CaseDocument::FilingApproval(FilingApprovalContent {
                party: party(),
                source: "监督检查发现".into(),
                facts: "3名新员工未经安全培训上岗".into(),
                violated: violated(),
                penalty_basis: vec![basis()],
                officers: officers(),
                opened_on: Day::ymd(2026, 11, 23),
                approver: "赵科长".into(),
                comment: "同意立案".into(),
                approved_on: Day::ymd(2026, 11, 23),
            }),
            at(0, 10),
        ),
        (
            K::Interview,
            "iv-1".into(),
            CaseDocument::Interview(InterviewContent {
                party: PARTY.into(),
                interviewee: "张三".into(),
                position: "安全管理员".into(),
                place: "企业会议室".into(),
                from: at(0, 30),
                to: at(0, 60),
                asked_by: officers()[0].clone(),
                recorded_by: officers()[1].clone(),
                pages: vec![
                    page(sign("被询问人 张三", &images[0])),
                    page(PageSignatureLine {
                        who: "被询问人 张三".into(),
                        image: None,
                        refusal: Some("拒绝签字（见证人：王五（村委会））称需请示老板".into()),
                    }),
                ],
            }),
            at(0, 80),
        ),
        (
            K::OnSiteMeasures,
            "m-0".into(),
            CaseDocument::Measure(measure(MeasureKind::OnSiteMeasures)),
            at(0, 95),
        ),
        (
            K::EvidencePreservation,
            "m-1".into(),
            CaseDocument::Measure(measure(MeasureKind::EvidencePreservation)),
            at(0, 96),
        ),
        (
            K::Notice,
            String::new(),
            CaseDocument::Notice(NoticeContent {
                party: party(),
                facts: "3名新员工未经安全培训上岗".into(),
                evidence: evidence(),
                violated: violated(),
                basis: basis(),
                circumstance: "涉及从业人员10人以上，或拒不改正".into(),
                penalty: fine(80_000),
                rights: RightsLine {
                    statement_days: 3,
                    hearing: true,
                    hearing_days: 5,
                },
                on: Day::ymd(2026, 11, 23),
            }),
            at(0, 120),
        ),
        receipt(
            K::Notice,
            CaseServiceMethod::Direct {
                recipient: "李明".into(),
            },
            at(0, 180),
        ),
        (
            K::Statement,
            number(K::Statement, 1),
            CaseDocument::Statement(StatementContent {
                party: PARTY.into(),
                notice: number(K::Notice, 1),
                speaker: "李明（法定代表人）".into(),
                text: "已安排补训，请求从轻处罚".into(),
                review: "补训属实，但违法事实清楚，维持拟处罚".into(),
                at: at(1, 0),
                recorded_by: officers()[0].clone(),
            }),
            at(1, 0),
        ),
        (
            K::Hearing,
            String::new(),
            CaseDocument::Hearing(HearingContent {
                party: PARTY.into(),
                notice: number(K::Notice, 1),
                requested_by: "李明".into(),
                host: "孙主持".into(),
                place: "局听证室".into(),
                at: at(8, 0),
                investigators: officers(),
                summary: "当事人对事实无异议，对罚款数额有异议".into(),
            }),
            at(8, 0),
        ),
        (
            K::LegalReview,
            String::new(),
            CaseDocument::LegalReview(LegalReviewContent {
                party: PARTY.into(),
                notice: number(K::Notice, 1),
                penalty: fine(80_000),
                reviewer: "钱主任".into(),
                opinion: ReviewOpinion::Agree,
                text: "事实清楚，证据充分，裁量适当".into(),
                on: Day::ymd(2026, 12, 2),
            }),
            at(9, 0),
        ),
        (
            K::Decision,
            String::new(),
            CaseDocument::Decision(DecisionContent {
                party: party(),
                facts: "3名新员工未经安全培训上岗".into(),
                evidence: evidence(),
                violated: violated(),
                basis: basis(),
                circumstance: "涉及从业人员10人以上，或拒不改正".into(),
                penalty: fine(70_000),
                defence: vec!["听证情况：当事人对事实无异议，对罚款数额有异议".into()],
                payment_days: 15,
                remedies: "如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼".into(),
                on: Day::ymd(2026, 12, 2),
            }),
            at(9, 10),
        ),
        receipt(
            K::Decision,
            CaseServiceMethod::Left {
                recipient: "李明".into(),
                witness: "王五（村委会）".into(),
                reason: "拒绝签收".into(),
            },
            at(9, 60),
        ),
        (
            K::ClosingApproval,
            String::new(),
            CaseDocument::ClosingApproval(ClosingApprovalContent {
                party: PARTY.into(),
                decision: number(K::Decision, 1),
                penalty: fine(70_000),
                paid_yuan: 70_000,
                executions: vec![],
                published: Some(Day::ymd(2026, 12, 2)),
                approver: "赵科长".into(),
                comment: "同意结案".into(),
                on: Day::ymd(2026, 12, 4),
            }),
            at(11, 0),
        ),
    ]
}

/// The frozen documents, numbered 1 of their kind (the 送达回证 1 and 2).
fn frozen(images: &[Sha256Hex; 2]) -> Vec<FrozenDocument> {
    let mut receipts = 0;
    contents(images)
        .into_iter()
        .map(|(kind, key, content, at)| {
            let seq = if kind == CaseDocKind::ServiceReceipt {
                receipts += 1;
                receipts
            } else {
                1
            };
            FrozenDocument {
                kind,
                number: number(kind, seq),
                key,
                content_hash: content_hash(&content),
                content,
                at,
                by: UserId::from("wang"),
            }
        })
        .collect()
}

/// A closed case holding `docs` (the rest of it does not reach its papers).
fn case_of(docs: &[FrozenDocument]) -> PenaltyCase {
    let wang = InspectorRef {
        user: UserId::from("wang"),
        name: "王强".into(),
        certificate: CertificateNo::parse("32010220180004").unwrap(),
    };
    PenaltyCase {
        id: CaseId::from("case-1"),
        unit: "xw".into(),
        enterprise: EnterpriseSnapshot {
            id: "e-jinggong".into(),
            name: PARTY.into(),
            uscc: app_core::uscc::Uscc::parse("914403001922038216").unwrap(),
            address: "南京市玄武区玄武大道699号".into(),
            legal_representative: "周建国".into(),
            phone: "025-84000000".into(),
            industry: app_core::enterprise::Industry::Machinery,
        },
        source: CaseSource::Complaint {
            reference: "JB-2026-001".into(),
            received_on: Day::ymd(2026, 11, 20),
        },
        facts: "3名新员工未经安全培训上岗".into(),
        violated: violated(),
        penalty_basis: vec![basis()],
        inspectors: BTreeMap::from([(wang.user.clone(), wang)]),
        opened_at: at(0, 0),
        opened_by: UserId::from("wang"),
        stage: CaseStage::Closed,
        filing: None,
        major: Default::default(),
        interviews: Default::default(),
        media: Default::default(),
        measures: Default::default(),
        proposal: None,
        notices: vec![],
        decision: None,
        services: vec![],
        publication: None,
        payments: vec![],
        executions: vec![],
        closing: None,
        documents: docs.iter().map(|d| (d.number.clone(), d.clone())).collect(),
    }
}

fn embedded_subset_fonts(path: &std::path::Path, what: &str) -> usize {
    let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{what}: no fonts");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{what}: {row}");
        assert!(cols[0].contains('+'), "{what}: subset tag: {row}");
    }
    rows.len()
}

#[test]
fn every_case_document_and_the_index_render_with_embedded_fonts_and_a_rare_name() {
    let pngs = [signature_png(1), signature_png(2)];
    let digests = [Sha256Hex::of(&pngs[0]), Sha256Hex::of(&pngs[1])];
    let images: HashMap<Sha256Hex, Vec<u8>> =
        digests.iter().cloned().zip(pngs.iter().cloned()).collect();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let input = CaseInput {
        unit_name: UNIT_NAME,
        images: &lookup,
    };
    let docs = frozen(&digests);
    // Every kind of case document is here.
    for kind in CaseDocKind::ALL {
        assert!(docs.iter().any(|d| d.kind == kind), "{kind:?}");
    }
    for (i, d) in docs.iter().enumerate() {
        let what = format!("{:?} {}", d.kind, d.number);
        let rendered = render_case_document(d, &input).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(rendered.pdf.starts_with(b"%PDF-"), "{what}");
        assert!(
            rendered.warnings.is_empty(),
            "{what}: {:?}",
            rendered.warnings
        );
        assert!(rendered.pages >= 1, "{what}");
        let path = write(&format!("case-{i:02}-{:?}.pdf", d.kind), &rendered.pdf);
        embedded_subset_fonts(&path, &what);
        let text = text_joined(&path);
        for needle in [d.kind.title_zh(), &d.number, PARTY] {
            assert!(text.contains(needle), "{what}: {needle} missing:\n{text}");
        }
        // The rare characters, exactly (U+2A6A5 of Extension B, U+3400 of Extension A).
        assert!(
            text.contains('\u{2A6A5}') && text.contains('\u{3400}'),
            "{what}"
        );
        // Every page's footer carries the content hash the signing recorded.
        assert!(
            squash(&text_layout(&path)).contains(&format!("内容哈希SHA-256：{}", d.content_hash)),
            "{what}: hash footer"
        );
        let penalty = match d.kind {
            CaseDocKind::Notice | CaseDocKind::LegalReview => Some("罚款人民币80000元"),
            CaseDocKind::Decision | CaseDocKind::ClosingApproval => Some("罚款人民币70000元"),
            _ => None,
        };
        if let Some(p) = penalty {
            assert!(text.contains(p), "{what}: {p} missing:\n{text}");
        }
        if d.kind == CaseDocKind::Interview {
            assert!(
                text.contains("拒绝签字（见证人：王五（村委会））"),
                "{text}"
            );
        }
    }

    // The case file: the index first, with each document's page count, then the documents.
    let case = case_of(&docs);
    let parts = render_case_file(&case, &input).unwrap();
    assert_eq!(parts.len(), docs.len() + 1);
    assert_eq!(parts[0].title, "卷内目录");
    let order: Vec<&str> = case
        .documents_in_file_order()
        .iter()
        .map(|d| d.number.as_str())
        .collect();
    assert_eq!(
        parts[1..]
            .iter()
            .map(|p| p.number.as_str())
            .collect::<Vec<_>>(),
        order
    );
    let path = write("case-index.pdf", &parts[0].rendered.pdf);
    embedded_subset_fonts(&path, "卷内目录");
    let text = text_joined(&path);
    for needle in [
        "卷内目录",
        "序号",
        "文书名称",
        "文号",
        "日期",
        "页数",
        "备注",
        PARTY,
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let mut from = 0;
    for n in &order {
        let found = text[from..]
            .find(n)
            .unwrap_or_else(|| panic!("{n} missing after byte {from}:\n{text}"));
        from += found + n.len();
    }
    let interview = &parts[1..]
        .iter()
        .find(|p| p.title == "询问笔录")
        .unwrap()
        .rendered;
    assert!(
        text.contains(&format!(
            "询问笔录{}2026年11月23日{}",
            number(CaseDocKind::Interview, 1),
            interview.pages
        )),
        "the interview's page count:\n{text}"
    );

    // The index alone, from entries without page counts.
    let entries = index_entries(&case);
    let index = render_case_index(PARTY, &entries, &input).unwrap();
    let path = write("case-index-bare.pdf", &index.pdf);
    embedded_subset_fonts(&path, "卷内目录 without pages");
    assert!(text_joined(&path).contains(PARTY));
}

#[test]
fn an_altered_or_empty_case_document_is_refused() {
    let digests = [Sha256Hex::of(b"a"), Sha256Hex::of(b"b")];
    let lookup = |_: &Sha256Hex| None;
    let input = CaseInput {
        unit_name: UNIT_NAME,
        images: &lookup,
    };
    let docs = frozen(&digests);
    let mut altered = docs
        .iter()
        .find(|d| d.kind == CaseDocKind::Decision)
        .unwrap()
        .clone();
    if let CaseDocument::Decision(c) = &mut altered.content {
        c.penalty = fine(1);
    }
    assert!(matches!(
        render_case_document(&altered, &input),
        Err(pdf_forms::FormError::CaseDocumentAltered { .. })
    ));
    let mut empty = altered.clone();
    empty.content = CaseDocument::Missing {
        reason: "no decision".into(),
    };
    empty.content_hash = content_hash(&empty.content);
    assert!(matches!(
        render_case_document(&empty, &input),
        Err(pdf_forms::FormError::CasePaper(_))
    ));
    // An interview whose signature images are not supplied is refused by name.
    let interview = docs
        .iter()
        .find(|d| d.kind == CaseDocKind::Interview)
        .unwrap();
    assert!(matches!(
        render_case_document(interview, &input),
        Err(pdf_forms::FormError::MissingSignatureImage { .. })
    ));
}
