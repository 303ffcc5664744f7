//! The Voxgate dashboard: shell, routes and one module per domain (types, server fns, UI).
#![recursion_limit = "256"]

pub mod agents;
pub mod analytics;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod error;
pub mod form;
pub mod layout;
pub mod notifications;
pub mod numbers;
pub mod setup;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // A fresh nonce per page: the hydration script carries it, and the page's policy names it.
    #[cfg(feature = "ssr")]
    {
        provide_nonce();
        if let (Some(nonce), Some(response)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
            && let Ok(policy) = server::http::headers::page_policy(&nonce).parse()
        {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// Root component: meta tags, stylesheet and the dashboard's routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/voxgate.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Voxgate".to_string() } else { format!("{page} · Voxgate") }/>
        <Router>
            <layout::Shell>
                <Routes fallback=layout::NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/numbers"/> }/>
                    <Route path=path!("/numbers") view=numbers::PhoneNumbersPage/>
                    <Route path=path!("/agents") view=agents::AgentsPage/>
                    <Route path=path!("/calls") view=calls::CallLogsPage/>
                    <Route path=path!("/campaigns") view=campaigns::CampaignsPage/>
                    <Route path=path!("/campaigns/:id") view=campaigns::detail::CampaignPage/>
                    <Route path=path!("/analytics") view=analytics::AnalyticsPage/>
                    <Route path=path!("/setup") view=setup::SetupGuidePage/>
                    <Route path=path!("/settings") view=auth::SettingsPage/>
                    <Route path=path!("/login") view=auth::LoginPage/>
                    <Route path=path!("/signup") view=auth::SignupPage/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}
