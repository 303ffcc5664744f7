//! Agents: the voice agents that answer calls.

use leptos::prelude::*;

use crate::layout::{EmptyState, PageHeader};

/// The Agents page.
#[component]
pub fn AgentsPage() -> impl IntoView {
    view! {
        <PageHeader title="Agents" subtitle="Voice agents: greeting, language, speech and reply settings."/>
        <EmptyState title="No agents yet" body="Create an agent to answer your calls with a greeting and scripted or LLM replies.">
            <span class="text-sm text-slate-400">"Agent editing arrives with the next release."</span>
        </EmptyState>
    }
}
