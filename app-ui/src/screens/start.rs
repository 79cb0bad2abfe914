//! Finding an enterprise and starting an inspection (3, 4).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct StartProps {
    pub(crate) plan: Option<String>,
}

/// Shows the records of `enterprise` this tablet holds (以往检查).
async fn show_history(
    enterprise: app_core::ids::EnterpriseId,
    history: UseStateHandle<Vec<InspectionRow>>,
) {
    if let Ok(rows) = call(api::GetEnterpriseRecords { enterprise }).await {
        history.set(rows);
    }
}

#[function_component]
pub(crate) fn StartScreen(props: &StartProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let query = use_state(String::new);
    let found = use_state(Vec::<Enterprise>::new);
    let chosen = use_state(|| None::<Enterprise>);
    // No default kind: the inspector chooses (the 四不两直 share is a figure a hurried
    // default would inflate). A plan brings its own.
    let kind = use_state(|| None::<InspectionKind>);
    // The query the shown results answer (so "no match" is said only once it is known).
    let answered = use_state(|| None::<String>);
    let colleagues = use_state(Vec::<User>::new);
    let co = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    // The chosen enterprise's past inspections: those this tablet holds at once (offline),
    // the rest the user may read fetched from the server on request (以往检查).
    let history = use_state(Vec::<InspectionRow>::new);
    let history_note = use_state(|| None::<Result<usize, ApiError>>);
    {
        let (history, history_note) = (history.clone(), history_note.clone());
        let enterprise = chosen.as_ref().map(|e| e.id.clone());
        use_effect_with(enterprise, move |enterprise| {
            history_note.set(None);
            history.set(Vec::new());
            if let Some(enterprise) = enterprise.clone() {
                spawn_local(show_history(enterprise, history));
            }
        });
    }
    let fetch_history = {
        let (chosen, history, history_note) =
            (chosen.clone(), history.clone(), history_note.clone());
        Callback::from(move |_| {
            let Some(enterprise) = chosen.as_ref().map(|e| e.id.clone()) else {
                return;
            };
            let (history, history_note) = (history.clone(), history_note.clone());
            spawn_local(async move {
                match call(api::FetchEnterpriseRecords {
                    enterprise: enterprise.clone(),
                })
                .await
                {
                    Ok(ids) => {
                        show_history(enterprise, history).await;
                        history_note.set(Some(Ok(ids.len())));
                    }
                    Err(e) => history_note.set(Some(Err(e))),
                }
            });
        })
    };
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
                    kind.set(Some(pv.plan.kind));
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
        let (query, found, answered) = (query.clone(), found.clone(), answered.clone());
        Callback::from(move |e: InputEvent| {
            let q = input_value(&e);
            query.set(q.clone());
            let (found, answered) = (found.clone(), answered.clone());
            spawn_local(async move {
                if let Ok(list) = call(api::SearchEnterprises {
                    query: q.to_string(),
                })
                .await
                {
                    found.set(list);
                    answered.set(Some(q));
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
            let Some(k) = *kind else {
                error.set(Some(input_error(
                    "请选择检查类型",
                    "choose the kind of inspection",
                    "kind",
                )));
                return;
            };
            let request = api::StartInspection {
                kind: k,
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
        let (kind, error) = (kind.clone(), error.clone());
        Callback::from(move |e: Event| {
            if error.as_ref().and_then(|e| e.field.as_deref()) == Some("kind") {
                error.set(None);
            }
            let v = select_value(&e);
            // The options' values are the kinds' places in `InspectionKind::ALL`.
            if let Some(k) = v
                .parse::<usize>()
                .ok()
                .and_then(|i| InspectionKind::ALL.get(i).copied())
            {
                kind.set(Some(k));
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
                            // Choosing clears "请先选择企业".
                            let pick = { let (chosen, error) = (chosen.clone(), error.clone()); let e2 = e.clone(); Callback::from(move |_| {
                                chosen.set(Some(e2.clone()));
                                if error.as_ref().and_then(|e| e.field.as_deref()) == Some("enterprise") { error.set(None); }
                            }) };
                            html! {
                                <div class="card enterprise">
                                    <strong>{ &e.name }</strong>
                                    <div class="muted">{ format!("{} · {}", e.uscc, e.address) }</div>
                                    <button id={format!("ent-{}", e.id)} class="secondary" onclick={pick}>{ l.t("选择", "Choose") }</button>
                                </div>
                            }
                        }) }
                        if !query.trim().is_empty() && found.is_empty() && answered.as_deref() == Some(query.as_str()) {
                            <p id="no-match" class="muted">{ l.t("暂无匹配企业", "No matching enterprise") }</p>
                        }
                    </div>
                </div>
                <div>
                    <label>{ l.t("企业", "Enterprise") }</label>
                    <div id="chosen" class="card">{ chosen.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| l.t("未选择", "none chosen").to_owned()) }</div>
                    { field_error(l, &error, "enterprise") }
                    if chosen.is_some() {
                        <section id="history">
                            <h3>{ l.t("以往检查", "Past inspections") }</h3>
                            if history.is_empty() { <p class="muted">{ l.t("本机暂无该企业的检查记录", "This tablet holds no record of this enterprise") }</p> }
                            { for history.iter().map(|r| html! {
                                <div class="card record" id={format!("hist-{}", r.id)}>
                                    <div class="row">
                                        <span style="flex: 1">{ r.created_at.shanghai_date().to_string() }</span>
                                        <span class="badge">{ kind_label(l, r.kind) }</span>
                                        <span class="badge">{ status_label(l, r.status) }</span>
                                        if r.open_hazards > 0 {
                                            <span class="badge warn">{ format!("{} {}", l.t("隐患", "hazards"), r.open_hazards) }</span>
                                        }
                                        <button class="open" onclick={{ let (g, id) = (ctx.go.clone(), r.id.to_string()); Callback::from(move |_| g.emit(Route::Record(id.clone()))) }}>{ l.t("打开", "Open") }</button>
                                    </div>
                                </div>
                            }) }
                            <button id="fetch-history" class="secondary" onclick={fetch_history}>{ l.t("从服务器获取以往检查（需联网）", "Fetch past inspections from the server (online)") }</button>
                            { match &*history_note {
                                Some(Ok(n)) => html! { <p id="history-fetched" class="muted">{ format!("{} {} {}", l.t("已获取", "Fetched"), n, l.t("条记录", "records")) }</p> },
                                Some(Err(e)) => error_view(l, &Some(e.clone())),
                                None => html! {},
                            } }
                        </section>
                    }
                    <label for="kind">{ l.t("检查类型", "Kind") }</label>
                    <select id="kind" onchange={set_kind}>
                        <option value="" disabled=true selected={kind.is_none()}>{ l.t("请选择检查类型", "Choose the kind") }</option>
                        { for InspectionKind::ALL.into_iter().enumerate().map(|(i, k)| html! {
                            <option value={i.to_string()} selected={Some(k) == *kind}>{ kind_label(l, k) }</option>
                        }) }
                    </select>
                    { field_error(l, &error, "kind") }
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
                    { other_error(l, &error, &["enterprise", "kind", "co_inspector"]) }
                </div>
            </div>
        </>
    }
}
