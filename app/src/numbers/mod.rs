//! Phone numbers: import a provider number, link it to an agent, copy its URLs.

mod bulk;
mod card;
mod dial;
pub mod doctor;
mod modal;
mod provider_fields;
pub mod routing;
mod test_call;

use domain::phone_number::{
    ImportProgress, ImportReport, NumberStatus, PhoneNumberInput, PhoneNumberPage, PhoneNumberQuery, PhoneNumberView,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::form::{INPUT, PRIMARY, SECONDARY};
use crate::layout::{EmptyState, PageHeader};

/// One page of the signed-in user's numbers.
#[server(endpoint = "numbers/list", input = Json)]
pub async fn list_numbers(query: PhoneNumberQuery) -> Result<PhoneNumberPage, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::list(&state, &user.owner, &query).await?)
}

/// Imports (no id) or edits a number.
#[server(endpoint = "numbers/save", input = Json)]
pub async fn save_number(id: Option<String>, input: PhoneNumberInput) -> Result<PhoneNumberView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(match id {
        Some(id) => server::numbers::update(&state, &user.owner, &id, &input).await?,
        None => server::numbers::create(&state, &user.owner, &input).await?,
    })
}

/// Deletes a number.
#[server(endpoint = "numbers/delete")]
pub async fn delete_number(id: String) -> Result<(), AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::delete(&state, &user.owner, &id).await?)
}

/// Gives a number a new URL secret (old URLs stop working).
#[server(endpoint = "numbers/rotate-secret")]
pub async fn rotate_number_secret(id: String) -> Result<PhoneNumberView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::rotate_secret(&state, &user.owner, &id).await?)
}

/// Asks the number's provider whether its account owns the number (the card's "Verify").
#[server(endpoint = "numbers/verify")]
pub async fn verify_number(id: String) -> Result<PhoneNumberView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::verify::verify(&state, &user.owner, &id).await?)
}

/// Credentials a bulk import gives every row (each may be empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkCredentials {
    pub provider: String,
    pub account: String,
    pub key: String,
    pub secret: String,
}

#[cfg(feature = "ssr")]
fn bulk_options(c: &BulkCredentials, dry_run: bool) -> server::numbers::import::Options {
    let defaults = server::numbers::import::defaults_for(&c.provider, &c.account, &c.key, &c.secret);
    server::numbers::import::Options { defaults, dry_run }
}

/// What importing `csv` would do (nothing is written).
#[server(endpoint = "numbers/import-preview", input = Json)]
pub async fn preview_import(csv: String, credentials: BulkCredentials) -> Result<ImportReport, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    Ok(server::numbers::import::import(&state, &user.owner, csv.as_bytes(), &bulk_options(&credentials, true), &done).await?)
}

/// Starts importing `csv` in the background.
#[server(endpoint = "numbers/import-start", input = Json)]
pub async fn start_import(csv: String, credentials: BulkCredentials) -> Result<ImportProgress, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::import::spawn(&state, &user.owner, csv.into_bytes(), bulk_options(&credentials, false))?)
}

/// How far the import `job` has got.
#[server(endpoint = "numbers/import-progress")]
pub async fn import_progress_of(job: String) -> Result<ImportProgress, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    state.imports.get(user.owner.id(), &job).ok_or(AppError::NotFound)
}

const PAGE_SIZE: u32 = 24;

/// The Phone Numbers page.
#[component]
pub fn PhoneNumbersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let numbers = Resource::new(
        move || (version.get(), search.get(), status.get(), page.get()),
        |(_, q, status, page)| {
            list_numbers(PhoneNumberQuery {
                q: Some(q),
                status: Some(status),
                page: Some(page),
                page_size: Some(PAGE_SIZE),
                ..Default::default()
            })
        },
    );
    let editing = RwSignal::new(None::<Option<PhoneNumberView>>);
    let bulk = RwSignal::new(false);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    let on_saved = Callback::new(move |_: PhoneNumberView| {
        editing.set(None);
        version.update(|v| *v += 1);
    });
    let on_edit = Callback::new(move |n: PhoneNumberView| editing.set(Some(Some(n))));
    let filtering = move || !search.get().is_empty() || !status.get().is_empty();
    // Agent names for the routing diagrams and editors of every card.
    let agents = Resource::new(move || version.get(), |_| crate::agents::list_agents());
    let names = Signal::derive(move || {
        agents.get().and_then(Result::ok).map(|l| l.into_iter().map(|a| (a.id, a.settings.name)).collect()).unwrap_or_default()
    });
    provide_context::<Signal<routing::Names>>(names);
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Phone Numbers" subtitle="Numbers imported from Exotel, Twilio, Vonage or Plivo, each answered by an agent."/>
            <div class="flex gap-2">
                <button class=SECONDARY data-testid="refresh-numbers" on:click=move |_| refresh.run(())>"Refresh"</button>
                <button class=SECONDARY data-testid="bulk-import" on:click=move |_| bulk.set(true)>"Import CSV"</button>
                <button class=PRIMARY data-testid="import-number" on:click=move |_| editing.set(Some(None))>"Import number"</button>
            </div>
        </div>
        <doctor::CheckAll/>
        <div class="mb-4 flex gap-3">
            <input type="search" placeholder="Search number or name" aria-label="Search numbers" class=format!("{INPUT} max-w-xs mt-0")
                on:input=move |ev| { page.set(1); search.set(event_target_value(&ev)); }/>
            <select aria-label="Filter by status" class=format!("{INPUT} max-w-40 mt-0")
                on:change=move |ev| { page.set(1); status.set(event_target_value(&ev)); }>
                <option value="">"All statuses"</option>
                {NumberStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
        </div>
        {move || bulk.get().then(|| view! { <bulk::BulkImportModal on_done=refresh on_close=Callback::new(move |_| bulk.set(false))/> })}
        {move || editing.get().map(|n| view! { <modal::PhoneNumberModal number=n on_saved on_close=Callback::new(move |_| editing.set(None))/> })}
        <Transition fallback=|| view! {
            <div data-testid="numbers-loading" class="grid gap-4 md:grid-cols-2 lg:grid-cols-3">
                {(0..3).map(|_| view! { <div class="h-56 animate-pulse rounded-xl bg-slate-200"></div> }).collect_view()}
            </div>
        }>
            {move || numbers.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(p) if p.phone_numbers.is_empty() && !filtering() => view! {
                    <EmptyState title="No phone numbers yet" body="Import an Exotel number, link it to an agent, and paste the generated URL into Exotel's portal.">
                        <button class=PRIMARY on:click=move |_| editing.set(Some(None))>"Import your first number"</button>
                    </EmptyState>
                }.into_any(),
                Ok(p) => {
                    let pages = ((p.total as u32).div_ceil(PAGE_SIZE)).max(1);
                    view! {
                        <p class="mb-2 text-sm text-slate-500" data-testid="numbers-total">{p.total} {if p.total == 1 { " number" } else { " numbers" }}</p>
                        <div class="grid gap-4 md:grid-cols-2 lg:grid-cols-3">
                            {p.phone_numbers.into_iter().map(|n| view! { <card::PhoneNumberCard number=n on_edit on_changed=refresh/> }).collect_view()}
                        </div>
                        <nav class="mt-6 flex items-center justify-center gap-3 text-sm" aria-label="Pages">
                            <button class=SECONDARY disabled=move || page.get() <= 1 on:click=move |_| page.update(|p| *p -= 1)>"Previous"</button>
                            <span>"Page " {move || page.get()} " of " {pages}</span>
                            <button class=SECONDARY disabled=move || { page.get() >= pages } data-testid="next-page" on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
