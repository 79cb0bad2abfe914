//! The checklist a person can steer (issue 20): the answered count and a progress bar, the
//! sections with a jump list, "下一未答项", 本节不涉及 (one command for a whole section), the
//! sections that apply to the enterprise's industry only (专项 sections folded until
//! opened), and the list of what is still unanswered, each entry a jump to its item.

use super::*;
use app_core::checklist::ChecklistTemplate;
use app_core::inspection::Inspection;
use std::collections::BTreeSet;

/// One section as the steering bar and the section header show it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SectionInfo {
    /// The section's position among the sections shown (its element is `section-<n>`).
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) answered: usize,
    pub(crate) total: usize,
    pub(crate) situational: bool,
    /// The unanswered items, in template order.
    pub(crate) unanswered: Vec<ItemCode>,
}

/// The sections the record is checked against (by the enterprise's industry), in order.
pub(crate) fn sections(r: &Inspection, t: &ChecklistTemplate) -> Vec<SectionInfo> {
    t.categories_for(r.enterprise.industry)
        .enumerate()
        .map(|(index, c)| {
            let unanswered = r.unanswered_in_section(t, &c.name).unwrap_or_default();
            SectionInfo {
                index,
                name: c.name.clone(),
                answered: c.items.len() - unanswered.len(),
                total: c.items.len(),
                situational: c.situational,
                unanswered,
            }
        })
        .collect()
}

/// `已答 12/43` / `Answered 12/43`.
pub(crate) fn progress_text(l: Lang, (answered, total): (usize, usize)) -> String {
    format!("{} {answered}/{total}", l.t("已答", "Answered"))
}

/// The element id of item `code`'s row.
pub(crate) fn item_anchor(code: &str) -> String {
    format!("item-{code}")
}

/// Whether a section is shown folded: a 专项 section nobody has opened and nobody has
/// answered anything in.
pub(crate) fn folded(s: &SectionInfo, opened: &BTreeSet<String>) -> bool {
    s.situational && s.answered == 0 && !opened.contains(&s.name)
}

/// The next unanswered item from where the inspector is: the first unanswered item (in
/// template order) whose row starts below the steering bar, else the first one (wrapping).
/// `below` tells whether an item's row starts below the bar.
pub(crate) fn next_unanswered(
    sections: &[SectionInfo],
    below: impl Fn(&ItemCode) -> bool,
) -> Option<(String, ItemCode)> {
    let all: Vec<(String, ItemCode)> = sections
        .iter()
        .flat_map(|s| s.unanswered.iter().map(|c| (s.name.clone(), c.clone())))
        .collect();
    all.iter().find(|(_, c)| below(c)).or(all.first()).cloned()
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// Scrolls element `id` into view (after the next render, so a section just unfolded is
/// there), under the steering bar (`scroll-margin-top` in the style sheet).
fn scroll_to(id: String) {
    gloo_timers::callback::Timeout::new(30, move || {
        if let Some(e) = element(&id) {
            e.scroll_into_view();
        }
    })
    .forget();
}

/// Whether item `code`'s row starts below the steering bar (so "next" moves forward).
fn below_bar(code: &ItemCode) -> bool {
    let bar = element("checklist-bar")
        .map(|b| b.get_bounding_client_rect().bottom())
        .unwrap_or(0.0);
    element(&item_anchor(code.as_str()))
        .map(|e| e.get_bounding_client_rect().top() > bar + 4.0)
        // A folded section's items have no row yet: they count as below.
        .unwrap_or(true)
}

#[derive(Properties, PartialEq)]
pub(crate) struct ChecklistProps {
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
    pub(crate) editable: bool,
    /// Whether the list of unanswered items is open (the record screen opens it when 完成
    /// is tapped too early).
    pub(crate) missing_open: bool,
    pub(crate) on_missing: Callback<bool>,
}

/// The checklist's own state: the 专项 sections opened, the section whose 本节不涉及 waits
/// for its confirmation, the last refusal.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ChecklistState {
    pub(crate) opened: BTreeSet<String>,
    pub(crate) confirming: Option<String>,
    pub(crate) error: Option<ApiError>,
}

#[derive(Debug)]
pub(crate) enum ChecklistAction {
    Open(String),
    Confirm(Option<String>),
    Outcome(Option<ApiError>),
}

impl Reducible for ChecklistState {
    type Action = ChecklistAction;

    fn reduce(self: Rc<Self>, action: ChecklistAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ChecklistAction::Open(s) => {
                next.opened.insert(s);
            }
            ChecklistAction::Confirm(s) => next.confirming = s,
            ChecklistAction::Outcome(e) => {
                next.error = e;
                next.confirming = None;
            }
        }
        Rc::new(next)
    }
}

#[function_component]
pub(crate) fn Checklist(props: &ChecklistProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let v = &props.view;
    let r = &v.record;
    let t = &v.template;
    let state = use_reducer(ChecklistState::default);
    let secs = sections(r, t);
    let progress = r.progress(t);
    let missing: Vec<(String, ItemCode)> = secs
        .iter()
        .flat_map(|s| s.unanswered.iter().map(|c| (s.name.clone(), c.clone())))
        .collect();
    // Jumps to an item (unfolding its section first).
    let jump = {
        let (dispatch, on_missing) = (state.dispatcher(), props.on_missing.clone());
        Callback::from(move |(section, code): (String, ItemCode)| {
            // The list closes, so the bar is short again and the item shows below it.
            on_missing.emit(false);
            dispatch.dispatch(ChecklistAction::Open(section));
            scroll_to(item_anchor(code.as_str()));
        })
    };
    let on_next = {
        let (secs, jump) = (secs.clone(), jump.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(target) = next_unanswered(&secs, below_bar) {
                jump.emit(target);
            }
        })
    };
    let on_section = {
        let secs = secs.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |e: Event| {
            let value = select_value(&e);
            e.target_unchecked_into::<HtmlSelectElement>().set_value("");
            if let Some(s) = value.parse::<usize>().ok().and_then(|i| secs.get(i)) {
                dispatch.dispatch(ChecklistAction::Open(s.name.clone()));
                scroll_to(format!("section-{}", s.index));
            }
        })
    };
    let toggle_missing = {
        let (on, open) = (props.on_missing.clone(), props.missing_open);
        Callback::from(move |_: MouseEvent| on.emit(!open))
    };
    let outcome = state
        .dispatcher()
        .to_callback()
        .reform(ChecklistAction::Outcome);
    let not_applicable = |s: &SectionInfo| {
        let (id, on_view, outcome) = (r.id.to_string(), props.on_view.clone(), outcome.clone());
        let command = Command::MarkSectionNotApplicable {
            category: s.name.clone(),
            items: s.unanswered.clone(),
        };
        Callback::from(move |_: MouseEvent| {
            send(
                id.clone(),
                command.clone(),
                on_view.clone(),
                outcome.clone(),
            )
        })
    };
    let confirm = |s: Option<String>| {
        let dispatch = state.dispatcher();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(ChecklistAction::Confirm(s.clone())))
    };
    let open = |s: &str| {
        let (dispatch, s) = (state.dispatcher(), s.to_owned());
        Callback::from(move |_: MouseEvent| dispatch.dispatch(ChecklistAction::Open(s.clone())))
    };
    let pct = (progress.0 * 100).checked_div(progress.1).unwrap_or(100);
    let text_of = |c: &ItemCode| t.item(c).map(|i| i.text.clone()).unwrap_or_default();
    let bar = html! {
        <div id="checklist-bar" class="checklist-bar">
            <div class="row">
                <strong id="checklist-progress" class="progress-text">{ progress_text(l, progress) }</strong>
                <div class="progress-bar" style="flex: 1; min-width: 120px"><div class="progress-fill" style={format!("width: {pct}%")}></div></div>
                <select id="section-jump" class="jump" onchange={on_section} aria-label={l.t("跳转到检查表章节", "Jump to a section")}>
                    <option value="" selected=true>{ l.t("跳转到章节…", "Jump to section…") }</option>
                    { for secs.iter().map(|s| html! {
                        <option value={s.index.to_string()}>{ format!("{}（{}/{}）", s.name, s.answered, s.total) }</option>
                    }) }
                </select>
                if !missing.is_empty() {
                    <button id="next-unanswered" class="secondary" onclick={on_next}>{ l.t("下一未答项", "Next unanswered") }</button>
                    <button id="missing-toggle" class={classes!("secondary", props.missing_open.then_some("on"))} onclick={toggle_missing}>
                        { format!("{} {}", l.t("未答", "Unanswered"), missing.len()) }
                    </button>
                } else {
                    <span class="ok" id="all-answered">{ l.t("全部已答", "All answered") }</span>
                }
            </div>
            if props.missing_open && !missing.is_empty() {
                <div id="missing-list" class="missing-list" role="list">
                    <div class="muted">{ l.t("以下检查项尚未作答，点按跳转：", "Not yet answered; tap to go there:") }</div>
                    { for missing.iter().map(|(s, c)| {
                        let (jump, target) = (jump.clone(), (s.clone(), c.clone()));
                        html! {
                            <button class="missing secondary" role="listitem" onclick={Callback::from(move |_| jump.emit(target.clone()))}>
                                <strong>{ c.as_str() }</strong>{ " " }{ text_of(c) }
                            </button>
                        }
                    }) }
                </div>
            }
        </div>
    };
    let error = state.error.clone();
    html! {
        <>
            { bar }
            { error_view(l, &error) }
            <section id="checklist">
                <h3>{ format!("{} · {} v{}", l.t("检查表", "Checklist"), t.name, t.version) }</h3>
                { for t.categories_for(r.enterprise.industry).zip(secs.iter()).map(|(c, s)| {
                    let is_folded = folded(s, &state.opened);
                    let confirming = state.confirming.as_deref() == Some(s.name.as_str());
                    html! {
                        <div class={classes!("category", s.situational.then_some("situational"))} id={format!("section-{}", s.index)}>
                            <div class="section-head row">
                                <h3 style="flex: 1">{ &c.name }</h3>
                                <span class="badge section-count">{ format!("{}/{}", s.answered, s.total) }</span>
                                if props.editable && !s.unanswered.is_empty() {
                                    if confirming {
                                        <button class="section-na-confirm" onclick={not_applicable(s)}>
                                            { format!("{}（{} {}）", l.t("确认本节不涉及", "Confirm: section not applicable"), s.unanswered.len(), l.t("项标为不涉及", "items marked N/A")) }
                                        </button>
                                        <button class="secondary" onclick={confirm(None)}>{ l.t("取消", "Cancel") }</button>
                                    } else {
                                        <button class="section-na secondary" onclick={confirm(Some(s.name.clone()))}>{ l.t("本节不涉及", "Section not applicable") }</button>
                                    }
                                }
                            </div>
                            if is_folded {
                                <div class="muted folded">
                                    { l.t("专项检查：企业存在该情形时才检查；不存在时点“本节不涉及”。", "Applies only if the enterprise has this situation; otherwise tap “Section not applicable”.") }
                                    <button class="section-open secondary" onclick={open(&s.name)}>{ format!("{}（{} {}）", l.t("展开检查", "Open"), s.total, l.t("项", "items")) }</button>
                                </div>
                            } else {
                                { for c.items.iter().map(|item| html! {
                                    <ItemRow key={item.code.to_string()} code={item.code.to_string()} view={v.clone()} on_view={props.on_view.clone()} editable={props.editable} />
                                }) }
                            }
                        </div>
                    }
                }) }
            </section>
        </>
    }
}
