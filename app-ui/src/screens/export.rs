//! The case-file (电子案卷) export on the record screen (6b).

use super::*;

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
    let status = use_state(|| None::<ExportStatus>);
    let error = use_state(|| None::<ApiError>);
    let starting = use_state(|| false);
    // An export started before the screen was left is shown again.
    {
        let status = status.clone();
        use_effect_with(props.id.clone(), move |id| {
            let id = id.clone();
            spawn_local(async move {
                if let Ok(s) = call(api::GetExportStatus {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    status.set(s);
                }
            });
        });
    }
    let running = status.as_ref().is_some_and(ExportStatus::running);
    {
        let (status, id) = (status.clone(), props.id.clone());
        use_effect_with(running, move |running| {
            let interval = running.then(|| {
                gloo_timers::callback::Interval::new(300, move || {
                    let (status, id) = (status.clone(), id.clone());
                    spawn_local(async move {
                        if let Ok(Some(s)) = call(api::GetExportStatus {
                            id: InspectionId::new(id.clone()),
                        })
                        .await
                        {
                            status.set(Some(s));
                        }
                    });
                })
            });
            move || drop(interval)
        });
    }
    let start = {
        let (status, error, starting, id) = (
            status.clone(),
            error.clone(),
            starting.clone(),
            props.id.clone(),
        );
        Callback::from(move |_| {
            let (status, error, starting, id) =
                (status.clone(), error.clone(), starting.clone(), id.clone());
            starting.set(true);
            spawn_local(async move {
                match call(api::ExportCaseFile {
                    id: InspectionId::new(id.clone()),
                    version: None,
                })
                .await
                {
                    Ok(s) => {
                        error.set(None);
                        status.set(Some(s));
                    }
                    Err(e) => error.set(Some(e)),
                }
                starting.set(false);
            });
        })
    };
    // A refusal to start, or the export's own failure: shown under the button.
    let shown_error = (*error).clone().or_else(|| {
        status
            .as_ref()
            .filter(|s| s.state == ExportState::Failed)
            .and_then(|s| s.error.clone())
    });
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
                <button id="export-casefile" onclick={start} disabled={running || *starting}>
                    { if running { l.t("正在导出…", "Exporting…") } else { l.t("导出电子案卷", "Export case file") } }
                </button>
            </div>
            if let Some(e) = &shown_error {
                <div id="export-error" class="error" role="alert">{ l.err(e) }</div>
            }
            if let Some(s) = status.as_ref().filter(|s| s.state != ExportState::Failed) {
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
                    </div>
                }
            }
        </section>
    }
}
