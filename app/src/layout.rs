//! The dashboard frame: header, navigation, page container, 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

const NAV: &[(&str, &str)] = &[
    ("/numbers", "Phone Numbers"),
    ("/agents", "Agents"),
    ("/calls", "Call Logs"),
    ("/campaigns", "Campaigns"),
    ("/analytics", "Analytics"),
    ("/setup", "Setup Guide"),
];

const NAV_LINK: &str = "rounded-md px-3 py-2 font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700";

/// Header with navigation (for a signed-in user) around every page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    // Re-read on every navigation so the header follows login and logout redirects.
    let location = leptos_router::hooks::use_location();
    let me = Resource::new(move || location.pathname.get(), |_| crate::auth::current_user());
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-6xl items-center gap-8 px-6 py-4">
                <a href="/" class="flex items-center gap-2 text-lg font-semibold text-indigo-700">
                    <span class="inline-block h-3 w-3 rounded-full bg-indigo-600"></span>
                    "Voxgate"
                </a>
                <Transition fallback=|| ()>
                    {move || me.get().and_then(Result::ok).flatten().map(|me| view! {
                        <nav aria-label="Main" class="flex gap-1 text-sm">
                            {NAV.iter().map(|(href, label)| view! {
                                <A href=*href attr:class=NAV_LINK>{*label}</A>
                            }).collect_view()}
                        </nav>
                        <div class="ml-auto flex items-center gap-2 text-sm">
                            <A href="/settings" attr:class=NAV_LINK attr:title="Settings and API tokens">
                                <span data-testid="me-email">{me.email}</span>
                            </A>
                            <crate::auth::LogoutButton/>
                        </div>
                    })}
                </Transition>
            </div>
        </header>
        <main class="mx-auto max-w-6xl px-6 py-8">{children()}</main>
    }
}

/// Page heading with an optional line of explanation.
#[component]
pub fn PageHeader(title: &'static str, #[prop(optional)] subtitle: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-1 text-sm text-slate-500">{subtitle}</p>
        </div>
    }
}

/// A friendly empty state with a call to action.
#[component]
pub fn EmptyState(title: &'static str, body: &'static str, children: Children) -> impl IntoView {
    view! {
        <section data-testid="empty-state" class="rounded-xl border border-dashed border-slate-300 bg-white p-10 text-center">
            <h2 class="text-lg font-medium">{title}</h2>
            <p class="mx-auto mt-2 max-w-md text-sm text-slate-500">{body}</p>
            <div class="mt-6">{children()}</div>
        </section>
    }
}

/// Shown for unknown paths (HTTP 404 on the server render).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageHeader title="Page not found" subtitle="That page does not exist."/>
        <a href="/numbers" class="text-indigo-700 hover:underline">"Back to phone numbers"</a>
    }
}
