//! Call logs: every call with its turns.

use leptos::prelude::*;

use crate::layout::{EmptyState, PageHeader};

/// The Call Logs page.
#[component]
pub fn CallLogsPage() -> impl IntoView {
    view! {
        <PageHeader title="Call Logs" subtitle="Every call answered by your agents, with its conversation."/>
        <EmptyState title="No calls yet" body="Calls appear here as soon as a linked number rings.">
            <a href="/numbers" class="text-sm font-medium text-indigo-700 hover:underline">"Set up a phone number"</a>
        </EmptyState>
    }
}
