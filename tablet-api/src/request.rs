//! Every operation the screens ask of the tablet: one struct per operation (its typed
//! arguments) that names its answer's type through [`Call`], the [`Request`] enum the shell
//! receives, the [`Answer`] enum it returns, and the [`Serve`] trait the tablet implements.
//!
//! All four are generated from one table by `operations!`, so a request, its answer type,
//! its variant in both enums and the tablet's handler cannot disagree: the UI gets
//! `C::Answer` for a `C`, and the tablet's handler for `C` must return exactly that type.

use crate::case::{CaseRow, CaseView, RecordingFile};
use crate::change::RecordChange;
use crate::error::{ApiError, ApiResult};
use crate::photo::ExportStatus;
use crate::sync::{SyncOutcome, SyncStatus};
use crate::views::{
    AppStatus, DocumentPreview, EnterpriseCopy, Home, InspectionRow, NumbersView, RecordView,
};
use app_core::enterprise::Enterprise;
use app_core::hazard::{NewHazard, NewReinspection};
use app_core::ids::{EnterpriseId, HazardId, InspectionId, ItemCode, PlanId, UserId};
use app_core::inspection::Command;
use app_core::kind::InspectionKind;
use app_core::penalty::{CaseCommand, CaseId};
use app_core::user::User;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A request with a typed answer: what the UI sends, and what it gets back.
pub trait Call: Into<Request> {
    type Answer: Serialize + DeserializeOwned;

    /// This call's answer out of the shell's [`Answer`]; an answer to another call (which the
    /// shell never sends) is an internal error.
    fn answer(answer: Answer) -> ApiResult<Self::Answer>;
}

macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        $handler:ident: $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? } -> $answer:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name { $( $(#[$fdoc])* pub $field: $ty, )* }

            impl From<$name> for Request {
                fn from(r: $name) -> Self {
                    Request::$name(r)
                }
            }

            impl Call for $name {
                type Answer = $answer;

                fn answer(answer: Answer) -> ApiResult<$answer> {
                    match answer {
                        Answer::$name(a) => Ok(a),
                        #[allow(unreachable_patterns)]
                        other => Err(ApiError::internal(&format!(
                            "answer {} to request {}", other.name(), stringify!($name)
                        ))),
                    }
                }
            }
        )*

        /// One operation with its arguments: what the shell's `api` command receives.
        // A request (and an answer) is made once per tap and moved once; boxing the large
        // variants would cost more code than the bytes it saves.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Request {
            $( $(#[$doc])* $name($name), )*
        }

        /// The answer to a [`Request`], in the variant of the same name.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Answer {
            $( $name($answer), )*
        }

        impl Answer {
            /// The operation this answers, for messages.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Answer::$name(_) => stringify!($name), )*
                }
            }
        }

        /// What serves the requests (the tablet's `App`): one method per operation, each
        /// returning that operation's answer type.
        pub trait Serve {
            $( $(#[$doc])* fn $handler(&self, request: $name) -> ApiResult<$answer>; )*
        }

        impl Request {
            /// Hands the request to its method of `server` and wraps the answer.
            pub fn serve(self, server: &impl Serve) -> ApiResult<Answer> {
                match self {
                    $( Request::$name(r) => server.$handler(r).map(Answer::$name), )*
                }
            }
        }
    };
}

operations! {
    /// Who is signed in, and which server the tablet syncs with.
    status: GetStatus {} -> AppStatus;
    /// Signs in online, registers the device and fetches the reference data.
    sign_in: SignIn { user: String, password: String } -> User;
    /// The home screen.
    home: GetHome {} -> Home;
    /// Enterprises whose name, USCC or address matches (at most 50).
    search: SearchEnterprises { query: String } -> Vec<Enterprise>;
    /// Inspectors of the user's unit other than the user (the co-inspector picker).
    colleagues: GetColleagues {} -> Vec<User>;
    /// Creates a draft record with the user and the co-inspector on it.
    start: StartInspection {
        kind: InspectionKind,
        enterprise: EnterpriseId,
        plan: Option<PlanId>,
        co_inspector: Option<UserId>,
    } -> InspectionId;
    /// A record with what its screens need.
    record: GetRecord { id: InspectionId } -> RecordView;
    /// Applies one command under the record's rules; answers what it changed.
    command: ApplyCommand { id: InspectionId, command: Command } -> RecordChange;
    /// Completes and signs the record (issuing its document numbers); answers the record.
    complete: CompleteRecord { id: InspectionId } -> RecordView;
    /// Registers a hazard on a failed item, lists a major one for supervision and orders its
    /// rectification, all or nothing; the tablet mints the hazard's id (a UUID). Answers
    /// what it changed.
    register_hazard: RegisterHazard { id: InspectionId, hazard: NewHazard } -> RecordChange;
    /// Records a re-inspection of a hazard (closing it when it passed), all or nothing; the
    /// tablet mints the re-inspection's id (a UUID). Answers what it changed.
    reinspect: ReinspectHazard {
        id: InspectionId,
        hazard: HazardId,
        reinspection: NewReinspection,
    } -> RecordChange;
    /// The draft of a form not yet committed (or a screen setting), if one is saved.
    draft_get: GetDraft { key: String } -> Option<String>;
    /// Saves a draft; durable when answered.
    draft_put: PutDraft { key: String, value: String } -> ();
    /// Drops a draft (its form was committed).
    draft_delete: DeleteDraft { key: String } -> ();
    /// Starts exporting a signed version (`None`: the latest) as a case file (电子案卷).
    export_casefile: ExportCaseFile { id: InspectionId, version: Option<String> } -> ExportStatus;
    /// The record's latest export in this session, if any.
    export_status: GetExportStatus { id: InspectionId } -> Option<ExportStatus>;
    /// The sync indicator.
    sync_status: GetSyncStatus {} -> SyncStatus;
    /// Syncs photos, records, reference data and document numbers now.
    sync_now: SyncNow {} -> SyncOutcome;
    /// Fetches from the server a record this tablet does not hold (another inspector's record
    /// of the unit: an inspector's tablet is sent only the records it has a part in) and keeps
    /// it, so it syncs like the tablet's own from then on; answers the record's view. Refused
    /// with `refused` for a record the user may not read (another unit's) or that does not
    /// exist.
    fetch_record: FetchRecord { id: InspectionId } -> RecordView;
    /// Fetches the enterprise's records the user may read (the newest 50) and keeps them like
    /// [`FetchRecord`]; answers their ids.
    fetch_enterprise_records: FetchEnterpriseRecords { enterprise: EnterpriseId } -> Vec<InspectionId>;
    /// The records of an enterprise this tablet holds, last changed first (at most 50): its
    /// past inspections as the start screen shows them, offline. A tablet holds only the
    /// records its user has a part in and those fetched; [`FetchEnterpriseRecords`] brings
    /// the rest the user may read.
    enterprise_records: GetEnterpriseRecords { enterprise: EnterpriseId } -> Vec<InspectionRow>;
    /// The stock of document numbers (文号) and the last top-up.
    numbers: GetNumbers {} -> NumbersView;
    /// The documents the next signing signs, as they will read (before any signature).
    preview: PreviewDocuments { id: InspectionId } -> Vec<DocumentPreview>;
    /// The enterprise's copy of the latest signed version: PDFs in the export folder and a QR
    /// code.
    enterprise_copy: ExportEnterpriseCopy { id: InspectionId } -> EnterpriseCopy;
    /// Opens a penalty case (立案) from a failed item of a record: the enterprise, the item's
    /// 违法依据 and 处罚依据 and the record's inspectors as the record has them
    /// (`app_core::penalty::OpenCase::from_finding`), `facts` if given (else the item and its
    /// note); the tablet mints the case's id. Answers the case, awaiting its filing approval.
    open_case: OpenCase { record: InspectionId, item: ItemCode, facts: Option<String> } -> CaseView;
    /// Applies one command to a case under its rules as the signed-in user; a command that
    /// carries a document number gets it from the tablet's pool (what the screen put there,
    /// `tablet_api::unnumbered()`, is replaced). Answers the case.
    apply_case: ApplyCase { case: CaseId, command: CaseCommand } -> CaseView;
    /// Adds an audio or video recording to a case (视听资料): the file at `path` (the tablet's
    /// own recording, or a body camera's card, 执法记录仪) is copied byte for byte into the
    /// tablet's evidence store in one streaming pass through its SHA-256 (never loaded whole,
    /// never changed), then named in the case (`CaseCommand::AddMedia`) as the signed-in
    /// user; `camera`: the body camera's serial number when it came from one. The original is
    /// uploaded with the photos at the next sync. Answers the case.
    import_case_media: ImportCaseMedia { case: CaseId, path: String, camera: Option<String>, note: String } -> CaseView;
    /// The recordings the tablet can add to a case: on a connected body camera's card or in
    /// its recordings folder, newest first (recognised by their bytes, not their names).
    list_recordings: ListRecordings {} -> Vec<RecordingFile>;
    /// The cases on this tablet, last changed first (of one record only, if given).
    list_cases: ListCases { record: Option<InspectionId> } -> Vec<CaseRow>;
    /// A case with its stage, deadlines, conflicts and violations.
    get_case: GetCase { case: CaseId } -> CaseView;
}
