//! The JSON messages of the HTTP API beside the sync protocol, declared once for the server
//! (which writes answers and reads requests) and the tablet's clients (which do the reverse):
//! the error body every failed answer carries, sign-in and device registration, the reference
//! bundle (with the units' penalty rules), document-number reservations and the status of a photo blob.
//!
//! Field names and shapes are the wire format: tablets in the field depend on them, so a
//! change here is a change of the API version. Requests refuse unknown fields (the server
//! reads them); answers accept them (a newer server may add some).

use crate::checklist::ChecklistTemplate;
use crate::docnumber::{Block, DocumentKind};
use crate::enterprise::Enterprise;
use crate::ids::UnitId;
use crate::penalty::{DiscretionTable, PenaltySettings, WorkCalendar};
use crate::plan::Plan;
use crate::unit::Unit;
use crate::user::User;
use serde::{Deserialize, Serialize};

/// The body of every failed answer: `{"error": {"code", "message"}}`, plus the server's
/// offset on a blob upload that must resume elsewhere (409 `offset_mismatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// Bytes of the blob the server holds (only on an upload's offset mismatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<u64>,
}

/// The error code of every request a revoked device (a lost tablet) may no longer make (403):
/// everything except uploading what it still holds.
pub const DEVICE_REVOKED: &str = "device_revoked";

/// A stable code to branch on and an English message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
            received: None,
        }
    }
}

/// `POST /api/v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

/// The answer to a sign-in: a bearer token, when it expires (Unix seconds) and who signed in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: i64,
    pub user: User,
}

/// `POST /api/v1/devices`: registers a tablet's Ed25519 key under the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    pub device_id: String,
    /// Ed25519 public key, 32 bytes in hex.
    pub public_key: String,
    /// Signature of [`registration_message`], 64 bytes in hex.
    pub signature: String,
}

/// What a device signs to prove it holds the key it registers.
pub fn registration_message(device: &str, user: &str) -> String {
    format!("register-device:{device}:{user}")
}

/// `GET /api/v1/reference`: what one user's tablet receives, everything it needs to work
/// offline and nothing it may not see.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceBundle {
    pub units: Vec<Unit>,
    pub users: Vec<User>,
    pub enterprises: Vec<Enterprise>,
    pub templates: Vec<ChecklistTemplate>,
    pub plans: Vec<Plan>,
    /// The penalty rules of the bundle's units, each as the server judges that unit's cases
    /// with (its own, else inherited from the nearest unit above, else the defaults), so the
    /// tablet applies a case command as the server will. Absent from an older server's
    /// bundle: the tablet then keeps app-core's defaults and no discretion table.
    #[serde(default)]
    pub penalty_rules: Vec<UnitCaseRules>,
}

/// One unit's rules for penalty cases, resolved by the server (issue 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCaseRules {
    pub unit: UnitId,
    pub settings: PenaltySettings,
    pub calendar: WorkCalendar,
    /// The discretion table (裁量基准) the unit's cases are judged by; none: a penalty
    /// proposal is refused as the rules refuse it without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discretion: Option<DiscretionTable>,
}

/// `POST /api/v1/numbers/reserve`: one block of each series asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    pub series: Vec<SeriesRequest>,
}

/// One series asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRequest {
    pub unit: UnitId,
    pub kind: DocumentKind,
    /// The current year in Asia/Shanghai when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

/// The blocks reserved for the device, and how many numbers a block holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveResponse {
    pub block_size: u32,
    pub blocks: Vec<Block>,
}

/// `POST /api/v1/numbers/claim`: after the server was restored from a backup (a new epoch,
/// see [`super::SyncResponse::epoch`]), a tablet announces every block it holds, so the
/// restored server, which may have lost the rows of blocks reserved after its backup, never
/// hands them out again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub blocks: Vec<Block>,
}

/// What the server made of a claim: how many blocks it recorded again (the others it held
/// already) and the blocks it had meanwhile given to another device, which the tablet must
/// stop issuing from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    pub restored: u32,
    pub conflicts: Vec<Block>,
}

/// What `GET /api/v1/blobs/{sha256}/status` and every accepted `PUT` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    /// The server holds the whole, verified blob and this device has the right to it.
    pub held: bool,
    /// Bytes received: the blob's size if held, else the length of this device's partial
    /// upload.
    pub received: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docnumber::DocumentKind;

    // The bytes tablets in the field send and read: pinned, so a refactoring cannot move them.

    #[test]
    fn error_body_is_code_and_message_with_offset_only_when_given() {
        let plain = ErrorBody::new("forbidden", "no");
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"error":{"code":"forbidden","message":"no"}}"#
        );
        let offset = ErrorBody {
            received: Some(7),
            ..ErrorBody::new("offset_mismatch", "resume")
        };
        assert_eq!(
            serde_json::to_string(&offset).unwrap(),
            r#"{"error":{"code":"offset_mismatch","message":"resume"},"received":7}"#
        );
        let read: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"x","message":"y"}}"#).unwrap();
        assert_eq!(read, ErrorBody::new("x", "y"));
    }

    #[test]
    fn reservation_request_names_unit_kind_and_year() {
        let request = ReserveRequest {
            series: vec![SeriesRequest {
                unit: UnitId::from("u1"),
                kind: DocumentKind::InspectionRecord,
                year: Some(2026),
            }],
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["series"][0]["unit"], "u1");
        assert_eq!(json["series"][0]["year"], 2026);
        let back: ReserveRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
        let no_year: SeriesRequest = serde_json::from_value(serde_json::json!({
            "unit": "u1",
            "kind": serde_json::to_value(DocumentKind::InspectionRecord).unwrap(),
        }))
        .unwrap();
        assert_eq!(no_year.year, None);
        assert!(
            serde_json::from_str::<ReserveRequest>(r#"{"series":[],"extra":1}"#).is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn blob_status_is_held_and_received() {
        let s = BlobStatus {
            held: false,
            received: 3,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"held":false,"received":3}"#
        );
    }

    #[test]
    fn reference_bundle_without_penalty_rules_still_reads() {
        // An older server's bundle: no `penalty_rules` (the tablet keeps the defaults).
        let old: ReferenceBundle = serde_json::from_str(
            r#"{"units":[],"users":[],"enterprises":[],"templates":[],"plans":[]}"#,
        )
        .unwrap();
        assert!(old.penalty_rules.is_empty());
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"units":[],"users":[],"enterprises":[],"templates":[],"plans":[],"penalty_rules":[]}"#
        );
    }

    #[test]
    fn unit_case_rules_are_settings_calendar_and_table() {
        let day = |s| crate::geo::Day::parse(s).unwrap();
        let rules = UnitCaseRules {
            unit: UnitId::from("u1"),
            settings: PenaltySettings::default(),
            calendar: WorkCalendar {
                holidays: [day("2026-10-01")].into(),
                workdays: [day("2026-10-10")].into(),
            },
            discretion: None,
        };
        assert_eq!(
            serde_json::to_string(&rules).unwrap(),
            concat!(
                r#"{"unit":"u1","settings":{"decision_period":{"days":90,"counting":"calendar"},"#,
                r#""statement_period":{"days":3,"counting":"working"},"#,
                r#""hearing_request_period":{"days":5,"counting":"working"},"#,
                r#""publication_period":{"days":7,"counting":"working"},"#,
                r#""payment_period":{"days":15,"counting":"calendar"},"#,
                r#""preservation_period":{"days":7,"counting":"calendar"},"#,
                r#""hearing_notice_period":{"days":7,"counting":"calendar"},"#,
                r#""hearing_fine_threshold":50000,"warn_days":3},"#,
                r#""calendar":{"holidays":["2026-10-01"],"workdays":["2026-10-10"]}}"#
            )
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/demo/discretion/nj.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let with_table = UnitCaseRules {
            discretion: Some(DiscretionTable::parse_toml(&text).unwrap()),
            ..rules
        };
        let json = serde_json::to_string(&with_table).unwrap();
        assert!(
            json.contains(
                r#""discretion":{"id":"nj-demo-2026","version":1,"published":"2026-12-01","provision":[{"#
            ),
            "{json}"
        );
        let back: UnitCaseRules = serde_json::from_str(&json).unwrap();
        assert_eq!(back, with_table);
    }

    #[test]
    fn login_request_refuses_unknown_fields() {
        let ok: LoginRequest = serde_json::from_str(r#"{"user":"a","password":"b"}"#).unwrap();
        assert_eq!(ok.user, "a");
        assert!(
            serde_json::from_str::<LoginRequest>(r#"{"user":"a","password":"b","x":1}"#).is_err()
        );
    }
}
