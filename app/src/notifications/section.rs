//! Settings → Notifications: the webhook URL and its signing secret, per-agent webhooks, and
//! e-mail alerts, validated live with the same rules as the server.

use domain::agent::AgentView;
use domain::notify::{AgentWebhook, AlertEvent, NotificationInput, NotificationSettings};
use leptos::prelude::*;

use super::log::DeliveryLog;
use super::{RotateSigningSecret, SaveNotifications, get_notifications};
use crate::form::{INPUT, PRIMARY, SECONDARY, TextInput};

/// The notifications part of the Settings page.
#[component]
pub fn NotificationsSection() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_notifications());
    let agents = Resource::new(|| (), |_| crate::agents::list_agents());
    let saved = RwSignal::new(0u32);
    view! {
        <Suspense fallback=|| view! { <p class="mt-6 h-6 animate-pulse rounded bg-slate-100"></p> }>
            {move || match (settings.get(), agents.get()) {
                (Some(Ok(s)), Some(Ok(a))) => view! { <NotificationsForm initial=s agents=a saved/> }.into_any(),
                (Some(Err(e)), _) | (_, Some(Err(e))) => view! { <p class="mt-6 text-sm text-red-600">{e.to_string()}</p> }.into_any(),
                _ => ().into_any(),
            }}
        </Suspense>
        <DeliveryLog saved=saved.into()/>
    }
}

/// `a, b,c` → `["a", "b", "c"]`.
fn split_words(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[component]
fn NotificationsForm(initial: NotificationSettings, agents: Vec<AgentView>, saved: RwSignal<u32>) -> impl IntoView {
    let webhook_url = RwSignal::new(initial.webhook_url.clone().unwrap_or_default());
    let email_to = RwSignal::new(initial.email_to.clone().unwrap_or_default());
    let keywords = RwSignal::new(initial.keywords.join(", "));
    let events: Vec<(AlertEvent, RwSignal<bool>)> =
        AlertEvent::ALL.iter().map(|e| (*e, RwSignal::new(initial.email_events.contains(e)))).collect();
    // One URL field per agent, filled from the saved per-agent webhooks.
    let agent_urls: Vec<(String, String, RwSignal<String>)> = agents
        .iter()
        .map(|a| {
            let url = initial.agent_webhooks.iter().find(|w| w.agent_id == a.id).map(|w| w.url.clone()).unwrap_or_default();
            (a.id.clone(), a.settings.name.clone(), RwSignal::new(url))
        })
        .collect();
    let masked = RwSignal::new(initial.signing_secret.clone());
    let shown_secret = RwSignal::new(None::<String>);
    let email_available = initial.email_available;

    let (ev, au) = (events.clone(), agent_urls.clone());
    let input = move || NotificationInput {
        webhook_url: webhook_url.get(),
        email_to: email_to.get(),
        email_events: ev.iter().filter(|(_, on)| on.get()).map(|(e, _)| e.as_str().to_string()).collect(),
        keywords: split_words(&keywords.get()),
        agent_webhooks: au
            .iter()
            .filter(|(_, _, url)| !url.get().trim().is_empty())
            .map(|(id, _, url)| AgentWebhook { agent_id: id.clone(), agent_name: None, url: url.get() })
            .collect(),
    };
    let input = StoredValue::new(input);
    let save = ServerAction::<SaveNotifications>::new();
    let rotate = ServerAction::<RotateSigningSecret>::new();
    let submitted = RwSignal::new(false);
    let live = Memo::new(move |_| input.with_value(|i| i()).normalized().validate());
    let message = move |field: &str| {
        let local = submitted.get().then(|| live.with(|e| e.iter().find(|e| e.field == field).map(|e| e.message.clone()))).flatten();
        local.or_else(|| save.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field))))
    };
    let error = move |field: &'static str| -> Signal<Option<String>> { Signal::derive(move || message(field)) };
    // A per-agent field's error: its index counts only the agents whose URL is filled in.
    let au = agent_urls.clone();
    let agent_error = move |agent_id: String| -> Signal<Option<String>> {
        let au = au.clone();
        Signal::derive(move || {
            let filled: Vec<&String> = au.iter().filter(|(_, _, u)| !u.get().trim().is_empty()).map(|(id, _, _)| id).collect();
            let i = filled.iter().position(|id| **id == agent_id)?;
            message(&format!("agentWebhooks.{i}.url")).or_else(|| message(&format!("agentWebhooks.{i}.agentId")))
        })
    };
    Effect::new(move || {
        if let Some(Ok(s)) = save.value().get() {
            masked.set(s.settings.signing_secret.clone());
            if s.new_secret.is_some() {
                shown_secret.set(s.new_secret.clone());
            }
            saved.update(|v| *v += 1);
        }
    });
    Effect::new(move || {
        if let Some(Ok(s)) = rotate.value().get() {
            masked.set(Some(format!("••••{}", &s.secret[s.secret.len().saturating_sub(4)..])));
            shown_secret.set(Some(s.secret));
        }
    });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        submitted.set(true);
        if live.with(|e| e.is_empty()) {
            save.dispatch(SaveNotifications { input: input.with_value(|i| i()) });
        }
    };
    view! {
        <form on:submit=submit novalidate data-testid="notifications-form" class="mt-6 rounded-xl border border-slate-200 bg-white p-6">
            <h2 class="font-medium">"End-of-call webhook"</h2>
            <p class="mt-1 text-sm text-slate-500">
                "When a call ends, Voxgate POSTs a JSON summary (call, number, agent, transcript) to this URL, signed in the Voxgate-Signature header."
            </p>
            <div class="mt-4 max-w-xl">
                <TextInput label="Webhook URL" name="webhookUrl" value=webhook_url error=error("webhookUrl") placeholder="https://example.com/hooks/voxgate"/>
            </div>
            <div class="flex items-center gap-3 text-sm">
                <span class="text-slate-500">"Signing secret:"</span>
                <code data-testid="signing-secret" class="font-mono">{move || masked.get().unwrap_or_else(|| "none yet (made when you save a URL)".into())}</code>
                <button type="button" data-testid="rotate-secret" class=SECONDARY
                    on:click=move |_| {
                        if masked.get_untracked().is_none() || window().confirm_with_message("Make a new signing secret? The old one stops working at once.").unwrap_or(false) {
                            rotate.dispatch(RotateSigningSecret {});
                        }
                    }>{move || if masked.get().is_some() { "Rotate secret" } else { "Make a secret" }}</button>
            </div>
            {move || shown_secret.get().map(|s| view! {
                <div data-testid="new-secret" class="mt-4 max-w-xl rounded-md border border-amber-300 bg-amber-50 p-4 text-sm">
                    <p class="font-medium">"Copy this signing secret now; it will not be shown again."</p>
                    <code data-testid="new-secret-value" class="mt-2 block break-all font-mono">{s}</code>
                </div>
            })}
            {(!agent_urls.is_empty()).then(|| view! {
                <h3 class="mt-6 text-sm font-medium">"Per-agent webhooks (sent besides the one above)"</h3>
                <div class="mt-2 grid max-w-xl gap-y-1">
                    {agent_urls.iter().map(|(id, name, url)| {
                        let (url, error, input_id) = (*url, agent_error(id.clone()), format!("input-agent-webhook-{id}"));
                        view! {
                            <div>
                                <label class="block text-sm font-medium text-slate-700" for=input_id.clone()>"Webhook for " {name.clone()}</label>
                                <input id=input_id type="text" name="agentWebhookUrl" class=INPUT placeholder="https://…"
                                    prop:value=move || url.get()
                                    aria-invalid=move || error.get().is_some().to_string()
                                    on:input=move |ev| url.set(event_target_value(&ev))/>
                                <p data-testid=format!("error-agent-webhook-{id}") class="mt-1 min-h-5 text-xs text-red-600">{move || error.get()}</p>
                            </div>
                        }
                    }).collect_view()}
                </div>
            })}
            <h2 class="mt-6 font-medium">"E-mail alerts"</h2>
            {(!email_available).then(|| view! {
                <p data-testid="email-off" class="mt-1 text-sm text-amber-700">"E-mail is off on this server: its operator has not configured SMTP."</p>
            })}
            <div class="mt-4 grid max-w-xl gap-x-4">
                <TextInput label="Send alerts to" name="emailTo" value=email_to error=error("emailTo") placeholder="ops@example.com"/>
                <fieldset class="text-sm">
                    <legend class="font-medium text-slate-700">"Alert me when"</legend>
                    {events.iter().map(|(e, on)| {
                        let on = *on;
                        view! {
                            <label class="mr-4 inline-flex items-center gap-2">
                                <input type="checkbox" name="emailEvents" value=e.as_str() disabled=!email_available
                                    prop:checked=move || on.get() on:change=move |ev| on.set(event_target_checked(&ev))/>
                                {e.label()}
                            </label>
                        }
                    }).collect_view()}
                    <p data-testid="error-emailEvents" class="mt-1 min-h-5 text-xs text-red-600">{move || message("emailEvents")}</p>
                </fieldset>
                <TextInput label="Key words" name="keywords" value=keywords error=error("keywords") placeholder="refund, cancel my account, lawyer"/>
            </div>
            <div class="mt-2 flex items-center gap-3">
                <button type="submit" data-testid="save-notifications" class=PRIMARY disabled=move || save.pending().get()>"Save"</button>
                {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <span data-testid="notifications-saved" class="text-sm text-emerald-700">"Saved"</span> })}
            </div>
        </form>
    }
}
