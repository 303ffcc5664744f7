//! Campaigns: an agent calls a list of contacts from the user's numbers (server functions, the
//! list page, and the pieces the detail page shares with it).

pub mod detail;
mod form;

use domain::campaign::{CampaignCounts, CampaignCreated, CampaignInput, CampaignStatus, CampaignView, ContactPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::form::{PRIMARY, SECONDARY};
use crate::layout::{EmptyState, PageHeader};

/// Contacts on one page of the detail's table.
pub const CONTACTS_PAGE_SIZE: u32 = 50;

/// The signed-in user's campaigns, newest first, with their counts.
#[server(endpoint = "campaigns/list")]
pub async fn list_campaigns() -> Result<Vec<CampaignView>, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::campaigns::list(&state, &user.owner).await?)
}

/// One campaign with its counts.
#[server(endpoint = "campaigns/get")]
pub async fn get_campaign(id: String) -> Result<CampaignView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::campaigns::get(&state, &user.owner, &id).await?)
}

/// Creates a campaign from `input`; the rows of its contact list that were left out come back.
#[server(endpoint = "campaigns/create", input = Json)]
pub async fn create_campaign(input: CampaignInput) -> Result<CampaignCreated, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::campaigns::create(&state, &user.owner, &input).await?)
}

/// What the detail page's buttons do to a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignAction {
    Pause,
    Resume,
    Cancel,
}

/// Pauses, resumes or cancels a campaign; the campaign as it now stands.
#[server(endpoint = "campaigns/act", input = Json)]
pub async fn act_on_campaign(id: String, action: CampaignAction) -> Result<CampaignView, AppError> {
    use server::campaigns::Action;
    let (state, user) = crate::ssr::signed_in().await?;
    let action = match action {
        CampaignAction::Pause => Action::Pause,
        CampaignAction::Resume => Action::Resume,
        CampaignAction::Cancel => Action::Cancel,
    };
    Ok(server::campaigns::act(&state, &user.owner, &id, action).await?)
}

/// One page of a campaign's contacts (of one state when `state` names one).
#[server(endpoint = "campaigns/contacts", input = Json)]
pub async fn campaign_contacts(id: String, state: Option<String>, page: u32) -> Result<ContactPage, AppError> {
    let (app, user) = crate::ssr::signed_in().await?;
    let filter = state.as_deref().filter(|s| !s.is_empty());
    Ok(server::campaigns::contacts(&app, &user.owner, &id, filter, Some(page), Some(CONTACTS_PAGE_SIZE)).await?)
}

/// Badge classes of a campaign's status.
pub fn status_badge(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Running => "bg-sky-100 text-sky-800",
        CampaignStatus::Scheduled => "bg-indigo-100 text-indigo-800",
        CampaignStatus::Paused => "bg-amber-100 text-amber-800",
        CampaignStatus::Completed => "bg-emerald-100 text-emerald-800",
        CampaignStatus::Canceled => "bg-slate-200 text-slate-700",
    }
}

/// A campaign's status as a badge.
#[component]
pub fn StatusBadge(status: CampaignStatus) -> impl IntoView {
    view! {
        <span data-testid="campaign-status" data-status=status.as_str()
            class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_badge(status))>{status.label()}</span>
    }
}

/// How far a campaign has got, as a bar (`aria-valuenow` is the percent done).
#[component]
pub fn Progress(percent: u32) -> impl IntoView {
    let percent = percent.min(100);
    view! {
        <div class="flex items-center gap-2">
            <div data-testid="campaign-progress" class="h-2 flex-1 rounded bg-slate-200" role="progressbar" aria-label="Contacts done"
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
                <div class="h-2 rounded bg-indigo-600" style=format!("width: {percent}%")></div>
            </div>
            <span class="w-10 text-right text-xs text-slate-600">{format!("{percent}%")}</span>
        </div>
    }
}

/// A campaign's counts, each figure under its `count-<name>` test id.
#[component]
pub fn Counts(counts: CampaignCounts) -> impl IntoView {
    let figures = [
        ("dialed", "Dialed", counts.dialed),
        ("answered", "Answered", counts.answered),
        ("machine", "Machine", counts.machine),
        ("no-answer", "No answer", counts.no_answer),
        ("busy", "Busy", counts.busy),
        ("failed", "Failed", counts.failed),
        ("in-progress", "In progress", counts.in_progress),
        ("remaining", "Remaining", counts.remaining),
    ];
    view! {
        <dl data-testid="campaign-counts" class="flex flex-wrap gap-x-5 gap-y-1 text-xs text-slate-500">
            {figures.into_iter().map(|(key, label, n)| view! {
                <div class="flex gap-1">
                    <dt>{label}</dt>
                    <dd class="font-medium text-slate-900" data-testid=format!("count-{key}")>{n}</dd>
                </div>
            }).collect_view()}
            <div class="flex gap-1"><dt>"Contacts"</dt><dd class="font-medium text-slate-900" data-testid="count-total">{counts.total}</dd></div>
        </dl>
    }
}

/// One campaign in the list.
#[component]
fn CampaignRow(campaign: CampaignView) -> impl IntoView {
    let href = format!("/campaigns/{}", campaign.id);
    let percent = campaign.counts.percent_done();
    view! {
        <article data-testid="campaign-row" data-campaign=campaign.id.clone() class="rounded-xl border border-slate-200 bg-white p-5">
            <div class="flex items-start justify-between gap-4">
                <div>
                    <h2 class="font-semibold">
                        <a class="hover:underline" data-testid="campaign-name" href=href.clone()>{campaign.name.clone()}</a>
                    </h2>
                    <p class="text-xs text-slate-500">
                        "Agent: " <span data-testid="campaign-agent">{campaign.agent_name.clone().unwrap_or_else(|| "deleted agent".into())}</span>
                        {format!(" · {} number{}", campaign.phone_ids.len(), if campaign.phone_ids.len() == 1 { "" } else { "s" })}
                    </p>
                </div>
                <StatusBadge status=campaign.status/>
            </div>
            {campaign.status_reason.clone().map(|r| view! { <p class="mt-2 text-xs text-amber-700">{r}</p> })}
            <div class="mt-3"><Progress percent/></div>
            <div class="mt-2"><Counts counts=campaign.counts.clone()/></div>
            <div class="mt-3"><a class=SECONDARY data-testid="campaign-open" href=href>"Details"</a></div>
        </article>
    }
}

/// The Campaigns page: every campaign with its progress, and the new-campaign form.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let campaigns = Resource::new(move || version.get(), |_| list_campaigns());
    let creating = RwSignal::new(false);
    let on_created = Callback::new(move |_: ()| version.update(|v| *v += 1));
    let on_close = Callback::new(move |_: ()| creating.set(false));
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Campaigns" subtitle="An agent calls a list of contacts from your numbers, within calling hours, retrying busy and unanswered ones."/>
            <div class="flex gap-2">
                <button class=SECONDARY data-testid="refresh-campaigns" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
                <button class=PRIMARY data-testid="new-campaign" on:click=move |_| creating.set(true)>"New campaign"</button>
            </div>
        </div>
        {move || creating.get().then(|| view! { <form::NewCampaignForm on_created on_close/> })}
        <Transition fallback=|| view! { <div class="h-32 animate-pulse rounded-xl bg-slate-200"></div> }>
            {move || campaigns.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState title="No campaigns yet" body="Upload a CSV of contacts, choose an agent and the numbers to call from, and Voxgate dials them at the pace you set.">
                        <button class=PRIMARY on:click=move |_| creating.set(true)>"Create your first campaign"</button>
                    </EmptyState>
                }.into_any(),
                Ok(list) => view! {
                    <div class="space-y-4">
                        {list.into_iter().map(|campaign| view! { <CampaignRow campaign/> }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}
