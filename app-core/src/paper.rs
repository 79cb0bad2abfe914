//! What each enforcement document says, as one structured model ([`Paper`]) built from a
//! record: `pdf-forms` prints it on A4 and the tablet shows it full screen before anyone
//! signs, so the preview cannot say anything the PDF does not.
//!
//! - 现场检查记录 (《安全生产法》第六十八条: time, place, content, problems found and how
//!   they were handled, the signatures of the inspectors and the inspected unit's person in
//!   charge, or the refusal recorded);
//! - 责令限期整改指令书: every hazard with a deadline, its legal basis, the measures and the
//!   deadline, the duty to keep safe, the rights to reconsideration and litigation;
//! - 整改复查意见书: the reference to the order, the opinion per re-inspected problem, what
//!   happens next.
//!
//! The rights text of the order: 60 days to apply for administrative reconsideration
//! (《行政复议法》: read in the text of its 2017 version, 第九条; the article number in the
//! 2023 revision is 依据待核, so none is printed) and 6 months to sue (《行政诉讼法》第四十六条,
//! read). Dates are Asia/Shanghai.
//!
//! [`Mode::Issued`] renders a signed version: every number must be in the record (else
//! [`PaperError::MissingNumber`]) and the seal carries the day the number was issued.
//! [`Mode::Preview`] renders what the next signing would sign: a document that signing
//! numbers shows `（签署时编号）` and the day of the signing.
//!
//! [`reading_hash`] identifies the text a signer read: the SHA-256 of the document's content
//! without anything the signing itself adds (signatures, numbers, the date), so the
//! inspectors and the enterprise who read the same text record the same hash, and a
//! signature can say which version of which document it signs.

use crate::checklist::ChecklistTemplate;
use crate::docnumber::{DocumentKind, IssuedDocument};
use crate::evidence::Sha256Hex;
use crate::geo::{Day, PositionSource, Timestamp};
use crate::hazard::{Hazard, HazardLevel};
use crate::inspection::{Answer, Inspection, SignOutcome, Signer};
use crate::kind::InspectionKind;
use crate::legal::LegalBasis;
use serde::{Deserialize, Serialize};

/// The number printed in a preview for a document the signing numbers.
pub const NUMBER_AT_SIGNING: &str = "（签署时编号）";

/// How a paragraph or cell is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Right,
}

/// A signature box: the signer's name, the signature image if one was captured, and the
/// line below it (the date, or the refusal with its witness, or 未签名).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignBox {
    /// `王强 (inspector:u-wang)`: names the signer in errors about the image.
    pub signer: String,
    pub caption: String,
    pub image: Option<Sha256Hex>,
    pub below: String,
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cell", content = "value", rename_all = "snake_case")]
pub enum Cell {
    /// A field label.
    Label(String),
    /// A value.
    Text(String),
    Sign(SignBox),
}

impl Cell {
    /// The cell's text (a signature box: caption and the line below).
    pub fn text(&self) -> String {
        match self {
            Cell::Label(t) | Cell::Text(t) => t.clone(),
            Cell::Sign(s) => format!("{} {}", s.caption, s.below),
        }
    }
}

/// One part of a document, top to bottom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "block", rename_all = "snake_case")]
pub enum Block {
    /// The issuing unit, the title and the number.
    Head,
    /// A paragraph; `indent` in em (2 for body text).
    Para {
        text: String,
        indent: u8,
        align: Align,
    },
    /// Vertical space in points.
    Space { points: f32 },
    /// A boxed row: (share of the width, cell).
    Row { cells: Vec<(f32, Cell)> },
    /// The unit and the date where the seal goes.
    Seal { date: String },
}

/// One document's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    pub kind: DocumentKind,
    pub title: String,
    pub unit_name: String,
    /// The number (文号), or [`NUMBER_AT_SIGNING`] in a preview.
    pub number: String,
    pub blocks: Vec<Block>,
}

impl Paper {
    /// Every text of the document in reading order (what a test or a search looks at).
    pub fn plain_text(&self) -> String {
        let mut out = vec![
            self.unit_name.clone(),
            self.title.clone(),
            self.number.clone(),
        ];
        for b in &self.blocks {
            match b {
                Block::Para { text, .. } => out.push(text.clone()),
                Block::Row { cells } => out.push(
                    cells
                        .iter()
                        .map(|(_, c)| c.text())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Block::Seal { date } => out.push(format!("{}（印章） {date}", self.unit_name)),
                Block::Head | Block::Space { .. } => {}
            }
        }
        out.join("\n")
    }
}

/// Whether the paper is a signed version's or a preview of the next signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode<'a> {
    /// Every number must be in the record; the seal carries the day it was issued.
    Issued,
    /// The next signing on `today` numbers the documents in `renumbers`.
    Preview {
        today: Day,
        renumbers: &'a [DocumentKind],
    },
}

/// Why a document could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaperError {
    #[error("the record has no {} number (文号); issue one before rendering the document", .0.title_zh())]
    MissingNumber(DocumentKind),
    #[error("the record has nothing for {}: {reason}", .kind.title_zh())]
    NothingToRender { kind: DocumentKind, reason: String },
}

/// The latest number of `kind` issued from the record (a record with several — a new order
/// after a failed re-inspection — prints the latest).
pub fn number_of(record: &Inspection, kind: DocumentKind) -> Option<&IssuedDocument> {
    record
        .documents
        .values()
        .filter(|d| d.kind == kind)
        .max_by_key(|d| (d.at, d.year, d.seq))
}

/// The document of `kind` made from `record`.
pub fn paper(
    kind: DocumentKind,
    record: &Inspection,
    template: Option<&ChecklistTemplate>,
    unit_name: &str,
    mode: Mode<'_>,
) -> Result<Paper, PaperError> {
    let issued = number_of(record, kind);
    let (number, date) = match (mode, issued) {
        (Mode::Preview { today, renumbers }, _)
            if renumbers.contains(&kind) || issued.is_none() =>
        {
            (NUMBER_AT_SIGNING.to_owned(), day(today))
        }
        (_, Some(d)) => (d.number.clone(), date_of(d.at)),
        (Mode::Issued, None) => return Err(PaperError::MissingNumber(kind)),
        (Mode::Preview { today, .. }, None) => (NUMBER_AT_SIGNING.to_owned(), day(today)),
    };
    let mut p = Paper {
        kind,
        title: kind.title_zh().to_owned(),
        unit_name: unit_name.to_owned(),
        number,
        blocks: vec![Block::Head],
    };
    let cx = Cx {
        record,
        template,
        wording: Wording::of(template),
    };
    match kind {
        DocumentKind::InspectionRecord => inspection_record(&mut p, &cx),
        DocumentKind::RectificationOrder => order(&mut p, &cx, date)?,
        DocumentKind::ReinspectionOpinion => opinion(&mut p, &cx, date, mode)?,
        DocumentKind::OnSiteMeasures => {
            return Err(PaperError::NothingToRender {
                kind,
                reason: "the 现场处理措施决定书 is not made yet".into(),
            });
        }
        // A case document's paper is `penalty::case_paper`, made from the case.
        _ => {
            return Err(PaperError::NothingToRender {
                kind,
                reason: format!("the {} is made from its case", kind.title_zh()),
            });
        }
    }
    Ok(p)
}

/// The SHA-256 of what a signer reads in the document of `kind`: its content made from the
/// record without the signatures, the numbers, the completion and the date (what the signing
/// itself adds), and without the unit's name (which the record does not carry).
pub fn reading_hash(
    kind: DocumentKind,
    record: &Inspection,
    template: &ChecklistTemplate,
) -> Result<Sha256Hex, PaperError> {
    let mut bare = record.clone();
    bare.signatures.clear();
    bare.documents.clear();
    bare.signed_versions.clear();
    bare.completed_at = None;
    let p = paper(
        kind,
        &bare,
        Some(template),
        "",
        Mode::Preview {
            today: Day::ymd(2000, 1, 1),
            renumbers: &[],
        },
    )?;
    let bytes = serde_json::to_vec(&p.blocks).expect("blocks serialise");
    Ok(Sha256Hex::of(&bytes))
}

// ---------------------------------------------------------------------------------------
// Dates as Chinese forms print them, in Asia/Shanghai

/// `2026年11月23日`
pub fn day(d: Day) -> String {
    format!("{}年{}月{}日", d.0.year(), u8::from(d.0.month()), d.0.day())
}

/// `2026年11月23日`, the Shanghai calendar day of an instant.
pub fn date_of(t: Timestamp) -> String {
    day(t.shanghai_date())
}

/// `2026年11月23日08时05分` in Asia/Shanghai.
pub fn minute(t: Timestamp) -> String {
    let s = t.to_shanghai();
    format!(
        "{}年{}月{}日{:02}时{:02}分",
        s.year(),
        u8::from(s.month()),
        s.day(),
        s.hour(),
        s.minute()
    )
}

// ---------------------------------------------------------------------------------------
// What the documents share

struct Cx<'a> {
    record: &'a Inspection,
    template: Option<&'a ChecklistTemplate>,
    wording: Wording,
}

/// The words a record's documents use. Templates in the official 执法检查表 format (issue
/// 17: every item with its 检查方法, 违法依据 and, where one applies, 处罚依据) bring the
/// official words: answers 符合 / 不符合 / 不涉及, the problems' 违法依据 and the 判定依据 of a
/// major accident hazard. A record made with a template of the earlier format keeps the
/// words its documents were signed with: a signed version is rendered again for every export
/// and every console view, so changing its words would change what its signers read (and
/// the [`reading_hash`] their signatures recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// Before issue 17: 不适用, 依据.
    Earlier,
    /// The official forms' words: 不涉及, 违法依据, 判定依据.
    Official,
}

impl Wording {
    /// The wording of the documents of a record made with `template` (the earlier wording
    /// when the template is not known).
    pub fn of(template: Option<&ChecklistTemplate>) -> Wording {
        match template {
            Some(t) if t.items().any(|i| !i.methods.is_empty()) => Wording::Official,
            _ => Wording::Earlier,
        }
    }

    /// The label of the answer 不适用 / 不涉及.
    fn not_applicable(self) -> &'static str {
        match self {
            Wording::Earlier => "不适用",
            Wording::Official => Answer::NotApplicable.label_zh(),
        }
    }

    /// The label of the provisions a problem violates.
    fn basis(self) -> &'static str {
        match self {
            Wording::Earlier => "依据",
            Wording::Official => "违法依据",
        }
    }
}

pub(crate) fn para(p: &mut Paper, text: impl Into<String>, indent: u8) {
    p.blocks.push(Block::Para {
        text: text.into(),
        indent,
        align: Align::Left,
    });
}

pub(crate) fn space(p: &mut Paper, points: f32) {
    p.blocks.push(Block::Space { points });
}

pub(crate) fn row(p: &mut Paper, cells: Vec<(f32, Cell)>) {
    p.blocks.push(Block::Row { cells });
}

pub(crate) fn field(p: &mut Paper, label: &str, value: String) {
    row(
        p,
        vec![
            (0.2, Cell::Label(label.to_owned())),
            (0.8, Cell::Text(value)),
        ],
    );
}

/// `王强（执法证号：32010220180004）、李娜（执法证号：…）`
fn inspectors_line(record: &Inspection) -> String {
    record
        .inspectors
        .values()
        .map(|i| format!("{}（执法证号：{}）", i.name, i.certificate.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

/// A user's name as the record knows it (inspectors on the record), else their id.
fn person(record: &Inspection, user: &crate::ids::UserId) -> String {
    record
        .inspectors
        .get(user)
        .map(|i| format!("{}（执法证号：{}）", i.name, i.certificate.as_str()))
        .unwrap_or_else(|| user.to_string())
}

pub(crate) fn bases(bases: &[LegalBasis]) -> String {
    bases
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("；")
}

/// A failed checklist item as printed: what was required, its legal basis, the note.
struct FailedItem {
    code: String,
    text: Option<String>,
    basis: Vec<LegalBasis>,
    major_hazard: Option<LegalBasis>,
    note: String,
}

/// The items answered 不符合, in template order (by code when no template is given).
fn failed_items(cx: &Cx<'_>) -> Vec<FailedItem> {
    let mut out: Vec<(usize, FailedItem)> = cx
        .record
        .results
        .iter()
        .filter(|(_, r)| r.answer == Some(Answer::Fails))
        .map(|(code, r)| {
            let item = cx.template.and_then(|t| t.item(code));
            let order = cx
                .template
                .and_then(|t| t.items().position(|i| &i.code == code))
                .unwrap_or(usize::MAX);
            (
                order,
                FailedItem {
                    code: code.to_string(),
                    text: item.map(|i| i.text.clone()),
                    basis: item.map(|i| i.basis.clone()).unwrap_or_default(),
                    major_hazard: item.and_then(|i| i.major_hazard.clone()),
                    note: r.note.clone(),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// The clause that makes the hazard's item a major accident hazard (判定依据), from the
/// record's template.
fn major_basis(cx: &Cx<'_>, h: &Hazard) -> Option<LegalBasis> {
    let code = h.item.as_ref()?;
    cx.template?.item(code)?.major_hazard.clone()
}

/// The hazard's level as printed, with its 挂牌督办 listing for a major hazard.
fn level(h: &Hazard) -> String {
    match (h.level, &h.supervision) {
        (HazardLevel::General, _) => "一般隐患".to_owned(),
        (HazardLevel::Major, Some(s)) => format!(
            "重大事故隐患（{}挂牌督办，责任人：{}）",
            s.level, s.responsible
        ),
        (HazardLevel::Major, None) => "重大事故隐患".to_owned(),
    }
}

/// Hazards in a stable order: by registration day, then id.
fn hazards_sorted(record: &Inspection, keep: impl Fn(&Hazard) -> bool) -> Vec<&Hazard> {
    let mut hs: Vec<&Hazard> = record.hazards.values().filter(|h| keep(h)).collect();
    hs.sort_by(|a, b| (a.registered_on, &a.id).cmp(&(b.registered_on, &b.id)));
    hs
}

/// The signature rows: every inspector on the record, then the enterprise's person in charge
/// (or the recorded refusal with its witness).
fn signatures(p: &mut Paper, record: &Inspection, inspectors_label: &str, enterprise_label: &str) {
    let cells: Vec<Cell> = record
        .inspectors
        .values()
        .map(|i| sign_cell(record, &Signer::Inspector(i.user.clone()).key(), &i.name))
        .collect();
    for chunk in cells.chunks(3) {
        let mut cols = vec![(0.2, Cell::Label(inspectors_label.to_owned()))];
        let share = 0.8 / chunk.len().max(2) as f32;
        cols.extend(chunk.iter().map(|c| (share, c.clone())));
        if chunk.len() == 1 {
            cols.push((share, Cell::Text(String::new())));
        }
        row(p, cols);
    }
    let name = record
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let cell = sign_cell(record, &Signer::Enterprise.key(), &name);
    row(
        p,
        vec![(0.2, Cell::Label(enterprise_label.to_owned())), (0.8, cell)],
    );
}

fn sign_cell(record: &Inspection, key: &str, fallback_name: &str) -> Cell {
    let Some(s) = record.signatures.get(key) else {
        return Cell::Sign(SignBox {
            signer: format!("{fallback_name} ({key})"),
            caption: fallback_name.to_owned(),
            image: None,
            below: "（未签名）".to_owned(),
        });
    };
    let signer = format!("{} ({key})", s.name);
    match &s.outcome {
        SignOutcome::Signed { image } => Cell::Sign(SignBox {
            signer,
            caption: s.name.clone(),
            image: Some(image.clone()),
            below: date_of(s.at),
        }),
        SignOutcome::Refused { witness, note } => {
            let mut below = format!("拒绝签字。见证人：{witness}");
            if !note.trim().is_empty() && note.trim() != "拒绝签字" {
                below.push_str(&format!("；说明：{}", note.trim()));
            }
            below.push_str(&format!("（{}）", date_of(s.at)));
            Cell::Sign(SignBox {
                signer,
                caption: s.name.clone(),
                image: None,
                below,
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// 现场检查记录

fn inspection_record(p: &mut Paper, cx: &Cx<'_>) {
    let r = cx.record;
    let e = &r.enterprise;
    field(p, "被检查单位", e.name.clone());
    field(p, "统一社会信用代码", e.uscc.as_str().to_owned());
    field(p, "地址", e.address.clone());
    row(
        p,
        vec![
            (0.2, Cell::Label("法定代表人（负责人）".into())),
            (0.34, Cell::Text(e.legal_representative.clone())),
            (0.14, Cell::Label("联系电话".into())),
            (0.32, Cell::Text(e.phone.clone())),
        ],
    );
    let (onsite, onsite_phone) = match &r.onsite_person {
        Some(o) if o.position.trim().is_empty() => (o.name.clone(), o.phone.clone()),
        Some(o) => (format!("{}（{}）", o.name, o.position), o.phone.clone()),
        None => ("—".to_owned(), "—".to_owned()),
    };
    row(
        p,
        vec![
            (0.2, Cell::Label("现场负责人".into())),
            (0.34, Cell::Text(onsite)),
            (0.14, Cell::Label("联系电话".into())),
            (0.32, Cell::Text(onsite_phone)),
        ],
    );
    field(p, "检查场所", non_empty(&r.places));
    field(p, "检查时间", period(r));
    field(p, "检查类别", kind_line(r));
    field(p, "执法人员及执法证号", inspectors_line(r));
    let recorder = r
        .inspectors
        .get(&r.created_by)
        .map(|i| i.name.clone())
        .unwrap_or_else(|| r.created_by.to_string());
    field(p, "记录人", recorder);
    field(p, "检查情况", situation(cx));
    field(p, "发现的问题及依据", problems(cx));
    field(p, "隐患及整改要求", hazards(cx));
    signatures(p, r, "执法人员（签名）", "被检查单位现场负责人（签名）");
}

fn non_empty(s: &str) -> String {
    if s.trim().is_empty() {
        "—".to_owned()
    } else {
        s.to_owned()
    }
}

/// From the start of the on-site check to its completion; a version signed before the move to
/// completed ends at the last signature.
fn period(r: &Inspection) -> String {
    let from = r.started_at.or(r.arrival.as_ref().map(|a| a.at));
    let to = r
        .completed_at
        .or_else(|| r.signatures.values().map(|s| s.at).max());
    match (from, to) {
        (Some(f), Some(t)) => format!("{}至{}", minute(f), minute(t)),
        (Some(f), None) => format!("{}起", minute(f)),
        (None, _) => "—".to_owned(),
    }
}

fn kind_line(r: &Inspection) -> String {
    let mut s = r.kind.label_zh().to_owned();
    if r.kind == InspectionKind::Unannounced
        && let Some(a) = &r.arrival
    {
        let source = match a.position.source {
            PositionSource::Device => "设备定位",
            PositionSource::Manual => "手工输入",
            PositionSource::Photo => "入口照片定位",
        };
        s.push_str(&format!(
            "。到达时间{}，位置北纬{:.5}°、东经{:.5}°（{source}），入口照片SHA-256：{}",
            minute(a.at),
            a.position.lat,
            a.position.lon,
            a.entrance_photo
        ));
        let mut said = Vec::new();
        if r.attestations.no_notice_given {
            said.push("未提前通知");
        }
        if r.attestations.no_escort_accepted {
            said.push("未接受陪同和接待");
        }
        if !said.is_empty() {
            s.push_str(&format!("；执法人员声明：{}", said.join("、")));
        }
    }
    s
}

fn situation(cx: &Cx<'_>) -> String {
    let r = cx.record;
    let count = |a: Answer| r.results.values().filter(|x| x.answer == Some(a)).count();
    let checklist = match cx.template {
        Some(t) => format!("《{}》（第{}版）", t.name, t.version),
        None => format!("检查表 {}", r.template),
    };
    let mut s = format!(
        "依据{checklist}检查，符合{}项，不符合{}项，{}{}项。",
        count(Answer::Complies),
        count(Answer::Fails),
        cx.wording.not_applicable(),
        count(Answer::NotApplicable)
    );
    if !r.summary.trim().is_empty() {
        s.push('\n');
        s.push_str(r.summary.trim());
    }
    s
}

fn problems(cx: &Cx<'_>) -> String {
    let items = failed_items(cx);
    if items.is_empty() {
        return "未发现不符合项。".to_owned();
    }
    let mut lines = Vec::new();
    for (n, f) in items.iter().enumerate() {
        let what = f
            .text
            .clone()
            .unwrap_or_else(|| format!("检查项 {}", f.code));
        let mut line = format!("{}. [{}] {}：不符合。", n + 1, f.code, what);
        if !f.note.trim().is_empty() {
            line.push_str(&format!(
                "现场情况：{}。",
                f.note.trim().trim_end_matches('。')
            ));
        }
        if !f.basis.is_empty() {
            line.push_str(&format!("{}：{}。", cx.wording.basis(), bases(&f.basis)));
        }
        if let Some(m) = &f.major_hazard {
            match cx.wording {
                Wording::Earlier => line.push_str(&format!("判定为重大事故隐患：{m}。")),
                Wording::Official => line.push_str(&format!("属重大事故隐患，判定依据：{m}。")),
            }
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn hazards(cx: &Cx<'_>) -> String {
    let hs = hazards_sorted(cx.record, |_| true);
    if hs.is_empty() {
        return "无。".to_owned();
    }
    let mut lines = Vec::new();
    for (n, h) in hs.iter().enumerate() {
        let mut line = format!("{}. {}（{}，{}）", n + 1, h.description, h.place, level(h));
        line.push_str(&format!("。{}：{}", cx.wording.basis(), bases(&h.basis)));
        if cx.wording == Wording::Official
            && let Some(m) = major_basis(cx, h)
        {
            line.push_str(&format!("；判定依据：{m}"));
        }
        if !h.measures.trim().is_empty() {
            line.push_str(&format!("。整改措施：{}", h.measures.trim()));
        }
        if let Some(d) = h.deadline {
            line.push_str(&format!("。整改期限：{}前", day(d)));
        }
        line.push('。');
        lines.push(line);
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------
// 责令限期整改指令书

/// The rights the order states (periods: see the module's documentation).
pub const RIGHTS_ZH: &str = "如果不服本指令，可以依法在60日内申请行政复议，或者在6个月内依法向人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。";

fn order(p: &mut Paper, cx: &Cx<'_>, date: String) -> Result<(), PaperError> {
    let r = cx.record;
    let hs = hazards_sorted(r, |h| h.deadline.is_some());
    if hs.is_empty() {
        return Err(PaperError::NothingToRender {
            kind: DocumentKind::RectificationOrder,
            reason: "no hazard has a rectification deadline".into(),
        });
    }
    para(p, format!("{}：", r.enterprise.name), 0);
    para(
        p,
        format!(
            "经查，你单位（地址：{}；统一社会信用代码：{}）存在下列问题：",
            r.enterprise.address,
            r.enterprise.uscc.as_str()
        ),
        2,
    );
    space(p, 4.0);
    let widths = [0.075, 0.295, 0.24, 0.22, 0.17];
    let header = [
        "序号",
        "存在的问题",
        cx.wording.basis(),
        "整改措施",
        "整改期限",
    ];
    row(
        p,
        widths
            .iter()
            .zip(header)
            .map(|(w, h)| (*w, Cell::Label(h.to_owned())))
            .collect(),
    );
    for (n, h) in hs.iter().enumerate() {
        let basis = match (cx.wording, major_basis(cx, h)) {
            // The clause that makes a failed item a major accident hazard, from the
            // template, after the provisions violated.
            (Wording::Official, Some(m)) => format!("{}；判定依据：{m}", bases(&h.basis)),
            (Wording::Earlier, Some(m)) if !h.basis.contains(&m) => {
                let mut all = h.basis.clone();
                all.push(m);
                bases(&all)
            }
            _ => bases(&h.basis),
        };
        let problem = format!("{}（地点：{}；{}）", h.description, h.place, level(h));
        let deadline = h
            .deadline
            .map(|d| format!("{}前", day(d)))
            .unwrap_or_default();
        row(
            p,
            vec![
                (widths[0], Cell::Label((n + 1).to_string())),
                (widths[1], Cell::Text(problem)),
                (widths[2], Cell::Text(basis)),
                (widths[3], Cell::Text(h.measures.clone())),
                (widths[4], Cell::Text(deadline)),
            ],
        );
    }
    space(p, 6.0);
    for text in [
        "现责令你单位对上述问题于所列整改期限前整改完毕，达到有关法律法规规章和标准规定的要求，并将整改情况书面报告本机关。由此造成事故的，依法追究有关人员的责任。",
        "整改期间，你单位应当采取措施，确保安全生产。对安全不能保障的，应当从危险区域内撤出作业人员，并设置警戒标志，暂时停产停业或者停止使用相关设施、设备。",
        RIGHTS_ZH,
    ] {
        para(p, text, 2);
    }
    space(p, 6.0);
    signatures(p, r, "执法人员（签名）", "被检查单位负责人（签名）");
    p.blocks.push(Block::Seal { date });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 整改复查意见书

fn opinion(p: &mut Paper, cx: &Cx<'_>, date: String, mode: Mode<'_>) -> Result<(), PaperError> {
    let r = cx.record;
    let hs = hazards_sorted(r, |h| !h.reinspections.is_empty());
    if hs.is_empty() {
        return Err(PaperError::NothingToRender {
            kind: DocumentKind::ReinspectionOpinion,
            reason: "no hazard has been re-inspected".into(),
        });
    }
    // The opinion answers an order: the first one issued from the record.
    let order = r
        .documents
        .values()
        .filter(|d| d.kind == DocumentKind::RectificationOrder)
        .min_by_key(|d| (d.at, d.year, d.seq));
    let (order_date, order_number) = match (order, mode) {
        (Some(o), _) => (date_of(o.at), o.number.clone()),
        (None, Mode::Issued) => {
            return Err(PaperError::MissingNumber(DocumentKind::RectificationOrder));
        }
        (None, Mode::Preview { today, .. }) => (day(today), NUMBER_AT_SIGNING.to_owned()),
    };
    let mut rows = Vec::new();
    for h in &hs {
        let mut ris: Vec<_> = h.reinspections.values().collect();
        ris.sort_by_key(|x| x.on);
        for ri in ris {
            rows.push((h, ri));
        }
    }
    let days: std::collections::BTreeSet<_> = rows.iter().map(|(_, ri)| ri.on).collect();
    let days: Vec<String> = days.into_iter().map(day).collect();
    para(p, format!("{}：", r.enterprise.name), 0);
    para(
        p,
        format!(
            "本机关于{order_date}作出{order_number}《责令限期整改指令书》，责令你单位对所列问题限期整改。根据你单位的整改情况，本机关于{}进行了复查，复查意见如下：",
            days.join("、")
        ),
        2,
    );
    space(p, 4.0);
    let widths = [0.075, 0.255, 0.17, 0.17, 0.11, 0.22];
    let header = [
        "序号",
        "复查的问题",
        "整改期限",
        "复查日期",
        "复查意见",
        "说明",
    ];
    row(
        p,
        widths
            .iter()
            .zip(header)
            .map(|(w, h)| (*w, Cell::Label(h.to_owned())))
            .collect(),
    );
    let mut open = Vec::new();
    for (n, (h, ri)) in rows.iter().enumerate() {
        let opinion = if ri.passed { "已整改" } else { "未整改" };
        let mut note = ri.note.trim().to_owned();
        if !ri.passed {
            if let Some(d) = ri.new_deadline {
                if !note.is_empty() {
                    note.push('；');
                }
                note.push_str(&format!("责令于{}前整改完毕", day(d)));
            }
            open.push(n + 1);
        }
        let deadline = h.deadline.map(day).unwrap_or_else(|| "—".to_owned());
        let deadline = if ri.passed || ri.new_deadline.is_none() {
            deadline
        } else {
            // After a failed re-inspection the hazard carries the new deadline; the period
            // that was checked is the one before it.
            "新期限见说明".to_owned()
        };
        row(
            p,
            vec![
                (widths[0], Cell::Label((n + 1).to_string())),
                (
                    widths[1],
                    Cell::Text(format!("{}（地点：{}）", h.description, h.place)),
                ),
                (widths[2], Cell::Text(deadline)),
                (widths[3], Cell::Text(day(ri.on))),
                (widths[4], Cell::Label(opinion.to_owned())),
                (widths[5], Cell::Text(note)),
            ],
        );
    }
    let mut by: Vec<String> = rows.iter().map(|(_, ri)| person(r, &ri.by)).collect();
    by.dedup();
    row(
        p,
        vec![
            (0.2, Cell::Label("复查人员".into())),
            (0.8, Cell::Text(by.join("、"))),
        ],
    );
    space(p, 6.0);
    let next = if open.is_empty() {
        "经复查，上述问题已整改完毕，予以销号。".to_owned()
    } else {
        let list: Vec<String> = open.iter().map(|n| format!("第{n}项")).collect();
        format!(
            "经复查，{}问题未整改完毕，责令你单位于说明所列期限前整改完毕，逾期未整改的，本机关将依法予以处理；其余问题已整改完毕。整改期间，你单位应当采取措施，确保安全生产。",
            list.join("、")
        )
    };
    para(p, next, 2);
    space(p, 6.0);
    signatures(p, r, "执法人员（签名）", "被检查单位负责人（签名）");
    p.blocks.push(Block::Seal { date });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 送达回证

/// The title of the service receipt.
pub const RECEIPT_TITLE: &str = "送达回证";

/// The 送达回证 of `record`: every issued document with how, when, where and to whom it was
/// served (留置送达 with its witness and reason; 待送达 as such). `None` when no service has
/// been recorded. Its `kind` is the 现场检查记录's, whose number the receipt refers to.
pub fn service_receipt(record: &Inspection, unit_name: &str) -> Option<Paper> {
    use crate::delivery::{LaterMeans, ServiceMethod};
    if record.services.is_empty() {
        return None;
    }
    let mut p = Paper {
        kind: DocumentKind::InspectionRecord,
        title: RECEIPT_TITLE.to_owned(),
        unit_name: unit_name.to_owned(),
        number: number_of(record, DocumentKind::InspectionRecord)
            .map(|d| format!("{}附", d.number))
            .unwrap_or_default(),
        blocks: vec![Block::Head],
    };
    field(&mut p, "受送达单位", record.enterprise.name.clone());
    field(&mut p, "送达地点", record.enterprise.address.clone());
    let widths = [0.3, 0.16, 0.2, 0.34];
    row(
        &mut p,
        [
            "送达文书名称及文号",
            "送达方式",
            "送达时间",
            "受送达人签收或见证情况",
        ]
        .iter()
        .zip(widths)
        .map(|(h, w)| (w, Cell::Label((*h).to_owned())))
        .collect(),
    );
    for (doc, service) in crate::delivery::states(record) {
        let name = format!("《{}》{}", doc.kind.title_zh(), doc.number);
        let (method, at, who) = match service {
            None => ("未送达".to_owned(), "—".to_owned(), "—".to_owned()),
            Some(s) => {
                let who = match &s.method {
                    ServiceMethod::Direct { recipient } => format!("{recipient}（签收）"),
                    ServiceMethod::Left {
                        recipient,
                        witness,
                        reason,
                    } => format!(
                        "{recipient}拒绝签收（{reason}），见证人：{witness}，文书留置于送达地点"
                    ),
                    ServiceMethod::Pending { means } => match means {
                        LaterMeans::Post => "待邮寄送达".to_owned(),
                        LaterMeans::Electronic => "待电子送达".to_owned(),
                    },
                };
                let method = match &s.method {
                    ServiceMethod::Direct { .. } => "直接送达",
                    ServiceMethod::Left { .. } => "留置送达",
                    ServiceMethod::Pending { .. } => "待送达",
                };
                (method.to_owned(), minute(s.at), who)
            }
        };
        row(
            &mut p,
            vec![
                (widths[0], Cell::Text(name)),
                (widths[1], Cell::Label(method)),
                (widths[2], Cell::Text(at)),
                (widths[3], Cell::Text(who)),
            ],
        );
    }
    let mut by: Vec<String> = record
        .services
        .values()
        .map(|s| person(record, &s.by))
        .collect();
    by.sort();
    by.dedup();
    field(&mut p, "送达人", by.join("、"));
    let last = record
        .services
        .values()
        .map(|s| s.at)
        .max()
        .expect("not empty");
    p.blocks.push(Block::Seal {
        date: date_of(last),
    });
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::{HazardAction, HazardLevel, Supervision};
    use crate::inspection::{Command, ReadDocument, RecordError, Signature};
    use crate::test_support::*;

    /// On site, T-03 failed, a hazard ordered to be rectified by 2027-02-21.
    fn ordered() -> Inspection {
        let t = template();
        let mut r = new_record(InspectionKind::Unannounced);
        for (u, c) in on_site_script() {
            if matches!(c, Command::Sign(_)) {
                continue;
            }
            r.apply(&c, &cx(&u, &t, 1)).unwrap();
        }
        let w = wang();
        r.apply(
            &Command::SetPlaces {
                text: "抛光车间、配电室".into(),
            },
            &cx(&w, &t, 2),
        )
        .unwrap();
        r.apply(
            &Command::RegisterHazard(hazard("hz-1", "T-03", HazardLevel::Major)),
            &cx(&w, &t, 3),
        )
        .unwrap();
        r.apply(
            &Command::Hazard {
                hazard: "hz-1".into(),
                action: HazardAction::ListForSupervision(Supervision {
                    level: "县级".into(),
                    responsible: "张伟".into(),
                    listed_on: Day::ymd(2026, 11, 23),
                }),
            },
            &cx(&w, &t, 3),
        )
        .unwrap();
        r.apply(
            &Command::Hazard {
                hazard: "hz-1".into(),
                action: HazardAction::Order {
                    deadline: Day::ymd(2027, 2, 21),
                    measures: "加装泄爆装置".into(),
                },
            },
            &cx(&w, &t, 4),
        )
        .unwrap();
        r
    }

    fn preview(kind: DocumentKind, r: &Inspection) -> Paper {
        paper(
            kind,
            r,
            Some(&template()),
            "南京市玄武区应急管理局",
            Mode::Preview {
                today: Day::ymd(2026, 11, 23),
                renumbers: &[
                    DocumentKind::InspectionRecord,
                    DocumentKind::RectificationOrder,
                ],
            },
        )
        .unwrap()
    }

    #[test]
    fn the_preview_carries_what_the_pdf_prints_before_any_number() {
        let r = ordered();
        let record = preview(DocumentKind::InspectionRecord, &r).plain_text();
        assert!(record.contains("南京示例机械有限公司"), "{record}");
        assert!(record.contains("抛光车间、配电室"), "{record}");
        assert!(record.contains("整改期限：2027年2月21日前"), "{record}");
        assert!(record.contains(NUMBER_AT_SIGNING), "{record}");
        let order = preview(DocumentKind::RectificationOrder, &r).plain_text();
        assert!(order.contains("2027年2月21日前"), "{order}");
        assert!(order.contains("加装泄爆装置"), "{order}");
        assert!(order.contains("60日内申请行政复议"), "{order}");
        assert!(
            order.contains("6个月内依法向人民法院提起行政诉讼"),
            "{order}"
        );
        assert!(
            order.contains("南京市玄武区应急管理局（印章） 2026年11月23日"),
            "{order}"
        );
        // A signed version needs its numbers.
        assert_eq!(
            paper(DocumentKind::RectificationOrder, &r, None, "", Mode::Issued),
            Err(PaperError::MissingNumber(DocumentKind::RectificationOrder))
        );
    }

    #[test]
    fn the_reading_hash_ignores_what_signing_adds_and_follows_the_text() {
        let t = template();
        let r = ordered();
        let before = reading_hash(DocumentKind::RectificationOrder, &r, &t).unwrap();
        let mut signed = r.clone();
        signed.apply(&sign(&wang()), &cx(&wang(), &t, 5)).unwrap();
        assert_eq!(
            reading_hash(DocumentKind::RectificationOrder, &signed, &t).unwrap(),
            before
        );
        let mut edited = r.clone();
        edited
            .apply(
                &Command::SetHazardText {
                    hazard: "hz-1".into(),
                    description: "另一描述".into(),
                    place: "抛光车间".into(),
                },
                &cx(&wang(), &t, 5),
            )
            .unwrap();
        assert_ne!(
            reading_hash(DocumentKind::RectificationOrder, &edited, &t).unwrap(),
            before
        );
    }

    #[test]
    fn a_signature_names_what_was_read_and_a_stale_reading_is_refused() {
        let t = template();
        let r = ordered();
        let w = wang();
        let read = |kind| ReadDocument {
            kind,
            hash: reading_hash(kind, &r, &t).unwrap(),
        };
        let signature = |read: Vec<ReadDocument>| {
            let Command::Sign(mut s) = sign(&w) else {
                unreachable!()
            };
            s.read = read;
            Command::Sign(s)
        };
        let honest = signature(vec![
            read(DocumentKind::InspectionRecord),
            read(DocumentKind::RectificationOrder),
        ]);
        let mut ok = r.clone();
        ok.apply(&honest, &cx(&w, &t, 5)).unwrap();
        let Some(Signature { read: kept, .. }) = ok.signatures.get("inspector:wang") else {
            panic!("signed")
        };
        assert_eq!(kept.len(), 2);
        // A hash of another text, or a document the record does not yield, is refused.
        let mut forged = read(DocumentKind::InspectionRecord);
        forged.hash = digest("other text");
        for bad in [forged, read(DocumentKind::RectificationOrder)] {
            let mut copy = r.clone();
            if bad.kind == DocumentKind::RectificationOrder {
                copy.hazards.clear();
            }
            let kind = bad.kind;
            assert_eq!(
                copy.apply(&signature(vec![bad]), &cx(&w, &t, 5)),
                Err(RecordError::StaleReading(kind))
            );
        }
    }

    /// The test template in the official 执法检查表 format (a 检查方法 on every item).
    fn official() -> ChecklistTemplate {
        let mut t = template();
        for item in t.categories.iter_mut().flat_map(|c| c.items.iter_mut()) {
            item.methods = vec![crate::checklist::CheckMethod::Site];
        }
        t
    }

    fn text(kind: DocumentKind, r: &Inspection, t: &ChecklistTemplate) -> String {
        paper(
            kind,
            r,
            Some(t),
            "南京市玄武区应急管理局",
            Mode::Preview {
                today: Day::ymd(2026, 11, 23),
                renumbers: &[],
            },
        )
        .unwrap()
        .plain_text()
    }

    #[test]
    fn an_official_format_record_prints_the_violated_provisions_and_the_major_hazard_criterion() {
        let r = ordered();
        let t = official();
        assert_eq!(Wording::of(Some(&t)), Wording::Official);
        let record = text(DocumentKind::InspectionRecord, &r, &t);
        for want in [
            "符合1项，不符合1项，不涉及1项。",
            "[T-03] 粉尘爆炸危险场所是否设置泄爆装置：不符合。违法依据：《工贸企业粉尘防爆安全规定》第十五条。属重大事故隐患，判定依据：《工贸企业重大事故隐患判定标准》第十二条。",
            "重大事故隐患（县级挂牌督办，责任人：张伟））。违法依据：《工贸企业重大事故隐患判定标准》第十二条；判定依据：《工贸企业重大事故隐患判定标准》第十二条",
        ] {
            assert!(record.contains(want), "{want}\n{record}");
        }
        assert!(!record.contains("不适用"), "{record}");
        let order = text(DocumentKind::RectificationOrder, &r, &t);
        assert!(
            order.contains("序号 存在的问题 违法依据 整改措施 整改期限"),
            "{order}"
        );
        assert!(
            order.contains(
                "《工贸企业重大事故隐患判定标准》第十二条；判定依据：《工贸企业重大事故隐患判定标准》第十二条 加装泄爆装置"
            ),
            "{order}"
        );
    }

    #[test]
    fn a_record_of_an_earlier_format_template_keeps_the_words_it_was_signed_with() {
        // Its signed versions are rendered again at every export: the same words, the same
        // reading hash as before issue 17.
        let r = ordered();
        let t = template();
        assert_eq!(Wording::of(Some(&t)), Wording::Earlier);
        assert_eq!(Wording::of(None), Wording::Earlier);
        let record = text(DocumentKind::InspectionRecord, &r, &t);
        assert!(
            record.contains("符合1项，不符合1项，不适用1项。"),
            "{record}"
        );
        assert!(
            record.contains("：不符合。依据：《工贸企业粉尘防爆安全规定》第十五条。判定为重大事故隐患：《工贸企业重大事故隐患判定标准》第十二条。"),
            "{record}"
        );
        assert!(
            !record.contains("违法依据") && !record.contains("不涉及"),
            "{record}"
        );
        let order = text(DocumentKind::RectificationOrder, &r, &t);
        assert!(
            order.contains("序号 存在的问题 依据 整改措施 整改期限"),
            "{order}"
        );
        assert_ne!(
            reading_hash(DocumentKind::InspectionRecord, &r, &t).unwrap(),
            reading_hash(DocumentKind::InspectionRecord, &r, &official()).unwrap()
        );
    }

    #[test]
    fn a_citation_whose_text_could_not_be_read_shows_as_pending_in_both_documents() {
        let r = ordered();
        let mut t = official();
        for item in t.categories.iter_mut().flat_map(|c| c.items.iter_mut()) {
            for b in &mut item.basis {
                b.pending = true;
            }
            if let Some(m) = &mut item.major_hazard {
                m.pending = true;
            }
        }
        let record = text(DocumentKind::InspectionRecord, &r, &t);
        assert!(
            record.contains("违法依据：《工贸企业粉尘防爆安全规定》第十五条（依据待核）。属重大事故隐患，判定依据：《工贸企业重大事故隐患判定标准》第十二条（依据待核）。"),
            "{record}"
        );
        let order = text(DocumentKind::RectificationOrder, &r, &t);
        assert!(
            order.contains("判定依据：《工贸企业重大事故隐患判定标准》第十二条（依据待核）"),
            "{order}"
        );
    }
}
