//! Document numbers (文号) of the shape `（单位简称）应急<类别>〔年份〕<序号>号`, sequential per
//! unit, kind and year, issued on tablets that may be offline for days.
//!
//! Design: per-device blocks. At sync the server's [`Allocator`] reserves a block of numbers
//! of one series (unit, kind, year) for one device; blocks never overlap, because the
//! allocator only ever moves forward and is rebuilt from the blocks it already handed out.
//! Offline, a tablet's [`DevicePool`] issues numbers only from its own blocks, and each block
//! only moves forward, so two tablets can never produce the same number and no number is
//! issued twice. The cost is that numbers are unique but not issued in strict time order
//! across tablets, and a block that is never used leaves a gap; both are accepted practice for
//! offline issuance. When a tablet runs out it says so (the UI asks to sync) rather than
//! guessing a number.

use crate::geo::Timestamp;
use crate::ids::{DeviceId, UnitId, UserId};
use crate::penalty::CaseDocKind;
use crate::user::{Role, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds of enforcement document, with the kind code used in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 现场检查记录
    InspectionRecord,
    /// 责令限期整改指令书
    RectificationOrder,
    /// 整改复查意见书
    ReinspectionOpinion,
    /// 现场处理措施决定书 (of an inspection or of a penalty case: one series)
    OnSiteMeasures,
    // The other documents of a penalty case (`crate::penalty::CaseDocKind`), with its codes.
    /// 立案审批表
    FilingApproval,
    /// 询问笔录
    Interview,
    /// 先行登记保存证据通知书
    EvidencePreservation,
    /// 行政处罚告知书
    PenaltyNotice,
    /// 陈述申辩笔录
    StatementRecord,
    /// 听证笔录
    HearingRecord,
    /// 法制审核意见书
    LegalReview,
    /// 行政处罚决定书
    PenaltyDecision,
    /// 送达回证
    ServiceReceipt,
    /// 结案审批表
    ClosingApproval,
}

impl DocumentKind {
    /// Every kind: the inspection documents ([`INSPECTOR_KINDS`]), then the case documents
    /// in case-file order ([`CASE_KINDS`], the 现场处理措施决定书 among them).
    pub const ALL: [DocumentKind; 14] = {
        let mut all = [DocumentKind::InspectionRecord; 14];
        let mut i = 0;
        while i < all.len() {
            all[i] = if i < INSPECTOR_KINDS.len() {
                INSPECTOR_KINDS[i]
            } else {
                CASE_KINDS[i - INSPECTOR_KINDS.len()]
            };
            i += 1;
        }
        all
    };

    /// The kind code in the number, e.g. 检记; a case document's is its
    /// [`CaseDocKind::code`] (the codes its [`crate::penalty::IssuedNumber`] prints).
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::InspectionRecord => "检记",
            DocumentKind::RectificationOrder => "责改",
            DocumentKind::ReinspectionOpinion => "复查",
            kind => kind.case_doc().map_or("", CaseDocKind::code),
        }
    }

    pub fn title_zh(self) -> &'static str {
        match self {
            DocumentKind::InspectionRecord => "现场检查记录",
            DocumentKind::RectificationOrder => "责令限期整改指令书",
            DocumentKind::ReinspectionOpinion => "整改复查意见书",
            kind => kind.case_doc().map_or("", CaseDocKind::title_zh),
        }
    }

    /// The case document numbered from this series (the 现场处理措施决定书 is both an
    /// inspection's and a case's), none for the inspection documents.
    pub fn case_doc(self) -> Option<CaseDocKind> {
        Some(match self {
            DocumentKind::InspectionRecord
            | DocumentKind::RectificationOrder
            | DocumentKind::ReinspectionOpinion => return None,
            DocumentKind::OnSiteMeasures => CaseDocKind::OnSiteMeasures,
            DocumentKind::FilingApproval => CaseDocKind::FilingApproval,
            DocumentKind::Interview => CaseDocKind::Interview,
            DocumentKind::EvidencePreservation => CaseDocKind::EvidencePreservation,
            DocumentKind::PenaltyNotice => CaseDocKind::Notice,
            DocumentKind::StatementRecord => CaseDocKind::Statement,
            DocumentKind::HearingRecord => CaseDocKind::Hearing,
            DocumentKind::LegalReview => CaseDocKind::LegalReview,
            DocumentKind::PenaltyDecision => CaseDocKind::Decision,
            DocumentKind::ServiceReceipt => CaseDocKind::ServiceReceipt,
            DocumentKind::ClosingApproval => CaseDocKind::ClosingApproval,
        })
    }
}

/// The series a case document is numbered from: each case document has its own.
impl From<CaseDocKind> for DocumentKind {
    fn from(kind: CaseDocKind) -> Self {
        match kind {
            CaseDocKind::FilingApproval => DocumentKind::FilingApproval,
            CaseDocKind::Interview => DocumentKind::Interview,
            CaseDocKind::OnSiteMeasures => DocumentKind::OnSiteMeasures,
            CaseDocKind::EvidencePreservation => DocumentKind::EvidencePreservation,
            CaseDocKind::Notice => DocumentKind::PenaltyNotice,
            CaseDocKind::Statement => DocumentKind::StatementRecord,
            CaseDocKind::Hearing => DocumentKind::HearingRecord,
            CaseDocKind::LegalReview => DocumentKind::LegalReview,
            CaseDocKind::Decision => DocumentKind::PenaltyDecision,
            CaseDocKind::ServiceReceipt => DocumentKind::ServiceReceipt,
            CaseDocKind::ClosingApproval => DocumentKind::ClosingApproval,
        }
    }
}

/// One numbering sequence: a unit's documents of one kind in one year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Series {
    pub unit: UnitId,
    pub kind: DocumentKind,
    pub year: i32,
}

/// Numbers `first..=last` of a series, reserved for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub series: Series,
    pub device: DeviceId,
    pub first: u32,
    pub last: u32,
}

/// A document number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocNumber {
    pub series: Series,
    pub seq: u32,
}

impl DocNumber {
    /// `（玄武）应急检记〔2026〕12号`, given the unit's short name.
    pub fn format(&self, unit_short_name: &str) -> String {
        format!(
            "（{}）应急{}〔{}〕{}号",
            unit_short_name,
            self.series.kind.code(),
            self.series.year,
            self.seq
        )
    }
}

/// A document issued from a record: kept in the record so the number is never used again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedDocument {
    pub kind: DocumentKind,
    /// The formatted number, e.g. `（玄武）应急检记〔2026〕12号`.
    pub number: String,
    pub seq: u32,
    pub year: i32,
    pub at: Timestamp,
    pub by: UserId,
    pub device: DeviceId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error(
        "no document numbers left for {kind:?} {year} of unit {unit} on this device; sync to reserve more"
    )]
    Exhausted {
        unit: UnitId,
        kind: DocumentKind,
        year: i32,
    },
    #[error("block for device {block_device} offered to device {device}")]
    ForeignBlock {
        device: DeviceId,
        block_device: DeviceId,
    },
    #[error("block {first}..={last} is empty or inverted")]
    EmptyBlock { first: u32, last: u32 },
    #[error("block {first}..={last} overlaps numbers this device already holds")]
    Overlap { first: u32, last: u32 },
    #[error("a block needs at least one number")]
    ZeroSize,
    #[error("series is exhausted (no numbers left below u32::MAX)")]
    SeriesFull,
}

/// The server's side: hands out non-overlapping blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocator {
    next: BTreeMap<Series, u32>,
}

impl Allocator {
    /// Rebuilds the allocator from every block it has handed out (as stored by the server),
    /// so that after a restart it continues after the highest number ever reserved.
    pub fn from_blocks<'a>(blocks: impl IntoIterator<Item = &'a Block>) -> Self {
        let mut next: BTreeMap<Series, u32> = BTreeMap::new();
        for b in blocks {
            let after = b.last.saturating_add(1);
            let entry = next.entry(b.series.clone()).or_insert(1);
            *entry = (*entry).max(after);
        }
        Self { next }
    }

    /// Reserves the next `size` numbers of `series` for `device`.
    pub fn reserve(
        &mut self,
        series: Series,
        device: DeviceId,
        size: u32,
    ) -> Result<Block, NumberError> {
        if size == 0 {
            return Err(NumberError::ZeroSize);
        }
        let next = self.next.entry(series.clone()).or_insert(1);
        let first = *next;
        let last = first.checked_add(size - 1).ok_or(NumberError::SeriesFull)?;
        *next = last.checked_add(1).ok_or(NumberError::SeriesFull)?;
        Ok(Block {
            series,
            device,
            first,
            last,
        })
    }
}

/// A block in a device's pool and how far it has been used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HeldBlock {
    block: Block,
    /// The next number to issue; `block.last + 1` when used up.
    next: u32,
}

/// A tablet's side: the blocks it holds and how far each is used. Serialisable so the tablet
/// stores it with its records; `next` only ever moves forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePool {
    device: DeviceId,
    blocks: Vec<HeldBlock>,
}

impl DevicePool {
    pub fn new(device: DeviceId) -> Self {
        Self {
            device,
            blocks: Vec::new(),
        }
    }

    /// Takes a block the server reserved for this device.
    pub fn add_block(&mut self, block: Block) -> Result<(), NumberError> {
        if block.device != self.device {
            return Err(NumberError::ForeignBlock {
                device: self.device.clone(),
                block_device: block.device,
            });
        }
        if block.first == 0 || block.first > block.last {
            return Err(NumberError::EmptyBlock {
                first: block.first,
                last: block.last,
            });
        }
        let overlaps = self.blocks.iter().any(|h| {
            h.block.series == block.series
                && h.block.first <= block.last
                && block.first <= h.block.last
        });
        if overlaps {
            // Receiving the same block twice (a replayed sync answer) is harmless; anything
            // else overlapping means the server broke its promise, so refuse loudly.
            if self.blocks.iter().any(|h| h.block == block) {
                return Ok(());
            }
            return Err(NumberError::Overlap {
                first: block.first,
                last: block.last,
            });
        }
        self.blocks.push(HeldBlock {
            next: block.first,
            block,
        });
        Ok(())
    }

    /// Every block this device holds (used up or not), to announce them to a restored server.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks.iter().map(|h| &h.block)
    }

    /// Stops issuing from `block` (the server gave it to another device meanwhile): its
    /// remaining numbers are dropped; those issued stay issued.
    pub fn retire(&mut self, block: &Block) {
        for h in self.blocks.iter_mut().filter(|h| h.block == *block) {
            h.next = h.block.last + 1;
        }
    }

    /// How many numbers of `series` this device can still issue offline.
    pub fn remaining(&self, series: &Series) -> u32 {
        self.blocks
            .iter()
            .filter(|h| &h.block.series == series)
            .map(|h| h.block.last + 1 - h.next)
            .sum()
    }

    /// Issues the next number of `series` from the lowest block that has one left.
    pub fn issue(&mut self, series: &Series) -> Result<DocNumber, NumberError> {
        let held = self
            .blocks
            .iter_mut()
            .filter(|h| &h.block.series == series && h.next <= h.block.last)
            .min_by_key(|h| h.block.first)
            .ok_or_else(|| NumberError::Exhausted {
                unit: series.unit.clone(),
                kind: series.kind,
                year: series.year,
            })?;
        let seq = held.next;
        held.next += 1;
        Ok(DocNumber {
            series: series.clone(),
            seq,
        })
    }
}

/// The documents an inspector issues from a record, in the order they are made.
pub const INSPECTOR_KINDS: [DocumentKind; 3] = [
    DocumentKind::InspectionRecord,
    DocumentKind::RectificationOrder,
    DocumentKind::ReinspectionOpinion,
];

/// The documents of a penalty case, each its own series (the 现场处理措施决定书's shared with
/// the inspections), in case-file order.
pub const CASE_KINDS: [DocumentKind; 11] = [
    DocumentKind::FilingApproval,
    DocumentKind::Interview,
    DocumentKind::OnSiteMeasures,
    DocumentKind::EvidencePreservation,
    DocumentKind::PenaltyNotice,
    DocumentKind::StatementRecord,
    DocumentKind::HearingRecord,
    DocumentKind::LegalReview,
    DocumentKind::PenaltyDecision,
    DocumentKind::ServiceReceipt,
    DocumentKind::ClosingApproval,
];

/// The case documents a supervisor signs (立案审批表, 法制审核意见书, 行政处罚决定书,
/// 结案审批表; `CaseCommand::ApproveFiling`, `RecordLegalReview`, `Decide`, `Close`).
pub const SUPERVISOR_KINDS: [DocumentKind; 4] = [
    DocumentKind::FilingApproval,
    DocumentKind::LegalReview,
    DocumentKind::PenaltyDecision,
    DocumentKind::ClosingApproval,
];

/// Whether `user` issues documents of `kind` and so may hold its numbers: an inspector every
/// kind, a supervisor the case documents he signs ([`SUPERVISOR_KINDS`]), nobody else.
pub fn issues(user: &User, kind: DocumentKind) -> bool {
    match user.role {
        Role::Inspector { .. } => true,
        Role::Supervisor => SUPERVISOR_KINDS.contains(&kind),
        Role::Admin => false,
    }
}

/// The series `user` keeps numbers of at `now`: an inspector's [`series_needed`], and when
/// the tablet holds penalty cases (`with_cases`) the case documents' series the user issues.
pub fn series_for(user: &User, with_cases: bool, now: Timestamp) -> Vec<Series> {
    let mut out = if user.is_inspector() {
        series_needed(&user.unit, now)
    } else {
        Vec::new()
    };
    if with_cases {
        out.extend(
            case_series_needed(&user.unit, now)
                .into_iter()
                .filter(|s| issues(user, s.kind)),
        );
    }
    out
}

/// The series an inspector of `unit` needs at `now`: the three kinds of the current year in
/// Asia/Shanghai, and from 20 December the next year's as well (so a tablet that last synced
/// before New Year still has numbers in January).
pub fn series_needed(unit: &UnitId, now: Timestamp) -> Vec<Series> {
    series_of(&INSPECTOR_KINDS, unit, now)
}

/// The series a tablet that holds penalty cases needs besides [`series_needed`]: the case
/// documents' ([`CASE_KINDS`]), by the same years.
pub fn case_series_needed(unit: &UnitId, now: Timestamp) -> Vec<Series> {
    series_of(&CASE_KINDS, unit, now)
}

/// `kinds` of `unit` in the current year at `now`, and from 20 December the next year's.
fn series_of(kinds: &[DocumentKind], unit: &UnitId, now: Timestamp) -> Vec<Series> {
    let today = now.shanghai_date();
    let mut years = vec![today.year()];
    if u8::from(today.0.month()) == 12 && today.0.day() >= 20 {
        years.push(today.year() + 1);
    }
    years
        .into_iter()
        .flat_map(|year| {
            kinds.iter().map(move |&kind| Series {
                unit: unit.clone(),
                kind,
                year,
            })
        })
        .collect()
}

/// The series of `kinds` (the documents a signing must number, in `year`) that `pool` holds
/// no number of: such a signing cannot go ahead until the tablet has synced for more.
pub fn missing_series(
    pool: &DevicePool,
    unit: &UnitId,
    year: i32,
    kinds: &[DocumentKind],
) -> Vec<Series> {
    kinds
        .iter()
        .map(|&kind| Series {
            unit: unit.clone(),
            kind,
            year,
        })
        .filter(|s| pool.remaining(s) == 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn series(kind: DocumentKind, year: i32) -> Series {
        Series {
            unit: UnitId::from("xw"),
            kind,
            year,
        }
    }

    #[test]
    fn number_has_the_standard_shape() {
        let n = DocNumber {
            series: series(DocumentKind::InspectionRecord, 2026),
            seq: 12,
        };
        assert_eq!(n.format("玄武"), "（玄武）应急检记〔2026〕12号");
        let n = DocNumber {
            series: series(DocumentKind::RectificationOrder, 2027),
            seq: 1,
        };
        assert_eq!(n.format("玄武"), "（玄武）应急责改〔2027〕1号");
    }

    #[test]
    fn every_case_document_has_its_own_series_with_the_case_code() {
        use crate::ids::DeviceId;
        use crate::penalty::IssuedNumber;
        let kinds: BTreeSet<DocumentKind> = CaseDocKind::ALL
            .into_iter()
            .map(DocumentKind::from)
            .collect();
        assert_eq!(kinds.len(), CaseDocKind::ALL.len());
        assert_eq!(kinds, CASE_KINDS.into_iter().collect());
        for case_kind in CaseDocKind::ALL {
            let kind = DocumentKind::from(case_kind);
            assert_eq!(kind.case_doc(), Some(case_kind));
            assert_eq!(kind.title_zh(), case_kind.title_zh());
            // A number from the pool prints as the case's own number of that document.
            let n = DocNumber {
                series: series(kind, 2026),
                seq: 3,
            };
            let issued = IssuedNumber::new("玄武", case_kind, 2026, 3, DeviceId::new("t"));
            assert_eq!(n.format("玄武"), issued.text);
            assert!(issued.is_of(case_kind, 2026));
        }
        for kind in INSPECTOR_KINDS {
            assert_eq!(kind.case_doc(), None);
        }
        // Every kind is listed once, and the codes tell the kinds apart.
        let all: BTreeSet<DocumentKind> = DocumentKind::ALL.into_iter().collect();
        assert_eq!(all.len(), DocumentKind::ALL.len());
        let codes: BTreeSet<&str> = DocumentKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), DocumentKind::ALL.len());
        assert_eq!(
            (
                DocumentKind::PenaltyDecision.code(),
                DocumentKind::OnSiteMeasures.code()
            ),
            ("罚决", "现决")
        );
    }

    /// The wire names of the kinds (stored by the server, sent in reservations): the
    /// inspection documents' never change; the case documents' are pinned here.
    #[test]
    fn kinds_keep_their_wire_names() {
        let names: Vec<String> = DocumentKind::ALL
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"inspection_record\"",
                "\"rectification_order\"",
                "\"reinspection_opinion\"",
                "\"filing_approval\"",
                "\"interview\"",
                "\"on_site_measures\"",
                "\"evidence_preservation\"",
                "\"penalty_notice\"",
                "\"statement_record\"",
                "\"hearing_record\"",
                "\"legal_review\"",
                "\"penalty_decision\"",
                "\"service_receipt\"",
                "\"closing_approval\"",
            ]
        );
    }

    #[test]
    fn a_tablet_with_cases_needs_the_case_series_by_the_same_years() {
        let unit = UnitId::new("xw");
        let june = Timestamp(1_781_000_000_000);
        let s = case_series_needed(&unit, june);
        assert_eq!(s.iter().map(|s| s.kind).collect::<Vec<_>>(), CASE_KINDS);
        assert!(s.iter().all(|s| s.year == june.shanghai_date().year()));
    }

    #[test]
    fn a_supervisor_keeps_the_numbers_of_the_case_documents_he_signs() {
        let user = |role| User {
            id: UserId::new("u"),
            name: "某".into(),
            unit: UnitId::new("xw"),
            role,
        };
        let june = Timestamp(1_781_000_000_000);
        let kinds = |u: &User, cases| {
            series_for(u, cases, june)
                .into_iter()
                .map(|s| s.kind)
                .collect::<Vec<_>>()
        };
        let inspector = user(Role::Inspector {
            certificate: crate::user::CertificateNo::parse("32000000001").unwrap(),
        });
        assert_eq!(kinds(&inspector, false), INSPECTOR_KINDS);
        assert_eq!(kinds(&inspector, true).len(), 3 + CASE_KINDS.len());
        let supervisor = user(Role::Supervisor);
        assert!(kinds(&supervisor, false).is_empty());
        assert_eq!(kinds(&supervisor, true), SUPERVISOR_KINDS);
        assert!(!issues(&supervisor, DocumentKind::InspectionRecord));
        assert!(kinds(&user(Role::Admin), true).is_empty());
    }

    #[test]
    fn two_offline_tablets_never_issue_the_same_number() {
        let s = series(DocumentKind::InspectionRecord, 2026);
        let mut server = Allocator::default();
        let (a, b) = (DeviceId::from("tablet-a"), DeviceId::from("tablet-b"));
        let mut pool_a = DevicePool::new(a.clone());
        let mut pool_b = DevicePool::new(b.clone());
        pool_a
            .add_block(server.reserve(s.clone(), a.clone(), 3).unwrap())
            .unwrap();
        pool_b
            .add_block(server.reserve(s.clone(), b.clone(), 3).unwrap())
            .unwrap();
        let mut seen = BTreeSet::new();
        for _ in 0..3 {
            assert!(seen.insert(pool_a.issue(&s).unwrap()));
            assert!(seen.insert(pool_b.issue(&s).unwrap()));
        }
        assert_eq!(seen.len(), 6);
        assert!(matches!(
            pool_a.issue(&s),
            Err(NumberError::Exhausted { .. })
        ));
        // Another year or kind is another series, starting at 1.
        let other = series(DocumentKind::InspectionRecord, 2027);
        let block = server.reserve(other.clone(), a.clone(), 2).unwrap();
        assert_eq!(block.first, 1);
        pool_a.add_block(block).unwrap();
        assert_eq!(pool_a.issue(&other).unwrap().seq, 1);
    }

    #[test]
    fn a_restarted_server_continues_after_the_highest_reserved_number() {
        let s = series(DocumentKind::RectificationOrder, 2026);
        let mut server = Allocator::default();
        let blocks: Vec<Block> = (0..3)
            .map(|i| {
                server
                    .reserve(s.clone(), DeviceId::new(format!("t{i}")), 5)
                    .unwrap()
            })
            .collect();
        let mut restarted = Allocator::from_blocks(&blocks);
        let next = restarted.reserve(s, DeviceId::from("t9"), 5).unwrap();
        assert_eq!(next.first, 16);
    }

    #[test]
    fn a_pool_refuses_foreign_or_overlapping_blocks_but_tolerates_a_replay() {
        let s = series(DocumentKind::InspectionRecord, 2026);
        let a = DeviceId::from("a");
        let mut pool = DevicePool::new(a.clone());
        let block = Block {
            series: s.clone(),
            device: a.clone(),
            first: 1,
            last: 10,
        };
        pool.add_block(block.clone()).unwrap();
        pool.add_block(block.clone()).unwrap();
        assert_eq!(pool.remaining(&s), 10);
        let overlapping = Block {
            first: 5,
            last: 15,
            ..block.clone()
        };
        assert!(matches!(
            pool.add_block(overlapping),
            Err(NumberError::Overlap { .. })
        ));
        let foreign = Block {
            device: DeviceId::from("b"),
            first: 11,
            last: 20,
            ..block
        };
        assert!(matches!(
            pool.add_block(foreign),
            Err(NumberError::ForeignBlock { .. })
        ));
    }

    #[test]
    fn pool_survives_a_save_and_reload_without_reissuing() {
        let s = series(DocumentKind::InspectionRecord, 2026);
        let a = DeviceId::from("a");
        let mut server = Allocator::default();
        let mut pool = DevicePool::new(a.clone());
        pool.add_block(server.reserve(s.clone(), a, 4).unwrap())
            .unwrap();
        let first = pool.issue(&s).unwrap();
        let saved = serde_json::to_string(&pool).unwrap();
        let mut reloaded: DevicePool = serde_json::from_str(&saved).unwrap();
        let second = reloaded.issue(&s).unwrap();
        assert_eq!(second.seq, first.seq + 1);
    }

    proptest! {
        /// Any interleaving of reservations (at sync) and offline issues on several tablets
        /// and series, with the server restarting from its stored blocks at random, never
        /// yields the same number twice.
        #[test]
        fn numbers_never_collide(ops in prop::collection::vec((0u8..4, 0usize..4, 0u8..3, 1u32..6), 1..200)) {
            let all_series = [
                series(DocumentKind::InspectionRecord, 2026),
                series(DocumentKind::RectificationOrder, 2026),
                series(DocumentKind::InspectionRecord, 2027),
            ];
            let mut server = Allocator::default();
            let mut handed_out: Vec<Block> = Vec::new();
            let mut pools: Vec<DevicePool> =
                (0..4).map(|i| DevicePool::new(DeviceId::new(format!("t{i}")))).collect();
            let mut issued = BTreeSet::new();
            for (op, device, s, size) in ops {
                let s = &all_series[usize::from(s)];
                match op {
                    0 => {
                        let block = server
                            .reserve(s.clone(), DeviceId::new(format!("t{device}")), size)
                            .unwrap();
                        handed_out.push(block.clone());
                        pools[device].add_block(block).unwrap();
                    }
                    1 => server = Allocator::from_blocks(&handed_out),
                    _ => {
                        if let Ok(n) = pools[device].issue(s) {
                            prop_assert!(issued.insert(n.clone()), "{:?} issued twice", n);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_series_needed_turn_to_the_next_year_on_20_december() {
        let unit = UnitId::new("xw");
        // Noon in Shanghai on 2026-12-<d> (2026-12-19T00:00:00Z is 1_797_667_200_000).
        let at = |d: i64| Timestamp(1_797_667_200_000 + (d - 19) * 86_400_000 + 4 * 3_600_000);
        let years = |now| {
            series_needed(&unit, now)
                .into_iter()
                .map(|s| (s.kind, s.year))
                .collect::<Vec<_>>()
        };
        assert_eq!(years(at(19)), INSPECTOR_KINDS.map(|k| (k, 2026)).to_vec());
        let late = years(at(20));
        assert_eq!(late.len(), 6);
        assert!(late.contains(&(DocumentKind::ReinspectionOpinion, 2027)));
    }

    #[test]
    fn a_signing_misses_the_series_the_pool_has_nothing_of() {
        let unit = UnitId::new("xw");
        let mut pool = DevicePool::new(DeviceId::new("tab-1"));
        let series = Series {
            unit: unit.clone(),
            kind: DocumentKind::InspectionRecord,
            year: 2026,
        };
        pool.add_block(Block {
            series: series.clone(),
            device: DeviceId::new("tab-1"),
            first: 1,
            last: 1,
        })
        .unwrap();
        let kinds = [
            DocumentKind::InspectionRecord,
            DocumentKind::RectificationOrder,
        ];
        let missing = missing_series(&pool, &unit, 2026, &kinds);
        assert_eq!(
            missing.iter().map(|s| s.kind).collect::<Vec<_>>(),
            vec![DocumentKind::RectificationOrder]
        );
        pool.issue(&series).unwrap();
        assert_eq!(missing_series(&pool, &unit, 2026, &kinds).len(), 2);
        assert!(missing_series(&pool, &unit, 2026, &[]).is_empty());
    }
}
