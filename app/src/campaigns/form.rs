//! The new-campaign form: agent, caller numbers, contact list (pasted or read from a file in the
//! browser), calling hours and pace, checked live with the server's rules; then what was created.

use domain::campaign::{CampaignCreated, CampaignInput};
use domain::phone_number::{PhoneNumberQuery, Provider};
use leptos::prelude::*;

use super::CreateCampaign;
use crate::error::AppError;
use crate::form::{PRIMARY, SECONDARY, Select, TextArea, TextInput};

/// Every field of [`CampaignInput`] as the server names it in its errors.
const FIELDS: &[&str] = &[
    "name",
    "agentId",
    "phoneIds",
    "contactsCsv",
    "hoursFrom",
    "hoursTo",
    "timezone",
    "maxConcurrent",
    "callsPerSecond",
    "maxAttempts",
    "retryDelaySecs",
    "startAt",
];

/// What no field's line shows (a server failure, an error about something else).
fn general_error(e: &AppError) -> Option<String> {
    match e {
        AppError::Fields(errors) => {
            let rest: Vec<&str> = errors.iter().filter(|f| !FIELDS.contains(&f.field.as_str())).map(|f| f.message.as_str()).collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        }
        AppError::Invalid { field, .. } if FIELDS.contains(&field.as_str()) => None,
        other => Some(other.to_string()),
    }
}

/// The RFC 3339 time of a `datetime-local` value, read in the browser's time zone.
fn start_time(local: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(local));
        if !date.get_time().is_nan() {
            return String::from(date.to_iso_string());
        }
    }
    local.to_string()
}

/// Reads the chosen file's text into `text` in the browser.
#[cfg(feature = "hydrate")]
fn read_file(input: web_sys::HtmlInputElement, text: RwSignal<String>, error: RwSignal<String>) {
    let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(t) => {
                text.set(t.as_string().unwrap_or_default());
                error.set(String::new());
            }
            Err(_) => error.set("The file could not be read.".into()),
        }
    });
}

/// What creating did: how many contacts were added, each row left out, and the campaign's link.
#[component]
fn Created(created: CampaignCreated, on_again: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let href = format!("/campaigns/{}", created.campaign.id);
    let n = created.contacts;
    let rejected = created.rejected;
    let left_out = rejected.len();
    view! {
        <div data-testid="campaign-created" class="space-y-3">
            <p class="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="contacts-added">
                {format!("{n} contact{} added to “{}”", if n == 1 { "" } else { "s" }, created.campaign.name)}
            </p>
            {(left_out > 0).then(|| view! {
                <p class="text-sm font-medium text-red-700">{format!("{left_out} row{} left out:", if left_out == 1 { "" } else { "s" })}</p>
                <ul class="max-h-48 overflow-y-auto text-xs text-red-700">
                    {rejected.into_iter().map(|r| {
                        let why = r.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                        view! { <li data-testid="rejected-row">{format!("line {}: {why}", r.line)}</li> }
                    }).collect_view()}
                </ul>
            })}
            <div class="flex justify-end gap-2 pt-2">
                <button type="button" class=SECONDARY on:click=move |_| on_again.run(())>"Create another"</button>
                <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Close"</button>
                <a class=PRIMARY data-testid="open-campaign" href=href>"Open campaign"</a>
            </div>
        </div>
    }
}

/// The new-campaign form, in a dialog; `on_created` runs once a campaign exists.
#[component]
pub fn NewCampaignForm(on_created: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let defaults = CampaignInput::default();
    let name = RwSignal::new(String::new());
    let agent = RwSignal::new(String::new());
    let phones = RwSignal::new(Vec::<String>::new());
    let csv = RwSignal::new(String::new());
    let file_error = RwSignal::new(String::new());
    let hours_from = RwSignal::new(String::new());
    let hours_to = RwSignal::new(String::new());
    let timezone = RwSignal::new(defaults.timezone.clone());
    let max_concurrent = RwSignal::new(defaults.max_concurrent.to_string());
    let calls_per_second = RwSignal::new(defaults.calls_per_second.to_string());
    let max_attempts = RwSignal::new(defaults.max_attempts.to_string());
    let retry_delay = RwSignal::new(defaults.retry_delay_secs.to_string());
    let start_at = RwSignal::new(String::new());

    let agents = Resource::new(|| (), |_| crate::agents::list_agents());
    let agent_options = Signal::derive(move || {
        let mut opts = vec![(String::new(), "— Choose an agent —".to_string())];
        if let Some(Ok(list)) = agents.get() {
            opts.extend(list.into_iter().map(|a| (a.id, a.settings.name)));
        }
        opts
    });
    let numbers = Resource::new(|| (), |_| crate::numbers::list_numbers(PhoneNumberQuery { page_size: Some(200), ..Default::default() }));

    // Everything but the contact list, which only the server reads (and may be large).
    let fields = move || CampaignInput {
        name: name.get(),
        agent_id: agent.get(),
        phone_ids: phones.get(),
        contacts_csv: String::new(),
        start_at: start_at.with(|s| (!s.trim().is_empty()).then(|| start_time(s.trim()))),
        hours_from: hours_from.get(),
        hours_to: hours_to.get(),
        timezone: timezone.get(),
        max_concurrent: max_concurrent.with(|v| v.trim().parse().unwrap_or(0)),
        calls_per_second: calls_per_second.with(|v| v.trim().parse().unwrap_or(0.0)),
        max_attempts: max_attempts.with(|v| v.trim().parse().unwrap_or(0)),
        retry_delay_secs: retry_delay.with(|v| v.trim().parse().unwrap_or(0)),
    };
    let no_contacts = Memo::new(move |_| csv.with(|c| c.trim().is_empty()));
    let live = Memo::new(move |_| {
        let mut errors = fields().check();
        if no_contacts.get() {
            errors.push(domain::FieldError::new("contactsCsv", "Paste the contact list or choose its CSV file."));
        }
        errors
    });
    let create = ServerAction::<CreateCampaign>::new();
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let submitted = RwSignal::new(false);
    let on_edit = Callback::new(move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        })
    });
    let error = move |field: &'static str| -> Signal<Option<String>> {
        Signal::derive(move || {
            let shown = submitted.get() || touched.with(|t| t.contains(&field));
            let local = live.with(|e| domain::message_for(e, field).map(str::to_string));
            let server = create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field)));
            if shown { local.or(server) } else { server }
        })
    };
    let form_error = move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(general_error));
    let created = move || create.value().get().and_then(Result::ok);
    Effect::new(move || {
        if let Some(Ok(_)) = create.value().get() {
            on_created.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if live.with_untracked(Vec::is_empty) {
            let input = CampaignInput { contacts_csv: csv.get_untracked(), ..untrack(fields) };
            create.dispatch(CreateCampaign { input });
        }
    };
    let toggle = move |id: String, on: bool| {
        phones.update(|p| {
            p.retain(|x| *x != id);
            if on {
                p.push(id);
            }
        });
        on_edit.run("phoneIds");
    };
    let on_file = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = _ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                read_file(input, csv, file_error);
            }
        }
    };
    let on_again = Callback::new(move |_: ()| {
        create.value().set(None);
        submitted.set(false);
    });
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label="New campaign">
            <div class="w-full max-w-2xl rounded-xl bg-white p-6 shadow-xl">
                <h2 class="mb-4 text-lg font-semibold">"New campaign"</h2>
                {move || created().map(|created| view! { <Created created on_again on_close/> })}
                <Show when=move || created().is_none()>
                    <form on:submit=submit novalidate class="space-y-1">
                        <div class="grid gap-x-4 md:grid-cols-2">
                            <TextInput label="Name" name="name" value=name error=error("name") placeholder="December reminders" on_edit/>
                            <Select label="Agent" name="agentId" value=agent options=agent_options error=error("agentId") on_edit/>
                        </div>
                        <fieldset class="rounded-lg border border-slate-200 p-3" data-testid="campaign-numbers">
                            <legend class="px-1 text-sm font-medium text-slate-700">"Call from"</legend>
                            <Transition fallback=|| view! { <p class="text-xs text-slate-400">"Loading numbers…"</p> }>
                                {move || numbers.get().map(|r| match r {
                                    Err(e) => view! { <p class="text-xs text-red-600">{e.to_string()}</p> }.into_any(),
                                    Ok(p) if p.phone_numbers.is_empty() => view! {
                                        <p class="text-xs text-slate-500">"No numbers yet: " <a class="text-indigo-700 hover:underline" href="/numbers">"import one"</a> " first."</p>
                                    }.into_any(),
                                    Ok(p) => p.phone_numbers.into_iter().map(|n| {
                                        let id = n.id.clone();
                                        let checked_id = n.id.clone();
                                        let label = if n.display_name.is_empty() { n.phone_number.clone() } else { format!("{} ({})", n.phone_number, n.display_name) };
                                        let note = (n.provider == Provider::Other).then_some(" · cannot place calls");
                                        view! {
                                            <label class="mr-4 inline-flex items-center gap-2 text-sm">
                                                <input type="checkbox" data-testid="campaign-phone" value=n.id.clone()
                                                    prop:checked=move || phones.with(|p| p.contains(&checked_id))
                                                    on:change=move |ev| toggle(id.clone(), event_target_checked(&ev))/>
                                                <span class="font-mono">{label}</span>
                                                <span class="text-xs text-slate-400">{n.provider.label()}{note}</span>
                                            </label>
                                        }
                                    }).collect_view().into_any(),
                                })}
                            </Transition>
                            <p data-testid="error-phoneIds" class="mt-1 min-h-5 text-xs text-red-600">{move || error("phoneIds").get()}</p>
                        </fieldset>
                        <TextArea label="Contacts (CSV)" name="contactsCsv" value=csv error=error("contactsCsv") rows=6 on_edit
                            hint="A header line, then one contact a line: a phone column (international format), optionally timezone, and any other column is a variable the agent's lines use as {{column}}."/>
                        <label class="block text-sm text-slate-600">"…or read a CSV file: "
                            <input type="file" accept=".csv,text/csv,text/plain" data-testid="contacts-file" class="text-sm" on:change=on_file/>
                        </label>
                        <p class="text-xs text-red-600">{move || file_error.get()}</p>
                        <div class="grid gap-x-4 md:grid-cols-3">
                            <TextInput label="Calling hours from" name="hoursFrom" value=hours_from error=error("hoursFrom") placeholder="09:00" on_edit/>
                            <TextInput label="Calling hours to" name="hoursTo" value=hours_to error=error("hoursTo") placeholder="18:00" on_edit/>
                            <TextInput label="Time zone" name="timezone" value=timezone error=error("timezone") placeholder="Asia/Kolkata" on_edit/>
                            <TextInput label="Max concurrent calls" name="maxConcurrent" value=max_concurrent error=error("maxConcurrent") kind="number" on_edit/>
                            <TextInput label="Calls per second" name="callsPerSecond" value=calls_per_second error=error("callsPerSecond") kind="number" on_edit/>
                            <TextInput label="Max attempts" name="maxAttempts" value=max_attempts error=error("maxAttempts") kind="number" on_edit/>
                            <TextInput label="Retry delay (seconds)" name="retryDelaySecs" value=retry_delay error=error("retryDelaySecs") kind="number" on_edit/>
                            <TextInput label="Start (optional)" name="startAt" value=start_at error=error("startAt") kind="datetime-local" on_edit/>
                        </div>
                        <p class="text-xs text-slate-400">"Leave the calling hours empty to call at any time; they apply in each contact's time zone."</p>
                        <p data-testid="error-form" class="text-sm text-red-600">{form_error}</p>
                        <div class="flex justify-end gap-2 pt-2">
                            <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                            <button type="submit" class=PRIMARY data-testid="create-campaign" disabled=move || create.pending().get()>"Create campaign"</button>
                        </div>
                    </form>
                </Show>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_without_a_field_line_go_on_the_form_line() {
        let e = AppError::Fields(vec![domain::FieldError::new("phoneIds", "Choose"), domain::FieldError::new("page", "Pages start at 1.")]);
        assert_eq!(general_error(&e).as_deref(), Some("Pages start at 1."));
        assert_eq!(general_error(&AppError::Invalid { field: "phoneIds".into(), message: "x".into() }), None);
        assert!(general_error(&AppError::Internal).is_some());
        assert_eq!(start_time("2026-01-01T09:00:00Z"), "2026-01-01T09:00:00Z");
    }
}
