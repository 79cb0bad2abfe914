//! What the tablet library answers (mirrors of `tablet::app` views; the record, template,
//! plans and people are app-core's own types).

use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::DocumentKind;
use app_core::enterprise::Enterprise;
use app_core::inspection::Inspection;
use app_core::plan::Plan;
use app_core::user::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// An error as the library reports it: Chinese, English, and the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub zh: String,
    pub en: String,
    pub field: Option<String>,
}

impl AppError {
    pub fn plain(text: &str) -> Self {
        Self {
            zh: text.to_owned(),
            en: text.to_owned(),
            field: None,
        }
    }

    pub fn local(zh: &str, en: &str, field: &str) -> Self {
        Self {
            zh: zh.to_owned(),
            en: en.to_owned(),
            field: Some(field.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Status {
    pub user: Option<User>,
    pub server: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlanView {
    pub plan: Plan,
    pub enterprise: Option<Enterprise>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InspectionRow {
    pub id: String,
    pub kind: app_core::kind::InspectionKind,
    pub status: app_core::inspection::InspectionStatus,
    pub enterprise_name: String,
    pub updated_at: i64,
    pub open_hazards: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReturnedView {
    pub id: String,
    pub enterprise_name: String,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HazardRow {
    pub inspection_id: String,
    pub hazard_id: String,
    pub level: String,
    pub stage: String,
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HazardDue {
    pub row: HazardRow,
    pub enterprise_name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Home {
    pub user: User,
    pub plans: Vec<PlanView>,
    pub records: Vec<InspectionRow>,
    pub returned: Vec<ReturnedView>,
    pub hazards: Vec<HazardDue>,
    pub sync: SyncStatus,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Pending {
    pub records: u32,
    pub bytes: u64,
}

/// `tablet::sync::SyncStatus`; the state and reports stay JSON (shown, not computed on).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct SyncStatus {
    pub state: Value,
    pub pending: Pending,
    pub photos_pending: u32,
    pub upload: Option<Value>,
    pub last_upload: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignedView {
    pub id: String,
    pub at: i64,
    pub content_hash: String,
    pub verified: bool,
    pub amendments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordView {
    pub record: Inspection,
    pub template: ChecklistTemplate,
    pub signed: Vec<SignedView>,
    pub thumbs: BTreeMap<String, String>,
    /// The documents whose numbers (文号) the next signing issues.
    #[serde(default)]
    pub to_number: Vec<DocumentKind>,
    /// How many numbers of each series the inspector needs this tablet holds.
    #[serde(default)]
    pub numbers: Vec<Stock>,
}

/// `tablet::numbers::Stock`: document numbers (文号) of one series held on this tablet.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Stock {
    pub unit: String,
    pub kind: DocumentKind,
    pub year: i32,
    pub remaining: u32,
}

/// `tablet::numbers::TopUpOutcome`: the last reservation of numbers from the server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TopUpOutcome {
    pub at: i64,
    pub received: Vec<Value>,
    pub error_zh: Option<String>,
    pub error_en: Option<String>,
}

/// `tablet::app::NumbersView`: the sync screen's document-number stock.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NumbersView {
    pub stock: Vec<Stock>,
    pub last_top_up: Option<TopUpOutcome>,
}

impl RecordView {
    /// The documents the next signing numbers for which this tablet holds no number (the
    /// signing would ask to sync first).
    pub fn numbers_missing(&self) -> Vec<DocumentKind> {
        // The stock lists this year's series first (and next year's late in December).
        let this_year = self.numbers.iter().map(|s| s.year).min();
        self.to_number
            .iter()
            .copied()
            .filter(|k| {
                !self
                    .numbers
                    .iter()
                    .any(|s| s.kind == *k && Some(s.year) == this_year && s.remaining > 0)
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PhotoAnswer {
    pub sha256: String,
    pub thumb: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// `tablet::app::ExportStatus`: a case-file (电子案卷) export as the record screen shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExportStatus {
    pub id: String,
    pub signed_version: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u32,
    pub current: String,
    pub path: String,
    pub file_name: String,
    pub fingerprint: String,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub files: Option<usize>,
    pub photos: Option<usize>,
    pub error: Option<AppError>,
}

impl ExportStatus {
    pub fn running(&self) -> bool {
        self.state == "running"
    }

    /// Whole percent done (0 before the size is known).
    pub fn percent(&self) -> u64 {
        (self.bytes_done.min(self.bytes_total) * 100)
            .checked_div(self.bytes_total)
            .unwrap_or(0)
    }
}

/// A size for people: `812 KB`, `3.4 MB` (1 KB = 1024 bytes).
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB {
        format!("{} KB", bytes.div_ceil(KB))
    } else {
        format!("{bytes} B")
    }
}

/// What the sync indicator says, in both languages, and its style.
pub fn sync_summary(s: &SyncStatus) -> (String, String, &'static str) {
    let pending = s.pending.records;
    let photos = s.photos_pending;
    match &s.state {
        Value::String(x) if x == "Syncing" => ("正在同步…".into(), "Syncing…".into(), "busy"),
        Value::Object(m) if m.contains_key("Waiting") => (
            format!("离线 · 待同步 {pending} 条记录、{photos} 张照片"),
            format!("Offline · {pending} records, {photos} photos waiting"),
            "wait",
        ),
        Value::Object(m) if m.contains_key("Done") && pending == 0 && photos == 0 => {
            ("已同步".into(), "Synced".into(), "ok")
        }
        _ => (
            format!("待同步 {pending} 条记录、{photos} 张照片"),
            format!("{pending} records, {photos} photos waiting"),
            "wait",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(state: Value, records: u32, photos: u32) -> SyncStatus {
        SyncStatus {
            state,
            pending: Pending { records, bytes: 0 },
            photos_pending: photos,
            ..SyncStatus::default()
        }
    }

    #[test]
    fn the_sync_indicator_tells_offline_waiting_from_synced() {
        let waiting = status(
            json!({"Waiting": {"error": "network", "retry_in_secs": 4}}),
            2,
            3,
        );
        let (zh, en, class) = sync_summary(&waiting);
        assert_eq!(zh, "离线 · 待同步 2 条记录、3 张照片");
        assert_eq!(en, "Offline · 2 records, 3 photos waiting");
        assert_eq!(class, "wait");
        let done = status(json!({"Done": {"pushed": 1}}), 0, 0);
        assert_eq!(sync_summary(&done).0, "已同步");
        // Done but something new was recorded since: not "synced".
        let done_dirty = status(json!({"Done": {"pushed": 1}}), 1, 0);
        assert_eq!(sync_summary(&done_dirty).0, "待同步 1 条记录、0 张照片");
        assert_eq!(sync_summary(&status(json!("Syncing"), 0, 0)).2, "busy");
    }

    #[test]
    fn an_export_status_of_the_library_parses_and_reads_as_progress() {
        // The shape `tablet::app::ExportStatus` serialises to.
        let v = json!({"id": "insp-1", "signed_version": "v2", "state": "running",
            "started_at": 1, "finished_at": null, "bytes_done": 300, "bytes_total": 1200,
            "files_done": 4, "current": "documents/现场检查记录.pdf",
            "path": "/data/exports/电子案卷_insp-1_v2_20261123-140509.zip",
            "file_name": "电子案卷_insp-1_v2_20261123-140509.zip", "fingerprint": "ab12",
            "size": null, "sha256": null, "files": null, "photos": null, "error": null});
        let s: ExportStatus = serde_json::from_value(v).unwrap();
        assert!(s.running());
        assert_eq!(s.percent(), 25);
        let failed = json!({"id": "insp-1", "signed_version": "v2", "state": "failed",
            "started_at": 1, "finished_at": 2, "bytes_done": 0, "bytes_total": 0,
            "files_done": 0, "current": "", "path": "p", "file_name": "f", "fingerprint": "ab12",
            "size": null, "sha256": null, "files": null, "photos": null,
            "error": {"zh": "原始照片已损坏", "en": "damaged", "field": "export"}});
        let s: ExportStatus = serde_json::from_value(failed).unwrap();
        assert!(!s.running());
        assert_eq!(s.percent(), 0);
        assert_eq!(s.error.unwrap().zh, "原始照片已损坏");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(600_000), "586 KB");
        assert_eq!(human_size(3_565_158), "3.4 MB");
    }

    #[test]
    fn a_record_view_says_which_numbers_the_signing_lacks() {
        // The shape `tablet::app::RecordView` serialises to (record and template elided).
        let stock = json!([
            {"unit": "xw", "kind": "inspection_record", "year": 2026, "remaining": 3},
            {"unit": "xw", "kind": "rectification_order", "year": 2026, "remaining": 0},
            {"unit": "xw", "kind": "reinspection_opinion", "year": 2026, "remaining": 20},
            {"unit": "xw", "kind": "rectification_order", "year": 2027, "remaining": 20}
        ]);
        let numbers: Vec<Stock> = serde_json::from_value(stock).unwrap();
        let to_number: Vec<DocumentKind> =
            serde_json::from_value(json!(["inspection_record", "rectification_order"])).unwrap();
        let view = |to_number: Vec<DocumentKind>| RecordView {
            record: sample_record(),
            template: sample_template(),
            signed: Vec::new(),
            thumbs: BTreeMap::new(),
            to_number,
            numbers: numbers.clone(),
        };
        assert_eq!(
            view(to_number).numbers_missing(),
            vec![DocumentKind::RectificationOrder],
            "next year's order numbers do not count this year"
        );
        assert!(view(Vec::new()).numbers_missing().is_empty());
    }

    fn sample_template() -> ChecklistTemplate {
        ChecklistTemplate::parse_toml(
            r#"
id = "t"
version = 1
name = "测试"
industries = ["machinery"]
published = "2026-11-01"
[[category]]
name = "基础管理"
[[category.item]]
code = "T-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]
"#,
        )
        .unwrap()
    }

    fn sample_record() -> Inspection {
        serde_json::from_value(json!({
            "id": "r1", "kind": "routine", "unit": "xw",
            "enterprise": {"id": "e-001", "name": "企业", "uscc": "913201023AGYGLUY37",
                "address": "地址", "legal_representative": "张三", "phone": "1",
                "industry": "machinery"},
            "template": {"id": "t", "version": 1}, "plan": null, "created_at": 0,
            "created_by": "u-wang", "inspectors": {}, "arrival": null,
            "attestations": {"no_notice_given": false, "no_escort_accepted": false},
            "places": "", "summary": "", "results": {}, "hazards": {}, "onsite_person": null,
            "signatures": {}, "status": "on_site", "started_at": null, "completed_at": null,
            "review": null, "signed_versions": {}, "documents": {}
        }))
        .unwrap()
    }

    #[test]
    fn the_sync_status_of_the_library_parses() {
        // The shape `tablet::sync::SyncStatus` serialises to.
        let v = json!({"state": {"Waiting": {"error": "network: refused", "retry_in_secs": 2}},
            "pending": {"records": 1, "bytes": 2048}, "photos_pending": 4, "upload": null,
            "last_upload": null});
        let s: SyncStatus = serde_json::from_value(v).unwrap();
        assert_eq!(s.pending.records, 1);
        assert_eq!(s.photos_pending, 4);
    }
}
