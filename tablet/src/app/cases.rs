//! Penalty cases (行政处罚案件) on the tablet: opening one from a failed item of a record,
//! applying a case command as the signed-in user on this device, the case list and the case
//! view. The rules are app-core's (`PenaltyCase::open`, `CaseDoc::apply`, `case_deadlines`,
//! `CaseDoc::conflicts`); the store persists (`store/cases.rs`); the rules' settings are
//! `Store::case_rules`, the unit's rules the server sent, the same it judges with.
//!
//! Document numbers (文号) of case documents come from the tablet's pool, issued in the same
//! transaction as the command's change (`Store::apply_case_numbered`), like the inspection
//! documents' at signing. Each case document has its own series (app-core's
//! `DocumentKind::from(CaseDocKind)`, see [`pool_kind`]; the 现场处理措施决定书's 现决 is
//! shared with the inspections); a tablet holding cases keeps them topped up like the
//! inspection documents' (`numbers::top_up`), and a command that finds its series empty asks
//! the server for more once before it answers `numbers`.

use super::{App, now};
use crate::store::{CaseNumbering, CaseRules, Store, StoreError};
use app_core::docnumber::{DocumentKind, NumberError};
use app_core::forms::findings;
use app_core::ids::{InspectionId, ItemCode};
use app_core::messages::{Bilingual, CaseRequestRefusal};
use app_core::penalty::{
    CaseCommand, CaseContext, CaseDocKind, CaseId, IssuedNumber, MeasureKind, MediaEvidence,
    MediaSource, OpenCase, case_deadlines,
};
use app_core::unit::Unit;
use app_core::user::User;
use tablet_api::{ApiError, ApiResult, CaseRow, CaseView, ErrorCode};

/// The pool's series a case document is numbered from (app-core's mapping).
pub fn pool_kind(kind: CaseDocKind) -> DocumentKind {
    DocumentKind::from(kind)
}

/// The document a command numbers, and its number (to be replaced by the tablet's).
fn numbered(command: &mut CaseCommand) -> Option<(CaseDocKind, &mut IssuedNumber)> {
    use CaseCommand as C;
    use CaseDocKind as K;
    match command {
        C::ApproveFiling { number, .. } => Some((K::FilingApproval, number)),
        C::AddInterview { number, .. } => Some((K::Interview, number)),
        C::AddMeasure { measure, number } => Some((
            match measure.kind {
                MeasureKind::OnSiteMeasures => K::OnSiteMeasures,
                MeasureKind::EvidencePreservation => K::EvidencePreservation,
            },
            number,
        )),
        C::Notify { number } => Some((K::Notice, number)),
        C::RecordStatement { number, .. } => Some((K::Statement, number)),
        C::RecordHearing { number, .. } => Some((K::Hearing, number)),
        C::RecordLegalReview { number, .. } => Some((K::LegalReview, number)),
        C::Decide { number, .. } => Some((K::Decision, number)),
        C::RecordService { number, .. } => Some((K::ServiceReceipt, number)),
        C::Close { number, .. } => Some((K::ClosingApproval, number)),
        _ => None,
    }
}

/// Puts `number` in `command`: its number, and the number text the interview record or the
/// measure carries (which the rules require to be the same).
fn give_number(command: &mut CaseCommand, number: IssuedNumber) {
    match command {
        CaseCommand::AddInterview { interview, .. } => interview.number = number.text.clone(),
        CaseCommand::AddMeasure { measure, .. } => measure.number = number.text.clone(),
        _ => {}
    }
    if let Some((_, slot)) = numbered(command) {
        *slot = number;
    }
}

/// Why a case command did not happen: refused, or no number left in its series.
enum CaseStop {
    Refused(ApiError),
    NoNumbers(CaseDocKind),
}

impl<E: Into<ApiError>> From<E> for CaseStop {
    fn from(e: E) -> Self {
        CaseStop::Refused(e.into())
    }
}

fn refusal(code: ErrorCode, r: CaseRequestRefusal) -> ApiError {
    ApiError::new(code, r.zh(), r.en())
}

/// A store error of a case request as the screens read it: a rule's refusal with the rule's
/// text, a case not on the tablet as `not_found`.
fn case_error(e: StoreError) -> ApiError {
    match e {
        StoreError::CaseRefused(e) => e.into(),
        StoreError::CaseNotFound(id) => refusal(
            ErrorCode::NotFound,
            CaseRequestRefusal::NotOnTablet(id.to_string()),
        ),
        e => e.into(),
    }
}

/// The context of `actor`'s case command now, with the unit's rules.
fn context<'a>(actor: &'a User, rules: &'a CaseRules) -> CaseContext<'a> {
    CaseContext {
        actor,
        now: now(),
        settings: &rules.settings,
        calendar: &rules.calendar,
        discretion: rules.discretion.as_ref(),
    }
}

/// The view of case `id` as stored.
fn view(store: &Store, id: &CaseId) -> ApiResult<CaseView> {
    let doc = store.case_doc(id).map_err(case_error)?;
    let case = doc.case().clone();
    let rules = store.case_rules(&case.unit)?;
    let deadlines = case_deadlines(&case, &rules.settings, &rules.calendar, App::today());
    let unsynced = store.case_unsynced(id).map_err(case_error)?;
    let proposals = rules
        .discretion
        .as_ref()
        .map(|t| app_core::penalty::proposals(t, &case.penalty_basis))
        .unwrap_or_default();
    let mut view = CaseView::new(case, deadlines, doc.conflicts(), unsynced);
    view.proposals = proposals;
    Ok(view)
}

impl App {
    /// 立案 from a failed item of record `record` (see `tablet_api::OpenCase`): the case gets
    /// a new id (a UUID), the record's enterprise, the item's 违法依据 and 处罚依据, the
    /// record's inspectors and `facts` (or the item and its note); the rules decide whether
    /// it opens (the user on it, two inspectors with certificates, provisions named).
    pub fn open_case(
        &self,
        record: &InspectionId,
        item: &ItemCode,
        facts: Option<String>,
    ) -> ApiResult<CaseView> {
        let user = self.user()?;
        let mut store = self.store();
        let inspection = store.inspection(record)?;
        let template = super::records::record_template(&store, &inspection)?;
        let finding = findings(&inspection, &template)
            .into_iter()
            .find(|f| &f.item == item)
            .ok_or_else(|| {
                refusal(
                    ErrorCode::Input,
                    CaseRequestRefusal::NotAFinding(item.to_string()),
                )
                .at("item")
            })?;
        let id = CaseId::new(uuid::Uuid::new_v4().to_string());
        let mut open = OpenCase::from_finding(
            id.clone(),
            &inspection,
            &finding,
            inspection.inspectors.values().cloned().collect(),
        );
        if let Some(facts) = facts {
            open.facts = facts;
        }
        let rules = store.case_rules(&open.unit)?;
        let cx = context(&user, &rules);
        store.open_case(open, &cx).map_err(case_error)?;
        view(&store, &id)
    }

    /// Applies `command` to case `id` as the signed-in user on this device, the number it
    /// carries issued from the tablet's pool first (in the same transaction); answers the
    /// case. Refused by the rules, or no number to give: nothing is written or spent.
    /// With the series empty, the tablet asks the server for more once (fails fast offline).
    pub fn apply_case(&self, id: &CaseId, command: CaseCommand) -> ApiResult<CaseView> {
        let kind = match self.apply_case_once(id, command.clone()) {
            Ok(view) => return Ok(view),
            Err(CaseStop::Refused(e)) => return Err(e),
            Err(CaseStop::NoNumbers(kind)) => kind,
        };
        let exhausted = || {
            refusal(
                ErrorCode::Numbers,
                CaseRequestRefusal::NumbersExhausted(kind),
            )
            .at("numbers")
        };
        let session = self.session().map_err(|_| exhausted())?;
        if self.top_up_numbers(&session).is_err() {
            return Err(exhausted());
        }
        match self.apply_case_once(id, command) {
            Ok(view) => Ok(view),
            Err(CaseStop::Refused(e)) => Err(e),
            Err(CaseStop::NoNumbers(_)) => Err(exhausted()),
        }
    }

    /// One attempt at [`apply_case`](Self::apply_case), under one hold of the store's lock.
    fn apply_case_once(&self, id: &CaseId, mut command: CaseCommand) -> Result<CaseView, CaseStop> {
        let user = self.user()?;
        let mut store = self.store();
        let unit = store.penalty_case(id).map_err(case_error)?.unit;
        let rules = store.case_rules(&unit)?;
        let cx = context(&user, &rules);
        // A recording is added (and imported) at the command's own time, as the rules require.
        if let CaseCommand::AddMedia(m) = &mut command {
            m.added_at = cx.now;
            if let MediaSource::BodyCamera { imported_at, .. } = &mut m.source {
                *imported_at = cx.now;
            }
        }
        let Some((kind, _)) = numbered(&mut command) else {
            store.apply_case(id, &command, &cx).map_err(case_error)?;
            return Ok(view(&store, id)?);
        };
        let pool_kind = pool_kind(kind);
        // Numbers of the user's unit (the unit that issues the case's documents).
        let short_name = store
            .reference::<Unit>()?
            .into_iter()
            .find(|u| u.id == user.unit)
            .map(|u| u.short_name)
            .ok_or_else(|| {
                refusal(
                    ErrorCode::Numbers,
                    CaseRequestRefusal::UnitMissing(user.unit.to_string()),
                )
                .at("numbers")
            })?;
        let numbering = CaseNumbering {
            kind,
            pool_kind,
            unit: user.unit.clone(),
            unit_short_name: short_name,
        };
        let issued = store.apply_case_numbered(
            id,
            &numbering,
            |number| {
                give_number(&mut command, number);
                command
            },
            &cx,
        );
        match issued {
            Ok(_) => Ok(view(&store, id)?),
            Err(StoreError::Number(NumberError::Exhausted { .. })) => {
                Err(CaseStop::NoNumbers(kind))
            }
            Err(e) => Err(CaseStop::Refused(case_error(e))),
        }
    }

    /// Imports the recording at `path` into the evidence store and names it in case `id` (see
    /// `tablet_api::ImportCaseMedia`). A file that is not a recording, or cannot be read, is
    /// refused with nothing stored; a recording the rules refuse stays in the evidence store
    /// (evidence is never deleted) but is named by no case.
    pub fn import_case_media(
        &self,
        id: &CaseId,
        path: &std::path::Path,
        camera: Option<String>,
        note: String,
    ) -> ApiResult<CaseView> {
        let user = self.user()?;
        let media_error = |e: crate::media::MediaError| {
            let r = e.refusal();
            ApiError::new(ErrorCode::Photo, r.zh(), r.en()).at("media")
        };
        // When the recording was made: the file's time (a camera writes it as it records).
        let captured_at = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(super::timestamp_of);
        let imported = crate::media::import_file(&self.blobs, path).map_err(media_error)?;
        let now = now();
        let device = self.store().device().clone();
        let source = match camera {
            Some(camera) => MediaSource::BodyCamera {
                camera,
                imported_at: now,
                imported_on: device,
            },
            None => MediaSource::Tablet { device },
        };
        // (`added_at` and the import's time are the command's, set where it is applied.)
        let media = MediaEvidence {
            sha256: imported.sha256,
            size: imported.size,
            kind: if imported.kind.is_audio() {
                app_core::penalty::MediaKind::Audio
            } else {
                app_core::penalty::MediaKind::Video
            },
            mime: imported.kind.mime_type().to_owned(),
            source,
            captured_at: captured_at.unwrap_or(now),
            added_at: now,
            added_by: user.id.clone(),
            note,
        };
        self.apply_case(id, CaseCommand::AddMedia(media))
    }

    /// The recordings in the configured places (see `AppConfig::media_roots`), newest first,
    /// at most 200.
    pub fn list_recordings(&self) -> Vec<tablet_api::RecordingFile> {
        crate::media::find_recordings(&self.config.media_roots, 200)
            .into_iter()
            .map(|f| tablet_api::RecordingFile {
                name: f
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                path: f.path.display().to_string(),
                size: f.size,
                modified: f.modified.and_then(super::timestamp_of),
                audio: f.kind.is_audio(),
            })
            .collect()
    }

    /// The cases on this tablet, last changed first (of `record` only, if given).
    pub fn list_cases(&self, record: Option<&InspectionId>) -> ApiResult<Vec<CaseRow>> {
        Ok(self.store().list_cases(record)?)
    }

    /// Case `id` with its stage, deadlines, conflicts and violations.
    pub fn case_view(&self, id: &CaseId) -> ApiResult<CaseView> {
        view(&self.store(), id)
    }
}
