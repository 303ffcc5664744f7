//! One phone number as a card: status, agent, URLs to copy, actions.

use domain::phone_number::{NumberStatus, PhoneNumberView, Provider, VerificationView, VerifyStatus};
use leptos::prelude::*;

use super::{DeleteNumber, RotateNumberSecret, VerifyNumber};
use crate::form::{CopyField, SECONDARY};

fn badge(status: NumberStatus) -> &'static str {
    match status {
        NumberStatus::Active => "bg-emerald-100 text-emerald-800",
        NumberStatus::Error => "bg-red-100 text-red-800",
        NumberStatus::Inactive => "bg-slate-200 text-slate-700",
    }
}

fn verify_badge(status: VerifyStatus) -> &'static str {
    match status {
        VerifyStatus::Verified => "text-emerald-700",
        VerifyStatus::RateLimited | VerifyStatus::Unreachable | VerifyStatus::Unsupported => "text-amber-700",
        _ => "text-red-700",
    }
}

/// The ownership row: when the provider last confirmed the number, and the last check's outcome.
#[component]
fn Ownership(id: String, verification: Option<VerificationView>, last_verified: Option<String>, checkable: bool) -> impl IntoView {
    let verify = ServerAction::<VerifyNumber>::new();
    let shown = RwSignal::new(verification);
    let verified_at = RwSignal::new(last_verified);
    Effect::new(move || {
        if let Some(Ok(n)) = verify.value().get() {
            shown.set(n.verification);
            verified_at.set(n.last_verified);
        }
    });
    let short = |t: &str| t.replace('T', " ").chars().take(16).collect::<String>();
    view! {
        <dt>"Ownership"</dt>
        <dd data-testid="number-verification">
            {move || match shown.get() {
                Some(v) => view! {
                    <span class=verify_badge(v.status) data-testid="verification-status" title=v.message.clone()>{v.status.label()}</span>
                }.into_any(),
                None => view! { <span class="text-slate-500" data-testid="verification-status">"Not checked"</span> }.into_any(),
            }}
            {move || verified_at.get().map(|t| view! {
                <span class="block text-slate-500" data-testid="last-verified">{format!("verified {}", short(&t))}</span>
            })}
            {checkable.then(|| view! {
                <button class="ml-1 text-indigo-700 hover:underline" data-testid="verify-number" disabled=move || verify.pending().get()
                    on:click=move |_| { verify.dispatch(VerifyNumber { id: id.clone() }); }>"Verify"</button>
            })}
        </dd>
        <dd class="col-span-2 text-xs" data-testid="verification-message">
            {move || match verify.value().get() {
                Some(Err(e)) => view! { <span class="text-red-700">{e.for_field("phoneNumber").or_else(|| e.for_field("provider")).unwrap_or_else(|| e.to_string())}</span> }.into_any(),
                _ => view! { <span class="text-slate-600">{shown.get().filter(|v| v.status != VerifyStatus::Verified || v.message.contains("application")).map(|v| v.message)}</span> }.into_any(),
            }}
        </dd>
    }
}

/// A card in the numbers grid.
#[component]
pub fn PhoneNumberCard(number: PhoneNumberView, on_edit: Callback<PhoneNumberView>, on_changed: Callback<()>) -> impl IntoView {
    let delete = ServerAction::<DeleteNumber>::new();
    let rotate = ServerAction::<RotateNumberSecret>::new();
    Effect::new(move || {
        if delete.value().get().is_some() || rotate.value().get().is_some() {
            on_changed.run(());
        }
    });
    let id = number.id.clone();
    let id2 = number.id.clone();
    let for_edit = number.clone();
    let exotel = number.exotel_config.clone();
    let twilio = number.twilio_config.clone();
    let vonage = number.vonage_config.clone();
    let plivo = number.plivo_config.clone();
    let provider = number.provider;
    // Signed providers' URLs carry no secret: rotating voids their stream tokens only.
    let signed = matches!(provider, Provider::Twilio | Provider::Vonage | Provider::Plivo);
    view! {
        <article data-testid="number-card" class="flex flex-col rounded-xl border border-slate-200 bg-white p-5">
            <div class="flex items-start justify-between gap-2">
                <div>
                    <h2 class="font-mono text-lg font-semibold" data-testid="number-value">{number.phone_number.clone()}</h2>
                    <p class="text-sm text-slate-600" data-testid="number-name">{number.display_name.clone()}</p>
                </div>
                <span data-testid="number-status" class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", badge(number.status))>{number.status.as_str()}</span>
            </div>
            <dl class="mt-3 grid grid-cols-2 gap-1 text-xs text-slate-500">
                <dt>"Provider"</dt><dd class="text-slate-800">{number.provider.as_str()}</dd>
                {exotel.map(|e| view! {
                    <dt>"Region"</dt><dd class="text-slate-800">{e.region}</dd>
                    <dt>"SID"</dt><dd class="text-slate-800">{e.sid}</dd>
                    <dt>"API key"</dt><dd class="font-mono text-slate-800" data-testid="number-api-key">{e.api_key}</dd>
                })}
                {twilio.map(|t| view! {
                    <dt>"Account"</dt><dd class="truncate font-mono text-slate-800" title=t.account_sid.clone()>{t.account_sid.clone()}</dd>
                    <dt>"Auth token"</dt><dd class="font-mono text-slate-800" data-testid="number-auth-token">{t.auth_token}</dd>
                })}
                {vonage.map(|v| view! {
                    <dt>"API key"</dt><dd class="font-mono text-slate-800">{v.api_key}</dd>
                    <dt>"Application"</dt><dd class="truncate font-mono text-slate-800" title=v.application_id.clone()>{v.application_id.clone()}</dd>
                    <dt>"Signature secret"</dt><dd class="font-mono text-slate-800" data-testid="number-signature-secret">{v.signature_secret}</dd>
                })}
                {plivo.map(|p| view! {
                    <dt>"Auth id"</dt><dd class="truncate font-mono text-slate-800">{p.auth_id}</dd>
                    <dt>"Auth token"</dt><dd class="font-mono text-slate-800" data-testid="number-auth-token">{p.auth_token}</dd>
                    <dt>"Audio"</dt><dd class="font-mono text-slate-800">{p.content_type}</dd>
                })}
                <Ownership id=number.id.clone() verification=number.verification.clone() last_verified=number.last_verified.clone()
                    checkable=provider != Provider::Other/>
                <dt>"Last call"</dt>
                <dd class="text-slate-800" data-testid="number-last-call">
                    {match number.last_call.clone() {
                        Some(c) => {
                            let when = c.started_at.replace('T', " ").chars().take(16).collect::<String>();
                            let caller = c.caller.unwrap_or_else(|| "unknown caller".into());
                            view! {
                                <a class="text-indigo-700 hover:underline" data-testid="number-last-call-link"
                                    href=format!("/calls?phoneId={}&call={}", number.id, c.id)>
                                    {format!("{when} · {caller} · {}", c.status.as_str().replace('_', " "))}
                                </a>
                            }.into_any()
                        }
                        None => view! { <span>"never"</span> }.into_any(),
                    }}
                </dd>
                <dt>"Agent"</dt>
                <dd data-testid="number-agent">
                    {match (number.linked_agent_id.clone(), number.linked_agent_name.clone()) {
                        (Some(id), Some(name)) => view! { <a class="text-indigo-700 hover:underline" href=format!("/agents#agent-{id}")>{name}</a> }.into_any(),
                        _ => view! { <span class="text-amber-700">"None (uses your latest agent)"</span> }.into_any(),
                    }}
                </dd>
            </dl>
            {match provider {
                // Twilio needs one URL: the voice webhook; the stream URL comes in its answer.
                Provider::Twilio => view! {
                    <CopyField label="Voice webhook (A call comes in, HTTP POST)" value=number.webhook_url.clone() test_id="webhook"/>
                }.into_any(),
                // Vonage and Plivo: the application's answer URL and its event/hangup URL.
                Provider::Vonage => view! {
                    <CopyField label="Answer URL (application, HTTP GET)" value=number.webhook_url.clone() test_id="webhook"/>
                    <CopyField label="Event URL (application, HTTP POST)" value=number.event_url.clone() test_id="event"/>
                }.into_any(),
                Provider::Plivo => view! {
                    <CopyField label="Answer URL (application, POST)" value=number.webhook_url.clone() test_id="webhook"/>
                    <CopyField label="Hangup URL (application, POST)" value=number.event_url.clone() test_id="event"/>
                }.into_any(),
                _ => {
                view! {
                    <CopyField label="Webhook URL" value=number.webhook_url.clone() test_id="webhook"/>
                    <CopyField label="WebSocket URL (Voicebot applet)" value=number.websocket_url.clone() test_id="websocket"/>
                }.into_any()}
            }}
            <super::doctor::CheckNumber id=number.id.clone()/>
            <super::routing::RoutingPanel number=number.clone() on_changed/>
            <div class="mt-4 flex flex-wrap gap-2">
                <button class=SECONDARY data-testid="edit-number" on:click=move |_| on_edit.run(for_edit.clone())>"Edit"</button>
                <button class=SECONDARY title=if signed { "New stream-token key; calls in progress are not affected" } else { "New secret in the URLs; paste them into Exotel again" }
                    on:click=move |_| {
                        if window().confirm_with_message("Rotate the URL secret? The current URLs stop working.").unwrap_or(false) {
                            rotate.dispatch(RotateNumberSecret { id: id2.clone() });
                        }
                    }>"Rotate secret"</button>
                <a class=SECONDARY data-testid="number-calls" href=format!("/calls?phoneId={}", number.id)>"Calls"</a>
                <super::dial::DialButton number=number.clone()/>
                <super::test_call::TestButton id=number.id.clone() phone_number=number.phone_number.clone()/>
                <button data-testid="delete-number" class="rounded-md px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50"
                    on:click=move |_| {
                        if window().confirm_with_message("Delete this phone number? Calls to it will no longer be answered.").unwrap_or(false) {
                            delete.dispatch(DeleteNumber { id: id.clone() });
                        }
                    }>"Delete"</button>
            </div>
        </article>
    }
}
