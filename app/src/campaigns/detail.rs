//! One campaign: its counts and progress (refreshed every 2 seconds while it runs or waits to
//! start), pause / resume / cancel, the results export, and its contacts page by page.

use std::time::Duration;

use domain::campaign::{CampaignStatus, CampaignView, ContactPage, ContactState};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{ActOnCampaign, CONTACTS_PAGE_SIZE, CampaignAction, Counts, Progress, StatusBadge, campaign_contacts, get_campaign};
use crate::form::{INPUT, SECONDARY};
use crate::layout::PageHeader;

/// How often a live campaign's figures are read again.
const REFRESH: Duration = Duration::from_secs(2);

/// Whether the campaign's figures still move by themselves.
fn is_live(status: CampaignStatus) -> bool {
    matches!(status, CampaignStatus::Running | CampaignStatus::Scheduled)
}

/// Badge classes of a contact's state.
fn contact_badge(state: ContactState) -> &'static str {
    match state {
        ContactState::Done => "bg-emerald-100 text-emerald-800",
        ContactState::Dialing => "bg-sky-100 text-sky-800",
        ContactState::Failed => "bg-red-100 text-red-800",
        ContactState::Pending => "bg-amber-50 text-amber-800",
        ContactState::Canceled => "bg-slate-200 text-slate-700",
    }
}

/// A campaign's settings, counts, progress, actions and export link.
#[component]
fn Summary(campaign: CampaignView, act: ServerAction<ActOnCampaign>) -> impl IntoView {
    let id = campaign.id.clone();
    let status = campaign.status;
    let button = move |action: CampaignAction, label: &'static str, test_id: &'static str, danger: bool| {
        let id = id.clone();
        let class =
            if danger { "rounded-md px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-50" } else { SECONDARY };
        view! {
            <button class=class data-testid=test_id disabled=move || act.pending().get()
                on:click=move |_| {
                    let sure = action != CampaignAction::Cancel
                        || window().confirm_with_message("Cancel this campaign? Contacts not yet reached will not be called.").unwrap_or(false);
                    if sure {
                        act.dispatch(ActOnCampaign { id: id.clone(), action });
                    }
                }>{label}</button>
        }
    };
    let hours = if campaign.hours_from.is_empty() {
        "any time".to_string()
    } else {
        format!("{}–{} (contact's time zone, else {})", campaign.hours_from, campaign.hours_to, campaign.timezone)
    };
    let started = campaign.start_at.replace('T', " ").chars().take(16).collect::<String>();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-5" data-testid="campaign-summary">
            <div class="flex items-start justify-between gap-4">
                <div>
                    <h2 class="text-lg font-semibold" data-testid="campaign-name">{campaign.name.clone()}</h2>
                    <p class="mt-1 text-xs text-slate-500">
                        "Agent: " {campaign.agent_name.clone().unwrap_or_else(|| "deleted agent".into())}
                        {format!(" · {} number{} · starts {started} UTC · hours {hours}", campaign.phone_ids.len(), if campaign.phone_ids.len() == 1 { "" } else { "s" })}
                    </p>
                    <p class="text-xs text-slate-500">
                        {format!("Up to {} at once, {} a second, {} attempt{} {} s apart (doubling)", campaign.max_concurrent, campaign.calls_per_second,
                            campaign.max_attempts, if campaign.max_attempts == 1 { "" } else { "s" }, campaign.retry_delay_secs)}
                    </p>
                </div>
                <StatusBadge status/>
            </div>
            {campaign.status_reason.clone().map(|r| view! { <p class="mt-2 rounded bg-amber-50 p-2 text-sm text-amber-800" data-testid="campaign-reason">{r}</p> })}
            <div class="mt-4"><Progress percent=campaign.counts.percent_done()/></div>
            <div class="mt-2"><Counts counts=campaign.counts.clone()/></div>
            <div class="mt-4 flex flex-wrap items-center gap-2">
                {matches!(status, CampaignStatus::Running | CampaignStatus::Scheduled).then(|| button(CampaignAction::Pause, "Pause", "campaign-pause", false))}
                {(status == CampaignStatus::Paused).then(|| button(CampaignAction::Resume, "Resume", "campaign-resume", false))}
                {matches!(status, CampaignStatus::Running | CampaignStatus::Scheduled | CampaignStatus::Paused)
                    .then(|| button(CampaignAction::Cancel, "Cancel campaign", "campaign-cancel", true))}
                <a class=SECONDARY data-testid="campaign-export" rel="external" download=""
                    href=format!("/api/campaigns/{}/results.csv", campaign.id)>"Export results (CSV)"</a>
                {is_live(status).then(|| view! { <span class="text-xs text-slate-400" data-testid="campaign-live">"Updating every 2 seconds"</span> })}
            </div>
        </section>
    }
}

/// The contacts table of one page.
#[component]
fn Contacts(page: ContactPage) -> impl IntoView {
    view! {
        <div class="overflow-hidden rounded-xl border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-4 py-2">"Line"</th><th class="px-4 py-2">"Phone"</th><th class="px-4 py-2">"State"</th>
                        <th class="px-4 py-2">"Outcome"</th><th class="px-4 py-2">"Attempts"</th><th class="px-4 py-2">"Call"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.contacts.into_iter().map(|c| view! {
                        <tr data-testid="contact-row" data-state=c.state.as_str() class="border-t border-slate-100">
                            <td class="px-4 py-2 text-slate-500">{c.line}</td>
                            <td class="px-4 py-2 font-mono">{c.phone.clone()}</td>
                            <td class="px-4 py-2">
                                <span data-testid="contact-state" class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", contact_badge(c.state))>{c.state.label()}</span>
                                {c.reason.clone().map(|r| view! { <span class="block text-xs text-slate-500">{r}</span> })}
                            </td>
                            <td class="px-4 py-2" data-testid="contact-outcome">{c.outcome.map(|o| o.label()).unwrap_or("—")}</td>
                            <td class="px-4 py-2" data-testid="contact-attempts">{c.attempts}</td>
                            <td class="px-4 py-2">
                                {match c.call_id.clone() {
                                    Some(call) => view! {
                                        <a class="text-indigo-700 hover:underline" data-testid="contact-call" href=format!("/calls?call={call}")>"View call"</a>
                                    }.into_any(),
                                    None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
                                }}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The campaign page (`/campaigns/:id`).
#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let version = RwSignal::new(0u32);
    let tick = RwSignal::new(0u32);
    let live = RwSignal::new(false);
    let page = RwSignal::new(1u32);
    let filter = RwSignal::new(String::new());
    let campaign = Resource::new(move || (id(), version.get(), tick.get()), |(id, _, _)| get_campaign(id));
    let contacts = Resource::new(
        move || (id(), filter.get(), page.get(), version.get(), tick.get()),
        |(id, state, page, _, _)| campaign_contacts(id, Some(state), page),
    );
    let act = ServerAction::<ActOnCampaign>::new();
    Effect::new(move || {
        if let Some(Ok(c)) = campaign.get() {
            live.set(is_live(c.status));
        }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = act.value().get() {
            version.update(|v| *v += 1);
        }
    });
    // One timer for the page's life; it reads again only while the campaign is live.
    Effect::new(move || {
        if let Ok(timer) = set_interval_with_handle(
            move || {
                if live.try_get_untracked() == Some(true) {
                    tick.try_update(|t| *t += 1);
                }
            },
            REFRESH,
        ) {
            on_cleanup(move || timer.clear());
        }
    });
    view! {
        <PageHeader title="Campaign" subtitle="Its contacts as they are called; figures update by themselves while it runs."/>
        <p class="mb-4 text-sm"><a class="text-indigo-700 hover:underline" href="/campaigns">"← All campaigns"</a></p>
        <Transition fallback=|| view! { <div class="h-40 animate-pulse rounded-xl bg-slate-200"></div> }>
            {move || campaign.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600" data-testid="campaign-error">{e.to_string()}</p> }.into_any(),
                Ok(campaign) => view! { <Summary campaign act/> }.into_any(),
            })}
        </Transition>
        <p class="mt-2 text-sm text-red-600" data-testid="campaign-action-error">
            {move || act.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).map(|e| e.for_field("status").unwrap_or_else(|| e.to_string())))}
        </p>
        <div class="mt-6 mb-3 flex items-center justify-between">
            <h2 class="font-medium">"Contacts"</h2>
            <select aria-label="Filter by state" class=format!("{INPUT} mt-0 max-w-44")
                on:change=move |ev| { page.set(1); filter.set(event_target_value(&ev)); }>
                <option value="">"All states"</option>
                {ContactState::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <div class="h-40 animate-pulse rounded-xl bg-slate-200"></div> }>
            {move || contacts.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(p) => {
                    let pages = ((p.total.max(0) as u32).div_ceil(CONTACTS_PAGE_SIZE)).max(1);
                    let total = p.total;
                    view! {
                        <Contacts page=p/>
                        <nav class="mt-4 flex items-center justify-center gap-3 text-sm" aria-label="Pages">
                            <button class=SECONDARY disabled=move || { page.get() <= 1 } data-testid="contacts-previous" on:click=move |_| page.update(|p| *p -= 1)>"Previous"</button>
                            <span data-testid="contacts-pages">"Page " {move || page.get()} " of " {pages} " · " {total} " contacts"</span>
                            <button class=SECONDARY disabled=move || { page.get() >= pages } data-testid="contacts-next" on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
