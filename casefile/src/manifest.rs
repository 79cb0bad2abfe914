//! The manifest (`manifest.json`): what the case file holds, each file's SHA-256 and size,
//! who signed it with which key, and the head of the audit trail. `manifest.sig` is the
//! Ed25519 signature over the manifest's exact bytes, made with the exporting device's key.

use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, InspectionId, UnitId, UserId};
use app_core::penalty::CaseId;
use app_core::user::{Role, User};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// The format this build writes and reads.
pub const FORMAT: &str = "casefile/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const INDEX: &str = "index.html";
pub const RECORD_JSON: &str = "record.json";
pub const RECORD_AUTOMERGE: &str = "record.automerge";
pub const TRAIL: &str = "audit-trail.json";
pub const AMENDMENTS: &str = "amendments.json";
pub const DOCUMENTS_DIR: &str = "documents/";
pub const PHOTOS_DIR: &str = "photos/";
/// Audio and video recordings: `media/<sha256>.<ext>`.
pub const MEDIA_DIR: &str = "media/";
/// A penalty case's file: the case as its Automerge document reads now (JSON).
pub const CASE_JSON: &str = "case.json";
/// A penalty case's file: the case's Automerge document at the exported heads.
pub const CASE_AUTOMERGE: &str = "case.automerge";

/// Who signed the case file: the person signed in on the exporting device, and the device's
/// Ed25519 public key (the key the server registered for that device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerIdentity {
    pub user: UserId,
    pub name: String,
    /// `inspector`, `supervisor` or `admin`.
    pub role: String,
    /// 执法证号, for inspectors.
    pub certificate: Option<String>,
    pub unit: UnitId,
    pub unit_name: String,
    pub device: DeviceId,
    /// The Ed25519 public key, 64 lower-case hex characters.
    pub public_key: String,
}

impl SignerIdentity {
    pub fn new(user: &User, unit_name: &str, device: &DeviceId, key: &VerifyingKey) -> Self {
        let role = match user.role {
            Role::Inspector { .. } => "inspector",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        };
        Self {
            user: user.id.clone(),
            name: user.name.clone(),
            role: role.to_owned(),
            certificate: user.certificate().map(|c| c.as_str().to_owned()),
            unit: user.unit.clone(),
            unit_name: unit_name.to_owned(),
            device: device.clone(),
            public_key: app_core::evidence::hex(key.as_bytes()),
        }
    }

    pub fn role_zh(&self) -> &str {
        match self.role.as_str() {
            "inspector" => "执法人员",
            "supervisor" => "审核人",
            "admin" => "管理员",
            other => other,
        }
    }
}

/// One file of the case file, in archive order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Hex,
}

/// The manifest. Its JSON bytes are what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// The record's id. In a penalty case's file, the case's id (as in `case`).
    pub inspection: InspectionId,
    /// Set only in a penalty case's file (`crate::case`): the case's id. Such a file holds
    /// `case.json` and `case.automerge` instead of `record.json` and `record.automerge`; its
    /// `signed_version` is the case's stage (`closed` …), `heads` the document's heads at the
    /// export, `content_hash` the SHA-256 of the case's compact JSON, `amended` false. Absent
    /// from an inspection's manifest, whose bytes it leaves as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseId>,
    /// The signed version (`signed_versions` key in the record) this case file shows.
    pub signed_version: String,
    /// Automerge heads of that version, as recorded in the record.
    pub heads: Vec<String>,
    /// SHA-256 of the signed content (app-core `signing::content_hash`).
    pub content_hash: Sha256Hex,
    /// Whether the record changed after that version (see `amendments.json`).
    pub amended: bool,
    pub exported_at: Timestamp,
    pub signer: SignerIdentity,
    /// The hash of the audit trail's last entry (64 zeros if the trail is empty).
    pub trail_head: String,
    /// Every file except the manifest and its signature, in archive order.
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifests serialise");
        bytes.push(b'\n');
        bytes
    }
}

/// Decodes lower-case or upper-case hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses a 32-byte Ed25519 public key from hex.
pub fn parse_public_key(s: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = unhex(s)?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// A short, readable fingerprint of a public key for people to compare by eye or by phone:
/// the first 16 bytes of SHA-256 of the key, in groups of four hex digits.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256Hex::of(key.as_bytes());
    digest.as_str().as_bytes()[..32]
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}
