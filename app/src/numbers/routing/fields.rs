//! The routing form's inputs: each bound to one field of the routing by its name
//! (`routing.menu.options.0.digit`), with its error (the browser's check, else the server's)
//! on the line under it.

use domain::FieldError;
use domain::routing::Target;
use leptos::prelude::*;

use crate::error::AppError;
use crate::form::INPUT;

/// `routing.menu.options.0.digit` as a test id / element id part: `routing-menu-options-0-digit`.
pub fn dashed(field: &str) -> String {
    field.replace('.', "-")
}

/// The form's errors: the browser's check (live once the form was submitted), then the
/// server's answer to the last save.
#[derive(Clone, Copy)]
pub struct Errors {
    pub local: Memo<Vec<FieldError>>,
    pub server: RwSignal<Option<AppError>>,
}

impl Errors {
    /// Errors from `check`, shown once `submitted`.
    pub fn new(submitted: RwSignal<bool>, check: impl Fn() -> Vec<FieldError> + Send + Sync + 'static) -> Self {
        let local = Memo::new(move |_| if submitted.get() { check() } else { Vec::new() });
        Self { local, server: RwSignal::new(None) }
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<String> {
        self.local
            .with(|l| domain::message_for(l, field).map(str::to_string))
            .or_else(|| self.server.with(|s| s.as_ref().and_then(|e| e.for_field(field))))
    }

    /// Messages of fields under `prefix` (`routing.holidays.`), as (rest of the name, message).
    pub fn under(&self, prefix: &str) -> Vec<(String, String)> {
        let pick = |errors: &[FieldError]| -> Vec<(String, String)> {
            errors.iter().filter_map(|e| e.field.strip_prefix(prefix).map(|r| (r.to_string(), e.message.clone()))).collect()
        };
        let local = self.local.with(|l| pick(l));
        if !local.is_empty() {
            return local;
        }
        self.server.with(|s| match s {
            Some(AppError::Fields(errors)) => pick(errors),
            Some(AppError::Invalid { field, message }) => pick(&[FieldError::new(field, message.clone())]),
            _ => Vec::new(),
        })
    }
}

/// The error line under an input.
#[component]
pub fn ErrorLine(field: String, errors: Errors) -> impl IntoView {
    let id = format!("error-{}", dashed(&field));
    view! { <p data-testid=id class="mt-1 min-h-4 text-xs text-red-600">{move || errors.get(&field)}</p> }
}

/// A labelled text input for `field`.
#[component]
pub fn Field(
    label: String,
    field: String,
    #[prop(into)] value: Signal<String>,
    set: Callback<String>,
    errors: Errors,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] placeholder: String,
) -> impl IntoView {
    let id = format!("routing-input-{}", dashed(&field));
    let f = field.clone();
    view! {
        <div class="min-w-0 flex-1">
            <label class="block text-xs font-medium text-slate-700" for=id.clone()>{label}</label>
            <input id=id.clone() data-testid=id type=kind placeholder=placeholder class=INPUT prop:value=move || value.get()
                aria-invalid=move || errors.get(&f).is_some().to_string()
                on:input=move |ev| set.run(event_target_value(&ev))/>
            <ErrorLine field errors/>
        </div>
    }
}

/// The kind of a target, as the type select holds it.
fn kind(t: &Target) -> &'static str {
    match t {
        Target::Agent { .. } => "agent",
        Target::Menu => "menu",
        Target::Message { .. } => "message",
        Target::Person { .. } => "person",
    }
}

/// Where a call goes: an agent (chosen from the user's), the menu (when `allow_menu`), a
/// message then hang-up, or a person (a transfer to their number).
#[component]
pub fn TargetEditor(
    label: String,
    field: String,
    #[prop(into)] value: Signal<Target>,
    set: Callback<Target>,
    allow_menu: bool,
    #[prop(into)] agents: Signal<Vec<(String, String)>>,
    errors: Errors,
) -> impl IntoView {
    let id = format!("routing-input-{}-type", dashed(&field));
    let current = Memo::new(move |_| kind(&value.get()));
    let type_field = format!("{field}.type");
    let tf = type_field.clone();
    let agent_field = format!("{field}.agentId");
    let text_field = format!("{field}.text");
    let number_field = format!("{field}.number");
    let shown = label.clone();
    view! {
        <div class="min-w-0 flex-1 space-y-1">
            <label class="block text-xs font-medium text-slate-700" for=id.clone()>{shown}</label>
            <select id=id.clone() data-testid=id class=INPUT prop:value=move || current.get()
                aria-invalid=move || errors.get(&tf).is_some().to_string()
                on:change=move |ev| set.run(match event_target_value(&ev).as_str() {
                    "menu" => Target::Menu,
                    "message" => Target::Message { text: String::new() },
                    "person" => Target::Person { number: String::new() },
                    _ => Target::Agent { agent_id: String::new() },
                })>
                <option value="agent" selected=move || current.get() == "agent">"An agent"</option>
                {allow_menu.then(|| view! { <option value="menu" selected=move || current.get() == "menu">"The keypad menu"</option> })}
                <option value="message" selected=move || current.get() == "message">"A message, then hang up"</option>
                <option value="person" selected=move || current.get() == "person">"A person (transfer)"</option>
            </select>
            <ErrorLine field=type_field errors/>
            {move || match current.get() {
                "agent" => {
                    let id = format!("routing-input-{}", dashed(&agent_field));
                    let f = agent_field.clone();
                    let chosen = move || match value.get() { Target::Agent { agent_id } => agent_id, _ => String::new() };
                    view! {
                        <label class="sr-only" for=id.clone()>{format!("{label}: agent")}</label>
                        <select id=id.clone() data-testid=id class=INPUT prop:value=chosen
                            aria-invalid=move || errors.get(&f).is_some().to_string()
                            on:change=move |ev| set.run(Target::Agent { agent_id: event_target_value(&ev) })>
                            <option value="">"— Choose an agent —"</option>
                            {move || agents.get().into_iter().map(|(id, name)| {
                                let selected = chosen() == id;
                                view! { <option value=id selected=selected>{name}</option> }
                            }).collect_view()}
                        </select>
                        <ErrorLine field=agent_field.clone() errors/>
                    }.into_any()
                }
                "message" => {
                    let id = format!("routing-input-{}", dashed(&text_field));
                    let f = text_field.clone();
                    view! {
                        <label class="sr-only" for=id.clone()>{format!("{label}: message")}</label>
                        <textarea id=id.clone() data-testid=id rows="2" class=INPUT placeholder="We are closed now. Please call again tomorrow."
                            prop:value=move || match value.get() { Target::Message { text } => text, _ => String::new() }
                            aria-invalid=move || errors.get(&f).is_some().to_string()
                            on:input=move |ev| set.run(Target::Message { text: event_target_value(&ev) })></textarea>
                        <ErrorLine field=text_field.clone() errors/>
                    }.into_any()
                }
                "person" => {
                    let id = format!("routing-input-{}", dashed(&number_field));
                    let f = number_field.clone();
                    view! {
                        <label class="sr-only" for=id.clone()>{format!("{label}: person's number")}</label>
                        <input id=id.clone() data-testid=id class=INPUT placeholder="+14155550100"
                            prop:value=move || match value.get() { Target::Person { number } => number, _ => String::new() }
                            aria-invalid=move || errors.get(&f).is_some().to_string()
                            on:input=move |ev| set.run(Target::Person { number: event_target_value(&ev) })/>
                        <ErrorLine field=number_field.clone() errors/>
                    }.into_any()
                }
                _ => view! { <p class="text-xs text-slate-500">"The menu below answers."</p> }.into_any(),
            }}
        </div>
    }
}
