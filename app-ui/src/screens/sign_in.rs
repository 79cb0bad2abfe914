//! Sign-in (1).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct SignInProps {
    pub(crate) on_signed_in: Callback<User>,
}

#[function_component]
pub(crate) fn SignIn(props: &SignInProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let user = use_state(String::new);
    let password = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let submit = {
        let (user, password, error, busy) =
            (user.clone(), password.clone(), error.clone(), busy.clone());
        let done = props.on_signed_in.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (u, p, error, busy, done) = (
                (*user).clone(),
                (*password).clone(),
                error.clone(),
                busy.clone(),
                done.clone(),
            );
            busy.set(true);
            spawn_local(async move {
                match call(api::SignIn {
                    user: u.to_string(),
                    password: p.to_string(),
                })
                .await
                {
                    Ok(u) => done.emit(u),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let set =
        |h: UseStateHandle<String>| Callback::from(move |e: InputEvent| h.set(input_value(&e)));
    html! {
        <form onsubmit={submit} class="card" style="max-width: 560px">
            <h2>{ l.t("登录（需联网一次）", "Sign in (online once)") }</h2>
            <p class="muted">{ l.t("登录后本机可离线工作多日。", "After signing in, this tablet works offline for days.") }</p>
            <label for="user">{ l.t("用户名", "User") }</label>
            <input id="user" value={(*user).clone()} oninput={set(user.clone())} autocomplete="username" />
            { field_error(l, &error, "user") }
            <label for="password">{ l.t("密码", "Password") }</label>
            <input id="password" type="password" value={(*password).clone()} oninput={set(password.clone())} />
            { field_error(l, &error, "password") }
            <div class="row" style="margin-top: 12px">
                <button id="sign-in" type="submit" disabled={*busy}>{ l.t("登录", "Sign in") }</button>
            </div>
            { other_error(l, &error, &["user", "password"]) }
        </form>
    }
}
