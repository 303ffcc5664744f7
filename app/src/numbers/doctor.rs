//! The provider check in the dashboard: a number's checklist (or every number's), each failure
//! with its fix and a link to the setup guide's section that explains it.

use domain::phone_number::{CheckStatus, DoctorReport};
use leptos::prelude::*;

use crate::error::AppError;

/// One number's checklist (asks its provider now).
#[server(endpoint = "numbers/doctor")]
pub async fn doctor_number(id: String) -> Result<DoctorReport, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::doctor::number(&state, &user.owner, &id).await?)
}

/// Every number's checklist.
#[server(endpoint = "numbers/doctor-all")]
pub async fn doctor_all() -> Result<Vec<DoctorReport>, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::numbers::doctor::all(&state, &user.owner).await?)
}

fn mark(s: CheckStatus) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Pass => ("✓", "text-emerald-700"),
        CheckStatus::Warn => ("!", "text-amber-700"),
        CheckStatus::Fail => ("✗", "text-red-700"),
        CheckStatus::Skip => ("–", "text-slate-400"),
    }
}

/// A checklist.
#[component]
pub fn Checklist(report: DoctorReport) -> impl IntoView {
    view! {
        <ul class="mt-2 space-y-1 text-xs" data-testid="doctor-checklist">
            {report.checks.into_iter().map(|c| {
                let (sign, class) = mark(c.status);
                view! {
                    <li data-testid="doctor-check" data-check=c.id.clone() data-status=c.status.as_str()>
                        <span class=format!("mr-1 font-bold {class}")>{sign}</span>
                        <span class="font-medium">{c.title}</span>": "{c.message}
                        {(!c.fix.is_empty()).then(|| view! {
                            <span class="block pl-4 text-slate-600" data-testid="doctor-fix">
                                {c.fix}" "
                                <a class="text-indigo-700 hover:underline" href=format!("/setup{}", c.guide) data-testid="doctor-guide">"How to fix"</a>
                            </span>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The card's "Check" button and its checklist.
#[component]
pub fn CheckNumber(id: String) -> impl IntoView {
    let run = ServerAction::<DoctorNumber>::new();
    view! {
        <div class="mt-2">
            <button class="text-sm font-medium text-indigo-700 hover:underline" data-testid="check-number" disabled=move || run.pending().get()
                on:click=move |_| { run.dispatch(DoctorNumber { id: id.clone() }); }>
                {move || if run.pending().get() { "Checking…" } else { "Check setup" }}
            </button>
            {move || run.value().get().map(|r| match r {
                Ok(report) => {
                    let ok = report.ok;
                    view! {
                        <p class=if ok { "mt-1 text-xs font-medium text-emerald-700" } else { "mt-1 text-xs font-medium text-red-700" } data-testid="doctor-verdict">
                            {if ok { "Ready for calls" } else { "Not ready: fix the items marked ✗" }}
                        </p>
                        <Checklist report/>
                    }.into_any()
                }
                Err(e) => view! { <p class="text-xs text-red-700">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}

/// "Check all numbers" and its summary.
#[component]
pub fn CheckAll() -> impl IntoView {
    let run = ServerAction::<DoctorAll>::new();
    view! {
        <div class="mb-4">
            <button class=crate::form::SECONDARY data-testid="check-all" disabled=move || run.pending().get()
                on:click=move |_| { run.dispatch(DoctorAll {}); }>
                {move || if run.pending().get() { "Checking…" } else { "Check all numbers" }}
            </button>
            {move || run.value().get().map(|r| match r {
                Ok(reports) => {
                    let failing = reports.iter().filter(|r| !r.ok).count();
                    view! {
                        <section class="mt-3 rounded-xl border border-slate-200 bg-white p-4" data-testid="doctor-all">
                            <p class="text-sm font-medium" data-testid="doctor-all-summary">
                                {format!("{} of {} numbers ready for calls", reports.len() - failing, reports.len())}
                            </p>
                            {reports.into_iter().filter(|r| !r.ok).map(|r| view! {
                                <div class="mt-3" data-testid="doctor-number">
                                    <p class="font-mono text-sm">{r.phone_number.clone()}" ("{r.provider.clone()}")"</p>
                                    <Checklist report=r/>
                                </div>
                            }).collect_view()}
                        </section>
                    }.into_any()
                }
                Err(e) => view! { <p class="text-sm text-red-700">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}
