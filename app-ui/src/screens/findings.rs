//! The 现场检查记录's own fields (6): 检查场所 and 检查情况, saved as they are typed, and the
//! 检查情况 drafted from the answers (`app_core::forms::draft_summary`) for the inspector to
//! edit.

use super::*;

/// Which of the record's text fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FindingsField {
    Places,
    Summary,
}

impl FindingsField {
    /// The command that stores `text` in the field.
    pub(crate) fn command(self, text: String) -> Command {
        match self {
            FindingsField::Places => Command::SetPlaces { text },
            FindingsField::Summary => Command::SetSummary { text },
        }
    }

    fn stored(self, r: &app_core::inspection::Inspection) -> &str {
        match self {
            FindingsField::Places => &r.places,
            FindingsField::Summary => &r.summary,
        }
    }
}

/// One text field as typed (saved 400 ms after the last keystroke and on blur), and the
/// last refusal. Changed only by [`TextAction`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextState {
    pub(crate) text: String,
    /// The stored value the text was last taken from or saved as.
    pub(crate) stored: String,
    pub(crate) error: Option<ApiError>,
}

#[derive(Debug)]
pub(crate) enum TextAction {
    Typed(String),
    /// The record's value now: taken over unless something typed is still unsaved.
    Stored(String),
    Outcome(Option<ApiError>),
}

impl Reducible for TextState {
    type Action = TextAction;

    fn reduce(self: Rc<Self>, action: TextAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            TextAction::Typed(t) => next.text = t,
            TextAction::Stored(s) => {
                if next.text == next.stored {
                    next.text = s.clone();
                }
                next.stored = s;
            }
            TextAction::Outcome(e) => next.error = e,
        }
        Rc::new(next)
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct FindingsProps {
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
    pub(crate) editable: bool,
}

#[function_component]
pub(crate) fn Findings(props: &FindingsProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let v = &props.view;
    let draft = {
        let (id, on_view) = (v.record.id.to_string(), props.on_view.clone());
        let text = app_core::forms::draft_summary(&v.record, &v.template);
        Callback::from(move |_: MouseEvent| {
            send(
                id.clone(),
                Command::SetSummary { text: text.clone() },
                on_view.clone(),
                Callback::noop(),
            )
        })
    };
    html! {
        <section id="findings">
            <h3>{ l.t("检查场所与检查情况", "Places inspected and findings") }</h3>
            <TextField field={FindingsField::Places} area_id="places" label={l.t("检查场所", "Places inspected (检查场所)").to_owned()}
                placeholder={l.t("如：抛光车间、配电室、危化品仓库（自动保存）", "e.g. polishing shop, switch room (saved as you type)").to_owned()}
                view={v.clone()} on_view={props.on_view.clone()} editable={props.editable} rows={2} />
            <TextField field={FindingsField::Summary} area_id="summary" label={l.t("检查情况", "Findings (检查情况)").to_owned()}
                placeholder={l.t("检查了什么、发现了什么（自动保存）", "What was inspected and found (saved as you type)").to_owned()}
                view={v.clone()} on_view={props.on_view.clone()} editable={props.editable} rows={5} />
            if props.editable {
                <button id="draft-summary" class="secondary" onclick={draft}>{ l.t("根据检查结果起草检查情况", "Draft the findings from the answers") }</button>
                <span class="muted">{ l.t(" 起草后可修改", " then edit as needed") }</span>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct TextFieldProps {
    pub(crate) field: FindingsField,
    pub(crate) area_id: &'static str,
    pub(crate) label: String,
    pub(crate) placeholder: String,
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
    pub(crate) editable: bool,
    pub(crate) rows: u32,
}

#[function_component]
pub(crate) fn TextField(props: &TextFieldProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let stored = props.field.stored(&props.view.record).to_owned();
    let state = {
        let stored = stored.clone();
        use_reducer(move || TextState {
            text: stored.clone(),
            stored,
            error: None,
        })
    };
    {
        let dispatch = state.dispatcher();
        use_effect_with(stored.clone(), move |s| {
            dispatch.dispatch(TextAction::Stored(s.clone()));
        });
    }
    let outcome = state.dispatcher().to_callback().reform(TextAction::Outcome);
    let timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = use_mut_ref(|| None);
    let save = {
        let (id, field, on_view, outcome) = (
            props.view.record.id.to_string(),
            props.field,
            props.on_view.clone(),
            outcome.clone(),
        );
        Rc::new(move |text: String| {
            send(
                id.clone(),
                field.command(text),
                on_view.clone(),
                outcome.clone(),
            )
        })
    };
    let on_input = {
        let (dispatch, timer, save) = (state.dispatcher(), timer.clone(), save.clone());
        Callback::from(move |e: InputEvent| {
            let text = area_value(&e);
            dispatch.dispatch(TextAction::Typed(text.clone()));
            let save = save.clone();
            *timer.borrow_mut() =
                Some(gloo_timers::callback::Timeout::new(400, move || save(text)));
        })
    };
    let on_blur = {
        let (text, timer, save) = (state.text.clone(), timer.clone(), save.clone());
        Callback::from(move |_: FocusEvent| {
            if let Some(t) = timer.borrow_mut().take() {
                t.cancel();
            }
            if text != stored {
                save(text.clone());
            }
        })
    };
    html! {
        <div class="findings-field">
            <label for={props.area_id}>{ &props.label }</label>
            <textarea id={props.area_id} rows={props.rows.to_string()} placeholder={props.placeholder.clone()}
                value={state.text.clone()} oninput={on_input} onblur={on_blur} disabled={!props.editable} />
            { error_view(l, &state.error) }
        </div>
    }
}
