//! The record screen (4–6): its header, sections and signed versions.

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct RecordProps {
    pub(crate) id: String,
}

/// `现场检查记录 （玄武）应急检记〔2026〕1号；责令限期整改指令书 …`, in the order the documents
/// were issued.
pub(crate) fn documents_line(l: Lang, r: &app_core::inspection::Inspection) -> String {
    let mut docs: Vec<_> = r.documents.values().collect();
    docs.sort_by_key(|d| (d.at, d.kind, d.year, d.seq));
    docs.iter()
        .map(|d| format!("{} {}", document_label(l, d.kind), d.number))
        .collect::<Vec<_>>()
        .join(l.t("；", "; "))
}

#[function_component]
pub(crate) fn RecordScreen(props: &RecordProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let page = use_reducer(RecordPage::default);
    {
        // Read when the screen opens, and again when an edit's change found the view at
        // another revision (`RecordPage::reloads`).
        let answer = page.dispatcher().to_callback().reform(PageAction::Answer);
        use_effect_with((props.id.clone(), page.reloads), move |(id, _)| {
            load_record(id.clone(), answer)
        });
    }
    let on_view = page.dispatcher().to_callback().reform(PageAction::from);
    let missing_open = use_state(|| false);
    let error = page.error.clone();
    let Some(v) = &page.view else {
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
    let open_missing = {
        let (missing_open, any_missing) =
            (missing_open.clone(), !r.unanswered(&v.template).is_empty());
        Callback::from(move |e: MouseEvent| {
            let on_complete = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|t| t.id() == "complete");
            if on_complete && any_missing {
                missing_open.set(true);
            }
        })
    };
    let hazards = html! {
        <section id="hazards">
            <h3>{ l.t("隐患", "Hazards") }</h3>
            if r.hazards.is_empty() { <p class="muted">{ l.t("暂无", "None") }</p> }
            { for r.hazards.values().map(|h| {
                let open = { let go = go.clone(); let (rid, hid) = (r.id.to_string(), h.id.to_string()); Callback::from(move |_| go.emit(Route::Hazard(rid.clone(), hid.clone()))) };
                html! {
                    <div class="card hazard">
                        <span class={classes!("badge", "level", if h.level == HazardLevel::Major { "major" } else { "general" })}>{ level_label(l, h.level) }</span>
                        { " · " }{ &h.description }
                        <div class="row">
                            <span class="badge">{ stage_label(l, h.stage.as_str()) }</span>
                            if let Some(d) = h.deadline { <span class="muted">{ format!("{} {}", l.t("整改期限", "deadline"), l.day(d)) }</span> }
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
            <Checklist view={v.clone()} on_view={on_view.clone()} editable={editable}
                missing_open={*missing_open} on_missing={{ let m = missing_open.clone(); Callback::from(move |b| m.set(b)) }} />
            { hazards }
            <Findings view={v.clone()} on_view={on_view.clone()} editable={editable} />
            <RecordCases view={v.clone()} />
            // 完成 tapped while items are unanswered opens the list of them in the steering bar
            // at the top of the screen (each entry jumps to its item).
            <div onclick={open_missing}>
                <Signing view={v.clone()} on_view={on_view.clone()} />
            </div>
            <Delivery view={v.clone()} on_view={on_view.clone()} />
            <EnterpriseCopyPanel view={v.clone()} on_view={on_view.clone()} />
            if let Some(latest) = v.signed.iter().max_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id))) {
                <CaseFileExport id={r.id.to_string()} version={latest.id.clone()}
                    documents={{ let mut d: Vec<_> = r.documents.values().map(|d| (d.kind, d.number.clone())).collect(); d.sort(); d }} />
            }
        </>
    }
}
