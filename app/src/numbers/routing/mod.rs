//! "Routing" on a number's card: business hours in the number's time zone with holidays, what
//! calls get inside and outside them, and a keypad menu — edited in a dialog (checked in the
//! browser with the server's rules, then by the server) and shown as a small diagram.

mod diagram;
mod fields;
mod sections;

use domain::phone_number::PhoneNumberView;
use domain::routing::{Routing, Target};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

pub use diagram::{Names, RoutingDiagram};
use fields::{Errors, Field, TargetEditor};
use sections::{HolidaysSection, HoursSection, MenuSection};

use crate::error::AppError;
use crate::form::{PRIMARY, SECONDARY};

/// Replaces (or, with none, removes) a number's routing.
#[server(endpoint = "numbers/routing", input = Json)]
pub async fn save_routing(id: String, routing: Option<Routing>) -> Result<PhoneNumberView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::routing::set(&state, &user.owner, &id, routing.as_ref()).await?)
}

/// A routing to start from: weekdays 09:00–17:00, an agent inside and outside.
fn starter(linked: Option<String>) -> Routing {
    let agent = Target::Agent { agent_id: linked.unwrap_or_default() };
    Routing {
        timezone: "Asia/Kolkata".into(),
        hours: vec![domain::routing::HoursRule {
            days: domain::routing::DAYS[..5].iter().map(|d| d.to_string()).collect(),
            from: "09:00".into(),
            to: "17:00".into(),
        }],
        holidays: Vec::new(),
        open: agent.clone(),
        closed: agent,
        menu: None,
    }
}

/// The card's routing: its diagram (when set) and the button that edits it.
#[component]
pub fn RoutingPanel(number: PhoneNumberView, on_changed: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    let names = use_context::<Signal<Names>>().unwrap_or_else(|| Signal::derive(Names::new));
    let shown = number.routing.clone();
    view! {
        {move || shown.clone().map(|r| view! { <RoutingDiagram routing=r names=names.get()/> })}
        <button class=format!("{SECONDARY} mt-3 self-start") data-testid="routing-open" on:click=move |_| open.set(true)>
            {if number.routing.is_some() { "Edit routing" } else { "Set up routing" }}
        </button>
        {move || open.get().then(|| view! {
            <RoutingForm number=number.clone() names
                on_saved=Callback::new(move |_| { open.set(false); on_changed.run(()); })
                on_close=Callback::new(move |_| open.set(false))/>
        })}
    }
}

/// The routing dialog.
#[component]
fn RoutingForm(number: PhoneNumberView, names: Signal<Names>, on_saved: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let stored = number.routing.is_some();
    let r = RwSignal::new(number.routing.clone().unwrap_or_else(|| starter(number.linked_agent_id.clone())));
    let submitted = RwSignal::new(false);
    let errors = Errors::new(submitted, move || r.with(Routing::check));
    // An answer about an older version of the form says nothing about this one.
    Effect::watch(move || r.track(), move |_, _, _| errors.server.set(None), false);
    let save = ServerAction::<SaveRouting>::new();
    let agents = Signal::derive(move || names.get().into_iter().collect::<Vec<_>>());
    Effect::new(move || match save.value().get() {
        Some(Ok(_)) => on_saved.run(()),
        Some(Err(e)) => errors.server.set(Some(e)),
        None => {}
    });
    let id = number.id.clone();
    let id2 = number.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.server.set(None);
        let routing = r.get_untracked();
        // The server's rules, in the browser: each problem beside its field at once, and
        // gone as soon as it is fixed.
        submitted.set(true);
        if routing.check().is_empty() {
            save.dispatch(SaveRouting { id: id.clone(), routing: Some(routing) });
        }
    };
    let general = move || {
        errors.server.get().and_then(|e| match e {
            AppError::Fields(_) => None,
            AppError::Invalid { field, .. } if field.starts_with("routing") => None,
            other => Some(other.to_string()),
        })
    };
    let title = format!("Routing for {}", number.phone_number);
    let heading = title.clone();
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label=title>
            <form on:submit=submit novalidate class="w-full max-w-2xl space-y-4 rounded-xl bg-white p-6 shadow-xl" data-testid="routing-form">
                <h2 class="text-lg font-semibold">{heading}</h2>
                <p class="text-sm text-slate-600">"Without routing, the linked agent answers every call. Hours and holidays are read in the number's time zone when a call comes in."</p>
                <Field label="Time zone".into() field="routing.timezone".into() value=Signal::derive(move || r.with(|r| r.timezone.clone()))
                    set=Callback::new(move |v: String| r.update(|r| r.timezone = v)) errors placeholder="Asia/Kolkata"/>
                <HoursSection r errors/>
                <HolidaysSection r errors/>
                <div class="flex flex-col gap-3 sm:flex-row">
                    <TargetEditor label="Inside hours".into() field="routing.open".into() allow_menu=true agents errors
                        value=Signal::derive(move || r.with(|r| r.open.clone())) set=Callback::new(move |t| r.update(|r| r.open = t))/>
                    <TargetEditor label="Outside hours and on holidays".into() field="routing.closed".into() allow_menu=true agents errors
                        value=Signal::derive(move || r.with(|r| r.closed.clone())) set=Callback::new(move |t| r.update(|r| r.closed = t))/>
                </div>
                <MenuSection r agents errors/>
                <div>
                    <p class="text-sm font-medium text-slate-800">"Preview"</p>
                    {move || view! { <RoutingDiagram routing=r.get() names=names.get()/> }}
                </div>
                <p class="text-sm text-red-600" data-testid="routing-error">{general}</p>
                <div class="flex justify-end gap-2 pt-2">
                    {stored.then(|| view! {
                        <button type="button" class="mr-auto rounded-md px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50" data-testid="routing-remove"
                            on:click=move |_| { save.dispatch(SaveRouting { id: id2.clone(), routing: None }); }>"Remove routing"</button>
                    })}
                    <button type="button" class=SECONDARY data-testid="routing-cancel" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class=PRIMARY data-testid="routing-save" disabled=move || save.pending().get()>"Save routing"</button>
                </div>
            </form>
        </div>
    }
}
