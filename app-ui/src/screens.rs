//! The screens: sign-in, home, start, record (arrival proof, checklist, hazards, signing,
//! case-file export), hazard re-inspection, sync.

use crate::bridge::{call, now_ms, send_photo, send_signature};
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

/// Applies a record command; the new record goes to `on_view`, a refusal to `err`.
fn send(
    id: String,
    command: Command,
    on_view: Callback<RecordView>,
    err: UseStateHandle<Option<ApiError>>,
) {
    spawn_local(async move {
        match call(api::ApplyCommand {
            id: InspectionId::new(id.clone()),
            command,
        })
        .await
        {
            Ok(v) => {
                err.set(None);
                on_view.emit(v);
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

// --- 1. sign in ------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct SignInProps {
    on_signed_in: Callback<User>,
}

#[function_component]
fn SignIn(props: &SignInProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let user = use_state(String::new);
    let password = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let submit = {
        let (user, password, error, busy) =
            (user.clone(), password.clone(), error.clone(), busy.clone());
        let done = props.on_signed_in.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (u, p, error, busy, done) = (
                (*user).clone(),
                (*password).clone(),
                error.clone(),
                busy.clone(),
                done.clone(),
            );
            busy.set(true);
            spawn_local(async move {
                match call(api::SignIn {
                    user: u.to_string(),
                    password: p.to_string(),
                })
                .await
                {
                    Ok(u) => done.emit(u),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let set =
        |h: UseStateHandle<String>| Callback::from(move |e: InputEvent| h.set(input_value(&e)));
    html! {
        <form onsubmit={submit} class="card" style="max-width: 560px">
            <h2>{ l.t("登录（需联网一次）", "Sign in (online once)") }</h2>
            <p class="muted">{ l.t("登录后本机可离线工作多日。", "After signing in, this tablet works offline for days.") }</p>
            <label for="user">{ l.t("用户名", "User") }</label>
            <input id="user" value={(*user).clone()} oninput={set(user.clone())} autocomplete="username" />
            { field_error(l, &error, "user") }
            <label for="password">{ l.t("密码", "Password") }</label>
            <input id="password" type="password" value={(*password).clone()} oninput={set(password.clone())} />
            { field_error(l, &error, "password") }
            <div class="row" style="margin-top: 12px">
                <button id="sign-in" type="submit" disabled={*busy}>{ l.t("登录", "Sign in") }</button>
            </div>
            { other_error(l, &error, &["user", "password"]) }
        </form>
    }
}

// --- 2. home -----------------------------------------------------------------------------

#[function_component]
fn HomeScreen() -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let home = use_state(|| None::<Home>);
    let error = use_state(|| None::<ApiError>);
    {
        let (home, error) = (home.clone(), error.clone());
        use_effect_with((), move |_| {
            let load = move || {
                let (home, error) = (home.clone(), error.clone());
                spawn_local(async move {
                    match call(api::GetHome {}).await {
                        Ok(h) => {
                            if home.as_ref() != Some(&h) {
                                home.set(Some(h));
                            }
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            };
            load();
            // Returns and sync results arrive in the background: read again every 2 s.
            let interval = gloo_timers::callback::Interval::new(2000, load);
            move || drop(interval)
        });
    }
    let go = |r: Route| {
        let g = ctx.go.clone();
        Callback::from(move |_| g.emit(r.clone()))
    };
    let Some(h) = &*home else {
        return html! { <>{ error_view(l, &error) }<p>{ l.t("正在加载…", "Loading…") }</p></> };
    };
    let drafts: Vec<&InspectionRow> = h
        .records
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                InspectionStatus::Draft | InspectionStatus::OnSite | InspectionStatus::Completed
            )
        })
        .collect();
    let done: Vec<&InspectionRow> = h
        .records
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                InspectionStatus::Submitted | InspectionStatus::Approved
            )
        })
        .collect();
    let row = |r: &InspectionRow| {
        html! {
            <div class="card record" id={format!("rec-{}", r.id)}>
                <div class="row">
                    <strong style="flex: 1">{ &r.enterprise_name }</strong>
                    <span class="badge">{ kind_label(l, r.kind) }</span>
                    <span class="badge">{ status_label(l, r.status) }</span>
                    if r.open_hazards > 0 {
                        <span class="badge warn">{ format!("{} {}", l.t("隐患", "hazards"), r.open_hazards) }</span>
                    }
                    <button class="open" onclick={go(Route::Record(r.id.to_string()))}>{ l.t("打开", "Open") }</button>
                </div>
            </div>
        }
    };
    html! {
        <>
            <div class="row">
                <h2 style="flex: 1">{ format!("{}，{}", l.t("您好", "Hello"), h.user.name) }</h2>
                <button id="new-inspection" onclick={go(Route::Start { plan: None })}>{ l.t("新建检查", "New inspection") }</button>
            </div>
            { error_view(l, &error) }
            <div class="grid2">
                <section id="plans">
                    <h3>{ l.t("今日任务", "Assigned plans") }</h3>
                    if h.plans.is_empty() { <p class="muted">{ l.t("暂无任务", "None") }</p> }
                    { for h.plans.iter().map(|p| html! {
                        <div class="card plan" id={format!("plan-{}", p.plan.id)}>
                            <div><strong>{ p.enterprise.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| p.plan.enterprise.to_string()) }</strong></div>
                            <div class="row">
                                <span class="badge">{ kind_label(l, p.plan.kind) }</span>
                                if p.plan.sealed { <span class="badge warn">{ l.t("密封任务", "Sealed") }</span> }
                                if let Some(d) = &p.plan.due { <span class="muted">{ format!("{} {d}", l.t("截止", "due")) }</span> }
                                <button class="start-plan" onclick={go(Route::Start { plan: Some(p.plan.id.to_string()) })}>{ l.t("开始检查", "Start") }</button>
                            </div>
                        </div>
                    }) }
                </section>
                <section id="drafts">
                    <h3>{ l.t("进行中和草稿", "In progress and drafts") }</h3>
                    if drafts.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
                    { for drafts.into_iter().map(row) }
                </section>
                <section id="returned-list">
                    <h3>{ l.t("被退回的记录", "Returned records") }</h3>
                    if h.returned.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
                    { for h.returned.iter().map(|r| html! {
                        <div class="card returned" id={format!("ret-{}", r.id)}>
                            <strong>{ &r.enterprise_name }</strong>
                            <div class="comment">{ format!("{}：{}", l.t("审核意见", "Supervisor's comment"), r.comment) }</div>
                            <button class="open" onclick={go(Route::Record(r.id.to_string()))}>{ l.t("打开", "Open") }</button>
                        </div>
                    }) }
                </section>
                <section id="hazards-due">
                    <h3>{ l.t("待复查隐患", "Hazards due for re-inspection") }</h3>
                    if h.hazards.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
                    { for h.hazards.iter().map(|d| html! {
                        <div class="card hazard" id={format!("hz-{}", d.row.hazard_id)}>
                            <strong>{ &d.enterprise_name }</strong>{ " · " }{ &d.description }
                            <div class="row">
                                <span class="badge">{ stage_label(l, &d.row.stage) }</span>
                                if let Some(dl) = &d.row.deadline { <span class="muted">{ format!("{} {dl}", l.t("期限", "deadline")) }</span> }
                                <button class="open" onclick={go(Route::Hazard(d.row.inspection_id.to_string(), d.row.hazard_id.clone()))}>{ l.t("复查", "Re-inspect") }</button>
                            </div>
                        </div>
                    }) }
                </section>
            </div>
            <section id="waiting">
                <h3>{ l.t("待同步", "Waiting to sync") }</h3>
                <p>{ format!("{} {} · {} {}", h.sync.pending.records, l.t("条记录", "records"), h.sync.photos_pending, l.t("张照片", "photos")) }</p>
                { for done.into_iter().map(row) }
            </section>
        </>
    }
}

// --- 3./4. find an enterprise, start an inspection -------------------------------------

#[derive(Properties, PartialEq)]
struct StartProps {
    plan: Option<String>,
}

#[function_component]
fn StartScreen(props: &StartProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let query = use_state(String::new);
    let found = use_state(Vec::<Enterprise>::new);
    let chosen = use_state(|| None::<Enterprise>);
    let kind = use_state(|| InspectionKind::Unannounced);
    let colleagues = use_state(Vec::<User>::new);
    let co = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    {
        let (colleagues, chosen, kind, co) =
            (colleagues.clone(), chosen.clone(), kind.clone(), co.clone());
        let plan = props.plan.clone();
        let me = ctx.user.clone();
        use_effect_with(plan, move |plan| {
            let plan = plan.clone();
            spawn_local(async move {
                if let Ok(c) = call(api::GetColleagues {}).await {
                    colleagues.set(c);
                }
                if let Some(p) = plan
                    && let Ok(h) = call(api::GetHome {}).await
                    && let Some(pv) = h.plans.into_iter().find(|x| x.plan.id.as_str() == p)
                {
                    kind.set(pv.plan.kind);
                    chosen.set(pv.enterprise);
                    let other = pv
                        .plan
                        .assigned
                        .iter()
                        .find(|u| me.as_ref().is_none_or(|m| &m.id != *u))
                        .map(ToString::to_string);
                    co.set(other);
                }
            });
        });
    }
    let search = {
        let (query, found) = (query.clone(), found.clone());
        Callback::from(move |e: InputEvent| {
            let q = input_value(&e);
            query.set(q.clone());
            let found = found.clone();
            spawn_local(async move {
                if let Ok(list) = call(api::SearchEnterprises {
                    query: q.to_string(),
                })
                .await
                {
                    found.set(list);
                }
            });
        })
    };
    let start = {
        let (chosen, kind, co, error, go) = (
            chosen.clone(),
            kind.clone(),
            co.clone(),
            error.clone(),
            ctx.go.clone(),
        );
        let plan = props.plan.clone();
        Callback::from(move |_| {
            let Some(e) = (*chosen).clone() else {
                error.set(Some(input_error(
                    "请先选择企业",
                    "choose an enterprise first",
                    "enterprise",
                )));
                return;
            };
            let request = api::StartInspection {
                kind: *kind,
                enterprise: e.id,
                plan: plan.clone().map(PlanId::new),
                co_inspector: (*co).clone().map(UserId::new),
            };
            let (error, go) = (error.clone(), go.clone());
            spawn_local(async move {
                match call(request).await {
                    Ok(id) => go.emit(Route::Record(id.to_string())),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let set_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            // The options' values are the kinds' places in `InspectionKind::ALL`.
            if let Some(k) = v
                .parse::<usize>()
                .ok()
                .and_then(|i| InspectionKind::ALL.get(i).copied())
            {
                kind.set(k);
            }
        })
    };
    let set_co = {
        let co = co.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            co.set((!v.is_empty()).then_some(v));
        })
    };
    html! {
        <>
            <h2>{ l.t("新建检查", "New inspection") }</h2>
            <div class="grid2">
                <div>
                    <label for="search">{ l.t("查找企业（名称、统一社会信用代码或地址）", "Find an enterprise (name, USCC or address)") }</label>
                    <input id="search" value={(*query).clone()} oninput={search} placeholder={l.t("例如：玄武 / 9132… / 红山路", "e.g. name, USCC, street")} />
                    <div id="search-results">
                        { for found.iter().map(|e| {
                            let pick = { let chosen = chosen.clone(); let e2 = e.clone(); Callback::from(move |_| chosen.set(Some(e2.clone()))) };
                            html! {
                                <div class="card enterprise">
                                    <strong>{ &e.name }</strong>
                                    <div class="muted">{ format!("{} · {}", e.uscc, e.address) }</div>
                                    <button id={format!("ent-{}", e.id)} class="secondary" onclick={pick}>{ l.t("选择", "Choose") }</button>
                                </div>
                            }
                        }) }
                    </div>
                </div>
                <div>
                    <label>{ l.t("企业", "Enterprise") }</label>
                    <div id="chosen" class="card">{ chosen.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| l.t("未选择", "none chosen").to_owned()) }</div>
                    { field_error(l, &error, "enterprise") }
                    <label for="kind">{ l.t("检查类型", "Kind") }</label>
                    <select id="kind" onchange={set_kind}>
                        { for InspectionKind::ALL.into_iter().enumerate().map(|(i, k)| html! {
                            <option value={i.to_string()} selected={k == *kind}>{ kind_label(l, k) }</option>
                        }) }
                    </select>
                    <label for="co">{ l.t("同行执法人员", "Co-inspector") }</label>
                    <select id="co" onchange={set_co}>
                        <option value="" selected={co.is_none()}>{ l.t("请选择", "Choose") }</option>
                        { for colleagues.iter().map(|u| html! {
                            <option value={u.id.to_string()} selected={co.as_deref() == Some(u.id.as_str())}>{ &u.name }</option>
                        }) }
                    </select>
                    { field_error(l, &error, "co_inspector") }
                    <div class="row" style="margin-top: 14px">
                        <button id="start" onclick={start}>{ l.t("开始检查", "Start") }</button>
                    </div>
                    { other_error(l, &error, &["enterprise", "co_inspector"]) }
                </div>
            </div>
        </>
    }
}

// --- 4.–6. the record --------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct RecordProps {
    id: String,
}

/// `现场检查记录 （玄武）应急检记〔2026〕1号；责令限期整改指令书 …`, in the order the documents
/// were issued.
fn documents_line(l: Lang, r: &app_core::inspection::Inspection) -> String {
    let mut docs: Vec<_> = r.documents.values().collect();
    docs.sort_by_key(|d| (d.at, d.kind, d.year, d.seq));
    docs.iter()
        .map(|d| format!("{} {}", document_label(l, d.kind), d.number))
        .collect::<Vec<_>>()
        .join(l.t("；", "; "))
}

#[function_component]
fn RecordScreen(props: &RecordProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let view = use_state(|| None::<RecordView>);
    let error = use_state(|| None::<ApiError>);
    {
        let (view, error) = (view.clone(), error.clone());
        use_effect_with(props.id.clone(), move |id| {
            let id = id.clone();
            spawn_local(async move {
                match call(api::GetRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => view.set(Some(v)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let on_view = {
        let view = view.clone();
        Callback::from(move |v: RecordView| view.set(Some(v)))
    };
    let Some(v) = &*view else {
        return html! { <>{ error_view(l, &error) }<p>{ l.t("正在加载…", "Loading…") }</p></> };
    };
    let r = &v.record;
    let go = ctx.go.clone();
    let header = html! {
        <div class="card">
            <div class="row">
                <h2 style="flex: 1; border: none; margin: 0" id="record-title">{ &r.enterprise.name }</h2>
                <span class="badge">{ kind_label(l, r.kind) }</span>
                <span class="badge" id="record-status">{ status_label(l, r.status) }</span>
            </div>
            <div class="muted">{ format!("{} · {} · {}", r.enterprise.uscc, r.enterprise.address, r.inspectors.values().map(|i| i.name.clone()).collect::<Vec<_>>().join("、")) }</div>
            <div id="record-numbers" class="muted">
                { l.t("文号：", "Document numbers (文号): ") }
                if r.documents.is_empty() {
                    { l.t("签署时自动编号", "issued automatically at signing") }
                } else {
                    { documents_line(l, r) }
                }
            </div>
            if let Some(review) = &r.review {
                <div id="review-comment" class={classes!("card", (r.status == InspectionStatus::Returned).then_some("returned"))}>
                    { format!("{}：{}", l.t("审核意见", "Supervisor's comment"), review.comment) }
                </div>
            }
        </div>
    };
    if r.status == InspectionStatus::Draft {
        return html! { <>{ header }<Arrival view={v.clone()} on_view={on_view} /></> };
    }
    let editable = r.status.allows_content_edits();
    let hazards = html! {
        <section id="hazards">
            <h3>{ l.t("隐患", "Hazards") }</h3>
            if r.hazards.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
            { for r.hazards.values().map(|h| {
                let open = { let go = go.clone(); let (rid, hid) = (r.id.to_string(), h.id.to_string()); Callback::from(move |_| go.emit(Route::Hazard(rid.clone(), hid.clone()))) };
                html! {
                    <div class="card hazard">
                        <strong>{ match h.level { HazardLevel::Major => l.t("重大事故隐患", "Major hazard"), HazardLevel::General => l.t("一般隐患", "General hazard") } }</strong>
                        { " · " }{ &h.description }
                        <div class="row">
                            <span class="badge">{ stage_label(l, h.stage.as_str()) }</span>
                            if let Some(d) = h.deadline { <span class="muted">{ format!("{} {d}", l.t("整改期限", "deadline")) }</span> }
                            <button class="secondary" onclick={open}>{ l.t("详情 / 复查", "Details / re-inspect") }</button>
                        </div>
                    </div>
                }
            }) }
        </section>
    };
    html! {
        <>
            { header }
            { error_view(l, &error) }
            <section id="checklist">
                <h3>{ format!("{} · {} v{}", l.t("检查表", "Checklist"), v.template.name, v.template.version) }</h3>
                { for v.template.categories.iter().map(|c| html! {
                    <div class="category">
                        <h3>{ &c.name }</h3>
                        { for c.items.iter().map(|item| html! {
                            <ItemRow key={item.code.to_string()} code={item.code.to_string()} view={v.clone()} on_view={on_view.clone()} editable={editable} />
                        }) }
                    </div>
                }) }
            </section>
            { hazards }
            <Signing view={v.clone()} on_view={on_view.clone()} />
            if let Some(latest) = v.signed.iter().max_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id))) {
                <CaseFileExport id={r.id.to_string()} version={latest.id.clone()}
                    documents={{ let mut d: Vec<_> = r.documents.values().map(|d| (d.kind, d.number.clone())).collect(); d.sort(); d }} />
            }
        </>
    }
}

// --- 6b. the case file (电子案卷) ---------------------------------------------------------

#[derive(Properties, PartialEq)]
struct ExportProps {
    id: String,
    /// The latest signed version: the one exported.
    version: String,
    /// The document numbers (文号) issued in the record, with their documents.
    documents: Vec<(DocumentKind, String)>,
}

/// Exports the record's latest signed version as a signed case file (on the tablet, in the
/// app's `exports` folder): a button, the progress while it runs (read every 300 ms), then
/// where the file is, its size and SHA-256, or why it failed, next to the button.
#[function_component]
fn CaseFileExport(props: &ExportProps) -> Html {
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

// --- 4. arrival proof (四不两直) ---------------------------------------------------------

#[derive(Properties, PartialEq)]
struct ViewProps {
    view: RecordView,
    on_view: Callback<RecordView>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ArrivalDraft {
    lat: String,
    lon: String,
    from_device: bool,
    photo: Option<String>,
    thumb: Option<String>,
}

#[function_component]
fn Arrival(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let id = r.id.to_string();
    let (draft, _) = use_draft::<ArrivalDraft>(format!("arrival:{id}"));
    let error = use_state(|| None::<ApiError>);
    let unannounced = r.kind == InspectionKind::Unannounced;
    let locate = {
        let (draft, error) = (draft.clone(), error.clone());
        Callback::from(move |_| {
            let (draft, error) = (draft.clone(), error.clone());
            spawn_local(async move {
                match crate::bridge::position(5000).await {
                    Some((lat, lon)) => draft.set(ArrivalDraft {
                        lat: format!("{lat:.6}"),
                        lon: format!("{lon:.6}"),
                        from_device: true,
                        ..(*draft).clone()
                    }),
                    None => error.set(Some(input_error(
                        "本机无法定位，请手动输入经纬度（将标记为手动录入）",
                        "no position from this device: enter it by hand (marked as manual)",
                        "position",
                    ))),
                }
            });
        })
    };
    let set_lat = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ArrivalDraft {
                lat: input_value(&e),
                from_device: false,
                ..(*draft).clone()
            })
        })
    };
    let set_lon = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ArrivalDraft {
                lon: input_value(&e),
                from_device: false,
                ..(*draft).clone()
            })
        })
    };
    let photo = {
        let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
            spawn_local(async move {
                let args = PhotoArgs {
                    id: InspectionId::new(id.clone()),
                    link: PhotoLink::Loose,
                };
                match send_photo(&file, &args).await {
                    Ok(p) => {
                        error.set(None);
                        draft.set(ArrivalDraft {
                            photo: Some(p.sha256.to_string()),
                            thumb: Some(p.thumb),
                            ..(*draft).clone()
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let attest = |which: u8| {
        let (id, error, on_view) = (id.clone(), error.clone(), props.on_view.clone());
        Callback::from(move |_: Event| {
            // Both boxes as they are on screen now (a quick second tap must not undo the first).
            let checked = |id: &str| {
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(id))
                    .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
                    .is_some_and(|i| i.checked())
            };
            let _ = which;
            let a = Attestations {
                no_notice_given: checked("att-notice"),
                no_escort_accepted: checked("att-escort"),
            };
            send(
                id.clone(),
                Command::SetAttestations(a),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let confirm = {
        let (draft, error, id, on_view) = (
            draft.clone(),
            error.clone(),
            id.clone(),
            props.on_view.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            let (error, id, on_view) = (error.clone(), id.clone(), on_view.clone());
            spawn_local(async move {
                if unannounced {
                    let (Ok(lat), Ok(lon)) =
                        (d.lat.trim().parse::<f64>(), d.lon.trim().parse::<f64>())
                    else {
                        error.set(Some(input_error(
                            "请填写到达位置（纬度、经度为数字）",
                            "enter the arrival position (latitude and longitude as numbers)",
                            "position",
                        )));
                        return;
                    };
                    let source = if d.from_device {
                        PositionSource::Device
                    } else {
                        PositionSource::Manual
                    };
                    let Ok(position) = Position::new(lat, lon, source) else {
                        error.set(Some(input_error(
                            "位置超出范围：纬度 −90～90，经度 −180～180",
                            "position out of range: latitude −90..90, longitude −180..180",
                            "position",
                        )));
                        return;
                    };
                    let Some(photo) = d.photo.as_deref().and_then(|p| Sha256Hex::parse(p).ok())
                    else {
                        error.set(Some(input_error(
                            "请拍摄或选择企业入口照片",
                            "take or choose the entrance photo",
                            "photo",
                        )));
                        return;
                    };
                    let proof = ArrivalProof {
                        at: Timestamp(now_ms()),
                        position,
                        entrance_photo: photo,
                    };
                    if let Err(e) = call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: Command::SetArrival(proof),
                    })
                    .await
                    {
                        error.set(Some(e));
                        return;
                    }
                }
                let go_on_site = Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                };
                match call(api::ApplyCommand {
                    id: InspectionId::new(id.clone()),
                    command: go_on_site,
                })
                .await
                {
                    Ok(v) => {
                        drop_draft(format!("arrival:{id}"));
                        on_view.emit(v);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section id="arrival" class="card">
            <h3>{ if unannounced { l.t("第一步：到达凭证（四不两直）", "Step 1: arrival proof (unannounced)") } else { l.t("开始现场检查", "Start on site") } }</h3>
            if unannounced {
                <p>{ format!("{}：{}", l.t("到达时间（确认时记录）", "Arrival time (recorded on confirm)"), Timestamp(now_ms()).display_shanghai()) }</p>
                <div class="grid2">
                    <div>
                        <label>{ l.t("到达位置", "Arrival position") }</label>
                        <div class="row">
                            <input id="lat" placeholder={l.t("纬度", "latitude")} value={draft.lat.clone()} oninput={set_lat} style="width: 45%" />
                            <input id="lon" placeholder={l.t("经度", "longitude")} value={draft.lon.clone()} oninput={set_lon} style="width: 45%" />
                        </div>
                        <div class="row">
                            <button id="locate" class="secondary" onclick={locate}>{ l.t("获取设备定位", "Use device position") }</button>
                            <span id="position-source" class="muted">{ if draft.from_device { l.t("来源：设备定位", "source: device") } else { l.t("来源：手动录入", "source: entered by hand") } }</span>
                        </div>
                        { field_error(l, &error, "position") }
                    </div>
                    <div>
                        <label for="entrance-photo">{ l.t("企业入口照片", "Entrance photo") }</label>
                        <div class="file"><input id="entrance-photo" type="file" accept="image/*" capture="environment" onchange={photo} /></div>
                        if let Some(t) = &draft.thumb { <div class="thumbs"><img id="entrance-thumb" src={t.clone()} alt="entrance" /></div> }
                        { field_error(l, &error, "photo") }
                    </div>
                </div>
                <label><input id="att-notice" type="checkbox" style="width: auto; min-height: 0" checked={r.attestations.no_notice_given} onchange={attest(0)} />{ l.t(" 本次检查未提前通知", " No notice was given") }</label>
                <label><input id="att-escort" type="checkbox" style="width: auto; min-height: 0" checked={r.attestations.no_escort_accepted} onchange={attest(1)} />{ l.t(" 未接受陪同和接待", " No escort or hospitality accepted") }</label>
            }
            <p class="muted">{ format!("{}：{}", l.t("执法人员", "Inspectors"), r.inspectors.values().map(|i| format!("{}（{}）", i.name, i.certificate.as_str())).collect::<Vec<_>>().join("、")) }</p>
            <div class="row"><button id="arrive" onclick={confirm}>{ l.t("确认到达，开始检查", "Confirm arrival and start") }</button></div>
            { other_error(l, &error, &["position", "photo"]) }
        </section>
    }
}

// --- 5. checklist item -------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct ItemProps {
    code: String,
    view: RecordView,
    on_view: Callback<RecordView>,
    editable: bool,
}

#[function_component]
fn ItemRow(props: &ItemProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let code = ItemCode::new(props.code.clone());
    let r = &props.view.record;
    let id = r.id.to_string();
    let item = props
        .view
        .template
        .item(&code)
        .cloned()
        .expect("item of the template");
    let result = r.results.get(&code).cloned().unwrap_or_default();
    let note = use_state(|| result.note.clone());
    let error = use_state(|| None::<ApiError>);
    let show_hazard = use_state(|| false);
    let timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = use_mut_ref(|| None);
    let answer = |a: Answer| {
        let (id, code, on_view, error) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            error.clone(),
        );
        let current = result.answer;
        Callback::from(move |_| {
            // Tapping the chosen answer again clears it.
            let answer = if current == Some(a) { None } else { Some(a) };
            send(
                id.clone(),
                Command::Answer {
                    item: code.clone(),
                    answer,
                },
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let save_note = {
        let (id, code, on_view, error) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            error.clone(),
        );
        Rc::new(move |text: String| {
            send(
                id.clone(),
                Command::SetNote {
                    item: code.clone(),
                    text,
                },
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let on_note = {
        let (note, timer, save) = (note.clone(), timer.clone(), save_note.clone());
        Callback::from(move |e: InputEvent| {
            let text = area_value(&e);
            note.set(text.clone());
            let save = save.clone();
            // Saved 400 ms after the last keystroke, and at once on blur.
            *timer.borrow_mut() =
                Some(gloo_timers::callback::Timeout::new(400, move || save(text)));
        })
    };
    let on_blur = {
        let (note, timer, save) = (note.clone(), timer.clone(), save_note.clone());
        let stored = result.note.clone();
        Callback::from(move |_: FocusEvent| {
            if let Some(t) = timer.borrow_mut().take() {
                t.cancel();
            }
            if *note != stored {
                save((*note).clone());
            }
        })
    };
    let photo = {
        let (id, code, on_view, error) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            error.clone(),
        );
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let (id, code, on_view, error) =
                (id.clone(), code.clone(), on_view.clone(), error.clone());
            spawn_local(async move {
                let args = PhotoArgs {
                    id: InspectionId::new(id.clone()),
                    link: PhotoLink::Item(code.clone()),
                };
                match send_photo(&file, &args).await {
                    Ok(_) => match call(api::GetRecord {
                        id: InspectionId::new(id.clone()),
                    })
                    .await
                    {
                        Ok(v) => {
                            error.set(None);
                            on_view.emit(v)
                        }
                        Err(e) => error.set(Some(e)),
                    },
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let has_hazard = r.hazards.values().any(|h| h.item.as_ref() == Some(&code));
    let btn = |a: Answer, class: &'static str| {
        html! {
            <button class={classes!(format!("ans-{class}"), class, (result.answer == Some(a)).then_some("on"))}
                disabled={!props.editable} onclick={answer(a)}>{ match l { Lang::Zh => a.label_zh(), Lang::En => match a { Answer::Complies => "Complies", Answer::Fails => "Fails", Answer::NotApplicable => "N/A" } } }</button>
        }
    };
    let toggle_hazard = {
        let show = show_hazard.clone();
        Callback::from(move |_| show.set(!*show))
    };
    html! {
        <div class="item" id={format!("item-{}", props.code)}>
            <div><strong>{ format!("{} ", item.code) }</strong>{ &item.text }
                if item.is_major_hazard() { <span class="badge warn">{ l.t("重大隐患判定项", "major-hazard item") }</span> }
            </div>
            <div class="basis">{ format!("{}：{}", l.t("依据", "Basis"), item.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")) }</div>
            <div class="row answers">
                { btn(Answer::Complies, "complies") }
                { btn(Answer::Fails, "fails") }
                { btn(Answer::NotApplicable, "not_applicable") }
                <span class="file"><input class="item-photo" type="file" accept="image/*" capture="environment" disabled={!props.editable} onchange={photo} /></span>
            </div>
            <textarea class="note" placeholder={l.t("备注（自动保存）", "Note (saved as you type)")} value={(*note).clone()} oninput={on_note} onblur={on_blur} disabled={!props.editable} />
            <div class="thumbs">
                { for result.photos.keys().filter_map(|s| props.view.thumbs.get(s.as_str())).map(|t| html! { <img class="item-thumb" src={t.clone()} alt="photo" /> }) }
            </div>
            { error_view(l, &error) }
            if result.answer == Some(Answer::Fails) && props.editable {
                if has_hazard {
                    <div class="ok">{ l.t("已登记隐患", "Hazard registered") }</div>
                } else {
                    <button class="new-hazard secondary" onclick={toggle_hazard}>{ l.t("登记隐患", "Register a hazard") }</button>
                    if *show_hazard {
                        <HazardForm code={props.code.clone()} view={props.view.clone()} on_view={props.on_view.clone()} />
                    }
                }
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct HazardFormProps {
    code: String,
    view: RecordView,
    on_view: Callback<RecordView>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct HazardDraft {
    started: bool,
    major: bool,
    description: String,
    place: String,
    measures: String,
    deadline: String,
    sv_level: String,
    sv_responsible: String,
}

/// A hazard prefilled from a failed item: level and legal basis from the template, with
/// measures and a deadline (责令限期整改).
#[function_component]
fn HazardForm(props: &HazardFormProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let id = props.view.record.id.to_string();
    let code = ItemCode::new(props.code.clone());
    let item = props.view.template.item(&code).cloned().expect("item");
    let key = format!("hazard:{id}:{}", props.code);
    let (draft, loaded) = use_draft::<HazardDraft>(key.clone());
    let error = use_state(|| None::<ApiError>);
    // Prefill once from the item.
    if loaded && !draft.started {
        let note = props
            .view
            .record
            .results
            .get(&code)
            .map(|r| r.note.clone())
            .unwrap_or_default();
        draft.set(HazardDraft {
            started: true,
            major: item.is_major_hazard(),
            description: if note.trim().is_empty() {
                item.text.clone()
            } else {
                note
            },
            deadline: today().plus_days(15).to_string(),
            sv_level: "县级".into(),
            ..HazardDraft::default()
        });
    }
    if !(loaded && draft.started) {
        // The saved draft is still loading (or the prefill above is being applied): showing
        // empty fields now would invite typing that the prefill then overwrites.
        return html! { <div class="hazard-form loading">{ l.t("正在载入…", "Loading…") }</div> };
    }
    let field = |f: fn(&mut HazardDraft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            let t: web_sys::HtmlElement = e.target_unchecked_into();
            let value = match t.dyn_ref::<HtmlTextAreaElement>() {
                Some(a) => a.value(),
                None => t.unchecked_into::<HtmlInputElement>().value(),
            };
            f(&mut d, value);
            draft.set(d);
        })
    };
    let set_level = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            draft.set(HazardDraft {
                major: select_value(&e) == "major",
                ..(*draft).clone()
            })
        })
    };
    let submit = {
        let (draft, error, on_view, user) = (
            draft.clone(),
            error.clone(),
            props.on_view.clone(),
            ctx.user.clone(),
        );
        let (id, code, item) = (id.clone(), code.clone(), item.clone());
        Callback::from(move |_| {
            let d = (*draft).clone();
            let Ok(deadline) = Day::parse(d.deadline.trim()) else {
                error.set(Some(input_error(
                    "整改期限格式应为 年-月-日，例如 2026-12-31",
                    "the deadline must be a date, e.g. 2026-12-31",
                    "deadline",
                )));
                return;
            };
            if d.measures.trim().is_empty() {
                error.set(Some(input_error(
                    "请填写整改措施",
                    "enter the rectification measures",
                    "measures",
                )));
                return;
            }
            let hid = HazardId::new(unique("hz"));
            let hazard = Hazard {
                id: hid.clone(),
                item: Some(code.clone()),
                level: if d.major {
                    HazardLevel::Major
                } else {
                    HazardLevel::General
                },
                description: d.description.clone(),
                place: d.place.clone(),
                basis: item.basis.clone(),
                photos: BTreeMap::new(),
                measures: String::new(),
                deadline: None,
                stage: HazardStage::Registered,
                supervision: None,
                registered_on: today(),
                reported_on: None,
                reinspections: BTreeMap::new(),
                closed_on: None,
            };
            let mut commands = vec![Command::RegisterHazard(hazard)];
            if d.major {
                commands.push(Command::Hazard {
                    hazard: hid.clone(),
                    action: HazardAction::ListForSupervision(Supervision {
                        level: d.sv_level.clone(),
                        responsible: d.sv_responsible.clone(),
                        listed_on: today(),
                    }),
                });
            }
            commands.push(Command::Hazard {
                hazard: hid.clone(),
                action: HazardAction::Order {
                    deadline,
                    measures: d.measures.clone(),
                },
            });
            let _ = &user;
            let (error, on_view, id) = (error.clone(), on_view.clone(), id.clone());
            let key = format!("hazard:{id}:{code}");
            spawn_local(async move {
                let mut last = None;
                for c in commands {
                    match call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: c,
                    })
                    .await
                    {
                        Ok(v) => last = Some(v),
                        Err(e) => {
                            error.set(Some(e));
                            if let Some(v) = last {
                                on_view.emit(v);
                            }
                            return;
                        }
                    }
                }
                drop_draft(key);
                if let Some(v) = last {
                    on_view.emit(v);
                }
            });
        })
    };
    html! {
        <div class="card hazard-form">
            <h3>{ l.t("登记隐患并责令整改", "Register the hazard and order rectification") }</h3>
            <div class="basis">{ format!("{}：{}", l.t("法律依据", "Legal basis"), item.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")) }</div>
            <label>{ l.t("隐患级别", "Level") }</label>
            <select id="hz-level" onchange={set_level}>
                <option value="general" selected={!draft.major}>{ l.t("一般隐患", "General") }</option>
                <option value="major" selected={draft.major}>{ l.t("重大事故隐患", "Major") }</option>
            </select>
            <label>{ l.t("隐患描述", "Description") }</label>
            <textarea id="hz-description" value={draft.description.clone()} oninput={field(|d, v| d.description = v)} />
            { field_error(l, &error, "description") }
            <label>{ l.t("隐患部位", "Place") }</label>
            <input id="hz-place" value={draft.place.clone()} oninput={field(|d, v| d.place = v)} />
            <label>{ l.t("整改措施", "Measures") }</label>
            <textarea id="hz-measures" value={draft.measures.clone()} oninput={field(|d, v| d.measures = v)} />
            { field_error(l, &error, "measures") }
            <label>{ l.t("整改期限", "Deadline") }</label>
            <input id="hz-deadline" type="date" value={draft.deadline.clone()} oninput={field(|d, v| d.deadline = v)} />
            { field_error(l, &error, "deadline") }
            if draft.major {
                <label>{ l.t("挂牌督办级别", "Listed for supervision by") }</label>
                <input id="hz-sv-level" value={draft.sv_level.clone()} oninput={field(|d, v| d.sv_level = v)} />
                <label>{ l.t("督办责任人", "Responsible person") }</label>
                <input id="hz-sv-responsible" value={draft.sv_responsible.clone()} oninput={field(|d, v| d.sv_responsible = v)} />
                { field_error(l, &error, "supervision") }
            }
            <div class="row" style="margin-top: 10px"><button id="hz-submit" onclick={submit}>{ l.t("登记隐患", "Register") }</button></div>
            { other_error(l, &error, &["description", "measures", "deadline", "supervision"]) }
        </div>
    }
}

// --- 6. on-site person, signatures, completion -------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct PersonDraft {
    started: bool,
    name: String,
    position: String,
    phone: String,
    witness: String,
    refusal_note: String,
}

#[function_component]
fn Signing(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let id = r.id.to_string();
    let (draft, loaded) = use_draft::<PersonDraft>(format!("person:{id}"));
    let error = use_state(|| None::<ApiError>);
    if loaded
        && !draft.started
        && let Some(p) = &r.onsite_person
    {
        draft.set(PersonDraft {
            started: true,
            name: p.name.clone(),
            position: p.position.clone(),
            phone: p.phone.clone(),
            ..(*draft).clone()
        });
    }
    let field = |f: fn(&mut PersonDraft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            d.started = true;
            f(&mut d, input_value(&e));
            draft.set(d);
        })
    };
    let save_person = {
        let (draft, error, on_view, id) = (
            draft.clone(),
            error.clone(),
            props.on_view.clone(),
            id.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            if d.name.trim().is_empty() {
                error.set(Some(input_error(
                    "请填写现场负责人姓名",
                    "enter the on-site person's name",
                    "person",
                )));
                return;
            }
            send(
                id.clone(),
                Command::SetOnsitePerson(OnsitePerson {
                    name: d.name.trim().to_owned(),
                    position: d.position.trim().to_owned(),
                    phone: d.phone.trim().to_owned(),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let sign = |signer: Signer, name: String| {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |image: String| {
            let Ok(image) = Sha256Hex::parse(&image) else {
                return;
            };
            send(
                id.clone(),
                Command::Sign(Signature {
                    signer: signer.clone(),
                    name: name.clone(),
                    outcome: SignOutcome::Signed { image },
                    at: Timestamp(now_ms()),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let refuse = {
        let (draft, id, on_view, error) = (
            draft.clone(),
            id.clone(),
            props.on_view.clone(),
            error.clone(),
        );
        let name = r
            .onsite_person
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Callback::from(move |_| {
            let d = (*draft).clone();
            if d.witness.trim().is_empty() {
                error.set(Some(input_error(
                    "拒绝签字须填写见证人",
                    "a refusal to sign needs a witness",
                    "witness",
                )));
                return;
            }
            send(
                id.clone(),
                Command::Sign(Signature {
                    signer: Signer::Enterprise,
                    name: name.clone(),
                    outcome: SignOutcome::Refused {
                        witness: d.witness.trim().to_owned(),
                        note: d.refusal_note.trim().to_owned(),
                    },
                    at: Timestamp(now_ms()),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let complete = {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |_| {
            let (id, on_view, error) = (id.clone(), on_view.clone(), error.clone());
            spawn_local(async move {
                match call(api::CompleteRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => {
                        error.set(None);
                        drop_draft(format!("person:{id}"));
                        on_view.emit(v);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let submit = {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |_| {
            send(
                id.clone(),
                Command::Transition {
                    to: InspectionStatus::Submitted,
                    comment: String::new(),
                },
                on_view.clone(),
                error.clone(),
            )
        })
    };
    let editable = r.status.allows_content_edits();
    let signed_since_edit = match (r.signed_versions.values().map(|v| v.at).max(), &r.review) {
        (Some(at), Some(review)) => at >= review.at,
        (Some(_), None) => true,
        _ => false,
    };
    // Changed since the latest signature: amendments to sign again before submitting.
    let amended = props
        .view
        .signed
        .iter()
        .max_by_key(|s| s.at)
        .is_some_and(|s| !s.amendments.is_empty());
    let can_sign = r.status == InspectionStatus::OnSite
        || (matches!(
            r.status,
            InspectionStatus::Completed | InspectionStatus::Returned
        ) && (!signed_since_edit || amended));
    let enterprise_name = r
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let missing = props.view.numbers_missing();
    let this_year = props.view.numbers.iter().map(|s| s.year).min();
    let stock_of = |k: DocumentKind| {
        props
            .view
            .numbers
            .iter()
            .find(|s| s.kind == k && Some(s.year) == this_year)
            .map(|s| s.remaining)
    };
    html! {
        <section id="signing">
            <h3>{ l.t("现场负责人与签名", "On-site person and signatures") }</h3>
            <div class="grid2">
                <div>
                    <label for="op-name">{ l.t("现场负责人姓名", "Name") }</label>
                    <input id="op-name" value={draft.name.clone()} oninput={field(|d, v| d.name = v)} disabled={!editable} />
                    <label for="op-position">{ l.t("职务", "Position") }</label>
                    <input id="op-position" value={draft.position.clone()} oninput={field(|d, v| d.position = v)} disabled={!editable} />
                    <label for="op-phone">{ l.t("联系电话", "Phone") }</label>
                    <input id="op-phone" value={draft.phone.clone()} oninput={field(|d, v| d.phone = v)} disabled={!editable} />
                    { field_error(l, &error, "person") }
                    <div class="row" style="margin-top: 8px">
                        <button id="op-save" class="secondary" onclick={save_person} disabled={!editable}>{ l.t("保存现场负责人", "Save on-site person") }</button>
                        if r.onsite_person.is_some() { <span class="ok">{ l.t("已保存", "Saved") }</span> }
                    </div>
                </div>
                <div>
                    { for r.inspectors.values().map(|i| {
                        let signer = Signer::Inspector(i.user.clone());
                        let done = r.signatures.contains_key(&signer.key());
                        html! {
                            <SignPad pad_id={format!("inspector-{}", i.user)} title={format!("{}：{}", l.t("执法人员签名", "Inspector"), i.name)}
                                done={done} enabled={editable} on_signed={sign(signer, i.name.clone())} />
                        }
                    }) }
                    if r.onsite_person.is_some() {
                        <SignPad pad_id="enterprise" title={format!("{}：{}", l.t("企业现场负责人签名", "Enterprise"), enterprise_name)}
                            done={r.signatures.contains_key(&Signer::Enterprise.key())} enabled={editable} on_signed={sign(Signer::Enterprise, enterprise_name.clone())} />
                        if !r.signatures.contains_key(&Signer::Enterprise.key()) {
                            <div class="card">
                                <strong>{ l.t("拒绝签字", "Refused to sign") }</strong>
                                <label for="refuse-witness">{ l.t("见证人", "Witness") }</label>
                                <input id="refuse-witness" value={draft.witness.clone()} oninput={field(|d, v| d.witness = v)} />
                                { field_error(l, &error, "witness") }
                                <label for="refuse-note">{ l.t("情况说明", "Note") }</label>
                                <input id="refuse-note" value={draft.refusal_note.clone()} oninput={field(|d, v| d.refusal_note = v)} />
                                <button id="refuse" class="secondary" onclick={refuse}>{ l.t("记录拒签", "Record the refusal") }</button>
                            </div>
                        } else if let Some(Signature { outcome: SignOutcome::Refused { witness, .. }, .. }) = r.signatures.get(&Signer::Enterprise.key()) {
                            <div class="card">{ format!("{}（{}：{witness}）", l.t("企业拒绝签字", "The enterprise refused to sign"), l.t("见证人", "witness")) }</div>
                        }
                    }
                </div>
            </div>
            if can_sign && !props.view.to_number.is_empty() {
                <div id="numbers-at-signing" class={classes!("muted", (!missing.is_empty()).then_some("error"))}>
                    { format!("{}{}", l.t("签署时将自动编文号：", "Signing issues the document numbers (文号) of: "),
                        props.view.to_number.iter().map(|k| format!("{}{}", document_label(l, *k),
                            stock_of(*k).map(|n| format!("{}{n}{}", l.t("（本机余 ", " ("), l.t(" 个）", " left)"))).unwrap_or_default()))
                            .collect::<Vec<_>>().join(l.t("、", ", "))) }
                    if !missing.is_empty() {
                        <div>{ l.t("本机已无可用编号，请先联网同步再签署。", "No numbers left on this tablet: sync before signing.") }</div>
                    }
                </div>
            }
            <div class="row" style="margin-top: 14px">
                if can_sign {
                    <button id="complete" onclick={complete}>{ l.t("完成检查并签署记录", "Complete and sign the record") }</button>
                }
                if matches!(r.status, InspectionStatus::Completed | InspectionStatus::Returned) && signed_since_edit {
                    <button id="submit" onclick={submit}>{ l.t("提交审核", "Submit for review") }</button>
                }
            </div>
            { other_error(l, &error, &["person", "witness"]) }
            if !props.view.signed.is_empty() {
                <div id="signed" class="card">
                    <h3>{ l.t("已签署版本", "Signed versions") }</h3>
                    { for props.view.signed.iter().map(|s| html! {
                        <div class="signed-version">
                            <strong>{ format!("{} · {}", s.id, s.at.display_shanghai()) }</strong>
                            <div class="muted">{ format!("SHA-256 {}", s.content_hash) }</div>
                            <div>{ if s.verified { l.t("签署内容已冻结并校验一致", "Signed content frozen and verified") } else { l.t("签署内容校验失败", "Signed content does not verify") } }</div>
                            if s.amendments.is_empty() {
                                <div class="muted amendments">{ l.t("签署后无修改", "No changes since signing") }</div>
                            } else {
                                <div class="amendments">{ format!("{}：{}", l.t("签署后的修改（补正）", "Amendments since signing"), s.amendments.join("、")) }</div>
                            }
                        </div>
                    }) }
                </div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PadProps {
    pad_id: String,
    title: String,
    done: bool,
    enabled: bool,
    on_signed: Callback<String>,
}

#[derive(Default)]
struct Ink {
    drawing: bool,
    last: Option<(f64, f64)>,
    strokes: u32,
}

/// A signature pad: strokes drawn with pointer events (finger, pen or mouse), exported as
/// PNG and stored as a blob whose SHA-256 the signature names.
#[function_component]
fn SignPad(props: &PadProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let canvas = use_node_ref();
    let ink: Rc<RefCell<Ink>> = use_mut_ref(Ink::default);
    let error = use_state(|| None::<ApiError>);
    let point = |canvas: &HtmlCanvasElement, e: &PointerEvent| {
        let rect = canvas.get_bounding_client_rect();
        let sx = canvas.width() as f64 / rect.width().max(1.0);
        let sy = canvas.height() as f64 / rect.height().max(1.0);
        (
            (e.client_x() as f64 - rect.left()) * sx,
            (e.client_y() as f64 - rect.top()) * sy,
        )
    };
    let context = |canvas: &HtmlCanvasElement| {
        canvas
            .get_context("2d")
            .ok()
            .flatten()
            .map(|c| c.unchecked_into::<web_sys::CanvasRenderingContext2d>())
    };
    let down = {
        let (canvas, ink) = (canvas.clone(), ink.clone());
        Callback::from(move |e: PointerEvent| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                e.prevent_default();
                let mut ink = ink.borrow_mut();
                ink.drawing = true;
                ink.last = Some(point(&c, &e));
            }
        })
    };
    let mv = {
        let (canvas, ink) = (canvas.clone(), ink.clone());
        Callback::from(move |e: PointerEvent| {
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let mut ink = ink.borrow_mut();
            if !ink.drawing {
                return;
            }
            let p = point(&c, &e);
            if let (Some(cx), Some(last)) = (context(&c), ink.last) {
                cx.set_line_width(3.0);
                cx.set_line_cap("round");
                cx.begin_path();
                cx.move_to(last.0, last.1);
                cx.line_to(p.0, p.1);
                cx.stroke();
                ink.strokes += 1;
            }
            ink.last = Some(p);
        })
    };
    let up = {
        let ink = ink.clone();
        Callback::from(move |_: PointerEvent| {
            let mut ink = ink.borrow_mut();
            ink.drawing = false;
            ink.last = None;
        })
    };
    let clear = {
        let (canvas, ink) = (canvas.clone(), ink.clone());
        Callback::from(move |_| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>()
                && let Some(cx) = context(&c)
            {
                cx.clear_rect(0.0, 0.0, c.width() as f64, c.height() as f64);
            }
            *ink.borrow_mut() = Ink::default();
        })
    };
    let confirm = {
        let (canvas, ink, error, done) = (
            canvas.clone(),
            ink.clone(),
            error.clone(),
            props.on_signed.clone(),
        );
        Callback::from(move |_| {
            if ink.borrow().strokes < 2 {
                error.set(Some(input_error(
                    "请先在框内签名",
                    "sign in the box first",
                    "signature",
                )));
                return;
            }
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let (error, done) = (error.clone(), done.clone());
            spawn_local(async move {
                match send_signature(&c).await {
                    Ok(sha) => {
                        error.set(None);
                        done.emit(sha.to_string())
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <div class="card pad" id={format!("pad-{}", props.pad_id)}>
            <strong>{ &props.title }</strong>
            if props.done {
                <div class="ok signed-mark">{ l.t("已签名", "Signed") }</div>
            } else if props.enabled {
                <canvas ref={canvas} class="pad" width="560" height="180"
                    onpointerdown={down} onpointermove={mv} onpointerup={up.clone()} onpointerleave={up} />
                <div class="row">
                    <button class="sign-confirm" id={format!("sign-{}", props.pad_id)} onclick={confirm}>{ l.t("确认签名", "Confirm signature") }</button>
                    <button class="secondary" onclick={clear}>{ l.t("重签", "Clear") }</button>
                </div>
                { error_view(l, &error) }
            }
        </div>
    }
}

// --- 7. re-inspection of a hazard --------------------------------------------------------

#[derive(Properties, PartialEq)]
struct HazardProps {
    id: String,
    hazard: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ReinspectDraft {
    passed: Option<bool>,
    note: String,
    new_deadline: String,
    photos: Vec<(String, String)>,
}

#[function_component]
fn HazardScreen(props: &HazardProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let view = use_state(|| None::<RecordView>);
    let error = use_state(|| None::<ApiError>);
    let (draft, _) =
        use_draft::<ReinspectDraft>(format!("reinspect:{}:{}", props.id, props.hazard));
    {
        let (view, error) = (view.clone(), error.clone());
        use_effect_with(props.id.clone(), move |id| {
            let id = id.clone();
            spawn_local(async move {
                match call(api::GetRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => view.set(Some(v)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let on_view = {
        let view = view.clone();
        Callback::from(move |v: RecordView| view.set(Some(v)))
    };
    let Some(v) = &*view else {
        return html! { <>{ error_view(l, &error) }<p>{ l.t("正在加载…", "Loading…") }</p></> };
    };
    let hid = HazardId::new(props.hazard.clone());
    let Some(h) = v.record.hazards.get(&hid).cloned() else {
        return html! { <p class="error">{ l.t("记录中没有该隐患", "No such hazard") }</p> };
    };
    let id = props.id.clone();
    let act = |action: HazardAction| {
        let (id, hid, on_view, error) = (id.clone(), hid.clone(), on_view.clone(), error.clone());
        Callback::from(move |_| {
            send(
                id.clone(),
                Command::Hazard {
                    hazard: hid.clone(),
                    action: action.clone(),
                },
                on_view.clone(),
                error.clone(),
            )
        })
    };
    let photo = {
        let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
            spawn_local(async move {
                match send_photo(
                    &file,
                    &PhotoArgs {
                        id: InspectionId::new(id.clone()),
                        link: PhotoLink::Loose,
                    },
                )
                .await
                {
                    Ok(p) => {
                        let mut d = (*draft).clone();
                        d.photos.push((p.sha256.to_string(), p.thumb));
                        draft.set(d);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let set_passed = |p: bool| {
        let draft = draft.clone();
        Callback::from(move |_| {
            draft.set(ReinspectDraft {
                passed: Some(p),
                ..(*draft).clone()
            })
        })
    };
    let set_note = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ReinspectDraft {
                note: area_value(&e),
                ..(*draft).clone()
            })
        })
    };
    let set_deadline = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ReinspectDraft {
                new_deadline: input_value(&e),
                ..(*draft).clone()
            })
        })
    };
    let submit = {
        let (draft, error, id, hid, on_view, user) = (
            draft.clone(),
            error.clone(),
            id.clone(),
            hid.clone(),
            on_view.clone(),
            ctx.user.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            let Some(passed) = d.passed else {
                error.set(Some(input_error(
                    "请选择复查结论：通过或不通过",
                    "choose the outcome: pass or fail",
                    "outcome",
                )));
                return;
            };
            let new_deadline = if passed {
                None
            } else {
                match Day::parse(d.new_deadline.trim()) {
                    Ok(day) => Some(day),
                    Err(_) => {
                        error.set(Some(input_error(
                            "复查不通过须填写新的整改期限（年-月-日）",
                            "a failed re-inspection needs a new deadline (YYYY-MM-DD)",
                            "deadline",
                        )));
                        return;
                    }
                }
            };
            let Some(user) = user.clone() else { return };
            let photos = d
                .photos
                .iter()
                .filter_map(|(s, _)| Sha256Hex::parse(s).ok())
                .map(|s| {
                    (
                        s.clone(),
                        PhotoRef {
                            sha256: s,
                            added_at: Timestamp(now_ms()),
                            added_by: user.id.clone(),
                        },
                    )
                })
                .collect();
            let mut commands = vec![Command::Hazard {
                hazard: hid.clone(),
                action: HazardAction::Reinspect {
                    id: unique("ri"),
                    reinspection: Reinspection {
                        on: today(),
                        by: user.id.clone(),
                        passed,
                        note: d.note.clone(),
                        photos,
                        new_deadline,
                    },
                },
            }];
            if passed {
                commands.push(Command::Hazard {
                    hazard: hid.clone(),
                    action: HazardAction::Close { on: today() },
                });
            }
            let (error, id, on_view, draft) =
                (error.clone(), id.clone(), on_view.clone(), draft.clone());
            spawn_local(async move {
                for c in commands {
                    match call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: c,
                    })
                    .await
                    {
                        Ok(v) => on_view.emit(v),
                        Err(e) => {
                            error.set(Some(e));
                            return;
                        }
                    }
                }
                error.set(None);
                draft.set(ReinspectDraft::default());
            });
        })
    };
    let back = {
        let (go, id) = (ctx.go.clone(), id.clone());
        Callback::from(move |_| go.emit(Route::Record(id.clone())))
    };
    html! {
        <>
            <div class="row">
                <h2 style="flex: 1">{ format!("{} · {}", l.t("隐患", "Hazard"), v.record.enterprise.name) }</h2>
                <button class="secondary" onclick={back}>{ l.t("返回记录", "Back to the record") }</button>
            </div>
            <div class="card">
                <div><strong>{ &h.description }</strong></div>
                <div class="muted">{ format!("{}：{}", l.t("依据", "Basis"), h.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")) }</div>
                <div>{ format!("{}：{}", l.t("整改措施", "Measures"), h.measures) }</div>
                <div class="row">
                    <span class="badge" id="hazard-stage">{ stage_label(l, h.stage.as_str()) }</span>
                    if let Some(d) = h.deadline { <span>{ format!("{} {d}", l.t("整改期限", "deadline")) }</span> }
                </div>
                { for h.reinspections.values().map(|ri| html! {
                    <div class="card">{ format!("{} {} · {}{}", l.t("复查", "Re-inspection"), ri.on, if ri.passed { l.t("通过", "passed") } else { l.t("不通过", "failed") }, if ri.note.is_empty() { String::new() } else { format!(" · {}", ri.note) }) }
                        <div class="thumbs">{ for ri.photos.keys().filter_map(|s| v.thumbs.get(s.as_str())).map(|t| html! { <img src={t.clone()} alt="photo" /> }) }</div>
                    </div>
                }) }
            </div>
            { other_error(l, &error, &["outcome", "deadline"]) }
            if h.stage == HazardStage::Ordered {
                <button id="report-rectified" onclick={act(HazardAction::ReportRectified { on: today() })}>{ l.t("企业报告已整改，进入复查", "The enterprise reports it rectified") }</button>
            }
            if h.stage == HazardStage::Reinspected {
                <button id="close-hazard" onclick={act(HazardAction::Close { on: today() })}>{ l.t("销号", "Close") }</button>
            }
            if h.stage == HazardStage::Rectified {
                <div class="card" id="reinspect">
                    <h3>{ l.t("复查", "Re-inspection") }</h3>
                    <div class="row answers">
                        <button id="ri-pass" class={classes!("complies", (draft.passed == Some(true)).then_some("on"))} onclick={set_passed(true)}>{ l.t("通过（销号）", "Pass (close)") }</button>
                        <button id="ri-fail" class={classes!("fails", (draft.passed == Some(false)).then_some("on"))} onclick={set_passed(false)}>{ l.t("不通过", "Fail") }</button>
                    </div>
                    { field_error(l, &error, "outcome") }
                    <label>{ l.t("复查意见", "Note") }</label>
                    <textarea id="ri-note" value={draft.note.clone()} oninput={set_note} />
                    if draft.passed == Some(false) {
                        <label>{ l.t("新的整改期限", "New deadline") }</label>
                        <input id="ri-deadline" type="date" value={draft.new_deadline.clone()} oninput={set_deadline} />
                        { field_error(l, &error, "deadline") }
                    }
                    <label>{ l.t("复查照片", "Photos") }</label>
                    <div class="file"><input id="ri-photo" type="file" accept="image/*" capture="environment" onchange={photo} /></div>
                    <div class="thumbs">{ for draft.photos.iter().map(|(_, t)| html! { <img class="ri-thumb" src={t.clone()} alt="photo" /> }) }</div>
                    <button id="ri-submit" onclick={submit}>{ l.t("提交复查结论", "Record the re-inspection") }</button>
                </div>
            }
        </>
    }
}

// --- 8. sync -----------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct SyncProps {
    status: SyncStatus,
}

#[function_component]
fn SyncScreen(props: &SyncProps) -> Html {
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
