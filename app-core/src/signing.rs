//! Signed versions. Signing a record freezes what was signed: the Automerge heads at that
//! moment and the SHA-256 of the signed content are recorded in the record itself. Later the
//! signed version is re-materialised exactly from the document (whatever edits came after),
//! checked against its hash, and every later edit shows as an amendment.
//!
//! The signed content is the record without its workflow state (status, review, signed
//! versions, issued documents): what the inspectors found and what the parties signed.
//! It is hashed as compact JSON with map keys in sorted order (all maps are `BTreeMap`s),
//! so the same content always gives the same bytes.

use crate::document::{ChangeEntry, DocError, InspectionDoc};
use crate::evidence::Sha256Hex;
use crate::geo::Timestamp;
use crate::ids::{DeviceId, UserId};
use crate::inspection::{Command, Context, Inspection};
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A signed version: the Automerge heads at signing and the content hash of what was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVersion {
    /// Automerge change hashes (hex) of the document's heads when it was signed.
    pub heads: Vec<String>,
    pub content_hash: Sha256Hex,
    pub at: Timestamp,
    pub by: UserId,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no signed version {0} in this record")]
    Unknown(String),
    #[error("signed version {0} names heads that are not valid change hashes")]
    BadHeads(String),
    #[error(
        "signed version {id}: the content at its heads hashes to {found}, but {recorded} was signed"
    )]
    HashMismatch {
        id: String,
        recorded: Sha256Hex,
        found: Sha256Hex,
    },
    #[error(transparent)]
    Doc(#[from] DocError),
}

/// The part of a record that signatures cover, as a JSON value.
pub fn signed_content(record: &Inspection) -> Value {
    let mut v = serde_json::to_value(record).expect("records serialise");
    if let Value::Object(map) = &mut v {
        for workflow in [
            "status",
            "completed_at",
            "review",
            "signed_versions",
            "documents",
        ] {
            map.remove(workflow);
        }
    }
    v
}

/// SHA-256 of the signed content's canonical JSON.
pub fn content_hash(record: &Inspection) -> Sha256Hex {
    let bytes = serde_json::to_vec(&signed_content(record)).expect("values serialise");
    Sha256Hex::of(&bytes)
}

/// A field whose signed value differs from its current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON-pointer-like path, e.g. `/results/GM-01/answer`.
    pub path: String,
    pub signed: Option<Value>,
    pub now: Option<Value>,
}

/// What changed since a signed version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendments {
    /// The Automerge changes made after the signature (who, when, on which device, what).
    pub changes: Vec<ChangeEntry>,
    /// The fields of the signed content that now read differently.
    pub fields: Vec<FieldChange>,
}

impl Amendments {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

fn parse_heads(id: &str, heads: &[String]) -> Result<Vec<ChangeHash>, SignError> {
    heads
        .iter()
        .map(|h| h.parse().map_err(|_| SignError::BadHeads(id.to_owned())))
        .collect()
}

impl InspectionDoc {
    /// Records a signed version of the current state under `id` and returns it.
    pub fn sign(
        &mut self,
        id: &str,
        cx: &Context<'_>,
        device: &DeviceId,
    ) -> Result<SignedVersion, DocError> {
        let version = SignedVersion {
            heads: self.heads().iter().map(ToString::to_string).collect(),
            content_hash: content_hash(self.record()),
            at: cx.now,
            by: cx.actor.id.clone(),
        };
        self.apply(
            &Command::RecordSignedVersion {
                id: id.to_owned(),
                version: version.clone(),
            },
            cx,
            device,
        )?;
        Ok(version)
    }

    /// The record exactly as signed in version `id`, verified against the recorded hash.
    pub fn signed_record(&mut self, id: &str) -> Result<Inspection, SignError> {
        let version = self
            .record()
            .signed_versions
            .get(id)
            .cloned()
            .ok_or_else(|| SignError::Unknown(id.to_owned()))?;
        let heads = parse_heads(id, &version.heads)?;
        let past = self.record_at(&heads)?;
        let found = content_hash(&past);
        if found != version.content_hash {
            return Err(SignError::HashMismatch {
                id: id.to_owned(),
                recorded: version.content_hash,
                found,
            });
        }
        Ok(past)
    }

    /// Everything changed since signed version `id`.
    pub fn amendments(&mut self, id: &str) -> Result<Amendments, SignError> {
        let signed = self.signed_record(id)?;
        let version = &self.record().signed_versions[id];
        let heads = parse_heads(id, &version.heads)?;
        let mut fields = Vec::new();
        diff_values(
            "",
            Some(&signed_content(&signed)),
            Some(&signed_content(self.record())),
            &mut fields,
        );
        let changes = self.changes_since(&heads);
        Ok(Amendments { changes, fields })
    }
}

/// Collects the leaf paths where `a` and `b` differ.
fn diff_values(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff_values(&format!("{path}/{k}"), x.get(k), y.get(k), out);
            }
        }
        _ => out.push(FieldChange {
            path: path.to_owned(),
            signed: a.cloned(),
            now: b.cloned(),
        }),
    }
}
