//! The typed requests of the screens, each handed to the method that serves it.

use super::App;
use app_core::enterprise::Enterprise;
use app_core::ids::InspectionId;
use app_core::user::User;
use tablet_api::{
    Answer, ApiResult, AppStatus, Call, ExportStatus, Home, InspectionRow, NumbersView,
    RecordChange, RecordView, Request, Serve, SyncOutcome, SyncStatus,
};
use tablet_api::{
    ApplyCase, CaseRow, CaseView, GetCase, ImportCaseMedia, ListCases, ListRecordings, OpenCase,
    RecordingFile,
};
use tablet_api::{
    ApplyCommand, CompleteRecord, DeleteDraft, ExportCaseFile, ExportEnterpriseCopy,
    FetchEnterpriseRecords, FetchRecord, GetColleagues, GetDraft, GetEnterpriseRecords,
    GetExportStatus, GetHome, GetNumbers, GetRecord, GetStatus, GetSyncStatus, PreviewDocuments,
    PutDraft, RegisterHazard, ReinspectHazard, SearchEnterprises, SignIn, StartInspection, SyncNow,
};

impl App {
    /// Serves one request from the screens (what the shell's `api` command forwards).
    pub fn handle(&self, request: Request) -> ApiResult<Answer> {
        request.serve(self)
    }

    /// Serves one typed request and answers its own type (tests, and any caller in Rust).
    pub fn call<C: Call>(&self, request: C) -> ApiResult<C::Answer> {
        C::answer(self.handle(request.into())?)
    }
}

impl Serve for App {
    fn status(&self, _: GetStatus) -> ApiResult<AppStatus> {
        Ok(AppStatus {
            user: self.user().ok(),
            server: self.config.server.clone(),
        })
    }

    fn sign_in(&self, r: SignIn) -> ApiResult<User> {
        App::sign_in(self, &r.user, &r.password)
    }

    fn home(&self, _: GetHome) -> ApiResult<Home> {
        App::home(self)
    }

    fn search(&self, r: SearchEnterprises) -> ApiResult<Vec<Enterprise>> {
        Ok(self.store().search_enterprises(&r.query, 50)?)
    }

    fn colleagues(&self, _: GetColleagues) -> ApiResult<Vec<User>> {
        App::colleagues(self)
    }

    fn start(&self, r: StartInspection) -> ApiResult<InspectionId> {
        App::start(self, r)
    }

    fn record(&self, r: GetRecord) -> ApiResult<RecordView> {
        App::record(self, &r.id)
    }

    fn command(&self, r: ApplyCommand) -> ApiResult<RecordChange> {
        App::command_change(self, &r.id, &r.command)
    }

    fn complete(&self, r: CompleteRecord) -> ApiResult<RecordView> {
        App::complete(self, &r.id)?;
        App::record(self, &r.id)
    }

    fn register_hazard(&self, r: RegisterHazard) -> ApiResult<RecordChange> {
        App::register_hazard_change(self, &r.id, &r.hazard).map(|(_, change)| change)
    }

    fn reinspect(&self, r: ReinspectHazard) -> ApiResult<RecordChange> {
        App::reinspect_change(self, &r.id, &r.hazard, &r.reinspection)
    }

    fn draft_get(&self, r: GetDraft) -> ApiResult<Option<String>> {
        Ok(crate::app_drafts::get(&self.store(), &r.key)?)
    }

    fn draft_put(&self, r: PutDraft) -> ApiResult<()> {
        Ok(crate::app_drafts::put(&self.store(), &r.key, &r.value)?)
    }

    fn draft_delete(&self, r: DeleteDraft) -> ApiResult<()> {
        Ok(crate::app_drafts::delete(&self.store(), &r.key)?)
    }

    fn export_casefile(&self, r: ExportCaseFile) -> ApiResult<ExportStatus> {
        App::export_casefile(self, &r.id, r.version.as_deref())
    }

    fn export_status(&self, r: GetExportStatus) -> ApiResult<Option<ExportStatus>> {
        Ok(App::export_status(self, &r.id))
    }

    fn sync_status(&self, _: GetSyncStatus) -> ApiResult<SyncStatus> {
        Ok(App::sync_status(self))
    }

    fn sync_now(&self, _: SyncNow) -> ApiResult<SyncOutcome> {
        App::sync_now(self)
    }

    fn fetch_record(&self, r: FetchRecord) -> ApiResult<RecordView> {
        App::fetch_record(self, &r.id)
    }

    fn fetch_enterprise_records(&self, r: FetchEnterpriseRecords) -> ApiResult<Vec<InspectionId>> {
        App::fetch_enterprise_records(self, &r.enterprise)
    }

    fn enterprise_records(&self, r: GetEnterpriseRecords) -> ApiResult<Vec<InspectionRow>> {
        App::enterprise_records(self, &r.enterprise)
    }

    fn numbers(&self, _: GetNumbers) -> ApiResult<NumbersView> {
        App::numbers(self)
    }

    fn enterprise_copy(&self, r: ExportEnterpriseCopy) -> ApiResult<tablet_api::EnterpriseCopy> {
        App::enterprise_copy(self, &r.id)
    }

    fn preview(&self, r: PreviewDocuments) -> ApiResult<Vec<tablet_api::DocumentPreview>> {
        App::preview(self, &r.id)
    }

    fn open_case(&self, r: OpenCase) -> ApiResult<CaseView> {
        App::open_case(self, &r.record, &r.item, r.facts)
    }

    fn apply_case(&self, r: ApplyCase) -> ApiResult<CaseView> {
        App::apply_case(self, &r.case, r.command)
    }

    fn import_case_media(&self, r: ImportCaseMedia) -> ApiResult<CaseView> {
        App::import_case_media(
            self,
            &r.case,
            std::path::Path::new(&r.path),
            r.camera,
            r.note,
        )
    }

    fn list_recordings(&self, _: ListRecordings) -> ApiResult<Vec<RecordingFile>> {
        Ok(App::list_recordings(self))
    }

    fn list_cases(&self, r: ListCases) -> ApiResult<Vec<CaseRow>> {
        App::list_cases(self, r.record.as_ref())
    }

    fn get_case(&self, r: GetCase) -> ApiResult<CaseView> {
        App::case_view(self, &r.case)
    }
}
