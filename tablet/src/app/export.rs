//! Case-file (电子案卷) export from the tablet: started on a thread of its own, polled by the
//! record screen.

use super::{App, now};
use crate::casefile::{CaseFileError, ExportRequest, ExportSource};
use app_core::docnumber::DocumentKind;
use app_core::geo::Timestamp;
use app_core::ids::InspectionId;
use app_core::inspection::Inspection;
use app_core::messages::Lang;
use casefile::ExportError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tablet_api::{ApiError, ApiResult, DocumentNotice, ErrorCode, ExportState, ExportStatus};

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
fn export_error(e: &CaseFileError) -> ApiError {
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
    ApiError::new(ErrorCode::Export, zh, en).at("export")
}

/// A document that was made but prints something differently from the record: logged
/// (English, on the app's standard error) and answered for the screen (both languages from
/// `app_core::messages`).
pub(super) fn document_notice(
    file: &str,
    title_zh: &str,
    warning: &pdf_forms::FormWarning,
) -> DocumentNotice {
    eprintln!("inspection-tablet: warning: {file}: {warning}");
    DocumentNotice {
        file: file.to_owned(),
        zh: warning.text(Lang::Zh, title_zh),
        en: warning.text(Lang::En, title_zh),
    }
}

/// `dir/name`, or `dir/<stem>-2.zip`, `-3`, … if that name (or its temporary file) is taken.
pub(super) fn free_path(dir: &Path, name: &str) -> PathBuf {
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

impl App {
    /// Starts exporting the record's signed version (`version`, or the latest) as a case file
    /// (电子案卷) on a thread of its own and answers at once with its status; poll
    /// [`export_status`](Self::export_status). While the record's export runs, asking again
    /// answers the running one. The store is locked only to read what the export needs; the
    /// screens and the background sync keep working while it writes.
    pub fn export_casefile(
        &self,
        id: &InspectionId,
        version: Option<&str>,
    ) -> ApiResult<ExportStatus> {
        let user = self.user()?;
        // Held from the check to the start, so one record never has two exports running.
        let mut jobs = self.exports.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = jobs.get(id).filter(|j| j.state == ExportState::Running) {
            return Ok(job.clone());
        }
        let (source, unit_name) = {
            let mut store = self.store();
            let source = ExportSource::gather(&mut store, id).map_err(|e| match e {
                CaseFileError::Store(s) => ApiError::from(s),
                e => export_error(&e),
            })?;
            let unit_name = super::records::unit_name(&store, &user)?;
            (source, unit_name)
        };
        let Some(version) = source.signed_version(version) else {
            return Err(match version {
                Some(v) => ApiError::new(ErrorCode::Export,
                    format!("该记录没有签署版本 {v}，无法导出"),
                    format!("the record has no signed version {v}"),
                ),
                None => ApiError::new(ErrorCode::Export,
                    "该记录尚无签署版本，不能导出电子案卷。请先完成检查并签署记录。",
                    "the record has no signed version: complete and sign it before exporting a case file",
                ),
            }
            .at("export"));
        };
        std::fs::create_dir_all(&self.config.exports).map_err(|e| {
            ApiError::new(
                ErrorCode::Export,
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
            warnings: Vec::new(),
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
                            s.warnings = written
                                .summary
                                .warnings
                                .iter()
                                .map(|w| document_notice(&w.file_name, &w.title_zh, &w.warning))
                                .collect();
                        }
                        Ok(Err(e)) => {
                            s.state = ExportState::Failed;
                            s.error = Some(export_error(e));
                        }
                        Err(_) => {
                            s.state = ExportState::Failed;
                            s.error = Some(
                                ApiError::new(ErrorCode::Export,
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
                ApiError::new(ErrorCode::Export,
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
    pub(super) fn remove_partial_exports(&self) {
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
}
