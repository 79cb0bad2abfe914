//! The sync screen (8).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct SyncProps {
    pub(crate) status: SyncStatus,
}

#[function_component]
pub(crate) fn SyncScreen(props: &SyncProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let result = use_state(|| None::<SyncOutcome>);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    // The document numbers (文号) held: read when shown and after each sync from here.
    let numbers = use_state(|| None::<NumbersView>);
    {
        let numbers = numbers.clone();
        use_effect_with((*result).clone(), move |_| {
            spawn_local(async move {
                if let Ok(n) = call(api::GetNumbers {}).await {
                    numbers.set(Some(n));
                }
            });
        });
    }
    let now = {
        let (result, error, busy) = (result.clone(), error.clone(), busy.clone());
        Callback::from(move |_| {
            let (result, error, busy) = (result.clone(), error.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                match call(api::SyncNow {}).await {
                    Ok(v) => {
                        error.set(None);
                        result.set(Some(v))
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let s = &props.status;
    let (zh, en, _) = sync_summary(s);
    let state_text = match &s.state {
        SyncState::Waiting {
            error,
            retry_in_secs,
        } => format!(
            "{}：{}（{} {} {}）",
            l.t("上次同步失败", "Last attempt failed"),
            error,
            l.t("将在", "retry in"),
            retry_in_secs,
            l.t("秒后重试", "s")
        ),
        SyncState::Done(d) => format!(
            "{}：{} {}，{} {}，{} {}",
            l.t("上次同步成功", "Last sync succeeded"),
            l.t("上传记录", "pushed"),
            d.accepted,
            l.t("收到更新", "pulled"),
            d.pulled,
            l.t("被拒绝", "rejected"),
            d.rejected.len()
        ),
        SyncState::Syncing => l.t("正在同步…", "Syncing…").to_owned(),
        SyncState::Idle => l.t("尚未同步", "Not synced yet").to_owned(),
    };
    let upload = s.upload.as_ref().map(|u| {
        format!(
            "{} {}/{} · {}/{} KB",
            l.t("照片上传中", "Uploading photos"),
            u.photos_done,
            u.photos_total,
            u.bytes_done / 1024,
            u.bytes_total / 1024
        )
    });
    html! {
        <>
            <h2>{ l.t("同步", "Sync") }</h2>
            <div class="card">
                <div id="sync-summary"><strong>{ if l == Lang::Zh { zh } else { en } }</strong></div>
                <div id="sync-state">{ state_text }</div>
                if let Some(u) = upload { <div id="sync-upload">{ u }</div> }
                if let Some(u) = &s.last_upload {
                    <div class="muted">{ format!("{}：{} {}，{} {}", l.t("上次照片上传", "Last photo upload"), l.t("上传", "uploaded"), u.uploaded, l.t("服务器已有", "already held"), u.already_held) }</div>
                }
            </div>
            if let Some(n) = &*numbers {
                <div id="numbers-stock" class="card">
                    <strong>{ l.t("本机可用文书编号（文号）", "Document numbers (文号) on this tablet") }</strong>
                    { for n.stock.iter().map(|s| html! {
                        <div class={classes!((s.remaining == 0).then_some("error"))}>
                            { format!("{}〔{}〕：{} {}", document_label(l, s.kind), s.year, l.t("剩余", "left:"), s.remaining) }
                        </div>
                    }) }
                    <div class="muted">{ l.t("不足时在同步后自动向服务器申请；离线时从本机编号中签发。", "Topped up from the server after a sync when low; issued offline from these.") }</div>
                    if let Some(TopUpOutcome { error_zh: Some(zh), error_en, .. }) = &n.last_top_up {
                        <div id="numbers-error" class="error">{ if l == Lang::Zh { zh.clone() } else { error_en.clone().unwrap_or_default() } }</div>
                    }
                </div>
            }
            <button id="sync-now" onclick={now} disabled={*busy}>{ if *busy { l.t("同步中…", "Syncing…") } else { l.t("立即同步", "Sync now") } }</button>
            { error_view(l, &error) }
            if let Some(r) = &*result {
                <div id="sync-result" class="card ok">{ format!("{}：{} {}，{} {}，{} {}", l.t("同步完成", "Sync done"), l.t("上传记录", "pushed"), r.report.accepted, l.t("收到更新", "pulled"), r.report.pulled, l.t("上传照片", "photos uploaded"), r.uploads.uploaded) }</div>
            }
        </>
    }
}
