//! "Call" on a number's card: the number's provider calls someone now and an agent talks, with
//! variables its greeting and replies can use as `{{name}}`.

use std::collections::BTreeMap;

use domain::call::CallView;
use domain::outbound::check_variables;
use domain::phone_number::PhoneNumberView;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::form::{INPUT, PRIMARY, SECONDARY};

/// Places an outbound call from one of the user's numbers; the call as it starts (ringing). A
/// provider's refusal is its error: the field it is about (`to`, the credentials), or a 429/502.
#[server(name = PlaceCallFn, endpoint = "calls/place", input = Json)]
pub async fn place_call(input: domain::outbound::PlaceCall) -> Result<CallView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    match server::calls::outbound::place(&state, &user.owner, &input).await {
        Ok(placed) => Ok(server::calls::get(&state, &user.owner, &placed.call_id).await?.call),
        Err(e) => Err(e.into_domain().1.into()),
    }
}

/// The fields with a line of their own under the form's inputs.
const OWN_LINE: &[&str] = &["to", "agentId"];

/// Whether `field` is the variables box's (`variables` or `variables.<name>`).
fn is_variable_field(field: &str) -> bool {
    field == "variables" || field.starts_with("variables.")
}

/// A variable's problem as the form shows it: `name: message` (or the message for them all).
fn variable_message(field: &str, message: &str) -> String {
    match field.strip_prefix("variables.") {
        Some(name) => format!("{name}: {message}"),
        None => message.to_string(),
    }
}

/// The `name=value` lines of the variables box; a line without `=` is an error naming it.
pub fn parse_variables(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("Line {}: write each variable as name=value.", i + 1));
        };
        out.insert(name.trim().to_string(), value.trim().to_string());
    }
    Ok(out)
}

/// The variables box's problem, checked in the browser with the server's rules.
fn variables_problem(text: &str) -> Option<String> {
    let variables = match parse_variables(text) {
        Ok(v) => v,
        Err(e) => return Some(e),
    };
    let mut errors = Vec::new();
    check_variables(&variables, &mut errors);
    errors.first().map(|e| variable_message(&e.field, &e.message))
}

/// The server's message about the variables, if any.
fn server_variables_error(e: &AppError) -> Option<String> {
    match e {
        AppError::Fields(errors) => errors.iter().find(|f| is_variable_field(&f.field)).map(|f| variable_message(&f.field, &f.message)),
        AppError::Invalid { field, message } if is_variable_field(field) => Some(variable_message(field, message)),
        _ => None,
    }
}

/// What no field's line shows: the number (`phoneId`), its credentials, the provider's 429 or
/// 502, or a server failure.
fn general_error(e: &AppError) -> Option<String> {
    let elsewhere = |field: &str| OWN_LINE.contains(&field) || is_variable_field(field);
    match e {
        AppError::Fields(errors) => {
            let rest: Vec<&str> = errors.iter().filter(|f| !elsewhere(&f.field)).map(|f| f.message.as_str()).collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        }
        AppError::Invalid { field, .. } if elsewhere(field) => None,
        other => Some(other.to_string()),
    }
}

/// The card's "Call" button; it opens the dial form for `number`.
#[component]
pub fn DialButton(number: PhoneNumberView) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button class=SECONDARY data-testid="dial-open" title="An agent calls someone from this number"
            on:click=move |_| open.set(true)>"Call"</button>
        {move || open.get().then(|| view! { <DialForm number=number.clone() on_close=Callback::new(move |_| open.set(false))/> })}
    }
}

/// The dial form in a dialog: whom to call, which agent talks, the call's variables.
#[component]
fn DialForm(number: PhoneNumberView, on_close: Callback<()>) -> impl IntoView {
    let phone_id = number.id.clone();
    let to = RwSignal::new(String::new());
    let agent = RwSignal::new(number.linked_agent_id.clone().unwrap_or_default());
    let variables = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let agents = Resource::new(|| (), |_| crate::agents::list_agents());
    let place = ServerAction::<PlaceCallFn>::new();
    let last_error = move || place.value().get().and_then(Result::err);
    let field_error = move |field: &'static str| move || last_error().and_then(|e| e.for_field(field));
    let local_variables = Memo::new(move |_| variables.with(|v| variables_problem(v)));
    let variables_error = move || {
        let local = submitted.get().then(|| local_variables.get()).flatten();
        local.or_else(|| last_error().and_then(|e| server_variables_error(&e)))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        let Ok(vars) = parse_variables(&variables.get_untracked()) else { return };
        if local_variables.get_untracked().is_some() {
            return;
        }
        let agent_id = Some(agent.get_untracked()).filter(|a| !a.is_empty());
        place.dispatch(PlaceCallFn {
            input: domain::outbound::PlaceCall { phone_id: phone_id.clone(), to: to.get_untracked(), agent_id, variables: vars },
        });
    };
    let ids = |name: &str| format!("dial-{name}-{}", number.id);
    let (to_id, agent_id, vars_id) = (ids("to"), ids("agent"), ids("variables"));
    let title = format!("Call from {}", number.phone_number);
    let heading = title.clone();
    let linked = number.linked_agent_id.clone();
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label=title>
            <form on:submit=submit novalidate class="w-full max-w-md space-y-3 rounded-xl bg-white p-6 shadow-xl">
                <h2 class="text-lg font-semibold">{heading}</h2>
                <div>
                    <label class="block text-sm font-medium text-slate-700" for=to_id.clone()>"To"</label>
                    <input id=to_id type="tel" class=INPUT data-testid="dial-to" placeholder="+14155550199" autocomplete="off"
                        prop:value=move || to.get() aria-invalid=move || field_error("to")().is_some().to_string()
                        on:input=move |ev| to.set(event_target_value(&ev))/>
                    <p class="mt-1 min-h-5 text-xs text-red-600" data-testid="error-to">{field_error("to")}</p>
                </div>
                <div>
                    <label class="block text-sm font-medium text-slate-700" for=agent_id.clone()>"Agent"</label>
                    <select id=agent_id class=INPUT data-testid="dial-agent" prop:value=move || agent.get()
                        aria-invalid=move || field_error("agentId")().is_some().to_string()
                        on:change=move |ev| agent.set(event_target_value(&ev))>
                        {linked.is_none().then(|| view! { <option value="">"— Choose an agent —"</option> })}
                        <Transition fallback=|| ()>
                            {move || agents.get().and_then(Result::ok).map(|list| list.into_iter().map(|a| {
                                let selected = agent.get_untracked() == a.id;
                                view! { <option value=a.id selected=selected>{a.settings.name}</option> }
                            }).collect_view())}
                        </Transition>
                    </select>
                    <p class="mt-1 min-h-5 text-xs text-red-600" data-testid="error-agentId">{field_error("agentId")}</p>
                </div>
                <div>
                    <label class="block text-sm font-medium text-slate-700" for=vars_id.clone()>"Variables"</label>
                    <textarea id=vars_id rows="3" class=format!("{INPUT} font-mono") data-testid="dial-variables" placeholder="name=Asha\ndue_date=5 December"
                        prop:value=move || variables.get() aria-invalid=move || variables_error().is_some().to_string()
                        on:input=move |ev| variables.set(event_target_value(&ev))></textarea>
                    <p class="text-xs text-slate-400">"One name=value a line; the agent's lines use them as {{name}}."</p>
                    <p class="mt-1 min-h-5 text-xs text-red-600" data-testid="error-variables">{variables_error}</p>
                </div>
                <p class="text-sm text-red-600" data-testid="dial-error">{move || last_error().and_then(|e| general_error(&e))}</p>
                {move || place.value().get().and_then(Result::ok).map(|call| {
                    let callee = call.callee.clone().unwrap_or_else(|| to.get_untracked());
                    view! {
                        <p class="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="dial-result">
                            {format!("Calling {callee}: {} ", call.status.as_str().replace('_', " "))}
                            <a class="font-medium text-indigo-700 hover:underline" data-testid="dial-call-link"
                                href=format!("/calls?phoneId={}&call={}", call.phone_id, call.id)>"See it in Call Logs"</a>
                        </p>
                    }
                })}
                <div class="flex justify-end gap-2 pt-2">
                    <button type="button" class=SECONDARY data-testid="dial-close" on:click=move |_| on_close.run(())>"Close"</button>
                    <button type="submit" class=PRIMARY data-testid="dial-submit" disabled=move || place.pending().get()>"Call"</button>
                </div>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_name_value_lines() {
        let v = parse_variables("name = Asha\n\ndue_date=5 December\nnote=a=b").unwrap();
        assert_eq!(v.get("name").map(String::as_str), Some("Asha"));
        assert_eq!(v.get("due_date").map(String::as_str), Some("5 December"));
        assert_eq!(v.get("note").map(String::as_str), Some("a=b"));
        assert!(parse_variables("name=x\noops").unwrap_err().starts_with("Line 2"));
        assert_eq!(variables_problem("1st=x").as_deref().map(|m| m.starts_with("1st: ")), Some(true));
        assert_eq!(variables_problem("ok=x"), None);
    }

    #[test]
    fn errors_go_next_to_their_field_or_on_the_general_line() {
        let e = AppError::Fields(vec![
            domain::FieldError::new("to", "bad number"),
            domain::FieldError::new("variables.x", "too long"),
            domain::FieldError::new("phoneId", "inactive"),
        ]);
        assert_eq!(e.for_field("to").as_deref(), Some("bad number"));
        assert_eq!(server_variables_error(&e).as_deref(), Some("x: too long"));
        assert_eq!(general_error(&e).as_deref(), Some("inactive"));
        let busy = AppError::Invalid { field: "provider".into(), message: "Twilio is rate limiting calls".into() };
        assert_eq!(general_error(&busy).as_deref(), Some("Twilio is rate limiting calls"));
        assert_eq!(general_error(&AppError::Invalid { field: "to".into(), message: "refused".into() }), None);
    }
}
