//! Import / edit a phone number, validated live with the same rules as the server.

use domain::phone_number::{
    ExotelConfigInput, NumberStatus, PhoneNumberInput, PhoneNumberView, Provider, REGIONS, TwilioConfigInput, exotel_domain_for,
};
use leptos::prelude::*;

use super::SaveNumber;
use super::provider_fields::{PlivoFields, PlivoSection, VonageFields, VonageSection};
use crate::form::{PRIMARY, SECONDARY, Select, TextInput, choice_options, options};

/// The modal form.
#[component]
pub fn PhoneNumberModal(number: Option<PhoneNumberView>, on_saved: Callback<PhoneNumberView>, on_close: Callback<()>) -> impl IntoView {
    let editing = number.is_some();
    let id = number.as_ref().map(|n| n.id.clone());
    let ex = number.as_ref().and_then(|n| n.exotel_config.clone());
    let tw = number.as_ref().and_then(|n| n.twilio_config.clone());
    let vg = number.as_ref().and_then(|n| n.vonage_config.clone());
    let pl = number.as_ref().and_then(|n| n.plivo_config.clone());
    let stored_vonage = vg.as_ref().is_some_and(|v| !v.api_secret.is_empty());
    let stored_plivo = pl.as_ref().is_some_and(|p| !p.auth_token.is_empty());
    let stored_api_key = vg.as_ref().map(|v| v.api_key.clone()).unwrap_or_default();
    let stored_auth_id = pl.as_ref().map(|p| p.auth_id.clone()).unwrap_or_default();
    let vonage_hint =
        vg.as_ref().map(|v| format!("API secret {}, signature secret {}, key {}", v.api_secret, v.signature_secret, v.private_key));
    let plivo_hint = pl.as_ref().map(|p| p.auth_token.clone()).unwrap_or_default();
    let vonage = VonageFields::new(vg.as_ref());
    let plivo = PlivoFields::new(pl.as_ref());
    let stored_provider = number.as_ref().map(|n| n.provider);
    let stored_exotel = ex.as_ref().is_some_and(|e| !e.api_key.is_empty());
    let stored_twilio = tw.as_ref().is_some_and(|t| !t.auth_token.is_empty());
    let stored_sid = tw.as_ref().map(|t| t.account_sid.clone()).unwrap_or_default();
    let auth_hint = tw.as_ref().map(|t| t.auth_token.clone()).unwrap_or_default();
    let key_hint = ex.as_ref().map(|e| e.api_key.clone()).unwrap_or_default();
    let token_hint = ex.as_ref().map(|e| e.api_token.clone()).unwrap_or_default();
    let n = number.as_ref();
    let phone = RwSignal::new(n.map(|n| n.phone_number.clone()).unwrap_or_default());
    let display = RwSignal::new(n.map(|n| n.display_name.clone()).unwrap_or_default());
    let provider = RwSignal::new(n.map_or(Provider::Exotel, |n| n.provider).as_str().to_string());
    let status = RwSignal::new(n.map(|n| n.status).unwrap_or_default().as_str().to_string());
    // The select holds the provider's string; each provider's settings show while it is chosen.
    let is_exotel = move || provider.with(|p| p.parse::<Provider>() == Ok(Provider::Exotel));
    let is_twilio = move || provider.with(|p| p.parse::<Provider>() == Ok(Provider::Twilio));
    let is_vonage = move || provider.with(|p| p.parse::<Provider>() == Ok(Provider::Vonage));
    let is_plivo = move || provider.with(|p| p.parse::<Provider>() == Ok(Provider::Plivo));
    let account_sid = RwSignal::new(stored_sid.clone());
    let auth_token = RwSignal::new(String::new());
    // Stored credentials count only for the provider (and Twilio account) they belong to.
    let stored = move || match provider.with(|p| p.parse::<Provider>().ok()) {
        Some(Provider::Exotel) => stored_exotel && stored_provider == Some(Provider::Exotel),
        Some(Provider::Twilio) => {
            stored_twilio
                && account_sid.with(|a| domain::phone_number::check_twilio_account_sid(a).ok().as_deref() == Some(stored_sid.as_str()))
        }
        Some(Provider::Vonage) => {
            stored_vonage
                && vonage.api_key.with(|k| domain::phone_number::check_vonage_api_key(k).ok().as_deref() == Some(stored_api_key.as_str()))
        }
        Some(Provider::Plivo) => {
            stored_plivo
                && plivo.auth_id.with(|a| domain::phone_number::check_plivo_auth_id(a).ok().as_deref() == Some(stored_auth_id.as_str()))
        }
        _ => false,
    };
    let agent = RwSignal::new(n.and_then(|n| n.linked_agent_id.clone()).unwrap_or_default());
    let api_key = RwSignal::new(String::new());
    let api_token = RwSignal::new(String::new());
    let sid = RwSignal::new(ex.as_ref().map(|e| e.sid.clone()).unwrap_or_default());
    let app_id = RwSignal::new(ex.as_ref().and_then(|e| e.app_id.clone()).unwrap_or_default());
    let region = RwSignal::new(ex.as_ref().map(|e| e.region.clone()).unwrap_or_else(|| "in".into()));
    let domain_name = RwSignal::new(ex.as_ref().map(|e| e.domain.clone()).unwrap_or_else(|| exotel_domain_for("in").into()));

    let agents = Resource::new(|| (), |_| crate::agents::list_agents());
    let agent_options = Signal::derive(move || {
        let mut opts = vec![(String::new(), "— Your most recent agent —".to_string())];
        if let Some(Ok(list)) = agents.get() {
            opts.extend(list.into_iter().map(|a| (a.id, a.settings.name)));
        }
        opts
    });

    let input = move || PhoneNumberInput {
        phone_number: phone.get(),
        display_name: display.get(),
        provider: provider.get(),
        exotel_config: is_exotel().then(|| ExotelConfigInput {
            api_key: Some(api_key.get()),
            api_token: Some(api_token.get()),
            sid: sid.get(),
            app_id: Some(app_id.get()),
            domain: domain_name.get(),
            region: region.get(),
        }),
        twilio_config: is_twilio().then(|| TwilioConfigInput { account_sid: account_sid.get(), auth_token: Some(auth_token.get()) }),
        vonage_config: is_vonage().then(|| vonage.input()),
        plivo_config: is_plivo().then(|| plivo.input()),
        linked_agent_id: Some(agent.get()),
        status: Some(status.get()),
    };
    let save = ServerAction::<SaveNumber>::new();
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let submitted = RwSignal::new(false);
    let on_edit = Callback::new(move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        });
        if f == "exotelConfig.region" {
            domain_name.set(exotel_domain_for(&region.get_untracked()).to_string());
        }
    });
    let live = Memo::new(move |_| input().validate(stored()).err().unwrap_or_default());
    let error = move |field: &'static str| -> Signal<Option<String>> {
        Signal::derive(move || {
            let shown = submitted.get() || touched.with(|t| t.contains(&field));
            let local = live.with(|e| domain::message_for(e, field).map(str::to_string));
            let server = save.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field)));
            if shown { local.or(server) } else { server }
        })
    };
    let errors = Callback::new(error);
    let form_error = move || {
        save.value().with(|v| match v {
            Some(Err(e)) if e.for_field("phoneNumber").is_none() && !matches!(e, crate::error::AppError::Fields(_)) => Some(e.to_string()),
            _ => None,
        })
    };
    Effect::new(move || {
        if let Some(Ok(n)) = save.value().get() {
            on_saved.run(n);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if live.with(|e| e.is_empty()) {
            save.dispatch(SaveNumber { id: id.clone(), input: input() });
        }
    };
    let title = if editing { "Edit phone number" } else { "Import phone number" };
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label=title>
            <form on:submit=submit novalidate class="w-full max-w-2xl space-y-1 rounded-xl bg-white p-6 shadow-xl">
                <h2 class="mb-4 text-lg font-semibold">{title}</h2>
                <div class="grid gap-x-4 md:grid-cols-2">
                    <TextInput label="Phone number (E.164)" name="phoneNumber" value=phone error=error("phoneNumber") placeholder="+919876543210" disabled=editing on_edit/>
                    <TextInput label="Display name" name="displayName" value=display error=error("displayName") placeholder="Support line" on_edit/>
                    <Select label="Provider" name="provider" value=provider options={choice_options::<Provider>()} error=error("provider") on_edit/>
                    <Select label="Status" name="status" value=status options={choice_options::<NumberStatus>()} error=error("status") on_edit/>
                </div>
                <Select label="Agent" name="linkedAgentId" value=agent options=agent_options error=error("linkedAgentId") on_edit/>
                <Show when=is_exotel>
                    <fieldset data-testid="exotel-section" class="rounded-lg border border-slate-200 p-4">
                        <legend class="px-1 text-sm font-medium">"Exotel settings"</legend>
                        <p class="mb-2 text-xs text-red-600" data-testid="error-exotelConfig">{move || error("exotelConfig").get()}</p>
                        <div class="grid gap-x-4 md:grid-cols-2">
                            <TextInput label="API key" name="exotelConfig.apiKey" value=api_key error=error("exotelConfig.apiKey") kind="password"
                                placeholder=if stored_exotel { "stored — leave empty to keep" } else { "" } on_edit/>
                            <TextInput label="API token" name="exotelConfig.apiToken" value=api_token error=error("exotelConfig.apiToken") kind="password"
                                placeholder=if stored_exotel { "stored — leave empty to keep" } else { "" } on_edit/>
                            <TextInput label="Account SID" name="exotelConfig.sid" value=sid error=error("exotelConfig.sid") on_edit/>
                            <TextInput label="App id (optional)" name="exotelConfig.appId" value=app_id error=error("exotelConfig.appId") on_edit/>
                            <Select label="Region" name="exotelConfig.region" value=region options=options(REGIONS) error=error("exotelConfig.region") on_edit/>
                            <TextInput label="API domain" name="exotelConfig.domain" value=domain_name error=error("exotelConfig.domain") on_edit/>
                        </div>
                        {(stored_exotel).then(|| view! { <p class="text-xs text-slate-500">"Stored: key " {key_hint.clone()} ", token " {token_hint.clone()}</p> })}
                    </fieldset>
                    <aside class="mt-2 rounded-lg bg-indigo-50 p-4 text-sm text-indigo-900">
                        <p class="font-medium">"Where to paste the URLs in Exotel"</p>
                        <ol class="mt-1 list-decimal space-y-1 pl-5">
                            <li>"App Bazaar → create a flow: Call Start → Voicebot → Hangup."</li>
                            <li>"In the Voicebot applet, paste this number's WebSocket URL (shown on its card after saving)."</li>
                            <li>"Assign the flow to this ExoPhone under ExoPhones."</li>
                        </ol>
                    </aside>
                </Show>
                <Show when=is_twilio>
                    <fieldset data-testid="twilio-section" class="rounded-lg border border-slate-200 p-4">
                        <legend class="px-1 text-sm font-medium">"Twilio settings"</legend>
                        <p class="mb-2 text-xs text-red-600" data-testid="error-twilioConfig">{move || error("twilioConfig").get()}</p>
                        <div class="grid gap-x-4 md:grid-cols-2">
                            <TextInput label="Account SID" name="twilioConfig.accountSid" value=account_sid error=error("twilioConfig.accountSid")
                                placeholder="AC…" on_edit/>
                            <TextInput label="Auth token" name="twilioConfig.authToken" value=auth_token error=error("twilioConfig.authToken") kind="password"
                                placeholder=if stored_twilio { "stored — leave empty to keep" } else { "" } on_edit/>
                        </div>
                        {(stored_twilio).then(|| view! { <p class="text-xs text-slate-500">"Stored: auth token " {auth_hint.clone()}</p> })}
                    </fieldset>
                    <aside class="mt-2 rounded-lg bg-indigo-50 p-4 text-sm text-indigo-900">
                        <p class="font-medium">"Where to paste the URL in Twilio"</p>
                        <ol class="mt-1 list-decimal space-y-1 pl-5">
                            <li>"Console → Phone Numbers → Manage → Active numbers → this number."</li>
                            <li>"Voice Configuration: “A call comes in” → Webhook, paste this number's Webhook URL (shown on its card after saving), HTTP POST."</li>
                            <li>"Save. Twilio signs each request with your auth token; Voxgate checks it."</li>
                        </ol>
                    </aside>
                </Show>
                <Show when=is_vonage>
                    <VonageSection fields=vonage stored=stored_vonage hint=vonage_hint.clone().unwrap_or_default() error=errors on_edit/>
                </Show>
                <Show when=is_plivo>
                    <PlivoSection fields=plivo stored=stored_plivo hint=plivo_hint.clone() error=errors on_edit/>
                </Show>
                <p data-testid="error-form" class="text-sm text-red-600">{form_error}</p>
                <div class="flex justify-end gap-2 pt-2">
                    <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class=PRIMARY data-testid="save-number" disabled=move || save.pending().get()>"Save number"</button>
                </div>
            </form>
        </div>
    }
}
