//! Starting a record, applying commands to it (each answering what it changed), and the
//! record screen's view.

use super::{App, now};
use crate::store::Store;
use app_core::checklist::ChecklistTemplate;
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::user::User;
use tablet_api::{
    ApiError, ApiResult, ErrorCode, RecordChange, RecordView, Revision, SignedView,
    StartInspection, Stock,
};

impl App {
    fn template_for(&self, store: &Store, e: &Enterprise) -> ApiResult<ChecklistTemplate> {
        let mut templates: Vec<ChecklistTemplate> = store
            .reference::<ChecklistTemplate>()?
            .into_iter()
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

    /// The template of a record held in the store.
    pub(super) fn template_of(store: &Store, record: &Inspection) -> ApiResult<ChecklistTemplate> {
        store.template(&record.template)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Storage,
                "本机缺少该记录的检查表",
                "template missing on this tablet",
            )
        })
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
            let template = Self::template_of(store, record)?;
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
    /// versions when it has any, and what the next signing numbers.
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
        let after = doc.record();
        let changes = tablet_api::diff(&before, after);
        let status = after.status;
        let signed = if after.signed_versions.is_empty() {
            None
        } else {
            Some(signed_views(doc))
        };
        let revision = revision(doc);
        let to_number = crate::numbers::documents_to_number(doc);
        let numbers = self.stock(store)?;
        Ok((
            value,
            RecordChange {
                id: id.clone(),
                base,
                revision,
                status,
                changes,
                signed,
                to_number,
                numbers,
            },
        ))
    }

    /// The stock of document numbers the signed-in inspector's signing draws on.
    fn stock(&self, store: &Store) -> ApiResult<Vec<Stock>> {
        Ok(match self.user() {
            Ok(user) => super::sync::stock_view(crate::numbers::stock(store, &user.unit, now())?),
            Err(_) => Vec::new(),
        })
    }

    /// The record screen's view: the record, its template's applicable categories, the
    /// signed versions, the numbers the next signing needs; thumbnails are loaded by URL.
    pub fn record(&self, id: &InspectionId) -> ApiResult<RecordView> {
        let mut store = self.store();
        let record = store.inspection(id)?;
        let mut template = Self::template_of(&store, &record)?;
        let industry = record.enterprise.industry;
        let applicable: Vec<String> = template
            .categories_for(industry)
            .map(|c| c.name.clone())
            .collect();
        template.categories.retain(|c| applicable.contains(&c.name));
        let doc = store.document(id)?;
        let signed = signed_views(doc);
        let revision = revision(doc);
        let to_number = crate::numbers::documents_to_number(doc);
        let numbers = self.stock(&store)?;
        Ok(RecordView {
            record,
            template,
            signed,
            revision,
            to_number,
            numbers,
        })
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
