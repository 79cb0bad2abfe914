//! The document shown full screen, in large type, before a signature pad opens (6): the
//! content model the PDF prints (`app_core::paper`), read, then confirmed 已阅读.

use super::*;
use app_core::paper::{Align, Block, Cell, Paper};

#[derive(Properties, PartialEq)]
pub(crate) struct PreviewProps {
    /// Who is about to sign (shown at the top).
    pub(crate) signer: String,
    pub(crate) papers: Vec<DocumentPreview>,
    pub(crate) on_read: Callback<()>,
    pub(crate) on_close: Callback<()>,
}

#[function_component]
pub(crate) fn PreviewOverlay(props: &PreviewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let read = props.on_read.reform(|_: MouseEvent| ());
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <div id="preview" class="preview" role="dialog" aria-modal="true">
            <div class="preview-bar">
                <strong>{ format!("{}：{}", l.t("请签名人阅读以下文书", "For the signer to read"), props.signer) }</strong>
                <button id="preview-close" class="secondary" onclick={close}>{ l.t("返回", "Back") }</button>
            </div>
            { for props.papers.iter().map(|p| paper_view(&p.paper)) }
            <div class="preview-bar">
                <button id="preview-read" onclick={read}>{ l.t("已阅读，签名", "I have read it: sign") }</button>
            </div>
        </div>
    }
}

/// One document, in its own words (always Chinese: it is the document).
pub(crate) fn paper_view(p: &Paper) -> Html {
    html! {
        <article class="paper" data-kind={p.kind.code()}>
            <div class="paper-unit">{ &p.unit_name }</div>
            <h2 class="paper-title">{ &p.title }</h2>
            <div class="paper-number">{ &p.number }</div>
            { for p.blocks.iter().map(|b| block_view(p, b)) }
        </article>
    }
}

fn block_view(p: &Paper, b: &Block) -> Html {
    match b {
        Block::Head | Block::Space { .. } => html! {},
        Block::Para {
            text,
            indent,
            align,
        } => html! {
            <p class={classes!("paper-para", (*align == Align::Right).then_some("right"), (*indent > 0).then_some("indent"))}>{ text }</p>
        },
        Block::Row { cells } => html! {
            <div class="paper-row">
                { for cells.iter().map(|(w, c)| {
                    let style = format!("flex: {w} 1 0");
                    match c {
                        Cell::Label(t) => html! { <div class="paper-label" style={style}>{ t }</div> },
                        Cell::Text(t) => html! { <div class="paper-text" style={style}>{ for t.split('\n').map(|line| html! { <div>{ line }</div> }) }</div> },
                        Cell::Sign(s) => html! {
                            <div class="paper-sign" style={style}>
                                <div>{ &s.caption }</div>
                                if let Some(img) = &s.image { <img src={thumb_url(img.as_str())} alt={s.caption.clone()} /> }
                                <div class="muted">{ &s.below }</div>
                            </div>
                        },
                    }
                }) }
            </div>
        },
        Block::Seal { date } => html! {
            <div class="paper-seal"><div>{ format!("{}（印章）", p.unit_name) }</div><div>{ date }</div></div>
        },
    }
}
