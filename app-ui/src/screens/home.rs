//! The home screen (2): plans, records, returned records, hazards due, penalty cases, the
//! sync state.

use super::*;

#[function_component]
pub(crate) fn HomeScreen() -> Html {
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
    // 今日任务: plans due today or overdue (and not yet inspected); the rest below.
    let today = today();
    let due_now = |p: &PlanView| {
        p.inspection.is_none()
            && p.plan
                .due
                .as_deref()
                .and_then(|d| Day::parse(d).ok())
                .is_some_and(|d| d <= today)
    };
    let (today_plans, other_plans): (Vec<&PlanView>, Vec<&PlanView>) =
        h.plans.iter().partition(|p| due_now(p));
    let plan_card = |p: &PlanView| {
        html! {
            <div class="card plan" id={format!("plan-{}", p.plan.id)}>
                <div><strong>{ p.enterprise.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| l.t("（企业不在本机资料中）", "(enterprise not on this tablet)").to_owned()) }</strong></div>
                <div class="row">
                    <span class="badge">{ kind_label(l, p.plan.kind) }</span>
                    if p.plan.sealed { <span class="badge warn">{ l.t("密封任务", "Sealed") }</span> }
                    if let Some(d) = p.plan.due.as_deref().and_then(|d| Day::parse(d).ok()) { <span class="muted">{ format!("{} {}", l.t("截止", "due"), l.day(d)) }</span> }
                    if let Some(i) = &p.inspection {
                        <span class="badge plan-state">{ if i.status.visit_done() { l.t("已检查", "Inspected") } else { l.t("检查中", "In progress") } }</span>
                        <button class="open-plan-record secondary" onclick={go(Route::Record(i.id.to_string()))}>{ l.t("打开记录", "Open the record") }</button>
                    } else {
                        <button class="start-plan" onclick={go(Route::Start { plan: Some(p.plan.id.to_string()) })}>{ l.t("开始检查", "Start") }</button>
                    }
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
                    <h3>{ l.t("今日任务", "Due today or overdue") }</h3>
                    if today_plans.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
                    { for today_plans.iter().map(|p| plan_card(p)) }
                    if !other_plans.is_empty() {
                        <h3 id="plans-later">{ l.t("其他已分配任务", "Other assigned plans") }</h3>
                        { for other_plans.iter().map(|p| plan_card(p)) }
                    }
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
                                if let Some(dl) = &d.row.deadline { <span class="muted">{ format!("{} {}", l.t("期限", "deadline"), Day::parse(dl).map(|x| l.day(x)).unwrap_or_else(|_| dl.clone())) }</span> }
                                <button class="open" onclick={go(Route::Hazard(d.row.inspection_id.to_string(), d.row.hazard_id.clone()))}>{ l.t("复查", "Re-inspect") }</button>
                            </div>
                        </div>
                    }) }
                </section>
            </div>
            <CaseList record={None::<String>} />
            <section id="waiting">
                <h3>{ l.t("待同步", "Waiting to sync") }</h3>
                <p>{ format!("{} {} · {} {}", h.sync.pending.records, l.t("条记录", "records"), h.sync.photos_pending, l.t("张照片", "photos")) }</p>
            </section>
            <section id="submitted">
                <h3>{ l.t("已提交和已审核的记录", "Submitted and approved records") }</h3>
                if done.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
                { for done.into_iter().map(row) }
            </section>
        </>
    }
}
