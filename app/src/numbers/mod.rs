//! Phone numbers: import a provider number and link it to an agent.

use leptos::prelude::*;

use crate::layout::{EmptyState, PageHeader};

/// The Phone Numbers page.
#[component]
pub fn PhoneNumbersPage() -> impl IntoView {
    view! {
        <PageHeader title="Phone Numbers" subtitle="Numbers imported from Exotel or Twilio, each answered by an agent."/>
        <EmptyState title="No phone numbers yet" body="Import an Exotel number, link it to an agent, and paste the generated URL into Exotel's portal.">
            <a href="/setup" class="inline-flex rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"Read the setup guide"</a>
        </EmptyState>
    }
}
