//! Where the screens' requests go: one trait, [`Backend`], that answers a `tablet-api`
//! [`Request`]. On the tablet it is [`TauriIpc`] (the shell's `api` command); in native tests
//! an [`InMemory`] backend answers from a function, so code that calls the library runs
//! without a webview.
//!
//! The backend is chosen once when the app starts ([`install`]; [`TauriIpc`] unless another
//! is installed) and every [`call`] goes through it. Photos and signatures are raw bytes and
//! stay in `bridge` (`send_photo`, `send_signature`).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use tablet_api::{Answer, ApiError, Call, Request};

/// A backend's answer, on the UI thread (futures in the webview are not `Send`).
pub type Reply = Pin<Box<dyn Future<Output = Result<Answer, ApiError>>>>;

/// Answers the screens' requests.
pub trait Backend {
    fn handle(&self, request: Request) -> Reply;
}

/// The tablet library in the Tauri shell, over IPC.
#[derive(Debug, Clone, Copy, Default)]
pub struct TauriIpc;

impl Backend for TauriIpc {
    fn handle(&self, request: Request) -> Reply {
        Box::pin(crate::bridge::invoke_api(request))
    }
}

/// Answers from a function, at once (tests, demos).
#[derive(Debug)]
pub struct InMemory<F>(pub F);

impl<F: Fn(Request) -> Result<Answer, ApiError>> Backend for InMemory<F> {
    fn handle(&self, request: Request) -> Reply {
        let answer = (self.0)(request);
        Box::pin(async move { answer })
    }
}

thread_local! {
    static BACKEND: RefCell<Rc<dyn Backend>> = RefCell::new(Rc::new(TauriIpc));
}

/// Sends every later [`call`] on this thread to `backend`.
pub fn install(backend: Rc<dyn Backend>) {
    BACKEND.with(|b| *b.borrow_mut() = backend);
}

/// Sends one typed request and answers that request's own type.
pub async fn call<C: Call>(request: C) -> Result<C::Answer, ApiError> {
    let backend = BACKEND.with(|b| b.borrow().clone());
    C::answer(backend.handle(request.into()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll, Waker};
    use tablet_api::{ErrorCode, GetDraft, GetHome, PutDraft};

    /// Runs a future that needs no waking (an [`InMemory`] answer) to its end.
    fn ready<T>(f: impl Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("an in-memory answer is ready at once"),
        }
    }

    #[test]
    fn a_call_answers_its_own_type_from_the_installed_backend() {
        let drafts = Rc::new(RefCell::new(std::collections::BTreeMap::new()));
        let kept = drafts.clone();
        install(Rc::new(InMemory(move |request: Request| match request {
            Request::PutDraft(PutDraft { key, value }) => {
                kept.borrow_mut().insert(key, value);
                Ok(Answer::PutDraft(()))
            }
            Request::GetDraft(GetDraft { key }) => {
                Ok(Answer::GetDraft(kept.borrow().get(&key).cloned()))
            }
            // A backend answering the wrong operation.
            _ => Ok(Answer::PutDraft(())),
        })));
        ready(call(PutDraft {
            key: "ui:lang".into(),
            value: "en".into(),
        }))
        .unwrap();
        let lang: Option<String> = ready(call(GetDraft {
            key: "ui:lang".into(),
        }))
        .unwrap();
        assert_eq!(lang.as_deref(), Some("en"));
        assert_eq!(drafts.borrow().len(), 1);
        let wrong = ready(call(GetHome {})).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Internal);
    }
}
