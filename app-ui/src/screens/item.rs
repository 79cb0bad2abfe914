//! One checklist item: answer, note, photos (5).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct ItemProps {
    pub(crate) code: String,
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
    pub(crate) editable: bool,
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
                    Ok(answer) => {
                        error.set(None);
                        if let Some(change) = answer.change {
                            on_view.emit(change.into());
                        }
                    }
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
                { for result.photos.keys().map(|s| html! { <img class="item-thumb" src={thumb_url(s.as_str())} alt="photo" /> }) }
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
