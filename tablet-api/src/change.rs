//! What one edit changed in a record: the answer to a tap.
//!
//! A screen opens a record once (`GetRecord` answers the whole [`RecordView`]); every edit
//! after that (`ApplyCommand`, a photo linked to an item or hazard) answers a
//! [`RecordChange`]: only the parts of the record that differ, the small header fields the
//! screen shows, and the revisions before and after. The screen applies it to the view it
//! holds ([`RecordView::apply`]); a view at another revision (a sync merged changes
//! meanwhile, or answers overtook each other) refuses it and the screen reloads the record.

use crate::views::{RecordView, SignedView, Stock};
use app_core::docnumber::{DocumentKind, IssuedDocument};
use app_core::geo::Timestamp;
use app_core::hazard::Hazard;
use app_core::ids::{HazardId, InspectionId, ItemCode, PlanId, UserId};
use app_core::inspection::{
    ArrivalProof, Attestations, Inspection, InspectionStatus, InspectorRef, ItemResult,
    OnsitePerson, Review, Signature,
};
use app_core::signing::{SignOffer, SignedVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The custom URI scheme the Tauri shell serves thumbnails on.
pub const THUMB_SCHEME: &str = "thumb";

/// Where a photo's thumbnail is served: `thumb://localhost/<sha256>` (the shell's custom
/// protocol, the form WebKitGTK and WKWebView load; Windows and Android would need
/// `http://thumb.localhost/<sha256>`, not supported yet). Only photos ingested on this tablet
/// are served.
pub fn thumb_url(sha256: &str) -> String {
    format!("{THUMB_SCHEME}://localhost/{sha256}")
}

/// A short name for a record's state (its Automerge heads, hashed): two views with the same
/// revision show the same record.
pub type Revision = String;

/// One part of a record that an edit changed, with its new value. Keyed parts (checklist
/// results, hazards) travel one entry at a time; `None` means the entry is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChange {
    Plan(Option<PlanId>),
    Inspectors(BTreeMap<UserId, InspectorRef>),
    Arrival(Option<ArrivalProof>),
    Attestations(Attestations),
    Places(String),
    Summary(String),
    Result(ItemCode, Option<ItemResult>),
    Hazard(HazardId, Option<Box<Hazard>>),
    OnsitePerson(Option<OnsitePerson>),
    Signatures(BTreeMap<String, Signature>),
    Status(InspectionStatus),
    StartedAt(Option<Timestamp>),
    CompletedAt(Option<Timestamp>),
    Review(Option<Review>),
    SignedVersions(BTreeMap<String, SignedVersion>),
    Documents(BTreeMap<String, IssuedDocument>),
    /// 送达 of the issued documents.
    Services(BTreeMap<String, app_core::delivery::Service>),
    /// The record's identity changed (no command does this): the whole record.
    Whole(Box<Inspection>),
}

/// What an edit changed, for the screen holding the record's view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordChange {
    pub id: InspectionId,
    /// The revision the edit was made on: the view must be at it to apply this.
    pub base: Revision,
    /// The revision after the edit.
    pub revision: Revision,
    /// The header the screen shows, whether or not it changed.
    pub status: InspectionStatus,
    /// The parts of the record that changed (empty when the edit changed nothing).
    pub changes: Vec<FieldChange>,
    /// The signed versions with their amendments, when the record has any (amendments move
    /// with every edit after a signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Vec<SignedView>>,
    /// What the signing section offers and what blocks the signing (small: the blockers
    /// name items or fields).
    pub signing: SignOffer,
    /// What the next signing numbers, the tablet's stock of numbers and the series it lacks
    /// (a few lines each).
    pub to_number: Vec<DocumentKind>,
    pub numbers: Vec<Stock>,
    pub numbers_missing: Vec<DocumentKind>,
}

/// The parts of `after` that differ from `before`, in the order of the record's fields.
pub fn diff(before: &Inspection, after: &Inspection) -> Vec<FieldChange> {
    // Destructured without `..`: a new field of `Inspection` does not compile until it is
    // carried here.
    let Inspection {
        id,
        kind,
        unit,
        enterprise,
        template,
        plan,
        created_at,
        created_by,
        inspectors,
        arrival,
        attestations,
        places,
        summary,
        results,
        hazards,
        onsite_person,
        signatures,
        status,
        started_at,
        completed_at,
        review,
        signed_versions,
        documents,
        services,
    } = after;
    if *id != before.id
        || *kind != before.kind
        || *unit != before.unit
        || *enterprise != before.enterprise
        || *template != before.template
        || *created_at != before.created_at
        || *created_by != before.created_by
    {
        return vec![FieldChange::Whole(Box::new(after.clone()))];
    }
    let mut out = Vec::new();
    macro_rules! whole {
        ($field:ident, $variant:ident) => {
            if *$field != before.$field {
                out.push(FieldChange::$variant($field.clone()));
            }
        };
    }
    whole!(plan, Plan);
    whole!(inspectors, Inspectors);
    whole!(arrival, Arrival);
    whole!(attestations, Attestations);
    whole!(places, Places);
    whole!(summary, Summary);
    for (code, r) in results {
        if before.results.get(code) != Some(r) {
            out.push(FieldChange::Result(code.clone(), Some(r.clone())));
        }
    }
    for code in before.results.keys().filter(|c| !results.contains_key(*c)) {
        out.push(FieldChange::Result(code.clone(), None));
    }
    for (hid, h) in hazards {
        if before.hazards.get(hid) != Some(h) {
            out.push(FieldChange::Hazard(hid.clone(), Some(Box::new(h.clone()))));
        }
    }
    for hid in before.hazards.keys().filter(|h| !hazards.contains_key(*h)) {
        out.push(FieldChange::Hazard(hid.clone(), None));
    }
    whole!(onsite_person, OnsitePerson);
    whole!(signatures, Signatures);
    whole!(status, Status);
    whole!(started_at, StartedAt);
    whole!(completed_at, CompletedAt);
    whole!(review, Review);
    whole!(signed_versions, SignedVersions);
    whole!(documents, Documents);
    whole!(services, Services);
    out
}

/// Applies changes made by [`diff`] to the record they were computed against.
pub fn patch(record: &mut Inspection, changes: Vec<FieldChange>) {
    for change in changes {
        match change {
            FieldChange::Plan(v) => record.plan = v,
            FieldChange::Inspectors(v) => record.inspectors = v,
            FieldChange::Arrival(v) => record.arrival = v,
            FieldChange::Attestations(v) => record.attestations = v,
            FieldChange::Places(v) => record.places = v,
            FieldChange::Summary(v) => record.summary = v,
            FieldChange::Result(code, Some(r)) => {
                record.results.insert(code, r);
            }
            FieldChange::Result(code, None) => {
                record.results.remove(&code);
            }
            FieldChange::Hazard(hid, Some(h)) => {
                record.hazards.insert(hid, *h);
            }
            FieldChange::Hazard(hid, None) => {
                record.hazards.remove(&hid);
            }
            FieldChange::OnsitePerson(v) => record.onsite_person = v,
            FieldChange::Signatures(v) => record.signatures = v,
            FieldChange::Status(v) => record.status = v,
            FieldChange::StartedAt(v) => record.started_at = v,
            FieldChange::CompletedAt(v) => record.completed_at = v,
            FieldChange::Review(v) => record.review = v,
            FieldChange::SignedVersions(v) => record.signed_versions = v,
            FieldChange::Documents(v) => record.documents = v,
            FieldChange::Services(v) => record.services = v,
            FieldChange::Whole(v) => *record = *v,
        }
    }
}

impl RecordView {
    /// The record's findings (items answered 不符合) with their 违法依据, 处罚依据 (a
    /// registered hazard's copy first) and 判定依据, from the record and the template version
    /// it was made with: what the screens show of a finding and a penalty case reads.
    pub fn findings(&self) -> Vec<app_core::forms::Finding> {
        app_core::forms::findings(&self.record, &self.template)
    }

    /// Applies an edit's change to this view. Refused (the view untouched, `false`) when the
    /// change is for another record or was made on another revision than this view's: the
    /// screen then reloads the record.
    #[must_use]
    pub fn apply(&mut self, change: RecordChange) -> bool {
        if change.id != self.record.id || change.base != self.revision {
            return false;
        }
        patch(&mut self.record, change.changes);
        self.record.status = change.status;
        self.revision = change.revision;
        match change.signed {
            Some(signed) => self.signed = signed,
            None if self.record.signed_versions.is_empty() => self.signed.clear(),
            None => {}
        }
        self.signing = change.signing;
        self.to_number = change.to_number;
        self.numbers = change.numbers;
        self.numbers_missing = change.numbers_missing;
        true
    }
}
