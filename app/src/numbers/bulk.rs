//! Bulk import from a CSV file: choose the file (and, optionally, credentials for every row),
//! see a preview of the rows, import with a progress bar, read the summary and each failed row.

use domain::phone_number::{ImportProgress, ImportReport};
use leptos::prelude::*;

use super::{ImportProgressOf, PreviewImport, StartImport};
use crate::form::{INPUT, PRIMARY, SECONDARY};

/// Reads the chosen file's text in the browser.
#[cfg(feature = "hydrate")]
fn read_file(input: web_sys::HtmlInputElement, name: RwSignal<String>, text: RwSignal<Option<String>>, error: RwSignal<String>) {
    let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
    name.set(file.name());
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(t) => text.set(t.as_string()),
            Err(_) => error.set("The file could not be read.".into()),
        }
    });
}

fn summary(r: &ImportReport) -> String {
    let verb = if r.dry_run { "would be imported" } else { "imported" };
    format!("{} rows: {} {verb}, {} updated, {} unchanged, {} failed", r.rows, r.imported, r.updated, r.unchanged, r.failed.len())
}

#[component]
fn Failures(report: ImportReport) -> impl IntoView {
    view! {
        <ul class="mt-2 max-h-48 overflow-y-auto text-xs text-red-700" data-testid="import-failures">
            {report.failed.into_iter().flat_map(|f| {
                let line = f.line;
                f.errors.into_iter().map(move |e| view! {
                    <li data-testid="import-failure">{format!("Line {line}: {} — {}", e.field, e.message)}</li>
                })
            }).collect_view()}
        </ul>
    }
}

/// The bulk import dialog.
#[component]
pub fn BulkImportModal(on_done: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let file_name = RwSignal::new(String::new());
    let text = RwSignal::new(None::<String>);
    let file_error = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let account = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let preview = ServerAction::<PreviewImport>::new();
    let start = ServerAction::<StartImport>::new();
    let poll = ServerAction::<ImportProgressOf>::new();
    let progress = RwSignal::new(None::<ImportProgress>);
    let creds = move || super::BulkCredentials { provider: provider.get(), account: account.get(), key: key.get(), secret: secret.get() };
    Effect::new(move || {
        if let Some(Ok(p)) = start.value().get() {
            progress.set(Some(p));
        }
    });
    Effect::new(move || {
        if let Some(Ok(p)) = poll.value().get() {
            if p.finished {
                on_done.run(());
            }
            progress.set(Some(p));
        }
    });
    // While a job runs, ask for its progress twice a second.
    Effect::new(move || {
        if let Some(p) = progress.get().filter(|p| !p.finished) {
            let job = p.id.clone();
            set_timeout(
                move || {
                    poll.dispatch(ImportProgressOf { job });
                },
                std::time::Duration::from_millis(400),
            );
        }
    });
    let on_file = move |_ev: leptos::ev::Event| {
        preview.value().set(None);
        progress.set(None);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = _ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                read_file(input, file_name, text, file_error);
            }
        }
    };
    let error_of = |e: &crate::error::AppError| e.for_field("file").unwrap_or_else(|| e.to_string());
    let needs = move |p: &str| provider.with(|v| v == p);
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label="Import numbers from CSV">
            <div class="w-full max-w-2xl space-y-3 rounded-xl bg-white p-6 shadow-xl">
                <h2 class="text-lg font-semibold">"Import numbers from CSV"</h2>
                <p class="text-sm text-slate-600">
                    "One number per row; columns are named after the API's fields (phoneNumber, displayName, provider, exotelConfig.sid, …). "
                    <a class="text-indigo-700 hover:underline" href="/api/phone-numbers/import/template.csv" data-testid="csv-template">"Download the template"</a>
                    ". Rows naming a number you already have update it; the same file twice changes nothing."
                </p>
                <label class="block text-sm font-medium text-slate-700">"CSV file"
                    <input type="file" accept=".csv,text/csv" class=INPUT data-testid="csv-file" on:change=on_file/>
                </label>
                <p class="text-xs text-red-600" data-testid="error-file">
                    {move || file_error.get()}
                    {move || preview.value().with(|v| match v { Some(Err(e)) => error_of(e), _ => String::new() })}
                    {move || start.value().with(|v| match v { Some(Err(e)) => error_of(e), _ => String::new() })}
                </p>
                <fieldset class="rounded-lg border border-slate-200 p-3">
                    <legend class="px-1 text-sm font-medium">"Credentials for every row (optional)"</legend>
                    <select aria-label="Provider for every row" class=INPUT on:change=move |ev| provider.set(event_target_value(&ev))>
                        <option value="">"— Rows give their own —"</option>
                        <option value="exotel">"Exotel"</option>
                        <option value="twilio">"Twilio"</option>
                        <option value="vonage">"Vonage"</option>
                        <option value="plivo">"Plivo"</option>
                    </select>
                    <Show when=move || !provider.with(String::is_empty)>
                        <div class="mt-2 grid gap-2 md:grid-cols-3">
                            <input class=INPUT aria-label="Account (SID, auth id or API key)" placeholder="Account SID / auth id / API key"
                                on:input=move |ev| account.set(event_target_value(&ev))/>
                            <Show when=move || needs("exotel")>
                                <input class=INPUT aria-label="API key for every row" placeholder="API key" type="password" on:input=move |ev| key.set(event_target_value(&ev))/>
                            </Show>
                            <input class=INPUT aria-label="Secret for every row" placeholder="API token / auth token / API secret" type="password"
                                on:input=move |ev| secret.set(event_target_value(&ev))/>
                        </div>
                    </Show>
                </fieldset>
                <div class="flex gap-2">
                    <button class=SECONDARY data-testid="preview-import" disabled=move || text.with(Option::is_none) || preview.pending().get()
                        on:click=move |_| { if let Some(csv) = text.get() { preview.dispatch(PreviewImport { csv, credentials: creds() }); } }>"Preview"</button>
                    <button class=PRIMARY data-testid="start-import"
                        disabled=move || text.with(Option::is_none) || progress.with(|p| p.as_ref().is_some_and(|p| !p.finished))
                        on:click=move |_| { if let Some(csv) = text.get() { start.dispatch(StartImport { csv, credentials: creds() }); } }>"Import"</button>
                </div>
                {move || preview.value().get().and_then(Result::ok).filter(|_| progress.with(Option::is_none)).map(|r| view! {
                    <div data-testid="import-preview">
                        <p class="text-sm font-medium" data-testid="preview-summary">{summary(&r)}</p>
                        <table class="mt-2 w-full text-left text-xs">
                            <thead><tr><th>"Line"</th><th>"Number"</th><th>"Name"</th><th>"Provider"</th><th>"Action"</th></tr></thead>
                            <tbody>
                                {r.preview.iter().take(50).map(|p| view! {
                                    <tr data-testid="preview-row"><td>{p.line}</td><td class="font-mono">{p.phone_number.clone()}</td>
                                    <td>{p.display_name.clone()}</td><td>{p.provider.clone()}</td><td>{p.action.clone()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Failures report=r.clone()/>
                    </div>
                })}
                {move || progress.get().map(|p| {
                    let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
                    view! {
                        <div data-testid="import-progress">
                            <div class="h-2 w-full rounded bg-slate-200" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct>
                                <div class="h-2 rounded bg-indigo-600" style=format!("width: {pct}%")></div>
                            </div>
                            <p class="mt-1 text-xs text-slate-600">{format!("{} of {} rows", p.done, p.total)}</p>
                            {p.error.clone().map(|e| view! { <p class="text-sm text-red-600">{e}</p> })}
                            {p.report.clone().map(|r| view! {
                                <p class="text-sm font-medium" data-testid="import-summary">{summary(&r)}</p>
                                <Failures report=r/>
                            })}
                        </div>
                    }
                })}
                <p class="text-xs text-slate-500">{move || file_name.get()}</p>
                <div class="flex justify-end">
                    <button class=SECONDARY data-testid="close-import" on:click=move |_| on_close.run(())>"Close"</button>
                </div>
            </div>
        </div>
    }
}
