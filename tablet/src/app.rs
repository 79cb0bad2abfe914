//! What the tablet app's screens call: one service over the store, the blob store and the
//! sync client. The Tauri shell (`src-tauri/`) is a thin adapter that forwards
//! `invoke("api", { method, args })` to [`App::call`] and raw photo/signature bytes to
//! [`App::ingest_photo`] / [`App::ingest_signature`]; everything here is testable without a
//! window.
//!
//! Nothing the inspector typed is lost: every tap is a store command (durable before the
//! answer returns), notes are saved as they are typed, and forms not yet committed as a
//! command are kept in the `app_drafts` table ([`App::draft_put`]).

use crate::blobs::BlobStore;
use crate::casefile::{CaseFileError, ExportRequest, ExportSource};
use crate::numbers::{Keeper, KeeperSetup, NumberClient, NumbersError, Stock, TopUpOutcome};
use crate::photo::{IngestLimits, prepare};
use crate::store::{HazardRow, InspectionRow, ListFilter, PhotoTarget, Store, StoreError};
use crate::sync::{BackgroundSync, Session, SyncClient, SyncError, SyncState, SyncStatus};
use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::{DocumentKind, NumberError, Series};
use app_core::document::DocError;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::geo::{Day, Timestamp};
use app_core::hazard::HazardError;
use app_core::ids::{EnterpriseId, HazardId, InspectionId, ItemCode, PlanId, UserId};
use app_core::inspection::{
    Command, Context, Inspection, InspectionStatus, InspectorRef, RecordError, Unmet,
};
use app_core::kind::InspectionKind;
use app_core::plan::Plan;
use app_core::unit::Unit;
use app_core::user::User;
use casefile::ExportError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An error for the screen: Simplified Chinese first, English beside it, and the field it
/// belongs to (so the UI shows it next to what caused it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{en}")]
pub struct AppError {
    pub zh: String,
    pub en: String,
    pub field: Option<String>,
}

impl AppError {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
}

fn unmet_zh(u: &Unmet) -> String {
    match u {
        Unmet::FewerThanTwoInspectors(n) => {
            format!("至少需要两名持证执法人员（《行政处罚法》第四十二条），现有 {n} 名")
        }
        Unmet::NoArrivalProof => "四不两直检查须先记录到达凭证：时间、位置和入口照片".into(),
        Unmet::NoNoticeNotAttested => "执法人员尚未声明“未提前通知”".into(),
        Unmet::NoEscortNotAttested => "执法人员尚未声明“未接受陪同和接待”".into(),
        Unmet::UnansweredItems(items) => {
            let shown: Vec<&str> = items.iter().take(5).map(ItemCode::as_str).collect();
            format!(
                "还有 {} 个检查项未作答：{}{}",
                items.len(),
                shown.join("、"),
                if items.len() > 5 { "…" } else { "" }
            )
        }
        Unmet::NoOnsitePerson => "尚未记录企业现场负责人".into(),
        Unmet::MissingSignature(who) => format!("缺少签名：{}", who_zh(who)),
        Unmet::RefusalWithoutWitness => "拒绝签字须记录见证人".into(),
        Unmet::NoSignedVersion => "须先签署记录".into(),
        Unmet::NoReturnComment => "退回须填写意见".into(),
        Unmet::ActorNotOnRecord(u) => format!("{u} 不是本记录的执法人员"),
    }
}

fn who_zh(who: &str) -> String {
    if let Some(name) = who.strip_prefix("inspector ") {
        format!("执法人员 {name}")
    } else {
        "企业现场负责人（或记录拒签）".into()
    }
}

fn status_zh(s: InspectionStatus) -> &'static str {
    s.label_zh()
}

fn record_zh(e: &RecordError) -> (String, Option<&'static str>) {
    match e {
        RecordError::Unmet { to, unmet, .. } => (
            format!(
                "无法进入“{}”：{}",
                status_zh(*to),
                unmet.iter().map(unmet_zh).collect::<Vec<_>>().join("；")
            ),
            None,
        ),
        RecordError::Frozen(s) => (
            format!("记录处于“{}”状态，内容不能修改", status_zh(*s)),
            None,
        ),
        RecordError::NotAnInspector => ("只有执法人员可以修改记录内容".into(), None),
        RecordError::RefusalWithoutWitness => ("拒绝签字须记录见证人".into(), Some("witness")),
        RecordError::InspectorCannotRefuse => ("执法人员不能拒签".into(), None),
        RecordError::SignerNotOnRecord(u) => (format!("{u} 不是本记录的执法人员"), None),
        RecordError::NotInStatus(s) => (
            format!("记录处于“{}”状态，不能这样操作", status_zh(*s)),
            None,
        ),
        RecordError::Hazard(h) => hazard_zh(h),
        RecordError::DuplicateHazard(_) => ("该隐患已登记".into(), None),
        RecordError::UnknownHazard(_) => ("记录中没有该隐患".into(), None),
        RecordError::UnknownItem { item, .. } => (format!("检查表中没有检查项 {item}"), None),
        other => (format!("操作不被允许：{other}"), None),
    }
}

fn hazard_zh(e: &HazardError) -> (String, Option<&'static str>) {
    match e {
        HazardError::MajorNeedsSupervision(_) => (
            "重大事故隐患须先挂牌督办，才能责令整改".into(),
            Some("supervision"),
        ),
        HazardError::DeadlineBeforeRegistration { .. } => {
            ("整改期限不能早于隐患登记日期".into(), Some("deadline"))
        }
        HazardError::FailedWithoutNewDeadline(_) => {
            ("复查不通过须规定新的整改期限".into(), Some("deadline"))
        }
        HazardError::NoMeasures(_) => ("请填写整改措施".into(), Some("measures")),
        HazardError::NoDescription(_) => ("请填写隐患描述".into(), Some("description")),
        HazardError::NoBasis(_) => ("隐患须至少有一条法律依据".into(), Some("basis")),
        HazardError::DuplicateReinspection(..) => ("该复查已记录".into(), None),
        HazardError::WrongStage { stage, .. } => (
            format!("隐患处于“{}”阶段，不能这样操作", stage.label_zh()),
            None,
        ),
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let en = e.to_string();
        match &e {
            StoreError::Doc(DocError::Record(r)) => {
                let (zh, field) = record_zh(r);
                let mut err = AppError::new(zh, en);
                err.field = field.map(str::to_owned);
                err
            }
            StoreError::NotFound(_) => AppError::new("本机没有这条记录", en),
            StoreError::Number(_) => {
                AppError::new(format!("本机文书编号（文号）出错：{en}"), en).at("numbers")
            }
            _ => AppError::new(format!("本机存储出错：{en}"), en),
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        let en = e.to_string();
        match &e {
            SyncError::Network(_) => AppError::new("无法连接服务器，请检查网络", en),
            SyncError::Server { status: 401, .. } => {
                AppError::new("用户名或密码不正确", en).at("password")
            }
            SyncError::Server { message, .. } => {
                AppError::new(format!("服务器拒绝：{message}"), en)
            }
            SyncError::NotSignedIn => AppError::new("尚未登录", en),
            _ => AppError::new(format!("同步出错：{en}"), en),
        }
    }
}

impl From<NumbersError> for AppError {
    fn from(e: NumbersError) -> Self {
        AppError::new(crate::numbers::error_zh(&e), e.to_string()).at("numbers")
    }
}

/// `现场检查记录（检记〔2026〕）`: a series as the inspector reads it.
fn series_zh(s: &Series) -> String {
    format!("{}（{}〔{}〕）", s.kind.title_zh(), s.kind.code(), s.year)
}

/// A signing found no number left in some series and could not reserve more: nothing was
/// issued, signed or changed; the inspector syncs and signs again.
fn no_numbers(missing: &[Series], top_up: Result<(), &NumbersError>) -> AppError {
    let zh_list: Vec<String> = missing.iter().map(series_zh).collect();
    let en_list: Vec<String> = missing
        .iter()
        .map(|s| format!("{} ({} {})", s.kind.title_zh(), s.kind.code(), s.year))
        .collect();
    let (why_zh, why_en) = match top_up {
        Err(NumbersError::Network(_)) => (
            "本机离线，无法向服务器申请编号".to_owned(),
            "this tablet is offline".to_owned(),
        ),
        Err(e) => (crate::numbers::error_zh(e), e.to_string()),
        Ok(()) => (
            "服务器未分配该类编号".to_owned(),
            "the server reserved none of them".to_owned(),
        ),
    };
    AppError::new(
        format!(
            "本机没有可用的文书编号（文号）：{}。{why_zh}。请连接网络后同步（“同步”页面点“立即同步”），再完成签署；已填写和签名的内容都已保存，未作任何改动。",
            zh_list.join("、")
        ),
        format!(
            "No document numbers (文号) left on this tablet for {} ({why_en}). Connect and sync to reserve numbers, then sign again; everything entered and signed is kept, nothing was changed.",
            en_list.join(", ")
        ),
    )
    .at("numbers")
}

/// Why a signing did not happen: refused, or no number left in these series.
enum SignStop {
    Refused(AppError),
    NoNumbers(Vec<Series>),
}

impl<E: Into<AppError>> From<E> for SignStop {
    fn from(e: E) -> Self {
        SignStop::Refused(e.into())
    }
}

fn bad_args(e: impl std::fmt::Display) -> AppError {
    AppError::new(format!("请求参数有误：{e}"), format!("bad arguments: {e}"))
}

pub type AppResult<T> = Result<T, AppError>;

/// Where the app keeps its data and which server it talks to.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub db: PathBuf,
    pub blobs: PathBuf,
    /// Where exported case files (电子案卷) are written.
    pub exports: PathBuf,
    pub server: String,
    /// How often the background sync runs, and its longest back-off while offline.
    pub sync_interval: Duration,
    pub sync_max_backoff: Duration,
}

impl AppConfig {
    /// From the environment (`INSPECTION_DATA`, `INSPECTION_SERVER`,
    /// `INSPECTION_SYNC_INTERVAL_MS`, `INSPECTION_SYNC_MAX_BACKOFF_MS`), with `default_data`
    /// (the platform's app data folder) when no data folder is given.
    pub fn from_env(default_data: PathBuf) -> Self {
        let data = std::env::var_os("INSPECTION_DATA")
            .map(PathBuf::from)
            .unwrap_or(default_data);
        let ms = |name: &str, default: u64| {
            Duration::from_millis(
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        };
        Self::in_folder(
            &data,
            std::env::var("INSPECTION_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
            ms("INSPECTION_SYNC_INTERVAL_MS", 30_000),
            ms("INSPECTION_SYNC_MAX_BACKOFF_MS", 300_000),
        )
    }

    /// The app's files in `data` (the database, the photo blobs, the exported case files),
    /// syncing with `server`.
    pub fn in_folder(
        data: &std::path::Path,
        server: String,
        sync_interval: Duration,
        sync_max_backoff: Duration,
    ) -> Self {
        Self {
            db: data.join("tablet.db"),
            blobs: data.join("blobs"),
            exports: data.join("exports"),
            server,
            sync_interval,
            sync_max_backoff,
        }
    }
}

/// Now, as the record's clock.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    Timestamp(ms)
}

const SESSION_KEY: &str = "app_session";

#[derive(Debug)]
pub struct App {
    config: AppConfig,
    store: Arc<Mutex<Store>>,
    blobs: BlobStore,
    session: Mutex<Option<Session>>,
    background: Mutex<Option<BackgroundSync>>,
    /// Tops the pool of document numbers up after background syncs (see `numbers.rs`).
    keeper: Mutex<Option<Keeper>>,
    numbers: Arc<crate::numbers::Shared>,
    /// The result of the last sync started from the sync screen.
    manual: Mutex<Option<Value>>,
    /// Case-file exports of this session, the latest per record (running ones updated by
    /// their thread).
    exports: Arc<Mutex<BTreeMap<InspectionId, ExportStatus>>>,
    /// Tests: the next export waits at its first progress report until this receives.
    #[cfg(test)]
    export_gate: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

/// A plan on the home screen, with the enterprise's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanView {
    pub plan: Plan,
    pub enterprise: Option<Enterprise>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReturnedView {
    pub id: InspectionId,
    pub enterprise_name: String,
    pub comment: String,
    pub by: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HazardDue {
    pub row: HazardRow,
    pub enterprise_name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Home {
    pub user: User,
    pub plans: Vec<PlanView>,
    pub records: Vec<InspectionRow>,
    pub returned: Vec<ReturnedView>,
    pub hazards: Vec<HazardDue>,
    pub sync: SyncStatus,
}

/// A record with what its screens need: the template's applicable categories, the signed
/// versions with their amendments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordView {
    pub record: Inspection,
    pub template: ChecklistTemplate,
    pub signed: Vec<SignedView>,
    /// Thumbnails (data URLs) of every photo the record links, by original SHA-256.
    pub thumbs: std::collections::BTreeMap<String, String>,
    /// The documents whose numbers (文号) the next signing issues, and how many numbers of
    /// each series the inspector needs this tablet holds.
    pub to_number: Vec<DocumentKind>,
    pub numbers: Vec<Stock>,
}

/// The tablet's document numbers (文号): the stock per series and the last top-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NumbersView {
    pub stock: Vec<Stock>,
    pub last_top_up: Option<TopUpOutcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedView {
    pub id: String,
    pub at: Timestamp,
    pub content_hash: String,
    pub verified: bool,
    /// Paths changed since signing (amendments).
    pub amendments: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StartArgs {
    kind: InspectionKind,
    enterprise: EnterpriseId,
    plan: Option<PlanId>,
    co_inspector: Option<UserId>,
}

#[derive(Debug, Deserialize)]
struct CommandArgs {
    id: InspectionId,
    command: Command,
}

#[derive(Debug, Deserialize)]
struct IdArgs {
    id: InspectionId,
}

/// Where an incoming photo goes.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PhotoArgs {
    pub id: InspectionId,
    /// `item`, `hazard`, or `loose` (entrance photo, re-inspection photo: the command that
    /// links it comes later).
    pub target: String,
    #[serde(default)]
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhotoAnswer {
    pub sha256: Sha256Hex,
    pub thumb: String,
    /// Where the photo says it was taken (EXIF GPS), if it says.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Set (in Chinese) when the photo is kept as evidence but cannot be displayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Where a case-file export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Running,
    Done,
    Failed,
}

/// A case-file export, as the record screen shows it (`export_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportStatus {
    pub id: InspectionId,
    /// The signed version exported.
    pub signed_version: String,
    pub state: ExportState,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Bytes of content written so far, of all (a progress bar's numbers).
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Files begun so far, and the one being written.
    pub files_done: u32,
    pub current: String,
    /// The case file's full path (it exists only once `state` is `done`) and its name.
    pub path: String,
    pub file_name: String,
    /// Fingerprint of this device's signing key, which signs the manifest.
    pub fingerprint: String,
    /// When done: the file's size, SHA-256, how many files and original photos it holds.
    pub size: Option<u64>,
    pub sha256: Option<Sha256Hex>,
    pub files: Option<usize>,
    pub photos: Option<usize>,
    /// When failed: why, in Chinese and English. No file is left behind.
    pub error: Option<AppError>,
}

#[derive(Debug, Deserialize)]
struct ExportArgs {
    id: InspectionId,
    #[serde(default)]
    version: Option<String>,
}

/// A file-name part that every file system accepts: no separators, reserved characters,
/// control characters or white space.
fn file_name_part(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() || r#"/\:*?"<>|"#.contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// `电子案卷_<现场检查记录's number, or the record id>_<version>_<YYYYMMDD-HHMMSS in
/// Asia/Shanghai>.zip`.
pub fn export_file_name(record: &Inspection, version: &str, at: Timestamp) -> String {
    let number = record
        .documents
        .values()
        .filter(|d| d.kind == DocumentKind::InspectionRecord)
        .min_by_key(|d| (d.at, d.seq))
        .map(|d| d.number.clone());
    let t = at.to_shanghai();
    format!(
        "电子案卷_{}_{}_{:04}{:02}{:02}-{:02}{:02}{:02}.zip",
        file_name_part(&number.unwrap_or_else(|| record.id.to_string())),
        file_name_part(version),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A failed export in Chinese (what happened and that no file was made) and English.
fn export_error(e: &CaseFileError) -> AppError {
    const NO_FILE: &str = "导出已中止，未生成电子案卷。";
    let en = e.to_string();
    let zh = match e {
        CaseFileError::Store(s) => format!("本机存储出错：{s}。{NO_FILE}"),
        CaseFileError::NoTemplate(t) => {
            format!("本机缺少该记录的检查表（{t}），无法生成执法文书。{NO_FILE}")
        }
        CaseFileError::Io { source, .. } => {
            format!("电子案卷无法写入：{source}（存储空间是否已满？）。{NO_FILE}")
        }
        CaseFileError::Export(e) => match &**e {
            ExportError::NotSigned => {
                "该记录尚无签署版本，不能导出电子案卷。请先完成检查并签署记录。".to_owned()
            }
            ExportError::Signed(_) | ExportError::Document(_) => {
                format!("签署版本无法还原，记录可能已损坏。{NO_FILE}")
            }
            ExportError::PhotoUnreadable { sha, .. } => {
                format!("原始照片 {sha} 在本机缺失或无法读取。{NO_FILE}")
            }
            ExportError::PhotoCorrupt { expected, found } => format!(
                "原始照片 {expected} 已损坏：本机存储的内容的 SHA-256 为 {found}，与原件不符。{NO_FILE}"
            ),
            ExportError::PhotoSizeChanged { sha, .. } => {
                format!("原始照片 {sha} 在导出过程中大小发生变化。{NO_FILE}")
            }
            ExportError::Render(why) => match why.downcast_ref::<pdf_forms::FormError>() {
                Some(pdf_forms::FormError::MissingNumber(kind)) => format!(
                    "记录中没有“{}”的文书编号（文号），无法生成该执法文书。{NO_FILE}",
                    kind.title_zh()
                ),
                _ => format!("执法文书（PDF）无法生成：{why}。{NO_FILE}"),
            },
            ExportError::Archive(_) | ExportError::Write(_) => {
                format!("电子案卷无法写入：{e}。{NO_FILE}")
            }
            _ => format!("电子案卷导出失败。{NO_FILE}"),
        },
    };
    AppError::new(zh, en).at("export")
}

/// `dir/name`, or `dir/<stem>-2.zip`, `-3`, … if that name (or its temporary file) is taken.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let taken = |p: &Path| {
        let mut partial = p.as_os_str().to_owned();
        partial.push(".partial");
        p.exists() || Path::new(&partial).exists()
    };
    let first = dir.join(name);
    if !taken(&first) {
        return first;
    }
    let stem = name.strip_suffix(".zip").unwrap_or(name);
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}.zip")))
        .find(|p| !taken(p))
        .expect("some suffix is free")
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl App {
    /// Opens the store and blob folder; resumes the saved session (and its background sync)
    /// if the inspector signed in before, so the app works offline from the first screen.
    pub fn open(config: AppConfig) -> AppResult<Self> {
        if let Some(parent) = config.db.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                AppError::new(
                    format!("无法创建数据目录：{e}"),
                    format!("cannot create data folder: {e}"),
                )
            })?;
        }
        let store = Store::open(&config.db)?;
        crate::app_drafts::init(&store)?;
        let blobs = BlobStore::open(&config.blobs).map_err(|e| {
            AppError::new(
                format!("无法打开照片目录：{e}"),
                format!("cannot open photo folder: {e}"),
            )
        })?;
        let session: Option<Session> = store
            .meta(SESSION_KEY)?
            .and_then(|s| serde_json::from_str(&s).ok());
        let app = Self {
            config,
            store: Arc::new(Mutex::new(store)),
            blobs,
            session: Mutex::new(None),
            background: Mutex::new(None),
            keeper: Mutex::new(None),
            numbers: Arc::default(),
            manual: Mutex::new(None),
            exports: Arc::default(),
            #[cfg(test)]
            export_gate: Mutex::new(None),
        };
        app.remove_partial_exports();
        if let Some(session) = session {
            app.start_session(session);
        }
        Ok(app)
    }

    fn start_session(&self, session: Session) {
        let client = SyncClient::new(self.config.server.clone()).with_session(session.clone());
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.clone());
        // The background uploader reads originals through its own handle on the same folder
        // (opened when no photo is being written: at app start, or at sign-in).
        let blobs = BlobStore::open(&self.config.blobs).ok();
        let background = BackgroundSync::start(
            client,
            self.store.clone(),
            blobs,
            self.config.sync_interval,
            self.config.sync_max_backoff,
            now,
        );
        let keeper = Keeper::start(
            KeeperSetup {
                store: self.store.clone(),
                client: NumberClient::new(&self.config.server, session.token.clone()),
                user: session.user.clone(),
                sync_status: background.status.clone(),
                shared: self.numbers.clone(),
                interval: self.config.sync_interval,
                max_backoff: self.config.sync_max_backoff,
            },
            now,
        );
        *self.background.lock().unwrap_or_else(|p| p.into_inner()) = Some(background);
        *self.keeper.lock().unwrap_or_else(|p| p.into_inner()) = Some(keeper);
    }

    /// Reserves document numbers for the series that run low (see `numbers::top_up`); the
    /// store's lock is not held while the server is asked.
    fn top_up_numbers(&self, session: &Session) -> Result<crate::numbers::TopUp, NumbersError> {
        self.numbers.top_up(
            &self.store,
            &NumberClient::new(&self.config.server, session.token.clone()),
            &session.user,
            now(),
        )
    }

    fn session(&self) -> AppResult<Session> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| AppError::new("请先登录", "not signed in"))
    }

    /// The stock of document numbers and the last top-up.
    pub fn numbers(&self) -> AppResult<NumbersView> {
        let user = self.user()?;
        Ok(NumbersView {
            stock: crate::numbers::stock(&self.store(), &user.unit, now())?,
            last_top_up: self.numbers.last(),
        })
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn user(&self) -> AppResult<User> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.user.clone())
            .ok_or_else(|| AppError::new("请先登录", "not signed in"))
    }

    /// Dispatches one call from the UI. `args` is the call's JSON object.
    pub fn call(&self, method: &str, args: Value) -> AppResult<Value> {
        fn parse<T: serde::de::DeserializeOwned>(v: Value) -> AppResult<T> {
            serde_json::from_value(v).map_err(bad_args)
        }
        fn out<T: Serialize>(v: T) -> AppResult<Value> {
            serde_json::to_value(v).map_err(bad_args)
        }
        let str_arg = |name: &str| args[name].as_str().unwrap_or_default().to_owned();
        match method {
            "status" => out(json!({
                "user": self.session.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|s| s.user.clone()),
                "server": self.config.server,
            })),
            "sign_in" => out(self.sign_in(&str_arg("user"), &str_arg("password"))?),
            "home" => out(self.home()?),
            "search" => out(self.store().search_enterprises(&str_arg("query"), 50)?),
            "colleagues" => out(self.colleagues()?),
            "start" => out(self.start(parse(args)?)?),
            "record" => out(self.record(&parse::<IdArgs>(args)?.id)?),
            "command" => {
                let a: CommandArgs = parse(args)?;
                self.command(&a.id, &a.command)?;
                out(self.record(&a.id)?)
            }
            "complete" => {
                let id = parse::<IdArgs>(args)?.id;
                self.complete(&id)?;
                out(self.record(&id)?)
            }
            "thumb" => out(self.thumb(&str_arg("sha256"))?),
            "draft_get" => out(crate::app_drafts::get(&self.store(), &str_arg("key"))?),
            "draft_put" => {
                crate::app_drafts::put(&self.store(), &str_arg("key"), &str_arg("value"))?;
                out(true)
            }
            "draft_delete" => {
                crate::app_drafts::delete(&self.store(), &str_arg("key"))?;
                out(true)
            }
            "export_casefile" => {
                let a: ExportArgs = parse(args)?;
                out(self.export_casefile(&a.id, a.version.as_deref())?)
            }
            "export_status" => out(self.export_status(&parse::<IdArgs>(args)?.id)),
            "sync_status" => out(self.sync_status()),
            "sync_now" => out(self.sync_now()?),
            "numbers" => out(self.numbers()?),
            other => Err(AppError::new(
                format!("未知操作：{other}"),
                format!("unknown method {other}"),
            )),
        }
    }

    /// Signs in online, registers the device, fetches the reference data and keeps the
    /// session, so that from now on the app works without a network.
    pub fn sign_in(&self, user: &str, password: &str) -> AppResult<User> {
        if user.trim().is_empty() {
            return Err(AppError::new("请输入用户名", "user name is empty").at("user"));
        }
        if password.is_empty() {
            return Err(AppError::new("请输入密码", "password is empty").at("password"));
        }
        let mut client = SyncClient::new(self.config.server.clone());
        let session = {
            let store = self.store();
            client.sign_in(user.trim(), password, &store)?.clone()
        };
        client.fetch_reference(&self.store)?;
        self.store().set_meta(
            SESSION_KEY,
            &serde_json::to_string(&session).map_err(bad_args)?,
        )?;
        // Replace any earlier background sync.
        self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // Document numbers for the work ahead, which may be offline. Sign-in stands even if
        // this fails: the background keeps trying, and the sync screen shows why.
        let _ = self.top_up_numbers(&session);
        let user = session.user.clone();
        self.start_session(session);
        Ok(user)
    }

    pub fn home(&self) -> AppResult<Home> {
        let user = self.user()?;
        let mut store = self.store();
        let enterprises = store.reference::<Enterprise>()?;
        let plans = store
            .reference::<Plan>()?
            .into_iter()
            .filter(|p| p.assigned.contains(&user.id))
            .map(|plan| PlanView {
                enterprise: enterprises
                    .iter()
                    .find(|e| e.id == plan.enterprise)
                    .cloned(),
                plan,
            })
            .collect();
        let mine = store.inspections_of(&user.id)?;
        let records: Vec<InspectionRow> = store
            .list(&ListFilter {
                limit: 500,
                ..ListFilter::default()
            })?
            .into_iter()
            .filter(|r| mine.contains(&r.id))
            .collect();
        let mut returned = Vec::new();
        for r in records
            .iter()
            .filter(|r| r.status == InspectionStatus::Returned)
        {
            let record = store.inspection(&r.id)?;
            if let Some(review) = record.review {
                returned.push(ReturnedView {
                    id: r.id.clone(),
                    enterprise_name: r.enterprise_name.clone(),
                    comment: review.comment,
                    by: review.by,
                });
            }
        }
        // Open hazards due within the coming month (and overdue ones).
        let today = now().shanghai_date();
        let mut hazards = Vec::new();
        for row in store.hazards_due(today.plus_days(31))? {
            if !mine.contains(&row.inspection_id) {
                continue;
            }
            let record = store.inspection(&row.inspection_id)?;
            let description = record
                .hazards
                .get(&HazardId::new(row.hazard_id.clone()))
                .map(|h| h.description.clone())
                .unwrap_or_default();
            hazards.push(HazardDue {
                enterprise_name: record.enterprise.name.clone(),
                description,
                row,
            });
        }
        drop(store);
        Ok(Home {
            user,
            plans,
            records,
            returned,
            hazards,
            sync: self.sync_status(),
        })
    }

    /// Inspectors of the user's unit other than the user (the co-inspector picker).
    pub fn colleagues(&self) -> AppResult<Vec<User>> {
        let user = self.user()?;
        Ok(self
            .store()
            .reference::<User>()?
            .into_iter()
            .filter(|u| u.is_inspector() && u.unit == user.unit && u.id != user.id)
            .collect())
    }

    fn template_for(&self, store: &Store, e: &Enterprise) -> AppResult<ChecklistTemplate> {
        let mut templates: Vec<ChecklistTemplate> = store
            .reference::<ChecklistTemplate>()?
            .into_iter()
            .filter(|t| t.applies_to(e.industry))
            .collect();
        templates.sort_by_key(|t| std::cmp::Reverse(t.version));
        templates.into_iter().next().ok_or_else(|| {
            AppError::new(
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
    fn start(&self, a: StartArgs) -> AppResult<InspectionId> {
        let user = self.user()?;
        let Some(co) = a.co_inspector else {
            return Err(AppError::new(
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
            .ok_or_else(|| AppError::new("请选择企业", "choose an enterprise").at("enterprise"))?;
        let colleague = store
            .reference::<User>()?
            .into_iter()
            .find(|u| u.id == co)
            .ok_or_else(|| {
                AppError::new("同行人员不存在", "unknown co-inspector").at("co_inspector")
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
                AppError::new(format!("{} 没有执法证", u.name), "no certificate").at("co_inspector")
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
        f: impl FnOnce(&mut Store, &ChecklistTemplate, &User) -> AppResult<T>,
    ) -> AppResult<T> {
        let user = self.user()?;
        let mut store = self.store();
        let record = store.inspection(id)?;
        let template = store.template(&record.template)?.ok_or_else(|| {
            AppError::new("本机缺少该记录的检查表", "template missing on this tablet")
        })?;
        f(&mut store, &template, &user)
    }

    /// Applies one command under the record's rules.
    pub fn command(&self, id: &InspectionId, command: &Command) -> AppResult<()> {
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

    /// Completes the visit (every requirement checked by the rules) and records the signed
    /// version: from now on, what was signed is frozen and later edits are amendments.
    ///
    /// Just before signing, the numbers (文号) of the documents this signed version yields are
    /// issued from this tablet's pool into the record (`numbers::documents_to_number`: the
    /// 现场检查记录's at the first signing, the 责令限期整改指令书's once a hazard is ordered
    /// to be rectified, the 整改复查意见书's once a hazard is re-inspected), so the signed
    /// version carries them. Nothing is spent before the rules allow the signing. Each number
    /// is one transaction with the record's change (`Store::issue_document`); if the app stops
    /// after issuing and before signing, the next signing uses the numbers already issued.
    /// With a series empty, the tablet asks the server for more once (fails fast offline);
    /// still empty, the answer is an error in Chinese and English asking to sync, and nothing
    /// has changed.
    pub fn complete(&self, id: &InspectionId) -> AppResult<()> {
        let missing = match self.sign_with_numbers(id) {
            Ok(()) => return Ok(()),
            Err(SignStop::Refused(e)) => return Err(e),
            Err(SignStop::NoNumbers(missing)) => missing,
        };
        let session = self.session()?;
        let topped = self.top_up_numbers(&session).map(|_| ());
        match self.sign_with_numbers(id) {
            Ok(()) => Ok(()),
            Err(SignStop::Refused(e)) => Err(e),
            Err(SignStop::NoNumbers(_)) => Err(no_numbers(&missing, topped.as_ref().map(|_| ()))),
        }
    }

    /// One attempt at [`complete`](Self::complete), under one hold of the store's lock.
    fn sign_with_numbers(&self, id: &InspectionId) -> Result<(), SignStop> {
        let user = self.user()?;
        let mut store = self.store();
        let record = store.inspection(id)?;
        let template = store.template(&record.template)?.ok_or_else(|| {
            AppError::new("本机缺少该记录的检查表", "template missing on this tablet")
        })?;
        let cx = Context {
            actor: &user,
            now: now(),
            template: &template,
        };
        let refused = |e: RecordError| SignStop::from(StoreError::Doc(DocError::Record(e)));
        // Whether the rules allow this signing at all, before any number is spent.
        if !matches!(
            record.status,
            InspectionStatus::OnSite | InspectionStatus::Completed | InspectionStatus::Returned
        ) {
            return Err(refused(RecordError::NotInStatus(record.status)));
        }
        if record.status == InspectionStatus::OnSite {
            let unmet = record.unmet_for(InspectionStatus::Completed, &user, &template, "");
            if !unmet.is_empty() {
                return Err(refused(RecordError::Unmet {
                    from: InspectionStatus::OnSite,
                    to: InspectionStatus::Completed,
                    unmet,
                }));
            }
        }
        let kinds = crate::numbers::documents_to_number(store.document(id)?);
        if !kinds.is_empty() {
            let unit = store
                .reference::<Unit>()?
                .into_iter()
                .find(|u| u.id == user.unit)
                .ok_or_else(|| {
                    AppError::new(
                        "本机缺少本单位的信息（单位简称），无法编文号，请先同步",
                        format!("unit {} is not on this tablet; sync first", user.unit),
                    )
                    .at("numbers")
                })?;
            let year = cx.now.shanghai_date().year();
            let pool = store.number_pool()?;
            let missing: Vec<Series> = kinds
                .iter()
                .map(|&kind| Series {
                    unit: user.unit.clone(),
                    kind,
                    year,
                })
                .filter(|s| pool.remaining(s) == 0)
                .collect();
            if !missing.is_empty() {
                return Err(SignStop::NoNumbers(missing));
            }
            for kind in kinds {
                match store.issue_document(id, kind, &unit.id, &unit.short_name, &cx) {
                    Ok(_) => {}
                    // Emptied since the check (not possible while the lock is held, but
                    // never worth a wrong answer).
                    Err(StoreError::Number(NumberError::Exhausted { unit, kind, year })) => {
                        return Err(SignStop::NoNumbers(vec![Series { unit, kind, year }]));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if record.status == InspectionStatus::OnSite {
            store.apply(
                id,
                &Command::Transition {
                    to: InspectionStatus::Completed,
                    comment: String::new(),
                },
                &cx,
            )?;
        }
        let n = record.signed_versions.len() + 1;
        store.sign(id, &format!("v{n}"), &cx)?;
        Ok(())
    }

    pub fn record(&self, id: &InspectionId) -> AppResult<RecordView> {
        let mut store = self.store();
        let record = store.inspection(id)?;
        let full = store.template(&record.template)?.ok_or_else(|| {
            AppError::new("本机缺少该记录的检查表", "template missing on this tablet")
        })?;
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
        let numbers = match self.user() {
            Ok(user) => crate::numbers::stock(&store, &user.unit, now())?,
            Err(_) => Vec::new(),
        };
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
            to_number,
            numbers,
        })
    }

    /// The thumbnail of an ingested photo as a data URL (the original if no copy is known,
    /// e.g. a signature image).
    pub fn thumb(&self, sha256: &str) -> AppResult<String> {
        let sha = Sha256Hex::parse(sha256).map_err(bad_args)?;
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
            AppError::new(
                format!("照片读取失败：{e}"),
                format!("photo unreadable: {e}"),
            )
        })?;
        Ok(format!("data:{mime};base64,{}", base64(&bytes)))
    }

    /// Ingests a photo (camera or file): the original kept byte for byte, then linked to
    /// an item or a hazard of the record, or kept loose for a command that comes later
    /// (entrance photo, re-inspection photo). A bad file is refused with nothing stored.
    pub fn ingest_photo(&self, args: &PhotoArgs, bytes: &[u8]) -> AppResult<PhotoAnswer> {
        let user = self.user()?;
        let prepared = prepare(bytes, &IngestLimits::default()).map_err(|e| {
            AppError::new(
                format!("照片无法使用：{}", e.zh()),
                format!("photo refused: {e}"),
            )
            .at("photo")
        })?;
        let info = prepared.commit(&self.blobs).map_err(|e| {
            AppError::new(
                format!("照片保存失败：{}", e.zh()),
                format!("photo not stored: {e}"),
            )
            .at("photo")
        })?;
        let target = match args.target.as_str() {
            "item" => Some(PhotoTarget::Item(ItemCode::new(args.key.clone()))),
            "hazard" => Some(PhotoTarget::Hazard(HazardId::new(args.key.clone()))),
            _ => None,
        };
        {
            let mut store = self.store();
            if let Some(target) = target {
                let record = store.inspection(&args.id)?;
                let template = store
                    .template(&record.template)?
                    .ok_or_else(|| AppError::new("本机缺少该记录的检查表", "template missing"))?;
                let cx = Context {
                    actor: &user,
                    now: now(),
                    template: &template,
                };
                store.attach_photo(&args.id, &target, &info, &cx)?;
            } else {
                crate::app_drafts::record_loose_photo(&store, &info)?;
            }
        }
        let (lat, lon) = info
            .exif
            .gps
            .as_ref()
            .map(|g| (Some(g.lat), Some(g.lon)))
            .unwrap_or((None, None));
        Ok(PhotoAnswer {
            thumb: self.thumb(info.sha256.as_str())?,
            sha256: info.sha256,
            lat,
            lon,
            warning: info.undisplayable.map(|u| u.zh),
        })
    }

    /// Keeps a handwritten signature (a PNG exported from the signature pad) as a blob and
    /// returns its SHA-256, which `SignOutcome::Signed { image }` names.
    pub fn ingest_signature(&self, png: &[u8]) -> AppResult<Sha256Hex> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if png.len() < 64 || !png.starts_with(PNG) {
            return Err(
                AppError::new("签名图像无效，请重新签名", "signature is not a PNG image")
                    .at("signature"),
            );
        }
        // A pad with no ink, or only a dot, is not a signature: the ink must span 20 px.
        let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .map_err(|e| {
                AppError::new(
                    "签名图像无法读取，请重新签名",
                    format!("signature PNG: {e}"),
                )
                .at("signature")
            })?
            .to_rgba8();
        let (mut x0, mut x1, mut y0, mut y1) = (u32::MAX, 0, u32::MAX, 0);
        for (x, y, p) in img.enumerate_pixels() {
            if p.0[3] > 0 {
                (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            }
        }
        if x0 == u32::MAX || (x1 - x0 < 20 && y1 - y0 < 20) {
            return Err(
                AppError::new("签名为空，请在框内签名", "the signature is empty").at("signature"),
            );
        }
        let stored = self.blobs.put(png).map_err(|e| {
            AppError::new(
                format!("签名保存失败：{e}"),
                format!("signature not stored: {e}"),
            )
        })?;
        Ok(stored.sha256)
    }

    pub fn sync_status(&self) -> SyncStatus {
        let bg = self.background.lock().unwrap_or_else(|p| p.into_inner());
        match bg.as_ref() {
            Some(b) => b.status(),
            None => SyncStatus {
                pending: self.store().pending().unwrap_or_default(),
                ..SyncStatus::default()
            },
        }
    }

    /// Syncs now (photo originals, then records — the server accepts a record naming a photo
    /// only once its original is there — and the reference data), and says what happened.
    /// Records are synced even if the photo upload failed; refused ones stay pending.
    pub fn sync_now(&self) -> AppResult<Value> {
        let session = self.session()?;
        let client = SyncClient::new(self.config.server.clone()).with_session(session.clone());
        let uploads = crate::upload::BlobClient::new(client.base(), session.token.clone())
            .upload_pending(&self.store, &self.blobs, |_| {});
        let report = client.sync(&self.store, now())?;
        let uploads = uploads.map_err(|e| {
            AppError::new(
                format!("照片上传失败：{e}"),
                format!("photo upload failed: {e}"),
            )
        })?;
        client.fetch_reference(&self.store)?;
        // Document numbers for the series that run low. The sync itself stands either way; the
        // screen shows the stock and any refusal.
        let topped = self.top_up_numbers(&session);
        let numbers = json!({
            "received": topped.as_ref().map(|t| t.received.len()).unwrap_or_default(),
            "error": topped.err().map(AppError::from),
            "stock": crate::numbers::stock(&self.store(), &session.user.unit, now())?,
        });
        let result =
            json!({ "report": report, "uploads": uploads, "numbers": numbers, "at": now() });
        *self.manual.lock().unwrap_or_else(|p| p.into_inner()) = Some(result.clone());
        Ok(result)
    }

    /// Starts exporting the record's signed version (`version`, or the latest) as a case file
    /// (电子案卷) on a thread of its own and answers at once with its status; poll
    /// [`export_status`](Self::export_status). While the record's export runs, asking again
    /// answers the running one. The store is locked only to read what the export needs; the
    /// screens and the background sync keep working while it writes.
    pub fn export_casefile(
        &self,
        id: &InspectionId,
        version: Option<&str>,
    ) -> AppResult<ExportStatus> {
        let user = self.user()?;
        // Held from the check to the start, so one record never has two exports running.
        let mut jobs = self.exports.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = jobs.get(id).filter(|j| j.state == ExportState::Running) {
            return Ok(job.clone());
        }
        let (source, unit_name) = {
            let mut store = self.store();
            let source = ExportSource::gather(&mut store, id).map_err(|e| match e {
                CaseFileError::Store(s) => AppError::from(s),
                e => export_error(&e),
            })?;
            let unit_name = store
                .reference::<Unit>()?
                .into_iter()
                .find(|u| u.id == user.unit)
                .map_or_else(|| user.unit.to_string(), |u| u.name);
            (source, unit_name)
        };
        let Some(version) = source.signed_version(version) else {
            return Err(match version {
                Some(v) => AppError::new(
                    format!("该记录没有签署版本 {v}，无法导出"),
                    format!("the record has no signed version {v}"),
                ),
                None => AppError::new(
                    "该记录尚无签署版本，不能导出电子案卷。请先完成检查并签署记录。",
                    "the record has no signed version: complete and sign it before exporting a case file",
                ),
            }
            .at("export"));
        };
        std::fs::create_dir_all(&self.config.exports).map_err(|e| {
            AppError::new(
                format!("无法创建导出目录：{e}"),
                format!("cannot create the exports folder: {e}"),
            )
            .at("export")
        })?;
        let started = now();
        let path = free_path(
            &self.config.exports,
            &export_file_name(&source.record, &version, started),
        );
        let status = ExportStatus {
            id: id.clone(),
            signed_version: version.clone(),
            state: ExportState::Running,
            started_at: started,
            finished_at: None,
            bytes_done: 0,
            bytes_total: 0,
            files_done: 0,
            current: String::new(),
            path: path.display().to_string(),
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            fingerprint: casefile::manifest::fingerprint(&source.key.verifying_key()),
            size: None,
            sha256: None,
            files: None,
            photos: None,
            error: None,
        };
        let shared = self.exports.clone();
        let blobs = self.blobs.root().to_path_buf();
        let job = id.clone();
        #[cfg(test)]
        let gate = self
            .export_gate
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let update = move |jobs: &Mutex<BTreeMap<InspectionId, ExportStatus>>,
                           f: &mut dyn FnMut(&mut ExportStatus)| {
            if let Some(s) = jobs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&job) {
                f(s);
            }
        };
        let id_for_thread = id.clone();
        jobs.insert(id.clone(), status.clone());
        std::thread::Builder::new()
            .name("casefile-export".into())
            .spawn(move || {
                let request = ExportRequest {
                    id: &id_for_thread,
                    version: Some(&version),
                    user: &user,
                    unit_name: &unit_name,
                    now: started,
                };
                let (mut last, mut files) = (String::new(), 0u32);
                #[cfg(test)]
                let mut gate = gate;
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::casefile::write_file(&source, &blobs, &request, &path, &mut |p| {
                        if !p.current.is_empty() && p.current != last {
                            files += 1;
                            last.clone_from(&p.current);
                        }
                        update(&shared, &mut |s| {
                            s.bytes_done = p.bytes_done;
                            s.bytes_total = p.bytes_total;
                            s.files_done = files;
                            s.current.clone_from(&p.current);
                        });
                        #[cfg(test)]
                        if let Some(g) = gate.take() {
                            let _ = g.recv();
                        }
                    })
                }));
                let finished = now();
                update(&shared, &mut |s| {
                    s.finished_at = Some(finished);
                    s.current.clear();
                    match &outcome {
                        Ok(Ok(written)) => {
                            s.state = ExportState::Done;
                            s.bytes_done = s.bytes_total;
                            s.size = Some(written.summary.bytes);
                            s.sha256 = Some(written.sha256.clone());
                            s.files = Some(written.summary.files);
                            // With the manifest and its signature, written last.
                            s.files_done = written.summary.files as u32;
                            s.photos = Some(written.summary.photos);
                        }
                        Ok(Err(e)) => {
                            s.state = ExportState::Failed;
                            s.error = Some(export_error(e));
                        }
                        Err(_) => {
                            s.state = ExportState::Failed;
                            s.error = Some(
                                AppError::new(
                                    "导出意外中止（内部错误），未生成电子案卷。",
                                    "the export stopped on an internal error; no case file was made",
                                )
                                .at("export"),
                            );
                        }
                    }
                });
            })
            .map_err(|e| {
                jobs.remove(id);
                AppError::new(
                    format!("无法开始导出：{e}"),
                    format!("could not start the export: {e}"),
                )
                .at("export")
            })?;
        Ok(status)
    }

    /// The record's latest export in this session (`None` if there was none).
    pub fn export_status(&self, id: &InspectionId) -> Option<ExportStatus> {
        self.exports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Removes `*.zip.partial` files a killed app left in the exports folder (an export
    /// that did not finish leaves nothing).
    fn remove_partial_exports(&self) {
        let Ok(entries) = std::fs::read_dir(&self.config.exports) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .ends_with(".zip.partial")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Whether the background sync's last attempt succeeded (for tests and logs).
    pub fn last_sync_ok(&self) -> bool {
        matches!(self.sync_status().state, SyncState::Done(_))
    }

    /// Today in Asia/Shanghai.
    pub fn today() -> Day {
        now().shanghai_date()
    }
}

#[cfg(test)]
#[path = "app_numbers_tests.rs"]
mod numbers_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::docnumber::IssuedDocument;
    use app_core::ids::UserId;
    use app_core::inspection::{Answer, OnsitePerson, SignOutcome, Signature, Signer};
    use casefile::{TrustedKey, VerifyOptions};
    use std::fs;
    use std::time::Instant;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    const PHOTOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos");
    pub(super) const NUMBER: &str = "（玄武）应急检记〔2026〕7号";

    fn read_json<T: serde::de::DeserializeOwned>(path: &str) -> T {
        serde_json::from_str(&fs::read_to_string(Path::new(ROOT).join(path)).unwrap()).unwrap()
    }

    pub(super) fn photo(name: &str) -> Vec<u8> {
        fs::read(Path::new(PHOTOS).join(name)).unwrap()
    }

    /// An app on a real store in a temporary folder, signed in as u-wang (the session as a
    /// sign-in would have saved it; the server it names does not answer, so the background
    /// sync keeps retrying while the tests run), with the demo reference data.
    pub(super) struct TestApp {
        pub(super) _dir: tempfile::TempDir,
        pub(super) config: AppConfig,
        pub(super) app: Arc<App>,
    }

    pub(super) fn signed_in_app() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig::in_folder(
            dir.path(),
            "http://127.0.0.1:9".into(),
            Duration::from_millis(50),
            Duration::from_millis(100),
        );
        {
            let mut store = Store::open(&config.db).unwrap();
            let users: Vec<User> = read_json("fixtures/demo/users.json");
            let units: Vec<Unit> = read_json("fixtures/demo/units.json");
            let enterprises: Vec<Enterprise> = read_json("fixtures/demo/enterprises.json");
            let templates: Vec<ChecklistTemplate> = ["gongmao", "weihuapin"]
                .iter()
                .map(|n| {
                    let path = Path::new(ROOT).join(format!("fixtures/checklists/{n}.toml"));
                    ChecklistTemplate::parse_toml(&fs::read_to_string(path).unwrap()).unwrap()
                })
                .collect();
            store.replace_reference(&users).unwrap();
            store.replace_reference(&units).unwrap();
            store.replace_reference(&enterprises).unwrap();
            store.replace_reference(&templates).unwrap();
            let session = Session {
                token: "t".into(),
                user: users
                    .into_iter()
                    .find(|u| u.id.as_str() == "u-wang")
                    .unwrap(),
            };
            store
                .set_meta(SESSION_KEY, &serde_json::to_string(&session).unwrap())
                .unwrap();
        }
        let app = Arc::new(App::open(config.clone()).unwrap());
        TestApp {
            _dir: dir,
            config,
            app,
        }
    }

    /// A routine inspection made through the app's own methods: every item answered, the
    /// first two failed with a camera photo each, the on-site person, both inspectors'
    /// signatures (camera JPEGs as the signature images), the enterprise's refusal with a
    /// witness; with `number`, the 现场检查记录's number [`NUMBER`] is issued by hand (as
    /// another tablet could have); then completed and signed (v1), which issues the numbers
    /// still missing from this tablet's pool. Returns the record and the fixture photos it
    /// holds.
    pub(super) fn inspected(app: &App, number: bool) -> (InspectionId, Vec<Vec<u8>>) {
        let (id, originals) = filled(app);
        if number {
            let device = app.store().device().clone();
            app.command(
                &id,
                &Command::IssueDocument(IssuedDocument {
                    kind: DocumentKind::InspectionRecord,
                    number: NUMBER.into(),
                    seq: 7,
                    year: 2026,
                    at: now(),
                    by: UserId::new("u-wang"),
                    device,
                }),
            )
            .unwrap();
        }
        app.complete(&id).unwrap();
        (id, originals)
    }

    /// [`inspected`] up to the signing: everything the rules require to complete, not signed.
    pub(super) fn filled(app: &App) -> (InspectionId, Vec<Vec<u8>>) {
        let id = app
            .start(StartArgs {
                kind: InspectionKind::Routine,
                enterprise: EnterpriseId::new("e-001"),
                plan: None,
                co_inspector: Some(UserId::new("u-li")),
            })
            .unwrap();
        let view = app.record(&id).unwrap();
        let items: Vec<ItemCode> = view
            .template
            .categories
            .iter()
            .flat_map(|c| c.items.iter().map(|i| i.code.clone()))
            .collect();
        assert!(items.len() > 2);
        let mut originals = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let answer = if n < 2 {
                Answer::Fails
            } else {
                Answer::Complies
            };
            app.command(
                &id,
                &Command::Answer {
                    item: item.clone(),
                    answer: Some(answer),
                },
            )
            .unwrap();
        }
        for (item, name) in items.iter().zip(["gps-DSCN0010.jpg", "gps-DSCN0012.jpg"]) {
            let bytes = photo(name);
            let args = PhotoArgs {
                id: id.clone(),
                target: "item".into(),
                key: item.to_string(),
            };
            let answer = app.ingest_photo(&args, &bytes).unwrap();
            assert_eq!(answer.sha256, Sha256Hex::of(&bytes));
            originals.push(bytes);
        }
        app.command(
            &id,
            &Command::SetOnsitePerson(OnsitePerson {
                name: "陈经理".into(),
                position: "安全主管".into(),
                phone: "13800000000".into(),
            }),
        )
        .unwrap();
        for (user, name, image) in [
            ("u-wang", "王强", "Canon_40D.jpg"),
            ("u-li", "李娜", "Nikon_D70.jpg"),
        ] {
            let bytes = photo(image);
            let args = PhotoArgs {
                id: id.clone(),
                target: "loose".into(),
                key: String::new(),
            };
            let image = app.ingest_photo(&args, &bytes).unwrap().sha256;
            originals.push(bytes);
            app.command(
                &id,
                &Command::Sign(Signature {
                    signer: Signer::Inspector(UserId::new(user)),
                    name: name.into(),
                    outcome: SignOutcome::Signed { image },
                    at: now(),
                }),
            )
            .unwrap();
        }
        app.command(
            &id,
            &Command::Sign(Signature {
                signer: Signer::Enterprise,
                name: "陈经理".into(),
                outcome: SignOutcome::Refused {
                    witness: "社区网格员 刘洋".into(),
                    note: "拒绝签字".into(),
                },
                at: now(),
            }),
        )
        .unwrap();
        (id, originals)
    }

    /// Polls `export_status` (through `call`, as the screen does) until the export ends.
    pub(super) fn wait_export(app: &App, id: &InspectionId) -> ExportStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = app
                .call("export_status", json!({ "id": id.as_str() }))
                .unwrap();
            let s: ExportStatus = serde_json::from_value(v).unwrap();
            if s.state != ExportState::Running {
                return s;
            }
            assert!(Instant::now() < deadline, "the export never ended: {s:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `f` on another thread and fails (instead of hanging) if it does not answer in
    /// time: a store lock held by the export would block it.
    fn within<T: Send + 'static>(app: &Arc<App>, f: impl FnOnce(&App) -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        let app = app.clone();
        std::thread::spawn(move || {
            let _ = tx.send(f(&app));
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the store stayed locked during the export")
    }

    pub(super) fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn a_signed_record_exports_in_the_background_while_the_store_stays_usable() {
        let t = signed_in_app();
        let app = &t.app;
        let (id, originals) = inspected(app, true);
        // The export stops at its first progress report until the test lets it go on.
        let (go, gate) = std::sync::mpsc::channel();
        *app.export_gate.lock().unwrap() = Some(gate);
        let started = app
            .call("export_casefile", json!({ "id": id.as_str() }))
            .unwrap();
        let started: ExportStatus = serde_json::from_value(started).unwrap();
        assert_eq!(started.state, ExportState::Running);
        assert_eq!(started.signed_version, "v1");
        assert!(
            started
                .file_name
                .starts_with(&format!("电子案卷_{NUMBER}_v1_")),
            "{}",
            started.file_name
        );
        assert!(
            started
                .path
                .starts_with(&t.config.exports.display().to_string())
        );

        // Running, stopped mid-way: the screens read and write the store meanwhile.
        let deadline = Instant::now() + Duration::from_secs(20);
        let running = loop {
            let s = app.export_status(&id).unwrap();
            if s.bytes_total > 0 {
                break s;
            }
            assert!(Instant::now() < deadline, "no progress reported");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(running.state, ExportState::Running);
        assert_eq!(running.bytes_done, 0);
        assert_eq!(running.files_done, 1);
        let rid = id.clone();
        let view = within(app, move |a| {
            a.call("record", json!({ "id": rid.as_str() }))
        });
        assert!(view.is_ok(), "{view:?}");
        let (rid, item) = (
            id.clone(),
            ItemCode::new(
                view.unwrap()["template"]["categories"][0]["items"][2]["code"]
                    .as_str()
                    .unwrap(),
            ),
        );
        let edited = within(app, move |a| {
            a.command(
                &rid,
                &Command::SetNote {
                    item,
                    text: "导出期间补充的说明".into(),
                },
            )
        });
        assert!(edited.is_ok(), "{edited:?}");
        // Asking again while it runs answers the running export; no second one starts.
        let again: ExportStatus = serde_json::from_value(
            within(app, {
                let rid = id.clone();
                move |a| a.call("export_casefile", json!({ "id": rid.as_str() }))
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(again.path, started.path);
        assert_eq!(again.state, ExportState::Running);
        go.send(()).unwrap();

        let done = wait_export(app, &id);
        assert_eq!(done.state, ExportState::Done, "{:?}", done.error);
        assert_eq!(done.bytes_done, done.bytes_total);
        assert!(done.files_done >= 6, "{}", done.files_done);
        let path = PathBuf::from(&done.path);
        let bytes = fs::read(&path).unwrap();
        assert_eq!(done.size, Some(bytes.len() as u64));
        assert_eq!(done.sha256, Some(Sha256Hex::of(&bytes)));
        assert_eq!(done.photos, Some(originals.len()));
        // Nothing else in the folder: no temporary file.
        assert_eq!(files_in(&t.config.exports), vec![done.file_name.clone()]);

        // The file verifies against this device's key and holds every original as taken.
        let key = crate::sync::device_key(&app.store())
            .unwrap()
            .verifying_key();
        assert_eq!(done.fingerprint, casefile::manifest::fingerprint(&key));
        let options = VerifyOptions {
            trusted_keys: vec![TrustedKey {
                key,
                label: "this tablet".into(),
            }],
        };
        let report = casefile::verify(fs::File::open(&path).unwrap(), &options);
        assert!(report.holds(), "{}", report.render_zh_en());
        let manifest = report.manifest.unwrap();
        assert_eq!(manifest.signed_version, "v1");
        assert_eq!(manifest.signer.unit_name, "南京市玄武区应急管理局");
        let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        assert!(listed.contains(&"documents/现场检查记录.pdf"), "{listed:?}");
        let files = casefile::archive::read_all(fs::File::open(&path).unwrap()).unwrap();
        for original in &originals {
            let name = format!("photos/{}.jpg", Sha256Hex::of(original));
            assert!(listed.contains(&name.as_str()), "{name} not listed");
            let (_, inside) = files.iter().find(|(n, _)| *n == name).unwrap();
            assert_eq!(inside, original, "{name} not byte for byte");
        }
        // The status stays for the screen to show.
        assert_eq!(app.export_status(&id), Some(done));
    }

    #[test]
    fn a_damaged_or_missing_original_fails_the_export_in_chinese_and_leaves_no_file() {
        let t = signed_in_app();
        let app = &t.app;
        let (id, originals) = inspected(app, true);
        let blob = app.blobs.path(&Sha256Hex::of(&originals[1]));
        let good = fs::read(&blob).unwrap();
        let mut bad = good.clone();
        bad[4000] ^= 0x01;
        fs::write(&blob, &bad).unwrap();
        app.export_casefile(&id, None).unwrap();
        let failed = wait_export(app, &id);
        assert_eq!(failed.state, ExportState::Failed);
        let e = failed.error.unwrap();
        assert!(
            e.zh.contains("已损坏") && e.zh.contains("导出已中止，未生成电子案卷"),
            "{}",
            e.zh
        );
        assert!(e.zh.contains(Sha256Hex::of(&originals[1]).as_str()));
        assert!(e.en.contains("damaged"), "{}", e.en);
        assert_eq!(e.field.as_deref(), Some("export"));
        assert_eq!(failed.size, None);
        assert!(files_in(&t.config.exports).is_empty());

        fs::remove_file(&blob).unwrap();
        app.export_casefile(&id, None).unwrap();
        let failed = wait_export(app, &id);
        assert_eq!(failed.state, ExportState::Failed);
        assert!(
            failed.error.as_ref().unwrap().zh.contains("缺失或无法读取"),
            "{:?}",
            failed.error
        );
        assert!(files_in(&t.config.exports).is_empty());

        // Put back as it was, the same record exports.
        fs::write(&blob, &good).unwrap();
        app.export_casefile(&id, None).unwrap();
        assert_eq!(wait_export(app, &id).state, ExportState::Done);
        assert_eq!(files_in(&t.config.exports).len(), 1);
    }

    #[test]
    fn only_a_signed_record_with_its_document_number_exports() {
        let t = signed_in_app();
        let app = &t.app;
        // Not signed yet: refused at once, nothing started.
        let draft = app
            .start(StartArgs {
                kind: InspectionKind::Routine,
                enterprise: EnterpriseId::new("e-001"),
                plan: None,
                co_inspector: Some(UserId::new("u-li")),
            })
            .unwrap();
        let e = app
            .call("export_casefile", json!({ "id": draft.as_str() }))
            .unwrap_err();
        assert!(e.zh.contains("该记录尚无签署版本"), "{}", e.zh);
        assert_eq!(e.field.as_deref(), Some("export"));
        assert_eq!(
            app.call("export_status", json!({ "id": draft.as_str() }))
                .unwrap(),
            Value::Null
        );
        // A version it does not have.
        let (id, _) = inspected(app, true);
        let e = app
            .call(
                "export_casefile",
                json!({ "id": id.as_str(), "version": "v9" }),
            )
            .unwrap_err();
        assert!(e.zh.contains("没有签署版本 v9"), "{}", e.zh);
        // Signed without a number (文号) for its 现场检查记录 — as an app before automatic
        // numbering did, through the library — the document cannot be made, and the screen
        // says which.
        let (id, _) = filled(app);
        {
            let user = app.user().unwrap();
            let mut store = app.store();
            let record = store.inspection(&id).unwrap();
            let template = store.template(&record.template).unwrap().unwrap();
            let cx = Context {
                actor: &user,
                now: now(),
                template: &template,
            };
            store
                .apply(
                    &id,
                    &Command::Transition {
                        to: InspectionStatus::Completed,
                        comment: String::new(),
                    },
                    &cx,
                )
                .unwrap();
            store.sign(&id, "v1", &cx).unwrap();
            assert!(store.inspection(&id).unwrap().documents.is_empty());
        }
        app.export_casefile(&id, Some("v1")).unwrap();
        let failed = wait_export(app, &id);
        assert_eq!(failed.state, ExportState::Failed);
        let e = failed.error.unwrap();
        assert!(
            e.zh.contains("没有“现场检查记录”的文书编号（文号）"),
            "{}",
            e.zh
        );
        assert!(files_in(&t.config.exports).is_empty());
        // A record the tablet does not hold.
        let e = app
            .export_casefile(&InspectionId::new("insp-nowhere"), None)
            .unwrap_err();
        assert_eq!(e.zh, "本机没有这条记录");
    }

    #[test]
    fn export_file_names_are_readable_safe_and_in_shanghai_time() {
        let mut record = Inspection::new_draft(
            InspectionId::new("insp-1"),
            InspectionKind::Routine,
            app_core::ids::UnitId::new("xw"),
            (&read_json::<Vec<Enterprise>>("fixtures/demo/enterprises.json")[0]).into(),
            ChecklistTemplate::parse_toml(
                &fs::read_to_string(Path::new(ROOT).join("fixtures/checklists/gongmao.toml"))
                    .unwrap(),
            )
            .unwrap()
            .reference(),
            UserId::new("u-wang"),
            Timestamp(0),
        );
        // 2026-11-23 06:05:09 UTC is 14:05:09 in Shanghai.
        let at = Timestamp(1_795_413_909_000);
        assert_eq!(
            export_file_name(&record, "v2", at),
            "电子案卷_insp-1_v2_20261123-140509.zip"
        );
        record.documents.insert(
            "（玄武）应急检记〔2026〕3号".into(),
            IssuedDocument {
                kind: DocumentKind::InspectionRecord,
                number: "（玄武）应急检记 〔2026〕/3号".into(),
                seq: 3,
                year: 2026,
                at,
                by: UserId::new("u-wang"),
                device: app_core::ids::DeviceId::new("d-1"),
            },
        );
        assert_eq!(
            export_file_name(&record, "v2", at),
            "电子案卷_（玄武）应急检记_〔2026〕_3号_v2_20261123-140509.zip"
        );
        // A name already taken gets a suffix.
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.zip"), b"").unwrap();
        fs::write(dir.path().join("a-2.zip.partial"), b"").unwrap();
        assert_eq!(free_path(dir.path(), "a.zip"), dir.path().join("a-3.zip"));
        assert_eq!(free_path(dir.path(), "b.zip"), dir.path().join("b.zip"));
    }

    #[test]
    fn refusals_by_the_rules_read_in_chinese_and_name_their_field() {
        let unmet = StoreError::Doc(DocError::Record(RecordError::Unmet {
            from: InspectionStatus::OnSite,
            to: InspectionStatus::Completed,
            unmet: vec![
                Unmet::NoOnsitePerson,
                Unmet::MissingSignature("inspector 李娜".into()),
            ],
        }));
        let e = AppError::from(unmet);
        assert_eq!(
            e.zh,
            "无法进入“已完成”：尚未记录企业现场负责人；缺少签名：执法人员 李娜"
        );
        assert!(
            e.en.contains("on_site") || e.en.contains("OnSite"),
            "{}",
            e.en
        );
        let hazard = StoreError::Doc(DocError::Record(RecordError::Hazard(
            HazardError::NoMeasures(HazardId::new("h1")),
        )));
        let e = AppError::from(hazard);
        assert_eq!(e.zh, "请填写整改措施");
        assert_eq!(e.field.as_deref(), Some("measures"));
        let signer = StoreError::Doc(DocError::Record(RecordError::SignerNotOnRecord(
            UserId::new("u-x"),
        )));
        assert_eq!(AppError::from(signer).zh, "u-x 不是本记录的执法人员");
    }

    #[test]
    fn an_app_without_a_session_asks_to_sign_in_and_keeps_drafts() {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig::in_folder(
            dir.path(),
            // Nothing listens here.
            "http://127.0.0.1:9".into(),
            Duration::from_millis(100),
            Duration::from_millis(200),
        );
        let app = App::open(config.clone()).unwrap();
        assert_eq!(app.call("status", json!({})).unwrap()["user"], Value::Null);
        assert_eq!(app.call("home", json!({})).unwrap_err().zh, "请先登录");
        let err = app.sign_in("u-wang", "x").unwrap_err();
        assert_eq!(err.zh, "无法连接服务器，请检查网络");
        assert_eq!(
            app.sign_in(" ", "x").unwrap_err().field.as_deref(),
            Some("user")
        );
        app.call(
            "draft_put",
            json!({ "key": "hazard:r1:GM-01", "value": "{\"measures\":\"停用\"}" }),
        )
        .unwrap();
        drop(app);
        let app = App::open(config).unwrap();
        assert_eq!(
            app.call("draft_get", json!({ "key": "hazard:r1:GM-01" }))
                .unwrap(),
            json!("{\"measures\":\"停用\"}")
        );
        // A signature that is not a PNG is refused with nothing stored.
        let e = app.ingest_signature(b"not a png").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("signature"));
        assert!(app.blobs.list().unwrap().is_empty());
    }
}
