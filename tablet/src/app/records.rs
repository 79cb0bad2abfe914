//! Starting a record, applying commands to it (each answering what it changed), and the
//! record screen's view.

use super::{App, now};
use crate::store::Store;
use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::missing_series;
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::settings::UnitSettings;
use app_core::signing::{SignOffer, sign_offer};
use app_core::user::User;
use tablet_api::{
    ApiError, ApiResult, ErrorCode, RecordChange, RecordView, Revision, SignedView,
    StartInspection, Stock,
};

/// The checklist template `record` was made with, from this tablet's store.
pub(super) fn record_template(store: &Store, record: &Inspection) -> ApiResult<ChecklistTemplate> {
    store.template(&record.template)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Storage,
            "本机缺少该记录的检查表",
            "template missing on this tablet",
        )
    })
}

/// The name of `user`'s unit as printed on documents (its id when the tablet lacks it).
pub(super) fn unit_name(store: &Store, user: &User) -> ApiResult<String> {
    Ok(store
        .reference::<app_core::unit::Unit>()?
        .into_iter()
        .find(|u| u.id == user.unit)
        .map_or_else(|| user.unit.to_string(), |u| u.name))
}

impl App {
    fn template_for(&self, store: &Store, e: &Enterprise) -> ApiResult<ChecklistTemplate> {
        // The newest version of each template (a supervisor's upload for this unit arrives
        // as a new version at the next sync and supersedes the older ones for new records;
        // old records keep reading theirs), if it applies to the industry.
        let mut newest: std::collections::BTreeMap<String, ChecklistTemplate> = Default::default();
        for t in store.reference::<ChecklistTemplate>()? {
            if newest.get(&t.id).is_none_or(|n| n.version < t.version) {
                newest.insert(t.id.clone(), t);
            }
        }
        let mut templates: Vec<ChecklistTemplate> = newest
            .into_values()
            .filter(|t| t.applies_to(e.industry))
            .collect();
        templates.sort_by_key(|t| std::cmp::Reverse(t.version));
        templates.into_iter().next().ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "本机没有适用于该企业行业（{}）的检查表",
                    e.industry.label_zh()
                ),
                format!("no checklist template for industry {:?}", e.industry),
            )
        })
    }

    /// Creates a draft of the chosen kind for the chosen enterprise with the user and the
    /// co-inspector on it.
    pub fn start(&self, a: StartInspection) -> ApiResult<InspectionId> {
        let user = self.user()?;
        let Some(co) = a.co_inspector else {
            return Err(ApiError::new(
                ErrorCode::Input,
                "请选择同行执法人员（须两人以上）",
                "choose the co-inspector",
            )
            .at("co_inspector"));
        };
        let mut store = self.store();
        let enterprise = store
            .reference::<Enterprise>()?
            .into_iter()
            .find(|e| e.id == a.enterprise)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::Input, "请选择企业", "choose an enterprise")
                    .at("enterprise")
            })?;
        let colleague = store
            .reference::<User>()?
            .into_iter()
            .find(|u| u.id == co)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::Input, "同行人员不存在", "unknown co-inspector")
                    .at("co_inspector")
            })?;
        let template = self.template_for(&store, &enterprise)?;
        let t = now();
        let id = InspectionId::new(format!("insp-{}", uuid::Uuid::new_v4()));
        let mut record = Inspection::new_draft(
            id.clone(),
            a.kind,
            enterprise.unit.clone(),
            (&enterprise).into(),
            template.reference(),
            user.id.clone(),
            t,
        );
        record.plan = a.plan;
        store.create_inspection(&record, &template, t)?;
        let cx = Context {
            actor: &user,
            now: t,
            template: &template,
        };
        for u in [&user, &colleague] {
            let certificate = u.certificate().cloned().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Input,
                    format!("{} 没有执法证", u.name),
                    "no certificate",
                )
                .at("co_inspector")
            })?;
            store.apply(
                &id,
                &Command::AddInspector(InspectorRef {
                    user: u.id.clone(),
                    name: u.name.clone(),
                    certificate,
                }),
                &cx,
            )?;
        }
        // A routine visit goes on site at once; a 四不两直 one first records its arrival proof.
        if a.kind != InspectionKind::Unannounced {
            store.apply(
                &id,
                &Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                },
                &cx,
            )?;
        }
        Ok(id)
    }

    /// Applies one command under the record's rules.
    pub fn command(&self, id: &InspectionId, command: &Command) -> ApiResult<()> {
        self.command_change(id, command).map(drop)
    }

    /// Applies one command under the record's rules and answers what it changed.
    pub fn command_change(&self, id: &InspectionId, command: &Command) -> ApiResult<RecordChange> {
        let user = self.user()?;
        let mut store = self.store();
        let ((), change) = self.edit(&mut store, id, |store, record| {
            let template = record_template(store, record)?;
            let cx = Context {
                actor: &user,
                now: now(),
                template: &template,
            };
            Ok(store.apply(id, command, &cx)?)
        })?;
        Ok(change)
    }

    /// Runs `edit` on record `id` (given the record as it was) and answers its value with
    /// what it changed: the record's parts that differ, its status and revisions, the signed
    /// versions when it has any, what the signing section offers and what the next signing
    /// numbers.
    pub(super) fn edit<T>(
        &self,
        store: &mut Store,
        id: &InspectionId,
        edit: impl FnOnce(&mut Store, &Inspection) -> ApiResult<T>,
    ) -> ApiResult<(T, RecordChange)> {
        let (before, base) = {
            let doc = store.document(id)?;
            (doc.record().clone(), revision(doc))
        };
        let value = edit(store, &before)?;
        let doc = store.document(id)?;
        let after = doc.record().clone();
        let changes = tablet_api::diff(&before, &after);
        let signed = signed_views(doc);
        let revision = revision(doc);
        let to_number = crate::numbers::documents_to_number(doc);
        let template = record_template(store, &after)?;
        let (numbers, numbers_missing, signing) =
            self.decisions(store, &after, &template, &signed, &to_number)?;
        Ok((
            value,
            RecordChange {
                id: id.clone(),
                base,
                revision,
                status: after.status,
                changes,
                signed: (!signed.is_empty()).then_some(signed),
                signing,
                to_number,
                numbers,
                numbers_missing,
            },
        ))
    }

    /// What the rules decide for the record's signing as the signed-in inspector sees it: the
    /// tablet's stock of the numbers the signing draws on, the series of `to_number` it holds
    /// none of, and the signing section's offer.
    fn decisions(
        &self,
        store: &Store,
        record: &Inspection,
        template: &ChecklistTemplate,
        signed: &[SignedView],
        to_number: &[app_core::docnumber::DocumentKind],
    ) -> ApiResult<(
        Vec<Stock>,
        Vec<app_core::docnumber::DocumentKind>,
        SignOffer,
    )> {
        let Ok(user) = self.user() else {
            return Ok((Vec::new(), Vec::new(), SignOffer::default()));
        };
        let t = now();
        let missing = missing_series(
            &store.number_pool()?,
            &user.unit,
            t.shanghai_date().year(),
            to_number,
        );
        // The latest signed version (by time) and whether it was amended since.
        let amended = signed
            .iter()
            .max_by_key(|s| s.at)
            .is_some_and(|s| !s.amendments.is_empty());
        Ok((
            crate::numbers::stock(store, &user.unit, t)?,
            missing.into_iter().map(|s| s.kind).collect(),
            sign_offer(record, &user, template, amended),
        ))
    }

    /// The record screen's view: the record, its template's applicable categories, the
    /// signed versions, what the rules decide for its forms; thumbnails are loaded by URL.
    pub fn record(&self, id: &InspectionId) -> ApiResult<RecordView> {
        let mut store = self.store();
        let record = store.inspection(id)?;
        let full = record_template(&store, &record)?;
        let mut template = full.clone();
        let applicable: Vec<String> = full
            .categories_for(record.enterprise.industry)
            .map(|c| c.name.clone())
            .collect();
        template.categories.retain(|c| applicable.contains(&c.name));
        let doc = store.document(id)?;
        let signed = signed_views(doc);
        let revision = revision(doc);
        let to_number = crate::numbers::documents_to_number(doc);
        let (numbers, numbers_missing, signing) =
            self.decisions(&store, &record, &full, &signed, &to_number)?;
        let deadlines = self.unit_settings().suggested_deadlines(Self::today());
        Ok(RecordView {
            record,
            template,
            signed,
            revision,
            signing,
            to_number,
            numbers,
            numbers_missing,
            deadlines,
        })
    }

    /// The deadlines and periods of the user's unit. The reference data carries no settings
    /// per unit yet, so every unit has the defaults a unit starts from (30 days for a general
    /// hazard, 90 for a major one, …); this is the one place that would read them.
    pub fn unit_settings(&self) -> UnitSettings {
        UnitSettings::default()
    }
}

/// A record's revision: its Automerge heads, hashed, as 16 hex digits.
fn revision(doc: &mut InspectionDoc) -> Revision {
    use sha2::{Digest, Sha256};
    let mut heads = doc.heads();
    heads.sort();
    let mut hash = Sha256::new();
    for h in &heads {
        hash.update(h.0);
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed versions of a record with the paths amended since each.
fn signed_views(doc: &mut InspectionDoc) -> Vec<SignedView> {
    let versions: Vec<_> = doc
        .record()
        .signed_versions
        .iter()
        .map(|(vid, v)| (vid.clone(), v.at, v.content_hash.to_string()))
        .collect();
    versions
        .into_iter()
        .map(|(id, at, content_hash)| {
            let (verified, amendments) = match doc.amendments(&id) {
                Ok(a) => (true, a.fields.into_iter().map(|f| f.path).collect()),
                Err(_) => (false, Vec::new()),
            };
            SignedView {
                id,
                at,
                content_hash,
                verified,
                amendments,
            }
        })
        .collect()
}
