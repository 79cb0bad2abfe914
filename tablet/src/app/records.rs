//! Starting a record, applying commands to it, and the record screen's view.

use super::{App, now};
use crate::store::{Store, StoreError};
use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::missing_series;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::settings::UnitSettings;
use app_core::signing::{SignOffer, sign_offer};
use app_core::user::User;
use tablet_api::{ApiError, ApiResult, ErrorCode, RecordView, SignedView, StartInspection};

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

    fn with_template<T>(
        &self,
        id: &InspectionId,
        f: impl FnOnce(&mut Store, &ChecklistTemplate, &User) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let user = self.user()?;
        let mut store = self.store();
        let record = store.inspection(id)?;
        let template = record_template(&store, &record)?;
        f(&mut store, &template, &user)
    }

    /// Applies one command under the record's rules.
    pub fn command(&self, id: &InspectionId, command: &Command) -> ApiResult<()> {
        self.with_template(id, |store, template, user| {
            let cx = Context {
                actor: user,
                now: now(),
                template,
            };
            store.apply(id, command, &cx)?;
            Ok(())
        })
    }

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
        let mut signed = Vec::new();
        let doc = store.document(id)?;
        for (vid, v) in &record.signed_versions {
            let (verified, amendments) = match doc.amendments(vid) {
                Ok(a) => (true, a.fields.into_iter().map(|f| f.path).collect()),
                Err(_) => (false, Vec::new()),
            };
            signed.push(SignedView {
                id: vid.clone(),
                at: v.at,
                content_hash: v.content_hash.to_string(),
                verified,
                amendments,
            });
        }
        let mut shas: Vec<String> = Vec::new();
        for r in record.results.values() {
            shas.extend(r.photos.keys().map(ToString::to_string));
        }
        for h in record.hazards.values() {
            shas.extend(h.photos.keys().map(ToString::to_string));
            for ri in h.reinspections.values() {
                shas.extend(ri.photos.keys().map(ToString::to_string));
            }
        }
        if let Some(a) = &record.arrival {
            shas.push(a.entrance_photo.to_string());
        }
        let to_number = crate::numbers::documents_to_number(store.document(id)?);
        let user = self.user().ok();
        let (numbers, numbers_missing, signing) = match &user {
            Some(user) => {
                let t = now();
                let missing = missing_series(
                    &store.number_pool()?,
                    &user.unit,
                    t.shanghai_date().year(),
                    &to_number,
                );
                // The latest signed version (by time) and whether it was amended since.
                let amended = signed
                    .iter()
                    .max_by_key(|s| s.at)
                    .is_some_and(|s| !s.amendments.is_empty());
                (
                    crate::numbers::stock(&store, &user.unit, t)?,
                    missing.into_iter().map(|s| s.kind).collect(),
                    sign_offer(&record, user, &full, amended),
                )
            }
            None => (Vec::new(), Vec::new(), SignOffer::default()),
        };
        let deadlines = self.unit_settings().suggested_deadlines(Self::today());
        drop(store);
        let mut thumbs = std::collections::BTreeMap::new();
        for sha in shas {
            if let Ok(t) = self.thumb(&sha) {
                thumbs.insert(sha, t);
            }
        }
        Ok(RecordView {
            record,
            template,
            signed,
            thumbs,
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

    /// The thumbnail of an ingested photo as a data URL (the original if no copy is known,
    /// e.g. a signature image).
    pub fn thumb(&self, sha256: &str) -> ApiResult<String> {
        let sha = Sha256Hex::parse(sha256).map_err(super::errors::bad_args)?;
        let thumb: Option<String> = {
            use rusqlite::OptionalExtension;
            self.store()
                .connection()
                .query_row(
                    "SELECT thumb_sha256 FROM photos WHERE sha256 = ?1",
                    [sha.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(StoreError::from)?
        };
        let (blob, mime) = match thumb.and_then(|t| Sha256Hex::parse(&t).ok()) {
            Some(t) => (t, "image/jpeg"),
            None => (sha, "image/png"),
        };
        let bytes = self.blobs.get(&blob).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("照片读取失败：{e}"),
                format!("photo unreadable: {e}"),
            )
        })?;
        Ok(format!("data:{mime};base64,{}", super::base64(&bytes)))
    }
}
