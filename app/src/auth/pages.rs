//! Login, sign-up and logout UI.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{LogIn, LogOut, SignUp, field_error, signup_mode};

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 aria-[invalid=true]:border-red-500";
const BUTTON: &str = "w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-50";

/// A labelled input with its error underneath.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    error: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = format!("field-{name}");
    let err_id = format!("{id}-error");
    view! {
        <label class="block text-sm font-medium text-slate-700" for=id.clone()>{label}</label>
        <input id=id name=name type=kind autocomplete=autocomplete class=INPUT
            aria-invalid=move || error().is_some().to_string() aria-describedby=err_id.clone()/>
        <p id=err_id data-testid=format!("error-{name}") class="mt-1 min-h-5 text-sm text-red-600">{error}</p>
    }
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <div class="mx-auto mt-12 max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="mb-6 text-2xl font-semibold tracking-tight">{title}</h1>
            {children()}
        </div>
    }
}

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<LogIn>::new();
    let value = login.value();
    let next = move || use_query_map().with(|q| q.get("next")).unwrap_or_default();
    view! {
        <AuthCard title="Log in">
            <ActionForm action=login attr:class="space-y-2" attr:novalidate=true>
                <input type="hidden" name="next" value=next/>
                <Field label="E-mail" name="email" kind="email" autocomplete="username" error=field_error(value, "email")/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error=field_error(value, "password")/>
                <p data-testid="error-form" role="alert" class="text-sm text-red-600">{field_error(value, "form")}</p>
                <button type="submit" class=BUTTON disabled=move || login.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="mt-6 text-center text-sm text-slate-500">
                "New to Voxgate? " <a href="/signup" class="font-medium text-indigo-700 hover:underline">"Create an account"</a>
            </p>
        </AuthCard>
    }
}

/// `/signup`.
#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<SignUp>::new();
    let value = signup.value();
    let mode = Resource::new(|| (), |_| signup_mode());
    let is = move |m: &str| mode.get().and_then(Result::ok).is_some_and(|got| got == m);
    view! {
        <AuthCard title="Create your account">
            <Suspense>
                <Show when=move || is("closed")>
                    <p data-testid="signup-closed" role="status" class="rounded-md bg-amber-50 p-3 text-sm text-amber-900">
                        "Sign-up is closed on this server. Ask its operator for an account."
                    </p>
                </Show>
            </Suspense>
            <ActionForm action=signup attr:class="space-y-2" attr:novalidate=true>
                <Field label="E-mail" name="email" kind="email" autocomplete="username" error=field_error(value, "email")/>
                <Field label="Password (at least 10 characters)" name="password" kind="password" autocomplete="new-password" error=field_error(value, "password")/>
                <Suspense>
                    <Show when=move || is("invite")>
                        <Field label="Invite code" name="invite" autocomplete="off" error=field_error(value, "invite")/>
                    </Show>
                </Suspense>
                <p data-testid="error-form" role="alert" class="text-sm text-red-600">{field_error(value, "form")}</p>
                <button type="submit" class=BUTTON disabled=move || signup.pending().get() || is("closed")>"Create account"</button>
            </ActionForm>
            <p class="mt-6 text-center text-sm text-slate-500">
                "Already have an account? " <a href="/login" class="font-medium text-indigo-700 hover:underline">"Log in"</a>
            </p>
        </AuthCard>
    }
}

/// A small form that logs out (works before hydration too).
#[component]
pub fn LogoutButton() -> impl IntoView {
    let logout = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action=logout>
            <button type="submit" class="rounded-md px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900">"Log out"</button>
        </ActionForm>
    }
}
