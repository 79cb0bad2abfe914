//! The handwritten signature pad (6).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct PadProps {
    pub(crate) pad_id: String,
    pub(crate) title: String,
    pub(crate) done: bool,
    pub(crate) enabled: bool,
    pub(crate) on_signed: Callback<String>,
}

#[derive(Default)]
pub(crate) struct Ink {
    pub(crate) drawing: bool,
    pub(crate) last: Option<(f64, f64)>,
    pub(crate) strokes: u32,
}

/// A signature pad: strokes drawn with pointer events (finger, pen or mouse), exported as
/// PNG and stored as a blob whose SHA-256 the signature names.
#[function_component]
pub(crate) fn SignPad(props: &PadProps) -> Html {
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
