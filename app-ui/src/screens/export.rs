//! The case-file (电子案卷) export on the record screen (6b).

use super::*;
use std::rc::Rc;

/// What the export section shows: the record's export (as last read), a refusal to start,
/// and whether a start is on its way. Changed only by [`ExportAction`]s, so the logic is
/// tested natively, without a browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ExportScreen {
    pub(crate) status: Option<ExportStatus>,
    pub(crate) error: Option<ApiError>,
    pub(crate) starting: bool,
}

/// What happens to the export section.
#[derive(Debug)]
pub(crate) enum ExportAction {
    /// The record's export as the screen opened (none if there was none this session).
    Found(Option<ExportStatus>),
    /// A poll while it runs.
    Progress(ExportStatus),
    /// The inspector pressed the button.
    Start,
    /// The answer to the start: the running export, or why it did not start.
    Started(Result<ExportStatus, ApiError>),
}

impl Reducible for ExportScreen {
    type Action = ExportAction;

    fn reduce(self: Rc<Self>, action: ExportAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ExportAction::Found(status) => next.status = status,
            ExportAction::Progress(status) => next.status = Some(status),
            ExportAction::Start => next.starting = true,
            ExportAction::Started(Ok(status)) => {
                next.error = None;
                next.status = Some(status);
                next.starting = false;
            }
            ExportAction::Started(Err(e)) => {
                next.error = Some(e);
                next.starting = false;
            }
        }
        Rc::new(next)
    }
}

impl ExportScreen {
    /// An export is running (the screen polls, the button waits).
    pub(crate) fn running(&self) -> bool {
        self.status.as_ref().is_some_and(ExportStatus::running)
    }

    /// A refusal to start, or else the export's own failure.
    pub(crate) fn shown_error(&self) -> Option<ApiError> {
        self.error.clone().or_else(|| {
            self.status
                .as_ref()
                .filter(|s| s.state == ExportState::Failed)
                .and_then(|s| s.error.clone())
        })
    }

    /// The progress (and, once done, the result) to show: not for a failed export.
    pub(crate) fn progress(&self) -> Option<&ExportStatus> {
        self.status
            .as_ref()
            .filter(|s| s.state != ExportState::Failed)
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct ExportProps {
    pub(crate) id: String,
    /// The latest signed version: the one exported.
    pub(crate) version: String,
    /// The document numbers (文号) issued in the record, with their documents.
    pub(crate) documents: Vec<(DocumentKind, String)>,
}

/// Exports the record's latest signed version as a signed case file (on the tablet, in the
/// app's `exports` folder): a button, the progress while it runs (read every 300 ms), then
/// where the file is, its size and SHA-256, or why it failed, next to the button.
#[function_component]
pub(crate) fn CaseFileExport(props: &ExportProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let state = use_reducer(ExportScreen::default);
    // An export started before the screen was left is shown again.
    {
        let state = state.dispatcher();
        use_effect_with(props.id.clone(), move |id| {
            let id = id.clone();
            spawn_local(async move {
                if let Ok(s) = call(api::GetExportStatus {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    state.dispatch(ExportAction::Found(s));
                }
            });
        });
    }
    let running = state.running();
    {
        let (state, id) = (state.dispatcher(), props.id.clone());
        use_effect_with(running, move |running| {
            let interval = running.then(|| {
                gloo_timers::callback::Interval::new(300, move || {
                    let (state, id) = (state.clone(), id.clone());
                    spawn_local(async move {
                        if let Ok(Some(s)) = call(api::GetExportStatus {
                            id: InspectionId::new(id.clone()),
                        })
                        .await
                        {
                            state.dispatch(ExportAction::Progress(s));
                        }
                    });
                })
            });
            move || drop(interval)
        });
    }
    let start = {
        let (state, id) = (state.dispatcher(), props.id.clone());
        Callback::from(move |_| {
            let (state, id) = (state.clone(), id.clone());
            state.dispatch(ExportAction::Start);
            spawn_local(async move {
                let answer = call(api::ExportCaseFile {
                    id: InspectionId::new(id.clone()),
                    version: None,
                })
                .await;
                state.dispatch(ExportAction::Started(answer));
            });
        })
    };
    // A refusal to start, or the export's own failure: shown under the button.
    let shown_error = state.shown_error();
    let numbers = props
        .documents
        .iter()
        .map(|(kind, number)| format!("{} {number}", document_label(l, *kind)))
        .collect::<Vec<_>>()
        .join(l.t("；", "; "));
    html! {
        <section id="export" class="card">
            <h3>{ l.t("电子案卷", "Case file (电子案卷)") }</h3>
            <div class="muted">{ format!("{} {}{}", l.t("导出最新签署版本", "Exports the latest signed version"), props.version,
                l.t("：执法文书（PDF）、原始照片、记录与审计轨迹，以本机密钥签名", ": enforcement documents (PDF), original photos, the record and its audit trail, signed with this tablet's key")) }</div>
            if props.documents.is_empty() {
                <div id="export-numbers" class="muted">{ l.t("尚无文书编号（文号）：执法文书须有文号才能生成", "No document number (文号) yet: the enforcement documents need one") }</div>
            } else {
                <div id="export-numbers" class="muted">{ format!("{}：{numbers}", l.t("文书编号", "Document numbers")) }</div>
            }
            <div class="row" style="margin-top: 8px">
                <button id="export-casefile" onclick={start} disabled={running || state.starting}>
                    { if running { l.t("正在导出…", "Exporting…") } else { l.t("导出电子案卷", "Export case file") } }
                </button>
            </div>
            if let Some(e) = &shown_error {
                <div id="export-error" class="error" role="alert">{ l.err(e) }</div>
            }
            if let Some(s) = state.progress() {
                <div id="export-progress" class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={s.percent().to_string()}>
                    <div class="progress-bar"><div class="progress-fill" style={format!("width: {}%", s.percent())}></div></div>
                    <div class="progress-text">
                        { format!("{}% · {} / {} · {} {}", s.percent(), human_size(s.bytes_done), human_size(s.bytes_total),
                            s.files_done, l.t("个文件", "files")) }
                        if !s.current.is_empty() { <span class="muted">{ format!(" · {}", s.current) }</span> }
                    </div>
                </div>
                if s.state == ExportState::Done {
                    <div id="export-done" class="card done">
                        <div class="ok">{ format!("{} {}", l.t("电子案卷已导出，签署版本", "Case file exported, signed version"), s.signed_version) }</div>
                        <div>{ l.t("文件：", "File: ") }<code id="export-path">{ &s.path }</code></div>
                        <div>{ l.t("大小：", "Size: ") }<span id="export-size">{ s.size.map(|b| format!("{}（{b} {}）", human_size(b), l.t("字节", "bytes"))).unwrap_or_default() }</span></div>
                        <div>{ "SHA-256：" }<code id="export-sha256">{ s.sha256.as_ref().map(ToString::to_string).unwrap_or_default() }</code></div>
                        <div class="muted">{ l.t("签名密钥指纹：", "Signing key fingerprint: ") }<code id="export-fingerprint">{ &s.fingerprint }</code></div>
                        <div class="muted">{ format!("{} {} {}，{} {} {}", l.t("共", "holds"), s.files.unwrap_or_default(), l.t("个文件", "files"),
                            l.t("其中原始照片", "of them original photos:"), s.photos.unwrap_or_default(), l.t("张", "")) }</div>
                        if !s.warnings.is_empty() {
                            <ul id="export-warnings" class="warning" role="status">
                                { for s.warnings.iter().map(|w| html! { <li>{ l.t(&w.zh, &w.en) }</li> }) }
                            </ul>
                        }
                    </div>
                }
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::geo::Timestamp;

    fn status(state: ExportState, done: u64) -> ExportStatus {
        ExportStatus {
            id: InspectionId::new("insp-1"),
            signed_version: "v1".into(),
            state,
            started_at: Timestamp(1),
            finished_at: None,
            bytes_done: done,
            bytes_total: 100,
            files_done: 1,
            current: String::new(),
            path: "/data/exports/a.zip".into(),
            file_name: "a.zip".into(),
            fingerprint: "ab12".into(),
            size: None,
            sha256: None,
            files: None,
            photos: None,
            error: (state == ExportState::Failed).then(|| {
                ApiError::new(ErrorCode::Export, "原始照片已损坏", "damaged").at("export")
            }),
            warnings: Vec::new(),
        }
    }

    fn after(actions: Vec<ExportAction>) -> ExportScreen {
        let mut state = Rc::new(ExportScreen::default());
        for a in actions {
            state = state.reduce(a);
        }
        (*state).clone()
    }

    #[test]
    fn a_start_waits_then_shows_the_running_export_and_its_progress() {
        let starting = after(vec![ExportAction::Start]);
        assert!(starting.starting && !starting.running());
        let running = after(vec![
            ExportAction::Start,
            ExportAction::Started(Ok(status(ExportState::Running, 0))),
            ExportAction::Progress(status(ExportState::Running, 40)),
        ]);
        assert!(!running.starting && running.running());
        assert_eq!(running.progress().map(ExportStatus::percent), Some(40));
        assert_eq!(running.shown_error(), None);
        let done = after(vec![
            ExportAction::Found(Some(status(ExportState::Running, 40))),
            ExportAction::Progress(status(ExportState::Done, 100)),
        ]);
        assert!(!done.running());
        assert_eq!(done.progress().map(|s| s.state), Some(ExportState::Done));
    }

    #[test]
    fn a_refusal_or_a_failed_export_shows_its_error_and_no_progress() {
        let refused = ApiError::new(ErrorCode::Export, "该记录尚无签署版本", "not signed");
        let s = after(vec![
            ExportAction::Start,
            ExportAction::Started(Err(refused.clone())),
        ]);
        assert!(!s.starting);
        assert_eq!(s.shown_error(), Some(refused));
        let failed = after(vec![ExportAction::Found(Some(status(
            ExportState::Failed,
            0,
        )))]);
        assert_eq!(
            failed.shown_error().map(|e| e.zh),
            Some("原始照片已损坏".into())
        );
        assert!(failed.progress().is_none() && !failed.running());
        // A new start clears an earlier refusal once it runs.
        let again = after(vec![
            ExportAction::Started(Err(ApiError::internal("x"))),
            ExportAction::Start,
            ExportAction::Started(Ok(status(ExportState::Running, 0))),
        ]);
        assert_eq!(again.shown_error(), None);
    }
}
