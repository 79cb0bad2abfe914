//! Evidence of a penalty case: 询问笔录 (interview records, signed page by page), media
//! (audio, video, photos: originals named by their SHA-256, from the tablet or imported from a
//! body camera) and on-site measures (现场处理措施决定书, 先行登记保存证据通知书).

use crate::evidence::Sha256Hex;
use crate::geo::{Day, Timestamp};
use crate::ids::{DeviceId, UserId};
use crate::inspection::SignOutcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The person interviewed (被询问人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interviewee {
    pub name: String,
    /// 工作单位及职务, e.g. `某公司 安全管理员`.
    pub position: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
}

/// One question and its answer (问 / 答).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub question: String,
    pub answer: String,
}

/// Who signs a page of an interview record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "signer", content = "user", rename_all = "snake_case")]
pub enum PageSigner {
    Interviewee,
    Inspector(UserId),
}

impl PageSigner {
    /// The key of the signature in a page: one signature per signer.
    pub fn key(&self) -> String {
        match self {
            PageSigner::Interviewee => "interviewee".to_owned(),
            PageSigner::Inspector(u) => format!("inspector:{u}"),
        }
    }
}

/// A signature on a page: signed, or (the interviewee only) refused before a witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSignature {
    pub signer: PageSigner,
    pub outcome: SignOutcome,
    pub at: Timestamp,
}

/// One page of the record: read back to the interviewee, then signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InterviewPage {
    pub lines: Vec<QuestionAnswer>,
    /// Keyed by [`PageSigner::key`] (one signature each).
    #[serde(default)]
    pub signatures: BTreeMap<String, PageSignature>,
}

/// 询问笔录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interview {
    pub id: String,
    /// The number (文号) of the record.
    pub number: String,
    pub interviewee: Interviewee,
    pub place: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    /// The inspector who asks (询问人) and the one who writes (记录人); both on the case.
    pub asked_by: UserId,
    pub recorded_by: UserId,
    pub pages: Vec<InterviewPage>,
}

impl Interview {
    /// The signers every page needs: the interviewee and both inspectors.
    pub fn signers(&self) -> [PageSigner; 3] {
        [
            PageSigner::Interviewee,
            PageSigner::Inspector(self.asked_by.clone()),
            PageSigner::Inspector(self.recorded_by.clone()),
        ]
    }

    /// Whether every page carries every signature (or the interviewee's recorded refusal).
    pub fn is_signed(&self) -> bool {
        !self.pages.is_empty()
            && self.pages.iter().all(|p| {
                self.signers()
                    .iter()
                    .all(|s| p.signatures.contains_key(&s.key()))
            })
    }
}

/// What a media file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Audio,
    Video,
    Photo,
}

/// Where a media file came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum MediaSource {
    /// Recorded on a tablet (hashed while it was written).
    Tablet { device: DeviceId },
    /// Imported from a body camera (执法记录仪), hashed while it was copied in.
    BodyCamera {
        /// The camera's serial number or asset tag.
        camera: String,
        imported_at: Timestamp,
        imported_on: DeviceId,
    },
}

/// An original audio, video or photo file: the record names it by its SHA-256; the bytes are
/// kept content-addressed (never re-encoded) like the photos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaEvidence {
    pub sha256: Sha256Hex,
    pub size: u64,
    pub kind: MediaKind,
    /// The MIME type of the original, e.g. `video/mp4`.
    pub mime: String,
    pub source: MediaSource,
    /// When it was recorded (the device's or the camera's clock).
    pub captured_at: Timestamp,
    pub added_at: Timestamp,
    pub added_by: UserId,
    #[serde(default)]
    pub note: String,
}

/// The kind of an on-site measure document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// 现场处理措施决定书
    OnSiteMeasures,
    /// 先行登记保存证据通知书
    EvidencePreservation,
}

impl MeasureKind {
    pub fn title_zh(self) -> &'static str {
        match self {
            MeasureKind::OnSiteMeasures => "现场处理措施决定书",
            MeasureKind::EvidencePreservation => "先行登记保存证据通知书",
        }
    }
}

/// What became of evidence registered and preserved (先行登记保存): decided within the period
/// the unit sets (7 days after 《行政处罚法》第五十六条 as domain.md records it, 依据待核).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreservationOutcome {
    pub on: Day,
    /// What was decided (e.g. 解除保存, 依法没收, 移送).
    pub decision: String,
}

/// An on-site measure taken by the case's inspectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSiteMeasure {
    pub id: String,
    pub kind: MeasureKind,
    /// The document's number (文号).
    pub number: String,
    pub at: Timestamp,
    /// The measures taken, or the items registered and preserved (物品名称、数量、地点).
    pub items: Vec<String>,
    /// The provisions the measure rests on.
    pub basis: Vec<crate::legal::LegalBasis>,
    /// For a preservation: what was decided, once it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PreservationOutcome>,
}
