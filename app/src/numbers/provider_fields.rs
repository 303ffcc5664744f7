//! The import modal's Vonage and Plivo sections: their fields (errors next to each, from the
//! same rules as the server) and where to paste the number's URLs in each provider's console.

use domain::phone_number::{PLIVO_CONTENT_TYPES, PlivoConfigInput, VONAGE_SAMPLE_RATES, VonageConfigInput};
use leptos::prelude::*;

use crate::form::{ErrorFn, Select, TextArea, TextInput};

/// A field's error, by its JSON name.
pub type Errors = Callback<&'static str, ErrorFn>;

const KEEP: &str = "stored — leave empty to keep";

/// What the Vonage section edits.
#[derive(Clone, Copy)]
pub struct VonageFields {
    pub api_key: RwSignal<String>,
    pub api_secret: RwSignal<String>,
    pub application_id: RwSignal<String>,
    pub private_key: RwSignal<String>,
    pub signature_secret: RwSignal<String>,
    pub sample_rate: RwSignal<String>,
}

impl VonageFields {
    pub fn new(stored: Option<&domain::phone_number::VonageConfigView>) -> Self {
        Self {
            api_key: RwSignal::new(stored.map(|v| v.api_key.clone()).unwrap_or_default()),
            api_secret: RwSignal::new(String::new()),
            application_id: RwSignal::new(stored.map(|v| v.application_id.clone()).unwrap_or_default()),
            private_key: RwSignal::new(String::new()),
            signature_secret: RwSignal::new(String::new()),
            sample_rate: RwSignal::new(stored.map_or(VONAGE_SAMPLE_RATES[0], |v| v.sample_rate).to_string()),
        }
    }

    pub fn input(&self) -> VonageConfigInput {
        VonageConfigInput {
            api_key: self.api_key.get(),
            api_secret: Some(self.api_secret.get()),
            application_id: self.application_id.get(),
            private_key: Some(self.private_key.get()),
            signature_secret: Some(self.signature_secret.get()),
            sample_rate: self.sample_rate.get().parse().ok(),
        }
    }
}

/// What the Plivo section edits.
#[derive(Clone, Copy)]
pub struct PlivoFields {
    pub auth_id: RwSignal<String>,
    pub auth_token: RwSignal<String>,
    pub content_type: RwSignal<String>,
}

impl PlivoFields {
    pub fn new(stored: Option<&domain::phone_number::PlivoConfigView>) -> Self {
        Self {
            auth_id: RwSignal::new(stored.map(|p| p.auth_id.clone()).unwrap_or_default()),
            auth_token: RwSignal::new(String::new()),
            content_type: RwSignal::new(stored.map_or(PLIVO_CONTENT_TYPES[0].to_string(), |p| p.content_type.clone())),
        }
    }

    pub fn input(&self) -> PlivoConfigInput {
        PlivoConfigInput {
            auth_id: self.auth_id.get(),
            auth_token: Some(self.auth_token.get()),
            content_type: Some(self.content_type.get()),
        }
    }
}

/// The Vonage settings and where its URLs go.
#[component]
pub fn VonageSection(fields: VonageFields, stored: bool, hint: String, error: Errors, on_edit: Callback<&'static str>) -> impl IntoView {
    let keep = if stored { KEEP } else { "" };
    let rates = VONAGE_SAMPLE_RATES.iter().map(|r| (r.to_string(), format!("{} kHz (audio/l16;rate={r})", r / 1000))).collect::<Vec<_>>();
    view! {
        <fieldset data-testid="vonage-section" class="rounded-lg border border-slate-200 p-4">
            <legend class="px-1 text-sm font-medium">"Vonage settings"</legend>
            <p class="mb-2 text-xs text-red-600" data-testid="error-vonageConfig">{move || error.run("vonageConfig").get()}</p>
            <div class="grid gap-x-4 md:grid-cols-2">
                <TextInput label="API key" name="vonageConfig.apiKey" value=fields.api_key error=error.run("vonageConfig.apiKey") on_edit/>
                <TextInput label="API secret" name="vonageConfig.apiSecret" value=fields.api_secret error=error.run("vonageConfig.apiSecret")
                    kind="password" placeholder=keep on_edit/>
                <TextInput label="Application id" name="vonageConfig.applicationId" value=fields.application_id
                    error=error.run("vonageConfig.applicationId") placeholder="aaaaaaaa-bbbb-cccc-dddd-0123456789ab" on_edit/>
                <TextInput label="Signature secret" name="vonageConfig.signatureSecret" value=fields.signature_secret
                    error=error.run("vonageConfig.signatureSecret") kind="password" placeholder=keep on_edit/>
                <Select label="Audio" name="vonageConfig.sampleRate" value=fields.sample_rate options=rates
                    error=error.run("vonageConfig.sampleRate") on_edit/>
            </div>
            <TextArea label="Private key (private.key)" name="vonageConfig.privateKey" value=fields.private_key
                error=error.run("vonageConfig.privateKey") rows=4
                hint=if stored { "Stored — leave empty to keep it." } else { "-----BEGIN PRIVATE KEY----- …" } on_edit/>
            {stored.then(|| view! { <p class="text-xs text-slate-500">"Stored: " {hint.clone()}</p> })}
        </fieldset>
        <aside class="mt-2 rounded-lg bg-indigo-50 p-4 text-sm text-indigo-900">
            <p class="font-medium">"Where to paste the URLs in Vonage"</p>
            <ol class="mt-1 list-decimal space-y-1 pl-5">
                <li>"Dashboard → Applications → your application → Voice: paste this number's Answer URL (HTTP GET) and Event URL (HTTP POST), shown on its card after saving."</li>
                <li>"Turn on signed webhooks (Dashboard → API settings); Voxgate checks each request with your signature secret."</li>
                <li>"Link this number to the application (Numbers → Your numbers)."</li>
            </ol>
        </aside>
    }
}

/// The Plivo settings and where its URLs go.
#[component]
pub fn PlivoSection(fields: PlivoFields, stored: bool, hint: String, error: Errors, on_edit: Callback<&'static str>) -> impl IntoView {
    let formats = PLIVO_CONTENT_TYPES.iter().map(|t| (t.to_string(), t.to_string())).collect::<Vec<_>>();
    view! {
        <fieldset data-testid="plivo-section" class="rounded-lg border border-slate-200 p-4">
            <legend class="px-1 text-sm font-medium">"Plivo settings"</legend>
            <p class="mb-2 text-xs text-red-600" data-testid="error-plivoConfig">{move || error.run("plivoConfig").get()}</p>
            <div class="grid gap-x-4 md:grid-cols-2">
                <TextInput label="Auth id" name="plivoConfig.authId" value=fields.auth_id error=error.run("plivoConfig.authId")
                    placeholder="MA…" on_edit/>
                <TextInput label="Auth token" name="plivoConfig.authToken" value=fields.auth_token error=error.run("plivoConfig.authToken")
                    kind="password" placeholder=if stored { KEEP } else { "" } on_edit/>
                <Select label="Audio" name="plivoConfig.contentType" value=fields.content_type options=formats
                    error=error.run("plivoConfig.contentType") on_edit/>
            </div>
            {stored.then(|| view! { <p class="text-xs text-slate-500">"Stored: auth token " {hint.clone()}</p> })}
        </fieldset>
        <aside class="mt-2 rounded-lg bg-indigo-50 p-4 text-sm text-indigo-900">
            <p class="font-medium">"Where to paste the URLs in Plivo"</p>
            <ol class="mt-1 list-decimal space-y-1 pl-5">
                <li>"Console → Voice → Applications → XML → your application: paste this number's Answer URL and Hangup URL (both POST), shown on its card after saving."</li>
                <li>"Phone Numbers → Your numbers → this number: choose that application."</li>
                <li>"Plivo signs each request (X-Plivo-Signature-V3) with your auth token; Voxgate checks it."</li>
            </ol>
        </aside>
    }
}
