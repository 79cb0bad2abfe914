//! One checklist item: answer, note, photos (5).

use super::*;
use app_core::checklist::ChecklistItem;
use app_core::messages::item as msg;

#[derive(Properties, PartialEq)]
pub(crate) struct ItemProps {
    pub(crate) code: String,
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
    pub(crate) editable: bool,
}

/// One item's row: the note as typed (saved while typing), the last refusal, whether the
/// hazard form is open. Changed only by [`ItemAction`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ItemState {
    pub(crate) note: String,
    pub(crate) error: Option<ApiError>,
    pub(crate) show_hazard: bool,
}

/// What happens to an item's row.
#[derive(Debug)]
pub(crate) enum ItemAction {
    Typed(String),
    /// A command's outcome: `None` once it went through, or the refusal.
    Outcome(Option<ApiError>),
    ToggleHazard,
}

impl Reducible for ItemState {
    type Action = ItemAction;

    fn reduce(self: Rc<Self>, action: ItemAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ItemAction::Typed(t) => next.note = t,
            ItemAction::Outcome(e) => next.error = e,
            ItemAction::ToggleHazard => next.show_hazard = !next.show_hazard,
        }
        Rc::new(next)
    }
}

/// The answer a tap on `tapped` gives an item answered `current`: tapping the chosen answer
/// again clears it.
pub(crate) fn tap_answer(current: Option<Answer>, tapped: Answer) -> Option<Answer> {
    if current == Some(tapped) {
        None
    } else {
        Some(tapped)
    }
}

/// Answers item `code` of record `id` as a tap on `tapped` does; answers what it changed.
pub(crate) async fn answer_item(
    id: &str,
    code: &ItemCode,
    current: Option<Answer>,
    tapped: Answer,
) -> Result<RecordChange, ApiError> {
    apply(
        id,
        Command::Answer {
            item: code.clone(),
            answer: tap_answer(current, tapped),
        },
    )
    .await
}

/// What the checklist says of an item besides its text: 检查方法, the industries or the
/// situation it applies to, and its bases (违法依据, 处罚依据, 判定依据).
pub(crate) fn item_details(l: Lang, item: &ChecklistItem) -> Html {
    let line = |class: &'static str, label: (&'static str, &'static str), text: String| {
        html! {
            <div class={classes!("item-detail", class)}><span class="muted">{ format!("{}：", l.pick(label)) }</span>{ text }</div>
        }
    };
    let methods: Vec<&str> = item.methods.iter().map(|m| l.check_method(*m)).collect();
    html! {
        <div class="item-details">
            if !methods.is_empty() { { line("methods", msg::METHODS, methods.join(l.t("、", ", "))) } }
            if !item.industries.is_empty() { { line("industries", msg::INDUSTRIES, l.industries(&item.industries)) } }
            if let Some(c) = item.condition.as_ref().filter(|c| !c.trim().is_empty()) { { line("condition", msg::CONDITION, c.clone()) } }
            { line("basis", msg::BASIS, l.bases(&item.basis)) }
            if !item.penalty.is_empty() { { line("penalty", msg::PENALTY, l.bases(&item.penalty)) } }
            if let Some(m) = &item.major_hazard { { line("major-basis", msg::MAJOR_BASIS, m.to_string()) } }
        </div>
    }
}

#[function_component]
pub(crate) fn ItemRow(props: &ItemProps) -> Html {
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
    let state = {
        let note = result.note.clone();
        use_reducer(move || ItemState {
            note,
            ..ItemState::default()
        })
    };
    let outcome = state.dispatcher().to_callback().reform(ItemAction::Outcome);
    let timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = use_mut_ref(|| None);
    let answer = |a: Answer| {
        let (id, code, on_view, outcome) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            outcome.clone(),
        );
        let current = result.answer;
        Callback::from(move |_| {
            let (id, code, on_view, outcome) =
                (id.clone(), code.clone(), on_view.clone(), outcome.clone());
            spawn_local(async move {
                match answer_item(&id, &code, current, a).await {
                    Ok(change) => {
                        outcome.emit(None);
                        on_view.emit(change.into());
                    }
                    Err(e) => outcome.emit(Some(e)),
                }
            });
        })
    };
    let save_note = {
        let (id, code, on_view, outcome) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            outcome.clone(),
        );
        Rc::new(move |text: String| {
            send(
                id.clone(),
                Command::SetNote {
                    item: code.clone(),
                    text,
                },
                on_view.clone(),
                outcome.clone(),
            );
        })
    };
    let on_note = {
        let (dispatch, timer, save) = (state.dispatcher(), timer.clone(), save_note.clone());
        Callback::from(move |e: InputEvent| {
            let text = area_value(&e);
            dispatch.dispatch(ItemAction::Typed(text.clone()));
            let save = save.clone();
            // Saved 400 ms after the last keystroke, and at once on blur.
            *timer.borrow_mut() =
                Some(gloo_timers::callback::Timeout::new(400, move || save(text)));
        })
    };
    let on_blur = {
        let (note, timer, save) = (state.note.clone(), timer.clone(), save_note.clone());
        let stored = result.note.clone();
        Callback::from(move |_: FocusEvent| {
            if let Some(t) = timer.borrow_mut().take() {
                t.cancel();
            }
            if note != stored {
                save(note.clone());
            }
        })
    };
    // A photo taken (or chosen) for the item; `replaces`: the photo it retakes, whose link is
    // removed once the new one is linked (the original stays stored: evidence).
    let photo = |replaces: Option<Sha256Hex>| {
        let (id, code, on_view, outcome) = (
            id.clone(),
            code.clone(),
            props.on_view.clone(),
            outcome.clone(),
        );
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let (id, code, on_view, outcome, replaces) = (
                id.clone(),
                code.clone(),
                on_view.clone(),
                outcome.clone(),
                replaces.clone(),
            );
            spawn_local(async move {
                let args = PhotoArgs {
                    id: InspectionId::new(id.clone()),
                    link: PhotoLink::Item(code.clone()),
                };
                match send_photo(&file, &args).await {
                    Ok(answer) => {
                        outcome.emit(None);
                        if let Some(change) = answer.change {
                            on_view.emit(change.into());
                        }
                        if let Some(old) = replaces
                            && old != answer.sha256
                        {
                            let remove = Command::RemoveItemPhoto {
                                item: code.clone(),
                                sha256: old,
                            };
                            match apply(&id, remove).await {
                                Ok(change) => on_view.emit(change.into()),
                                Err(e) => outcome.emit(Some(e)),
                            }
                        }
                    }
                    Err(e) => outcome.emit(Some(e)),
                }
            });
        })
    };
    let remove_photo = |sha: &Sha256Hex| {
        let (id, on_view, outcome) = (id.clone(), props.on_view.clone(), outcome.clone());
        let command = Command::RemoveItemPhoto {
            item: code.clone(),
            sha256: sha.clone(),
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
    // Photos may be deleted or retaken until the record is signed (app-core's rule).
    let removable = props.editable && r.signatures.is_empty() && r.signed_versions.is_empty();
    let has_hazard = r.hazards.values().any(|h| h.item.as_ref() == Some(&code));
    let btn = |a: Answer, class: &'static str| {
        html! {
            <button class={classes!(format!("ans-{class}"), class, (result.answer == Some(a)).then_some("on"))}
                disabled={!props.editable} onclick={answer(a)}>{ l.answer(Some(a)) }</button>
        }
    };
    let toggle_hazard = state
        .dispatcher()
        .to_callback()
        .reform(|_: MouseEvent| ItemAction::ToggleHazard);
    let error = state.error.clone();
    html! {
        <div class="item" id={format!("item-{}", props.code)}>
            <div><strong>{ format!("{} ", item.code) }</strong>{ &item.text }
                if item.is_major_hazard() { <span class="badge warn">{ l.pick(msg::MAJOR_ITEM) }</span> }
            </div>
            { item_details(l, &item) }
            if let (Some(m), Some(Answer::Fails)) = (&item.major_hazard, result.answer) {
                <div class="major-why warn">{ l.major_why(m) }</div>
            }
            <div class="row answers">
                { btn(Answer::Complies, "complies") }
                { btn(Answer::Fails, "fails") }
                { btn(Answer::NotApplicable, "not_applicable") }
                if props.editable {
                    <label class="button secondary camera">
                        { l.t("拍照", "Take photo") }
                        <input class="item-photo" type="file" accept="image/*" capture="environment" onchange={photo(None)} />
                    </label>
                }
                if !result.photos.is_empty() {
                    <span class="muted photo-count">{ format!("{} {} {}", l.t("已附照片", "Photos attached:"), result.photos.len(), l.t("张", "")) }</span>
                }
            </div>
            <textarea class="note" placeholder={l.t("备注（自动保存）", "Note (saved as you type)")} value={state.note.clone()} oninput={on_note} onblur={on_blur} disabled={!props.editable} />
            <div class="thumbs">
                { for result.photos.keys().map(|s| html! {
                    <div class="thumb">
                        <img class="item-thumb" src={thumb_url(s.as_str())} alt={l.t("检查项照片", "item photo")} />
                        if removable {
                            <div class="row">
                                <button class="photo-delete secondary" onclick={remove_photo(s)}>{ l.t("删除", "Delete") }</button>
                                <label class="button secondary photo-retake">
                                    { l.t("重拍", "Retake") }
                                    <input class="item-photo-retake" type="file" accept="image/*" capture="environment" onchange={photo(Some(s.clone()))} />
                                </label>
                            </div>
                        }
                    </div>
                }) }
            </div>
            { error_view(l, &error) }
            if result.answer == Some(Answer::Fails) && props.editable {
                if has_hazard {
                    <div class="ok">{ l.t("已登记隐患", "Hazard registered") }</div>
                } else {
                    <button class="new-hazard secondary" onclick={toggle_hazard}>{ l.t("登记隐患", "Register a hazard") }</button>
                    if state.show_hazard {
                        <HazardForm code={props.code.clone()} view={props.view.clone()} on_view={props.on_view.clone()} />
                    }
                }
            }
        </div>
    }
}
