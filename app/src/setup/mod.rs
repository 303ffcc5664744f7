//! Setup Guide: how to put a number on Exotel, Twilio, Vonage or Plivo, plus a live database check.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::layout::PageHeader;

/// Result of one database round trip made from the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseCheck {
    pub id: String,
    pub checked_at: String,
    pub total: i64,
    pub schema_version: i64,
}

/// Writes a check row to SurrealDB and reads back the running total.
#[server(endpoint = "system/check")]
pub async fn check_database() -> Result<DatabaseCheck, AppError> {
    let (state, _) = crate::ssr::signed_in().await?;
    let r = server::system::run_check(&state.db, "dashboard").await?;
    Ok(DatabaseCheck { id: r.id, checked_at: r.checked_at, total: r.total, schema_version: r.schema_version })
}

/// The full setup guide (docs/TELEPHONY_SETUP.md) as HTML, with this server's public URL in its
/// examples.
#[server(endpoint = "system/setup-guide")]
pub async fn setup_guide() -> Result<String, AppError> {
    let (state, _) = crate::ssr::signed_in().await?;
    Ok(server::docs::setup_guide_html(state.settings.public_url.as_str()))
}

/// The Setup Guide page.
#[component]
pub fn SetupGuidePage() -> impl IntoView {
    view! {
        <PageHeader title="Setup Guide" subtitle="From an Exotel, Twilio, Vonage or Plivo number to a live voice agent in four steps."/>
        <div class="grid gap-6 md:grid-cols-3">
            <div class="space-y-6 md:col-span-2">
                <section data-testid="guide-exotel">
                    <h2 class="mb-3 font-semibold">"Exotel"</h2>
                    <ol class="space-y-4">
                        <Step n=1 title="Create an agent">"On the Agents page, give it a name, a language and a greeting."</Step>
                        <Step n=2 title="Import your Exotel number">"On Phone Numbers, import the ExoPhone with your API key, token and account SID, and link the agent."</Step>
                        <Step n=3 title="Build the flow in Exotel">"In Exotel's App Bazaar, create a flow: Call Start → Voicebot applet → Hangup. Paste the number's WebSocket URL (wss://…) into the Voicebot applet."</Step>
                        <Step n=4 title="Attach the flow and call">"Assign the flow to the ExoPhone and call it: the agent answers and the call appears under Call Logs."</Step>
                    </ol>
                </section>
                <section data-testid="guide-twilio">
                    <h2 class="mb-3 font-semibold">"Twilio"</h2>
                    <ol class="space-y-4">
                        <Step n=1 title="Create an agent">"On the Agents page, give it a name, a language and a greeting."</Step>
                        <Step n=2 title="Import your Twilio number">"On Phone Numbers, choose Twilio and enter the account SID (AC…) and auth token from the Console's Account Info, and link the agent."</Step>
                        <Step n=3 title="Point the number at Voxgate">"In Twilio's Console, open Phone Numbers → Active numbers → the number. Under Voice Configuration, set “A call comes in” to Webhook, paste the number's Voice webhook URL, choose HTTP POST and save."</Step>
                        <Step n=4 title="Call it">"Voxgate checks Twilio's signature on every request, answers with a media stream and the agent greets the caller; the call appears under Call Logs. The public URL (VOXGATE_PUBLIC_URL) must be the one Twilio calls, since the signature covers it."</Step>
                    </ol>
                </section>
                <section data-testid="guide-vonage">
                    <h2 class="mb-3 font-semibold">"Vonage"</h2>
                    <ol class="space-y-4">
                        <Step n=1 title="Create an agent">"On the Agents page, give it a name, a language and a greeting."</Step>
                        <Step n=2 title="Import your Vonage number">"On Phone Numbers, choose Vonage and enter the API key and secret and the signature secret (Dashboard → API settings), the application id and its private key (the private.key file from creating the application), and link the agent."</Step>
                        <Step n=3 title="Point the application at Voxgate">"In the Vonage Dashboard, open Applications → your application → Voice. Paste the number's Answer URL (HTTP GET) and Event URL (HTTP POST), turn on signed webhooks, and link the number to the application."</Step>
                        <Step n=4 title="Call it">"Voxgate checks the signed JWT on every webhook, answers an NCCO that connects the call to its WebSocket (16-bit audio at 16 or 8 kHz) and the agent greets the caller; the call appears under Call Logs."</Step>
                    </ol>
                </section>
                <section data-testid="guide-plivo">
                    <h2 class="mb-3 font-semibold">"Plivo"</h2>
                    <ol class="space-y-4">
                        <Step n=1 title="Create an agent">"On the Agents page, give it a name, a language and a greeting."</Step>
                        <Step n=2 title="Import your Plivo number">"On Phone Numbers, choose Plivo and enter the auth id (MA… or SA…) and auth token from the Console overview, choose the audio format (μ-law 8 kHz unless you need 16 kHz), and link the agent."</Step>
                        <Step n=3 title="Point the application at Voxgate">"In Plivo's Console, open Voice → Applications → XML, create or edit an application, paste the number's Answer URL and Hangup URL (POST), then choose that application on the number."</Step>
                        <Step n=4 title="Call it">"Voxgate checks X-Plivo-Signature-V3 on every request, answers Plivo XML with a bidirectional stream and the agent greets the caller; the call appears under Call Logs. The public URL (VOXGATE_PUBLIC_URL) must be the one Plivo calls, since the signature covers it."</Step>
                    </ol>
                </section>
            </div>
            <DatabaseCheckCard/>
        </div>
        <YourUrls/>
        <FullGuide/>
    }
}

/// The URLs of the user's own numbers, to paste where the guide says (the first 50).
#[component]
fn YourUrls() -> impl IntoView {
    let numbers = Resource::new(
        || (),
        |_| crate::numbers::list_numbers(domain::phone_number::PhoneNumberQuery { page_size: Some(50), ..Default::default() }),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || numbers.get().and_then(Result::ok).filter(|p| !p.phone_numbers.is_empty()).map(|p| view! {
                <section class="mt-8 max-w-4xl rounded-xl border border-slate-200 bg-white p-6" data-testid="your-urls">
                    <h2 class="font-semibold">"Your numbers' URLs"</h2>
                    <p class="mt-1 text-sm text-slate-600">"The guide's steps below use these; each number's card has them too."</p>
                    <table class="mt-3 w-full text-left text-xs">
                        <thead><tr><th class="py-1">"Number"</th><th>"Provider"</th><th>"Answer / webhook URL"</th><th>"Stream or event URL"</th></tr></thead>
                        <tbody>
                            {p.phone_numbers.into_iter().map(|n| {
                                let second = if n.event_url.is_empty() { n.websocket_url.clone() } else { n.event_url.clone() };
                                view! {
                                    <tr class="border-t border-slate-100 align-top" data-testid="your-url-row">
                                        <td class="py-1 font-mono">{n.phone_number}</td><td>{n.provider.as_str()}</td>
                                        <td class="break-all font-mono">{n.webhook_url}</td><td class="break-all font-mono">{second}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            })}
        </Suspense>
    }
}

/// The whole guide, below the quick starts: each provider step by step, the errors, security.
#[component]
fn FullGuide() -> impl IntoView {
    let guide = Resource::new(|| (), |_| setup_guide());
    view! {
        <Suspense fallback=|| view! { <p class="mt-8 text-sm text-slate-400">"Loading the guide…"</p> }>
            {move || guide.get().map(|r| match r {
                Ok(html) => view! { <article class="guide mt-8 max-w-4xl rounded-xl border border-slate-200 bg-white p-6" data-testid="setup-guide" inner_html=html></article> }.into_any(),
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Step(n: u8, title: &'static str, children: Children) -> impl IntoView {
    view! {
        <li class="flex gap-4 rounded-xl border border-slate-200 bg-white p-5">
            <span class="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-indigo-100 text-sm font-semibold text-indigo-700">{n}</span>
            <div>
                <h2 class="font-medium">{title}</h2>
                <p class="mt-1 text-sm text-slate-600">{children()}</p>
            </div>
        </li>
    }
}

#[component]
fn DatabaseCheckCard() -> impl IntoView {
    let check = ServerAction::<CheckDatabase>::new();
    let result = check.value();
    view! {
        <section class="h-fit rounded-xl border border-slate-200 bg-white p-5">
            <h2 class="font-medium">"System check"</h2>
            <p class="mt-1 text-sm text-slate-600">"Writes a row to the database and reads it back."</p>
            <button
                data-testid="db-check"
                class="mt-4 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-50"
                disabled=move || check.pending().get()
                on:click=move |_| { check.dispatch(CheckDatabase {}); }
            >
                {move || if check.pending().get() { "Checking…" } else { "Check database" }}
            </button>
            <div class="mt-4 text-sm" aria-live="polite">
                {move || match result.get() {
                    None => view! { <p class="text-slate-400">"Not checked yet."</p> }.into_any(),
                    Some(Ok(c)) => view! {
                        <p data-testid="db-check-result" class="text-emerald-700">
                            "Database OK — check " <span data-testid="db-check-total">{c.total}</span>
                            " saved at " {c.checked_at} " (schema v" {c.schema_version} ")"
                        </p>
                    }.into_any(),
                    Some(Err(e)) => view! { <p data-testid="db-check-error" class="text-red-700">{e.to_string()}</p> }.into_any(),
                }}
            </div>
        </section>
    }
}
