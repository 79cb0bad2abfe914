//! The screens: sign-in, home, start, record (arrival proof, checklist, hazards, signing,
//! case-file export), hazard re-inspection, sync.

use crate::backend::call;
use crate::bridge::{now_ms, send_photo, send_signature};
use crate::i18n::{Lang, document_label, kind_label, stage_label, status_label};
use crate::types::*;
use app_core::docnumber::DocumentKind;
use app_core::enterprise::Enterprise;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Day, Position, PositionSource, Timestamp};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage, Reinspection, Supervision};
use app_core::ids::{HazardId, InspectionId, ItemCode, PlanId, UserId};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, InspectionStatus, OnsitePerson, SignOutcome,
    Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::user::User;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use tablet_api as api;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

mod arrival;
mod export;
mod hazard;
mod hazard_form;
mod home;
mod item;
mod record;
mod record_state;
mod sign_in;
mod sign_pad;
mod signing;
mod start;
mod sync;

use arrival::Arrival;
use export::CaseFileExport;
use hazard::HazardScreen;
use hazard_form::HazardForm;
use home::HomeScreen;
use item::ItemRow;
use record::RecordScreen;
use record_state::{RecordState, RecordUpdate};
use sign_in::SignIn;
use sign_pad::SignPad;
use signing::Signing;
use start::StartScreen;
use sync::SyncScreen;

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Loading,
    SignIn,
    Home,
    Start { plan: Option<String> },
    Record(String),
    Hazard(String, String),
    Sync,
}

impl Route {
    /// Kept across restarts (the app reopens where the inspector was).
    pub fn key(&self) -> String {
        match self {
            Route::Start { plan: Some(p) } => format!("start:{p}"),
            Route::Start { plan: None } => "start".into(),
            Route::Record(id) => format!("record:{id}"),
            Route::Hazard(r, h) => format!("hazard:{r}:{h}"),
            Route::Sync => "sync".into(),
            _ => "home".into(),
        }
    }

    pub fn parse(s: &str) -> Route {
        let parts: Vec<&str> = s.splitn(3, ':').collect();
        match parts.as_slice() {
            ["start"] => Route::Start { plan: None },
            ["start", p] => Route::Start {
                plan: Some((*p).to_owned()),
            },
            ["record", id] => Route::Record((*id).to_owned()),
            ["hazard", r, h] => Route::Hazard((*r).to_owned(), (*h).to_owned()),
            ["sync"] => Route::Sync,
            _ => Route::Home,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ctx {
    pub lang: Lang,
    pub go: Callback<Route>,
    pub user: Option<User>,
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn area_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlTextAreaElement>().value()
}

fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

fn error_view(lang: Lang, e: &Option<ApiError>) -> Html {
    match e {
        Some(e) => html! { <div class="error" role="alert">{ lang.err(e) }</div> },
        None => html! {},
    }
}

/// The error if it belongs to `field` (shown next to that field).
fn field_error(lang: Lang, e: &Option<ApiError>, field: &str) -> Html {
    match e {
        Some(err) if err.field.as_deref() == Some(field) => error_view(lang, e),
        _ => html! {},
    }
}

/// The error unless it belongs to one of `fields` (shown next to the button).
fn other_error(lang: Lang, e: &Option<ApiError>, fields: &[&str]) -> Html {
    match e {
        Some(err) if err.field.as_deref().is_some_and(|f| fields.contains(&f)) => html! {},
        _ => error_view(lang, e),
    }
}

fn unique(prefix: &str) -> String {
    let r = (js_random() * 1e9) as u64;
    format!("{prefix}-{}-{r}", now_ms())
}

fn js_random() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Math::random()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.5
    }
}

fn today() -> Day {
    Timestamp(now_ms()).shanghai_date()
}

/// A form kept as a draft in the tablet's store while it is being filled: loaded once,
/// saved on every change.
#[hook]
fn use_draft<T>(key: String) -> (UseStateHandle<T>, bool)
where
    T: Serialize + DeserializeOwned + Default + Clone + PartialEq + 'static,
{
    let state = use_state(T::default);
    let loaded = use_state(|| false);
    {
        let (state, loaded) = (state.clone(), loaded.clone());
        use_effect_with(key.clone(), move |key| {
            let key = key.clone();
            spawn_local(async move {
                if let Ok(Some(s)) = call(api::GetDraft {
                    key: key.to_string(),
                })
                .await
                    && let Ok(v) = serde_json::from_str::<T>(&s)
                {
                    state.set(v);
                }
                loaded.set(true);
            });
        });
    }
    {
        let value = (*state).clone();
        use_effect_with((value, *loaded), move |(value, loaded)| {
            if *loaded {
                let body = serde_json::to_string(value).expect("drafts serialise");
                spawn_local(async move {
                    let _ = call(api::PutDraft {
                        key: key.to_string(),
                        value: body.to_string(),
                    })
                    .await;
                });
            }
        });
    }
    let ready = *loaded;
    (state, ready)
}

fn drop_draft(key: String) {
    spawn_local(async move {
        let _ = call(api::DeleteDraft {
            key: key.to_string(),
        })
        .await;
    });
}

/// Applies a record command; what it changed goes to `on_view`, a refusal to `err`.
fn send(
    id: String,
    command: Command,
    on_view: Callback<RecordUpdate>,
    err: UseStateHandle<Option<ApiError>>,
) {
    spawn_local(async move {
        match call(api::ApplyCommand {
            id: InspectionId::new(id.clone()),
            command,
        })
        .await
        {
            Ok(change) => {
                err.set(None);
                on_view.emit(change.into());
            }
            Err(e) => err.set(Some(e)),
        }
    });
}

// ---------------------------------------------------------------------------------------

#[function_component]
pub fn App() -> Html {
    let route = use_state(|| Route::Loading);
    let lang = use_state(Lang::default);
    let user = use_state(|| None::<User>);
    let sync = use_state(SyncStatus::default);
    {
        let (route, user, lang) = (route.clone(), user.clone(), lang.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(Some(l)) = call(api::GetDraft {
                    key: "ui:lang".to_string(),
                })
                .await
                    && l == "en"
                {
                    lang.set(Lang::En);
                }
                match call(api::GetStatus {}).await {
                    Ok(AppStatus { user: Some(u), .. }) => {
                        user.set(Some(u));
                        let saved = call(api::GetDraft {
                            key: "ui:route".to_string(),
                        })
                        .await;
                        route.set(Route::parse(&saved.ok().flatten().unwrap_or_default()));
                    }
                    _ => route.set(Route::SignIn),
                }
            });
        });
    }
    // The sync indicator polls the background sync's status.
    {
        let sync = sync.clone();
        use_effect_with((*user).is_some(), move |signed_in| {
            let interval = signed_in.then(|| {
                let tick = move || {
                    let sync = sync.clone();
                    spawn_local(async move {
                        if let Ok(s) = call(api::GetSyncStatus {}).await {
                            sync.set(s);
                        }
                    });
                };
                tick();
                gloo_timers::callback::Interval::new(1000, tick)
            });
            move || drop(interval)
        });
    }
    let go = {
        let route = route.clone();
        Callback::from(move |r: Route| {
            let key = r.key();
            spawn_local(async move {
                let _ = call(api::PutDraft {
                    key: "ui:route".to_string(),
                    value: key.to_string(),
                })
                .await;
            });
            route.set(r);
        })
    };
    let on_signed_in = {
        let (user, go) = (user.clone(), go.clone());
        Callback::from(move |u: User| {
            user.set(Some(u));
            go.emit(Route::Home);
        })
    };
    let ctx = Ctx {
        lang: *lang,
        go: go.clone(),
        user: (*user).clone(),
    };
    let l = *lang;
    let toggle = {
        let lang = lang.clone();
        Callback::from(move |_| {
            let next = lang.other();
            lang.set(next);
            spawn_local(async move {
                let _ = call(api::PutDraft {
                    key: "ui:lang".to_string(),
                    value: next.code().to_string(),
                })
                .await;
            });
        })
    };
    let (zh, en, class) = sync_summary(&sync);
    let body = match &*route {
        Route::Loading => html! { <p>{ l.t("正在打开…", "Opening…") }</p> },
        Route::SignIn => html! { <SignIn on_signed_in={on_signed_in} /> },
        Route::Home => html! { <HomeScreen /> },
        Route::Start { plan } => html! { <StartScreen plan={plan.clone()} /> },
        Route::Record(id) => html! { <RecordScreen id={id.clone()} /> },
        Route::Hazard(r, h) => html! { <HazardScreen id={r.clone()} hazard={h.clone()} /> },
        Route::Sync => html! { <SyncScreen status={(*sync).clone()} /> },
    };
    let nav = |r: Route| {
        let go = go.clone();
        Callback::from(move |_| go.emit(r.clone()))
    };
    html! {
        <ContextProvider<Ctx> context={ctx}>
            <header class="bar">
                <h1 id="app-title">{ l.t("安全生产执法检查", "Work-safety inspection") }</h1>
                if user.is_some() {
                    <button id="nav-home" onclick={nav(Route::Home)}>{ l.t("首页", "Home") }</button>
                    <button id="sync-indicator" class={classes!("sync", class)} onclick={nav(Route::Sync)}>
                        { if l == Lang::Zh { zh } else { en } }
                    </button>
                }
                <button id="lang" onclick={toggle}>{ l.t("English", "中文") }</button>
            </header>
            <main>{ body }</main>
        </ContextProvider<Ctx>>
    }
}

/// A section of the record screen: the record, and where what its edits changed goes.
#[derive(Properties, PartialEq)]
pub(crate) struct ViewProps {
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_survive_a_restart_as_text() {
        for r in [
            Route::Home,
            Route::Start { plan: None },
            Route::Start {
                plan: Some("plan-sbl-001".into()),
            },
            Route::Record("insp-1".into()),
            Route::Hazard("insp-1".into(), "hz-1-2".into()),
            Route::Sync,
        ] {
            assert_eq!(Route::parse(&r.key()), r);
        }
        assert_eq!(Route::parse("garbage:x:y:z"), Route::Home);
        assert_eq!(Route::parse(""), Route::Home);
    }

    #[test]
    fn errors_show_next_to_their_field_or_else_by_the_button() {
        let e = Some(input_error("请输入密码", "password is empty", "password"));
        let shown = |h: Html| !matches!(h, Html::VList(ref l) if l.is_empty());
        assert!(shown(field_error(Lang::Zh, &e, "password")));
        assert!(!shown(field_error(Lang::Zh, &e, "user")));
        assert!(!shown(other_error(Lang::Zh, &e, &["user", "password"])));
        assert!(shown(other_error(Lang::Zh, &e, &["user"])));
    }
}
