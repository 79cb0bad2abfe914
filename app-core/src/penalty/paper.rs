//! The penalty case's documents on paper: each signed case document ([`FrozenDocument`]) as
//! the one structured model [`Paper`] that `pdf-forms` prints (and a screen can show), built
//! from the content frozen at signing, never from the case as it is now. The 卷内目录 that
//! opens the bound case file is a [`Paper`] too, built from a list of [`IndexEntry`].
//!
//! What each document shows (after domain.md's outline of the general procedure):
//!
//! - 立案审批表: the party, the source, the facts, the provisions violated and the penalty
//!   provisions, the officers, the approval;
//! - 询问笔录: time, place, the officers, the interviewee, then page by page the questions and
//!   answers with that page's signatures (the signature images by SHA-256) or the refusal
//!   with its witness;
//! - 现场处理措施决定书 / 先行登记保存证据通知书: the party, the measures or the evidence
//!   registered, the basis; the decision's remedies (60 days for reconsideration, 6 months to
//!   sue, as domain.md states them for the order);
//! - 行政处罚告知书: the facts, the evidence, the provisions, the intended penalty, the rights to
//!   陈述、申辩 and, where the notice gives it, 听证, each with its period in days;
//! - 陈述申辩笔录, 听证笔录, 法制审核意见书: what was said, heard or reviewed;
//! - 行政处罚决定书: the facts, the evidence, the defence and its review, the provisions, the
//!   penalty, payment within the period (15 days by default) with the 3 % a day for late
//!   payment domain.md records, the remedies as the content words them;
//! - 送达回证: the document served, the method, the time, the recipient's receipt or the
//!   refusal with its witness, the officer who served it;
//! - 结案审批表: the decision, the penalty, how it was carried out, the publication, the
//!   approval.
//!
//! Numbers are printed as issued ([`FrozenDocument::number`]); penalties in the words of
//! [`super::Penalty::zh`]; provisions as [`LegalBasis`] prints them (a pending one with its
//! 依据待核 mark). No article is cited by this module. Every fixed text comes from
//! [`crate::messages::case_paper`].

use super::documents::{
    CaseDocument, ClosingApprovalContent, DecisionContent, FilingApprovalContent, HearingContent,
    InterviewContent, LegalReviewContent, MeasureContent, NoticeContent, OfficerLine,
    PageSignatureLine, PartyLine, ServiceReceiptContent, StatementContent,
};
use super::evidence::MeasureKind;
use super::{CaseDocKind, CaseServiceMethod, FrozenDocument, PenaltyCase};
use crate::docnumber::DocumentKind;
use crate::geo::Day;
use crate::legal::LegalBasis;
use crate::messages::{Lang, case_paper as m};
use crate::paper::{
    Block, Cell, Paper, SignBox, bases, date_of, day, field, minute, para, row, space,
};
use serde::{Deserialize, Serialize};

/// Why a case document could not be put on paper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CasePaperError {
    /// The signed content says its source was missing (the rules never sign such content).
    #[error("the signed {} {number} holds no content: {reason}", .kind.title_en())]
    Missing {
        kind: CaseDocKind,
        number: String,
        reason: String,
    },
}

/// The [`Paper::kind`] of a case document. `Paper::kind` names the inspection documents'
/// number kinds; of the case documents only the 现场处理措施决定书 is one of them. The others
/// carry the 现场检查记录's kind, as the inspection's 送达回证 does: their title names them.
pub fn paper_kind(kind: CaseDocKind) -> DocumentKind {
    match kind {
        CaseDocKind::OnSiteMeasures => DocumentKind::OnSiteMeasures,
        _ => DocumentKind::InspectionRecord,
    }
}

/// The signed case document `doc` on paper, issued by the unit named `unit_name`.
pub fn case_paper(doc: &FrozenDocument, unit_name: &str) -> Result<Paper, CasePaperError> {
    let mut p = Paper {
        kind: paper_kind(doc.kind),
        title: doc.kind.title_zh().to_owned(),
        unit_name: unit_name.to_owned(),
        number: doc.number.clone(),
        blocks: vec![Block::Head],
    };
    match &doc.content {
        CaseDocument::FilingApproval(c) => filing_approval(&mut p, c),
        CaseDocument::Interview(c) => interview(&mut p, c),
        CaseDocument::Measure(c) => measure(&mut p, c),
        CaseDocument::Notice(c) => notice(&mut p, c),
        CaseDocument::Statement(c) => statement(&mut p, c),
        CaseDocument::Hearing(c) => hearing(&mut p, c),
        CaseDocument::LegalReview(c) => legal_review(&mut p, c),
        CaseDocument::Decision(c) => decision(&mut p, c),
        CaseDocument::ServiceReceipt(c) => service_receipt(&mut p, c),
        CaseDocument::ClosingApproval(c) => closing_approval(&mut p, c),
        CaseDocument::Missing { reason } => {
            return Err(CasePaperError::Missing {
                kind: doc.kind,
                number: doc.number.clone(),
                reason: reason.clone(),
            });
        }
    }
    Ok(p)
}

// ---------------------------------------------------------------------------------------
// What the documents share

/// The Chinese of a (Chinese, English) pair.
fn zh(pair: (&'static str, &'static str)) -> &'static str {
    Lang::Zh.pick(pair)
}

/// The Chinese of `pair` with each `{name}` replaced by its value.
fn fill(pair: (&'static str, &'static str), values: &[(&str, &str)]) -> String {
    values.iter().fold(zh(pair).to_owned(), |s, (k, v)| {
        s.replace(&format!("{{{k}}}"), v)
    })
}

/// `—` for an empty text.
fn or_none(s: &str) -> String {
    if s.trim().is_empty() {
        zh(m::NONE).to_owned()
    } else {
        s.to_owned()
    }
}

/// `王强（执法证号：32010220180004）`, or the name alone when no certificate is known.
fn officer(o: &OfficerLine) -> String {
    if o.certificate.trim().is_empty() {
        o.name.clone()
    } else {
        fill(
            m::OFFICER,
            &[("name", &o.name), ("certificate", &o.certificate)],
        )
    }
}

fn officers(list: &[OfficerLine]) -> String {
    let all: Vec<String> = list.iter().map(officer).collect();
    or_none(&all.join(zh(m::LIST_SEP)))
}

/// Provisions as a list, or `—`.
fn provisions(list: &[LegalBasis]) -> String {
    or_none(&bases(list))
}

/// The party's name, code, address, legal representative and phone.
fn party_rows(p: &mut Paper, party: &PartyLine) {
    field(p, zh(m::PARTY), party.name.clone());
    field(p, zh(m::USCC), or_none(&party.uscc));
    field(p, zh(m::ADDRESS), or_none(&party.address));
    pair_row(
        p,
        m::LEGAL_REP,
        or_none(&party.legal_representative),
        m::PHONE,
        or_none(&party.phone),
    );
}

/// Two labelled values side by side (name and date, name and phone).
fn pair_row(
    p: &mut Paper,
    label: (&'static str, &'static str),
    value: String,
    label2: (&'static str, &'static str),
    value2: String,
) {
    row(
        p,
        vec![
            (0.2, Cell::Label(zh(label).to_owned())),
            (0.34, Cell::Text(value)),
            (0.14, Cell::Label(zh(label2).to_owned())),
            (0.32, Cell::Text(value2)),
        ],
    );
}

/// A numbered list as paragraphs.
fn items(p: &mut Paper, list: &[String]) {
    for (n, text) in list.iter().enumerate() {
        para(
            p,
            fill(m::ITEM, &[("n", &(n + 1).to_string()), ("text", text)]),
            2,
        );
    }
}

/// `属于“…”的情形，` for a named circumstance, nothing otherwise.
fn circumstance(c: &str) -> String {
    if c.trim().is_empty() {
        String::new()
    } else {
        fill(m::CIRCUMSTANCE, &[("circumstance", c.trim())])
    }
}

/// The salutation and the facts with the party's address and code, as the notice and the
/// decision open.
fn found(p: &mut Paper, party: &PartyLine, facts: &str) {
    para(p, fill(m::TO_PARTY, &[("party", &party.name)]), 0);
    para(
        p,
        fill(
            m::FOUND,
            &[
                ("address", &party.address),
                ("uscc", &party.uscc),
                ("facts", facts.trim()),
            ],
        ),
        2,
    );
}

fn evidence(p: &mut Paper, list: &[String]) {
    if list.is_empty() {
        return;
    }
    para(p, zh(m::EVIDENCE_INTRO), 2);
    items(p, list);
}

fn seal(p: &mut Paper, date: String) {
    p.blocks.push(Block::Seal { date });
}

// ---------------------------------------------------------------------------------------
// The documents

fn filing_approval(p: &mut Paper, c: &FilingApprovalContent) {
    party_rows(p, &c.party);
    field(p, zh(m::SOURCE), or_none(&c.source));
    field(p, zh(m::FACTS), or_none(&c.facts));
    field(p, zh(m::VIOLATED), provisions(&c.violated));
    field(p, zh(m::PENALTY_BASIS), provisions(&c.penalty_basis));
    field(p, zh(m::HANDLERS), officers(&c.officers));
    field(p, zh(m::OPENED_ON), day(c.opened_on));
    field(p, zh(m::APPROVAL_OPINION), or_none(&c.comment));
    pair_row(
        p,
        m::APPROVER,
        or_none(&c.approver),
        m::APPROVED_ON,
        day(c.approved_on),
    );
}

fn interview(p: &mut Paper, c: &InterviewContent) {
    let period = fill(
        m::FROM_TO,
        &[("from", &minute(c.from)), ("to", &minute(c.to))],
    );
    field(p, zh(m::INTERVIEW_TIME), period);
    field(p, zh(m::INTERVIEW_PLACE), or_none(&c.place));
    field(p, zh(m::ASKED_BY), officer(&c.asked_by));
    field(p, zh(m::RECORDED_BY), officer(&c.recorded_by));
    pair_row(
        p,
        m::INTERVIEWEE,
        c.interviewee.clone(),
        m::POSITION,
        or_none(&c.position),
    );
    field(p, zh(m::WORKPLACE), c.party.clone());
    let of = c.pages.len().to_string();
    for (n, page) in c.pages.iter().enumerate() {
        let n = (n + 1).to_string();
        space(p, 6.0);
        para(p, fill(m::PAGE_OF, &[("n", &n), ("of", &of)]), 0);
        for (q, a) in &page.lines {
            para(p, fill(m::QUESTION, &[("text", q)]), 2);
            para(p, fill(m::ANSWER, &[("text", a)]), 2);
        }
        page_signatures(p, &page.signatures, &n);
    }
}

/// A page's signature boxes, three to a row: the image by its SHA-256, or the refusal with
/// its witness below the name.
fn page_signatures(p: &mut Paper, lines: &[PageSignatureLine], page: &str) {
    let label = || (0.16, Cell::Label(zh(m::PAGE_SIGNATURES).to_owned()));
    if lines.is_empty() {
        row(
            p,
            vec![label(), (0.84, Cell::Text(zh(m::PAGE_UNSIGNED).to_owned()))],
        );
        return;
    }
    for chunk in lines.chunks(3) {
        let mut cells = vec![label()];
        cells.extend(chunk.iter().map(|s| {
            let below = match &s.refusal {
                Some(r) => r.clone(),
                None => fill(m::PAGE_SIGNED, &[("n", page)]),
            };
            (
                0.28,
                Cell::Sign(SignBox {
                    signer: s.who.clone(),
                    caption: s.who.clone(),
                    image: s.image.clone(),
                    below,
                }),
            )
        }));
        for _ in chunk.len()..3 {
            cells.push((0.28, Cell::Text(String::new())));
        }
        row(p, cells);
    }
}

fn measure(p: &mut Paper, c: &MeasureContent) {
    para(p, fill(m::TO_PARTY, &[("party", &c.party.name)]), 0);
    party_rows(p, &c.party);
    space(p, 4.0);
    let on = day(c.on);
    let intro = match c.kind {
        MeasureKind::OnSiteMeasures => m::MEASURES_INTRO,
        MeasureKind::EvidencePreservation => m::PRESERVATION_INTRO,
    };
    para(p, fill(intro, &[("on", &on)]), 2);
    items(p, &c.items);
    if !c.basis.is_empty() {
        para(p, fill(m::MEASURE_BASIS, &[("bases", &bases(&c.basis))]), 2);
    }
    match c.kind {
        MeasureKind::OnSiteMeasures => para(p, zh(m::MEASURE_RIGHTS), 2),
        MeasureKind::EvidencePreservation => para(p, zh(m::PRESERVATION_DUTY), 2),
    }
    space(p, 6.0);
    field(p, zh(m::OFFICERS), officers(&c.officers));
    seal(p, on);
}

fn notice(p: &mut Paper, c: &NoticeContent) {
    found(p, &c.party, &c.facts);
    evidence(p, &c.evidence);
    para(
        p,
        fill(
            m::NOTICE_INTENT,
            &[
                ("violated", &provisions(&c.violated)),
                ("basis", &c.basis.to_string()),
                ("circumstance", &circumstance(&c.circumstance)),
                ("penalty", &c.penalty.zh()),
            ],
        ),
        2,
    );
    let days = c.rights.statement_days.to_string();
    para(p, fill(m::NOTICE_STATEMENT, &[("days", &days)]), 2);
    if c.rights.hearing {
        let days = c.rights.hearing_days.to_string();
        para(p, fill(m::NOTICE_HEARING, &[("days", &days)]), 2);
    }
    seal(p, day(c.on));
}

fn statement(p: &mut Paper, c: &StatementContent) {
    field(p, zh(m::PARTY), c.party.clone());
    field(p, zh(m::NOTICE_NUMBER), c.notice.clone());
    field(p, zh(m::SPEAKER), c.speaker.clone());
    field(p, zh(m::STATEMENT_TIME), minute(c.at));
    field(p, zh(m::RECORDED_BY), officer(&c.recorded_by));
    field(p, zh(m::STATEMENT_TEXT), or_none(&c.text));
    field(p, zh(m::STATEMENT_REVIEW), or_none(&c.review));
}

fn hearing(p: &mut Paper, c: &HearingContent) {
    field(p, zh(m::PARTY), c.party.clone());
    field(p, zh(m::NOTICE_NUMBER), c.notice.clone());
    field(p, zh(m::HEARING_REQUESTED_BY), or_none(&c.requested_by));
    field(p, zh(m::HEARING_HOST), or_none(&c.host));
    field(p, zh(m::HEARING_PLACE), or_none(&c.place));
    field(p, zh(m::HEARING_TIME), minute(c.at));
    field(p, zh(m::INVESTIGATORS), officers(&c.investigators));
    field(p, zh(m::HEARING_SUMMARY), or_none(&c.summary));
}

fn legal_review(p: &mut Paper, c: &LegalReviewContent) {
    field(p, zh(m::PARTY), c.party.clone());
    field(p, zh(m::NOTICE_NUMBER), c.notice.clone());
    field(p, zh(m::PROPOSED_PENALTY), c.penalty.zh());
    field(p, zh(m::REVIEW_OPINION), c.opinion.label_zh().to_owned());
    field(p, zh(m::REVIEW_TEXT), or_none(&c.text));
    pair_row(
        p,
        m::REVIEWER,
        or_none(&c.reviewer),
        m::REVIEWED_ON,
        day(c.on),
    );
}

fn decision(p: &mut Paper, c: &DecisionContent) {
    found(p, &c.party, &c.facts);
    evidence(p, &c.evidence);
    for d in &c.defence {
        para(p, d.clone(), 2);
    }
    para(
        p,
        fill(
            m::DECISION_INTENT,
            &[
                ("violated", &provisions(&c.violated)),
                ("basis", &c.basis.to_string()),
                ("circumstance", &circumstance(&c.circumstance)),
                ("penalty", &c.penalty.zh()),
            ],
        ),
        2,
    );
    if c.penalty.fine_yuan > 0 {
        let days = c.payment_days.to_string();
        para(p, fill(m::PAYMENT, &[("days", &days)]), 2);
    }
    let remedies = c.remedies.trim().trim_end_matches('。');
    para(p, fill(m::REMEDIES, &[("remedies", remedies)]), 2);
    seal(p, day(c.on));
}

fn service_receipt(p: &mut Paper, c: &ServiceReceiptContent) {
    field(p, zh(m::SERVED_PARTY), c.party.clone());
    field(
        p,
        zh(m::SERVED_DOCUMENT),
        fill(
            m::DOCUMENT_REF,
            &[("title", &c.title), ("number", &c.document)],
        ),
    );
    field(p, zh(m::SERVICE_METHOD), c.method.label_zh().to_owned());
    field(p, zh(m::SERVICE_TIME), minute(c.at));
    let receipt = match &c.method {
        CaseServiceMethod::Direct { recipient } => fill(m::RECEIVED, &[("recipient", recipient)]),
        CaseServiceMethod::Left {
            recipient,
            witness,
            reason,
        } => fill(
            m::LEFT,
            &[
                ("recipient", recipient),
                ("reason", reason),
                ("witness", witness),
            ],
        ),
        CaseServiceMethod::Post { tracking } => fill(m::POSTED, &[("tracking", tracking)]),
        CaseServiceMethod::Electronic { address } => fill(m::ELECTRONIC, &[("address", address)]),
    };
    field(p, zh(m::RECEIPT), receipt);
    field(p, zh(m::SERVED_BY), officers(&c.served_by));
    seal(p, date_of(c.at));
}

fn closing_approval(p: &mut Paper, c: &ClosingApprovalContent) {
    field(p, zh(m::PARTY), c.party.clone());
    field(p, zh(m::DECISION_NUMBER), c.decision.clone());
    field(p, zh(m::PENALTY), c.penalty.zh());
    let mut done = Vec::new();
    if c.penalty.fine_yuan > 0 || c.paid_yuan > 0 {
        done.push(fill(m::PAID, &[("paid", &c.paid_yuan.to_string())]));
    }
    done.extend(
        c.executions
            .iter()
            .filter(|e| !e.trim().is_empty())
            .cloned(),
    );
    field(p, zh(m::EXECUTION), or_none(&done.join(zh(m::LIST_SEP))));
    let published = match c.published {
        Some(on) => fill(m::PUBLISHED_ON, &[("on", &day(on))]),
        None => zh(m::NOT_PUBLISHED).to_owned(),
    };
    field(p, zh(m::PUBLISHED), published);
    field(p, zh(m::APPROVAL_OPINION), or_none(&c.comment));
    pair_row(
        p,
        m::APPROVER,
        or_none(&c.approver),
        m::APPROVED_ON,
        day(c.on),
    );
}

// ---------------------------------------------------------------------------------------
// 卷内目录

/// One line of the 卷内目录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// 文书名称.
    pub title: String,
    /// 文号, as issued.
    pub number: String,
    /// The day it was signed (Asia/Shanghai).
    pub date: Day,
    /// 页数, once the document has been printed (the printer knows; `—` until then).
    pub pages: Option<u32>,
    /// 备注: for a 送达回证, the document it served.
    pub note: String,
}

/// The 卷内目录's entries of `case`: its signed documents in the order of the case file
/// ([`PenaltyCase::documents_in_file_order`]: by [`CaseDocKind::ALL`], each 送达回证 after
/// the document it served), without page counts.
pub fn index_entries(case: &PenaltyCase) -> Vec<IndexEntry> {
    case.documents_in_file_order()
        .into_iter()
        .map(|d| {
            let served = (d.kind == CaseDocKind::ServiceReceipt)
                .then(|| case.documents.get(&d.key))
                .flatten();
            let note = served
                .map(|s| {
                    let document = fill(
                        m::DOCUMENT_REF,
                        &[("title", s.kind.title_zh()), ("number", &s.number)],
                    );
                    fill(m::INDEX_SERVES, &[("document", &document)])
                })
                .unwrap_or_default();
            IndexEntry {
                title: d.kind.title_zh().to_owned(),
                number: d.number.clone(),
                date: d.at.shanghai_date(),
                pages: None,
                note,
            }
        })
        .collect()
}

/// The 卷内目录 of the case of `party`, issued by `unit_name`: one row per entry, in the
/// order given (序号, 文书名称, 文号, 日期, 页数, 备注).
pub fn case_index(unit_name: &str, party: &str, entries: &[IndexEntry]) -> Paper {
    let mut p = Paper {
        kind: DocumentKind::InspectionRecord,
        title: zh(m::INDEX_TITLE).to_owned(),
        unit_name: unit_name.to_owned(),
        number: String::new(),
        blocks: vec![Block::Head],
    };
    field(&mut p, zh(m::PARTY), party.to_owned());
    let widths = [0.07, 0.21, 0.27, 0.18, 0.07, 0.2];
    let header = [
        m::INDEX_NO,
        m::INDEX_DOCUMENT,
        m::INDEX_NUMBER,
        m::INDEX_DATE,
        m::INDEX_PAGES,
        m::INDEX_NOTE,
    ];
    row(
        &mut p,
        widths
            .iter()
            .zip(header)
            .map(|(w, h)| (*w, Cell::Label(zh(h).to_owned())))
            .collect(),
    );
    for (n, e) in entries.iter().enumerate() {
        let pages = e
            .pages
            .map(|n| n.to_string())
            .unwrap_or_else(|| zh(m::NONE).to_owned());
        let values = [
            Cell::Label((n + 1).to_string()),
            Cell::Text(e.title.clone()),
            Cell::Text(e.number.clone()),
            Cell::Text(day(e.date)),
            Cell::Text(pages),
            Cell::Text(e.note.clone()),
        ];
        row(&mut p, widths.iter().copied().zip(values).collect());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        World, at, direct, fine, interview, investigated, num, qian, signed, zhao,
    };
    use super::super::*;
    use super::*;
    use crate::evidence::Sha256Hex;
    use crate::geo::Timestamp;
    use crate::ids::UserId;
    use crate::inspection::SignOutcome;
    use crate::test_support::{li, wang};

    const UNIT: &str = "南京市玄武区应急管理局";
    const ENTERPRISE: &str = "南京示例机械有限公司";
    const VIOLATED: &str = "《安全生产法》第二十八条";
    const PENALTY_BASIS: &str = "《安全生产法》第九十七条（依据待核）";

    /// A case with every kind of document, driven to 结案: investigated (filing approved, an
    /// interview signed, a video, a fine proposed); an on-site measure and a preservation
    /// (decided); a second interview whose interviewee refuses to sign before a witness; a
    /// notice with the right to a hearing, served; a statement; a hearing held; a legal
    /// review agreed; the decision served by leaving it (the recipient refused); paid,
    /// published, closed.
    fn closed() -> PenaltyCase {
        let w = World::new();
        let mut c = investigated(&w, "97-3", 80_000);
        let run = |c: &mut PenaltyCase, who: &crate::user::User, now, cmd| {
            w.run(c, who, now, cmd).unwrap_or_else(|e| panic!("{e}"))
        };
        for (id, kind, doc, item) in [
            (
                "m-0",
                MeasureKind::OnSiteMeasures,
                CaseDocKind::OnSiteMeasures,
                "责令未经安全培训的3名员工立即停止上岗作业",
            ),
            (
                "m-1",
                MeasureKind::EvidencePreservation,
                CaseDocKind::EvidencePreservation,
                "培训记录台账1本（会议室）",
            ),
        ] {
            let measure = OnSiteMeasure {
                id: id.into(),
                kind,
                number: num(doc, 1).text,
                at: Timestamp(0),
                items: vec![item.into()],
                basis: vec![LegalBasis::new("安全生产法", "第九十七条").pending()],
                outcome: None,
            };
            let number = num(doc, 1);
            run(
                &mut c,
                &wang(),
                at(0, 105),
                CaseCommand::AddMeasure { measure, number },
            );
        }
        let outcome = PreservationOutcome {
            on: Day::ymd(2026, 11, 23),
            decision: "解除登记保存，退还企业".into(),
        };
        let measure = "m-1".to_owned();
        run(
            &mut c,
            &wang(),
            at(0, 106),
            CaseCommand::ResolvePreservation { measure, outcome },
        );
        let (interview, number) = interview("iv-2", 2, 1, at(0, 107));
        run(
            &mut c,
            &li(),
            at(0, 108),
            CaseCommand::AddInterview { interview, number },
        );
        let refusal = SignOutcome::Refused {
            witness: "王五（村委会）".into(),
            note: "称需请示老板".into(),
        };
        let signatures = [
            PageSignature {
                signer: PageSigner::Interviewee,
                outcome: refusal,
                at: Timestamp(0),
            },
            signed(PageSigner::Inspector(wang().id)),
            signed(PageSigner::Inspector(li().id)),
        ];
        for signature in signatures {
            let interview = "iv-2".to_owned();
            let sign = CaseCommand::SignInterviewPage {
                interview,
                page: 0,
                signature,
            };
            run(&mut c, &li(), at(0, 109), sign);
        }
        let number = num(CaseDocKind::Notice, 1);
        let document = number.text.clone();
        run(&mut c, &wang(), at(0, 120), CaseCommand::Notify { number });
        let (method, number) = (direct(), num(CaseDocKind::ServiceReceipt, 1));
        let served = at(0, 170);
        let service = CaseCommand::RecordService {
            document,
            method,
            at: served,
            number,
        };
        run(&mut c, &wang(), at(0, 180), service);
        let statement = CaseCommand::RecordStatement {
            speaker: "周建国（法定代表人）".into(),
            text: "三名新员工已于次日补训完毕，请求减轻处罚".into(),
            review: "补训属实，不足以减轻处罚，维持拟处罚".into(),
            number: num(CaseDocKind::Statement, 1),
        };
        run(&mut c, &wang(), at(1, 0), statement);
        run(
            &mut c,
            &wang(),
            at(1, 5),
            CaseCommand::RequestHearing {
                by: "李明".into()
            },
        );
        run(
            &mut c,
            &wang(),
            at(1, 10),
            CaseCommand::ScheduleHearing {
                at: at(8, 0),
                place: "局听证室".into(),
                host: UserId::from("sun"),
                host_name: "孙主持".into(),
            },
        );
        run(
            &mut c,
            &wang(),
            at(8, 0),
            CaseCommand::RecordHearing {
                host: UserId::from("sun"),
                host_name: "孙主持".into(),
                place: "局听证室".into(),
                summary: "当事人对事实无异议，对罚款数额有异议".into(),
                number: num(CaseDocKind::Hearing, 1),
            },
        );
        run(&mut c, &wang(), at(8, 20), CaseCommand::SubmitLegalReview);
        run(
            &mut c,
            &qian(),
            at(9, 0),
            CaseCommand::RecordLegalReview {
                opinion: ReviewOpinion::Agree,
                text: "事实清楚，证据充分，裁量适当".into(),
                number: num(CaseDocKind::LegalReview, 1),
            },
        );
        let (penalty, number) = (fine(70_000), num(CaseDocKind::Decision, 1));
        run(
            &mut c,
            &zhao(),
            at(9, 10),
            CaseCommand::Decide { penalty, number },
        );
        run(
            &mut c,
            &wang(),
            at(9, 60),
            CaseCommand::RecordService {
                document: num(CaseDocKind::Decision, 1).text,
                method: CaseServiceMethod::Left {
                    recipient: "周建国".into(),
                    witness: "赵六（社区网格员）".into(),
                    reason: "称对处罚数额有异议".into(),
                },
                at: at(9, 30),
                number: num(CaseDocKind::ServiceReceipt, 2),
            },
        );
        run(
            &mut c,
            &zhao(),
            at(9, 120),
            CaseCommand::RecordPublication {
                on: Day::ymd(2026, 12, 2),
                channel: "区政府网站 行政执法公示".into(),
            },
        );
        run(
            &mut c,
            &wang(),
            at(10, 0),
            CaseCommand::RecordPayment {
                on: Day::ymd(2026, 12, 3),
                amount_yuan: 70_000,
                receipt: "NO.0001".into(),
            },
        );
        run(
            &mut c,
            &zhao(),
            at(11, 0),
            CaseCommand::Close {
                number: num(CaseDocKind::ClosingApproval, 1),
                comment: "同意结案".into(),
            },
        );
        assert_eq!(c.stage, CaseStage::Closed);
        c
    }

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|ch| ('\u{4E00}'..='\u{9FFF}').contains(&ch))
    }

    #[test]
    fn every_document_of_a_closed_case_prints_its_number_party_provision_and_penalty() {
        let c = closed();
        let docs = c.documents_in_file_order();
        // Every kind of document is there.
        for kind in CaseDocKind::ALL {
            assert!(docs.iter().any(|d| d.kind == kind), "{kind:?}");
        }
        for d in docs {
            let p = case_paper(d, UNIT).unwrap();
            let text = p.plain_text();
            assert_eq!(p.title, d.kind.title_zh());
            assert_eq!(p.number, d.number);
            assert!(text.contains(&d.number), "{:?}: number\n{text}", d.kind);
            assert!(text.contains(ENTERPRISE), "{:?}: party\n{text}", d.kind);
            assert!(
                !text.contains('{'),
                "{:?}: an unfilled field\n{text}",
                d.kind
            );
            match d.kind {
                CaseDocKind::FilingApproval | CaseDocKind::Notice | CaseDocKind::Decision => {
                    assert!(text.contains(VIOLATED), "{:?}\n{text}", d.kind);
                    assert!(text.contains(PENALTY_BASIS), "{:?}\n{text}", d.kind);
                }
                CaseDocKind::OnSiteMeasures | CaseDocKind::EvidencePreservation => {
                    assert!(text.contains(PENALTY_BASIS), "{:?}\n{text}", d.kind);
                }
                _ => {}
            }
            let penalty = match d.kind {
                CaseDocKind::Notice | CaseDocKind::LegalReview => Some("罚款人民币80000元"),
                CaseDocKind::Decision | CaseDocKind::ClosingApproval => Some("罚款人民币70000元"),
                _ => None,
            };
            if let Some(penalty) = penalty {
                assert!(text.contains(penalty), "{:?}\n{text}", d.kind);
            }
            // Chinese throughout: the title and every label.
            assert!(has_cjk(&p.title) && has_cjk(&text));
            for b in &p.blocks {
                if let Block::Row { cells } = b {
                    for (_, cell) in cells {
                        if let Cell::Label(l) = cell
                            && l.parse::<u32>().is_err()
                        {
                            assert!(has_cjk(l), "{:?}: label {l:?}", d.kind);
                            assert!(
                                !l.chars().any(|ch| ch.is_ascii_alphabetic()),
                                "{:?}: label {l:?}",
                                d.kind
                            );
                        }
                    }
                }
            }
        }
    }

    fn contains_all(text: &str, wants: &[&str]) {
        for want in wants {
            assert!(text.contains(want), "{want}\n{text}");
        }
    }

    fn paper_of(c: &PenaltyCase, kind: CaseDocKind, seq: u32) -> Paper {
        case_paper(&c.documents[&num(kind, seq).text], UNIT).unwrap()
    }

    #[test]
    fn the_notice_and_the_decision_state_the_rights_payment_and_remedies() {
        let c = closed();
        let notice = paper_of(&c, CaseDocKind::Notice, 1).plain_text();
        contains_all(
            &notice,
            &[
                "南京示例机械有限公司：",
                "视频1份",
                "属于“涉及从业人员10人以上，或拒不改正”的情形，本机关拟对你单位作出如下行政处罚：罚款人民币80000元。",
                "收到本告知书之日起3日内向本机关提出陈述、申辩",
                "收到本告知书之日起5日内向本机关提出听证申请",
                "南京市玄武区应急管理局（印章） 2026年11月23日",
            ],
        );
        let decision = paper_of(&c, CaseDocKind::Decision, 1).plain_text();
        contains_all(
            &decision,
            &[
                "询问笔录（（玄武）应急询问〔2026〕1号，被询问人：张三）",
                "当事人陈述申辩：三名新员工已于次日补训完毕，请求减轻处罚；复核意见：补训属实",
                "听证情况：当事人对事实无异议",
                "本机关决定对你单位作出如下行政处罚：罚款人民币70000元。",
                "罚款自收到本决定书之日起15日内缴纳",
                "六十日内申请行政复议",
                "六个月内依法向人民法院提起行政诉讼。",
            ],
        );
        let closing = paper_of(&c, CaseDocKind::ClosingApproval, 1).plain_text();
        contains_all(&closing, &["已缴纳罚款70000元", "已于2026年12月2日公示"]);
    }

    /// Every signature box of a paper.
    fn boxes(p: &Paper) -> Vec<&SignBox> {
        p.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Row { cells } => Some(cells),
                _ => None,
            })
            .flatten()
            .filter_map(|(_, cell)| match cell {
                Cell::Sign(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// Every signature box of each page of the interview is there, with its image's hash.
    #[test]
    fn an_interview_prints_page_by_page_with_each_pages_signatures() {
        let c = closed();
        let iv = paper_of(&c, CaseDocKind::Interview, 1);
        contains_all(
            &iv.plain_text(),
            &[
                "第1页（共2页）",
                "第2页（共2页）",
                "问：新员工上岗前是否经过安全培训？",
                "答：没有。",
                "执法人员 王强 （第2页签名）",
            ],
        );
        let all = boxes(&iv);
        assert_eq!(all.len(), 6, "three signers on each of two pages");
        let signature = Some(Sha256Hex::of(b"signature"));
        assert!(all.iter().all(|b| b.image == signature), "{all:?}");
    }

    #[test]
    fn a_refusal_to_sign_shows_as_such() {
        let c = closed();
        let iv = paper_of(&c, CaseDocKind::Interview, 2);
        contains_all(
            &iv.plain_text(),
            &["被询问人 张三 拒绝签字（见证人：王五（村委会））称需请示老板"],
        );
        let refused: Vec<_> = boxes(&iv)
            .into_iter()
            .filter(|b| b.image.is_none())
            .collect();
        assert_eq!(refused.len(), 1);
        assert!(refused[0].below.contains("拒绝签字"));
        // The decision was left with the recipient, who refused to sign for it.
        let receipt = paper_of(&c, CaseDocKind::ServiceReceipt, 2).plain_text();
        contains_all(
            &receipt,
            &[
                "《行政处罚决定书》（玄武）应急罚决〔2026〕1号",
                "留置送达",
                "周建国拒绝签收（称对处罚数额有异议），见证人：赵六（社区网格员），文书留置于送达地点",
                "王强",
            ],
        );
        let served = paper_of(&c, CaseDocKind::ServiceReceipt, 1).plain_text();
        contains_all(&served, &["直接送达", "李明（签收）"]);
    }

    #[test]
    fn the_case_file_index_lists_every_document_in_file_order() {
        let c = closed();
        let entries = index_entries(&c);
        let order: Vec<&str> = c
            .documents_in_file_order()
            .iter()
            .map(|d| d.number.as_str())
            .collect();
        assert_eq!(
            entries
                .iter()
                .map(|e| e.number.as_str())
                .collect::<Vec<_>>(),
            order
        );
        let mut with_pages = entries.clone();
        with_pages[0].pages = Some(2);
        let p = case_index(UNIT, ENTERPRISE, &with_pages);
        let text = p.plain_text();
        assert_eq!(p.title, "卷内目录");
        assert!(text.contains("序号 文书名称 文号 日期 页数 备注"), "{text}");
        assert!(
            text.contains("1 立案审批表 （玄武）应急立审〔2026〕1号 2026年11月23日 2"),
            "{text}"
        );
        // The numbers in file order, each 送达回证 noting what it served.
        let mut from = 0;
        for n in &order {
            let at = text[from..]
                .find(n)
                .unwrap_or_else(|| panic!("{n}\n{text}"));
            from += at;
        }
        assert!(
            text.contains("送达《行政处罚决定书》（玄武）应急罚决〔2026〕1号"),
            "{text}"
        );
    }

    #[test]
    fn a_document_without_content_is_refused() {
        let c = closed();
        let mut d = c.documents[&num(CaseDocKind::Notice, 1).text].clone();
        d.content = CaseDocument::Missing {
            reason: "no notice".into(),
        };
        assert_eq!(
            case_paper(&d, UNIT),
            Err(CasePaperError::Missing {
                kind: CaseDocKind::Notice,
                number: d.number.clone(),
                reason: "no notice".into(),
            })
        );
        let e = case_paper(&d, UNIT).unwrap_err();
        assert!(e.zh().contains("行政处罚告知书"), "{}", e.zh());
    }
}
