//! The screens: sign-in, home, start, record (arrival proof, checklist, hazards, signing,
//! case-file export, 立案 and the record's penalty cases), hazard re-inspection, penalty case,
//! sync.

use crate::backend::call;
use crate::bridge::{now_ms, send_photo, send_signature};
use crate::i18n::Lang;
use crate::types::*;
use app_core::docnumber::DocumentKind;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::geo::{Day, Position, PositionSource, Timestamp};
use app_core::hazard::{HazardAction, HazardLevel, HazardStage, NewReinspection};
use app_core::ids::{HazardId, InspectionId, ItemCode, PlanId, UserId};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, InspectionStatus, OnsitePerson, ReadDocument,
    SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::user::User;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::cell::RefCell;
use std::rc::Rc;
use tablet_api as api;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

mod arrival;
mod case;
mod checklist;
mod delivery;
mod export;
mod findings;
mod hazard;
mod hazard_form;
mod home;
mod item;
mod preview;
mod record;
mod sign_in;
mod sign_pad;
mod signing;
mod start;
mod sync;

use arrival::Arrival;
use case::{CaseList, CaseScreen, RecordCases};
use checklist::Checklist;
use delivery::{Delivery, EnterpriseCopyPanel};
use export::CaseFileExport;
use findings::Findings;
use hazard::HazardScreen;
use hazard_form::HazardForm;
use home::HomeScreen;
use item::ItemRow;
use preview::PreviewOverlay;
use record::RecordScreen;
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
    Start {
        plan: Option<String>,
    },
    Record(String),
    Hazard(String, String),
    /// A penalty case (its id).
    Case(String),
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
            Route::Case(id) => format!("case:{id}"),
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
            ["case", id] => Route::Case((*id).to_owned()),
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

// The names of kinds, statuses, stages, levels and documents are app-core's, in both
// languages (`app_core::messages::Lang`, through `crate::i18n`); the screens pick the language.
use crate::i18n::{document_label, kind_label, stage_label, status_label};

fn level_label(l: Lang, level: HazardLevel) -> &'static str {
    l.level(level)
}

fn today() -> Day {
    Timestamp(now_ms()).shanghai_date()
}

/// Reads the draft saved under `key` (none if there is none, or it no longer reads) and hands
/// it to `loaded`.
fn load_draft<T: DeserializeOwned + 'static>(key: String, loaded: Callback<Option<T>>) {
    spawn_local(async move {
        let saved = call(api::GetDraft { key })
            .await
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str::<T>(&s).ok());
        loaded.emit(saved);
    });
}

/// Saves `value` as the draft under `key` (durable when the tablet answers).
fn save_draft<T: Serialize>(key: String, value: &T) {
    let value = serde_json::to_string(value).expect("drafts serialise");
    spawn_local(async move {
        let _ = call(api::PutDraft { key, value }).await;
    });
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
            let on_loaded = Callback::from(move |saved: Option<T>| {
                if let Some(v) = saved {
                    state.set(v);
                }
                loaded.set(true);
            });
            load_draft(key.clone(), on_loaded);
        });
    }
    {
        let value = (*state).clone();
        use_effect_with((value, *loaded), move |(value, loaded)| {
            if *loaded {
                save_draft(key, value);
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

/// A screen that shows one record (the record screen, the hazard screen): the record as last
/// read, kept current by what each edit answers, and the last refusal. Changed only by
/// [`PageAction`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RecordPage {
    pub(crate) view: Option<RecordView>,
    pub(crate) error: Option<ApiError>,
    /// Counts the edits' changes that found the view at another revision than theirs (a sync
    /// merged changes meanwhile, or answers overtook each other): the screen reads the
    /// record again whenever this moves.
    pub(crate) reloads: u32,
}

/// What reaches a record screen from its sections: a whole view (the signing answers one),
/// or what one edit changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RecordUpdate {
    View(Box<RecordView>),
    Change(Box<RecordChange>),
}

impl From<RecordView> for RecordUpdate {
    fn from(v: RecordView) -> Self {
        RecordUpdate::View(Box::new(v))
    }
}

impl From<RecordChange> for RecordUpdate {
    fn from(c: RecordChange) -> Self {
        RecordUpdate::Change(Box::new(c))
    }
}

impl From<RecordUpdate> for PageAction {
    fn from(u: RecordUpdate) -> Self {
        match u {
            RecordUpdate::View(v) => PageAction::Answer(Ok(*v)),
            RecordUpdate::Change(c) => PageAction::Changed(Ok(*c)),
        }
    }
}

/// What happens to a record screen.
// One action per answer from the tablet, moved once: boxing the view would cost more code
// than the bytes it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum PageAction {
    /// The record as the tablet answered it (a load, a signing), or why not.
    Answer(Result<RecordView, ApiError>),
    /// What an edit changed, as the tablet answered it, or why not.
    Changed(Result<RecordChange, ApiError>),
    /// Something the inspector entered was refused before it was sent.
    Refused(ApiError),
}

impl Reducible for RecordPage {
    type Action = PageAction;

    fn reduce(self: Rc<Self>, action: PageAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            PageAction::Answer(Ok(v)) => {
                next.view = Some(v);
                next.error = None;
            }
            PageAction::Changed(Ok(c)) => {
                let applied = next.view.as_mut().is_some_and(|v| v.apply(c));
                if !applied {
                    next.reloads += 1;
                }
                next.error = None;
            }
            PageAction::Answer(Err(e)) | PageAction::Changed(Err(e)) | PageAction::Refused(e) => {
                next.error = Some(e)
            }
        }
        Rc::new(next)
    }
}

/// Reads record `id` and hands the answer to `answer`: how the record and the hazard screens
/// open. (A plain function each screen's effect calls; a custom hook doing the same left the
/// release bundle blank in WebKitGTK.)
fn load_record(id: String, answer: Callback<Result<RecordView, ApiError>>) {
    spawn_local(async move {
        answer.emit(
            call(api::GetRecord {
                id: InspectionId::new(id),
            })
            .await,
        );
    });
}

/// The file chosen in a photo input, ingested as a loose photo of record `id` (linked later,
/// by the form it belongs to); the answer goes to `done`. The input is cleared, so the same
/// file can be chosen again.
fn take_loose_photo(e: &Event, id: String, done: Callback<Result<PhotoAnswer, ApiError>>) {
    let input: HtmlInputElement = e.target_unchecked_into();
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    input.set_value("");
    spawn_local(async move {
        let args = PhotoArgs {
            id: InspectionId::new(id),
            link: PhotoLink::Loose,
        };
        done.emit(send_photo(&file, &args).await);
    });
}

/// Applies a record command; answers what it changed, or the refusal.
pub(crate) async fn apply(id: &str, command: Command) -> Result<RecordChange, ApiError> {
    call(api::ApplyCommand {
        id: InspectionId::new(id),
        command,
    })
    .await
}

/// Applies a record command; what it changed goes to `on_view`, a refusal (or `None` once
/// the command went through) to `err`.
fn send(
    id: String,
    command: Command,
    on_view: Callback<RecordUpdate>,
    err: Callback<Option<ApiError>>,
) {
    spawn_local(async move {
        match apply(&id, command).await {
            Ok(change) => {
                err.emit(None);
                on_view.emit(change.into());
            }
            Err(e) => err.emit(Some(e)),
        }
    });
}

// ---------------------------------------------------------------------------------------

#[function_component]
pub fn App() -> Html {
    let route = use_state(|| Route::Loading);
    let lang = use_state(Lang::default);
    // Big type for sunlight, remembered on the device (the draft `ui:big`).
    let big = use_state(|| false);
    let user = use_state(|| None::<User>);
    let sync = use_state(SyncStatus::default);
    {
        let (route, user, lang, big) = (route.clone(), user.clone(), lang.clone(), big.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(Some(b)) = call(api::GetDraft {
                    key: "ui:big".to_string(),
                })
                .await
                {
                    big.set(b == "1");
                }
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
    let toggle_big = {
        let big = big.clone();
        Callback::from(move |_| {
            let next = !*big;
            big.set(next);
            spawn_local(async move {
                let _ = call(api::PutDraft {
                    key: "ui:big".to_string(),
                    value: if next { "1" } else { "0" }.to_string(),
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
        Route::Case(id) => html! { <CaseScreen id={id.clone()} /> },
        Route::Sync => html! { <SyncScreen status={(*sync).clone()} /> },
    };
    let nav = |r: Route| {
        let go = go.clone();
        Callback::from(move |_| go.emit(r.clone()))
    };
    html! {
        <ContextProvider<Ctx> context={ctx}>
          <div id="app-root" class={classes!((*big).then_some("big"))}>
            <header class="bar">
                <h1 id="app-title">{ l.t("安全生产执法检查", "Work-safety inspection") }</h1>
                if user.is_some() {
                    <button id="nav-home" onclick={nav(Route::Home)}>{ l.t("首页", "Home") }</button>
                    <button id="sync-indicator" class={classes!("sync", class)} onclick={nav(Route::Sync)}>
                        { if l == Lang::Zh { zh } else { en } }
                    </button>
                }
                <button id="big-type" class={classes!((*big).then_some("on"))} onclick={toggle_big} aria-pressed={(*big).to_string()}>{ if *big { l.t("标准字号", "Normal type") } else { l.t("大字", "Big type") } }</button>
                <button id="lang" onclick={toggle}>{ l.t("English", "中文") }</button>
            </header>
            <main>{ body }</main>
          </div>
        </ContextProvider<Ctx>>
    }
}

/// A section of the record screen: the record, and where its new state goes.
#[derive(Properties, PartialEq)]
pub(crate) struct ViewProps {
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
}

#[cfg(test)]
mod screen_tests;

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
            Route::Case("00000000-0000-4000-8000-000000000001".into()),
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
