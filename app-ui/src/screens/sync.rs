//! The sync screen (8).

use super::*;
use std::rc::Rc;

/// What the sync screen shows besides the background sync's status: the last sync started
/// here (or why it failed), whether one is running, and the document numbers held.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SyncPage {
    pub(crate) result: Option<SyncOutcome>,
    pub(crate) error: Option<ApiError>,
    pub(crate) busy: bool,
    pub(crate) numbers: Option<NumbersView>,
}

/// What happens on the sync screen.
#[derive(Debug)]
pub(crate) enum SyncAction {
    /// The stock of document numbers was read.
    Numbers(NumbersView),
    /// The inspector pressed “立即同步”.
    Start,
    /// The sync ended.
    Done(Result<SyncOutcome, ApiError>),
}

impl Reducible for SyncPage {
    type Action = SyncAction;

    fn reduce(self: Rc<Self>, action: SyncAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SyncAction::Numbers(n) => next.numbers = Some(n),
            SyncAction::Start => next.busy = true,
            SyncAction::Done(Ok(outcome)) => {
                next.error = None;
                next.result = Some(outcome);
                next.busy = false;
            }
            SyncAction::Done(Err(e)) => {
                next.error = Some(e);
                next.busy = false;
            }
        }
        Rc::new(next)
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct SyncProps {
    pub(crate) status: SyncStatus,
}

#[function_component]
pub(crate) fn SyncScreen(props: &SyncProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let state = use_reducer(SyncPage::default);
    // The document numbers (文号) held: read when shown and after each sync from here.
    {
        let dispatch = state.dispatcher();
        use_effect_with(state.result.clone(), move |_| {
            spawn_local(async move {
                if let Ok(n) = call(api::GetNumbers {}).await {
                    dispatch.dispatch(SyncAction::Numbers(n));
                }
            });
        });
    }
    let now = {
        let state = state.dispatcher();
        Callback::from(move |_| {
            let state = state.clone();
            state.dispatch(SyncAction::Start);
            spawn_local(async move {
                let answer = call(api::SyncNow {}).await;
                state.dispatch(SyncAction::Done(answer));
            });
        })
    };
    let s = &props.status;
    let (zh, en, _) = sync_summary(s);
    let state_text = state_text(l, &s.state);
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
                if let SyncState::Done(d) = &s.state {
                    if !d.rejected.is_empty() {
                        <ul id="sync-rejected" class="error">
                            { for d.rejected.iter().map(|r| html! {
                                <li>{ l.err(&app_core::messages::SyncRefusal { code: &r.code, message: &r.message }) }</li>
                            }) }
                        </ul>
                    }
                }
                if let Some(u) = upload { <div id="sync-upload">{ u }</div> }
                if let Some(u) = &s.last_upload {
                    <div class="muted">{ format!("{}：{} {}，{} {}", l.t("上次照片上传", "Last photo upload"), l.t("上传", "uploaded"), u.uploaded, l.t("服务器已有", "already held"), u.already_held) }</div>
                }
            </div>
            if let Some(n) = &state.numbers {
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
            <button id="sync-now" onclick={now} disabled={state.busy}>{ if state.busy { l.t("同步中…", "Syncing…") } else { l.t("立即同步", "Sync now") } }</button>
            { error_view(l, &state.error) }
            if let Some(r) = &state.result {
                <div id="sync-result" class="card ok">{ format!("{}：{} {}，{} {}，{} {}", l.t("同步完成", "Sync done"), l.t("上传记录", "pushed"), r.report.accepted, l.t("收到更新", "pulled"), r.report.pulled, l.t("上传照片", "photos uploaded"), r.uploads.uploaded) }</div>
            }
        </>
    }
}

/// The background sync's state in words.
///
/// Kept out of line on purpose: inlined into `SyncScreen` (release, opt-level "s") the whole
/// bundle stayed blank in WebKitGTK — the app never mounted, even though this screen is not
/// shown at start. Like the `float_roundtrip` note in app-core's Cargo.toml, the cause was
/// not found; the end-to-end test catches it.
#[inline(never)]
pub(crate) fn state_text(l: Lang, state: &SyncState) -> String {
    match state {
        SyncState::Waiting {
            error,
            retry_in_secs,
        } => format!(
            "{}：{}（{} {} {}）",
            l.t("上次同步失败", "Last attempt failed"),
            // The sync client's reason is English (a transport error): the Chinese screen
            // says what it means for the inspector instead.
            if l == Lang::Zh {
                "无法连接服务器或服务器暂不可用"
            } else {
                error.as_str()
            },
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::geo::Timestamp;

    fn outcome(accepted: u32) -> SyncOutcome {
        SyncOutcome {
            report: SyncReport {
                accepted,
                ..SyncReport::default()
            },
            uploads: UploadReport::default(),
            numbers: NumbersAfterSync {
                received: 0,
                error: None,
                stock: Vec::new(),
            },
            at: Timestamp(1),
        }
    }

    fn after(actions: Vec<SyncAction>) -> SyncPage {
        let mut state = Rc::new(SyncPage::default());
        for a in actions {
            state = state.reduce(a);
        }
        (*state).clone()
    }

    #[test]
    fn a_refused_change_is_explained_in_chinese_with_the_servers_reason_in_english() {
        use app_core::messages::{Bilingual, SyncRefusal};
        let r = SyncRefusal {
            code: "rule",
            message: "the statement period runs until 2026-12-10",
        };
        assert!(Lang::Zh.err(&r).contains("规则"));
        assert!(!Lang::Zh.err(&r).is_ascii());
        assert_eq!(
            Lang::En.err(&r),
            "rule: the statement period runs until 2026-12-10"
        );
        let unknown = SyncRefusal {
            code: "something_new",
            message: "",
        };
        assert_eq!(unknown.zh(), "服务器拒绝了这项修改");
    }

    #[test]
    fn a_sync_from_the_screen_is_busy_until_it_ends_and_keeps_the_last_result() {
        assert!(after(vec![SyncAction::Start]).busy);
        let done = after(vec![SyncAction::Start, SyncAction::Done(Ok(outcome(3)))]);
        assert!(!done.busy && done.error.is_none());
        assert_eq!(done.result.map(|r| r.report.accepted), Some(3));
        let offline = ApiError::new(ErrorCode::Offline, "无法连接服务器，请检查网络", "network");
        let failed = after(vec![
            SyncAction::Done(Ok(outcome(3))),
            SyncAction::Start,
            SyncAction::Done(Err(offline.clone())),
        ]);
        assert!(!failed.busy);
        assert_eq!(failed.error, Some(offline));
        assert_eq!(failed.result.map(|r| r.report.accepted), Some(3));
    }

    #[test]
    fn the_sync_state_reads_in_chinese() {
        let waiting = SyncState::Waiting {
            error: "network".into(),
            retry_in_secs: 4,
        };
        assert_eq!(
            state_text(Lang::Zh, &waiting),
            "上次同步失败：无法连接服务器或服务器暂不可用（将在 4 秒后重试）"
        );
        let done = SyncState::Done(SyncReport {
            accepted: 2,
            pulled: 5,
            ..SyncReport::default()
        });
        assert_eq!(
            state_text(Lang::Zh, &done),
            "上次同步成功：上传记录 2，收到更新 5，被拒绝 0"
        );
        assert_eq!(state_text(Lang::Zh, &SyncState::Idle), "尚未同步");
    }
}
