//! Controlled form inputs with an error line under each, and copy-to-clipboard.

use leptos::prelude::*;

/// Classes of every text input.
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 disabled:bg-slate-100 disabled:text-slate-500 aria-[invalid=true]:border-red-500";
/// Primary button classes.
pub const PRIMARY: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-50";
/// Secondary button classes.
pub const SECONDARY: &str = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50";

/// An error getter for one field.
pub type ErrorFn = Signal<Option<String>>;

fn test_id(name: &str) -> String {
    name.replace('.', "-")
}

#[component]
fn Label(label: &'static str, id: String) -> impl IntoView {
    view! { <label class="block text-sm font-medium text-slate-700" for=id>{label}</label> }
}

/// The error line under a field (`data-testid="error-<name>"`).
#[component]
fn ErrorLine(name: &'static str, error: ErrorFn) -> impl IntoView {
    view! { <p data-testid=format!("error-{}", test_id(name)) class="mt-1 min-h-5 text-xs text-red-600">{move || error.get()}</p> }
}

/// A labelled text input bound to `value`.
#[component]
pub fn TextInput(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    error: ErrorFn,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] placeholder: String,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] on_edit: Option<Callback<&'static str>>,
) -> impl IntoView {
    let id = format!("input-{}", test_id(name));
    view! {
        <div>
            <Label label id=id.clone()/>
            <input id=id name=name type=kind placeholder=placeholder class=INPUT
                prop:value=move || value.get()
                disabled=move || disabled.get()
                aria-invalid=move || error.get().is_some().to_string()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(cb) = on_edit { cb.run(name) }
                }/>
            <ErrorLine name error/>
        </div>
    }
}

/// A labelled textarea bound to `value`.
#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    error: ErrorFn,
    #[prop(default = 3)] rows: u32,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] on_edit: Option<Callback<&'static str>>,
) -> impl IntoView {
    let id = format!("input-{}", test_id(name));
    view! {
        <div>
            <Label label id=id.clone()/>
            <textarea id=id name=name rows=rows class=INPUT
                prop:value=move || value.get()
                aria-invalid=move || error.get().is_some().to_string()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(cb) = on_edit { cb.run(name) }
                }></textarea>
            <p class="text-xs text-slate-400">{hint}</p>
            <ErrorLine name error/>
        </div>
    }
}

/// A labelled select bound to `value`.
#[component]
pub fn Select(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    error: ErrorFn,
    #[prop(optional)] on_edit: Option<Callback<&'static str>>,
) -> impl IntoView {
    let id = format!("input-{}", test_id(name));
    view! {
        <div>
            <Label label id=id.clone()/>
            <select id=id name=name class=INPUT
                prop:value=move || value.get()
                aria-invalid=move || error.get().is_some().to_string()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(cb) = on_edit { cb.run(name) }
                }>
                {move || options.get().into_iter().map(|(k, label)| {
                    let selected = value.get_untracked() == k;
                    view! { <option value=k selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            <ErrorLine name error/>
        </div>
    }
}

/// Static options from a `(key, label)` table.
pub fn options(table: &[(&str, &str)]) -> Vec<(String, String)> {
    table.iter().map(|(k, l)| (k.to_string(), l.to_string())).collect()
}

/// Options for every value of an enum such as `Provider`: its string and its label.
pub fn choice_options<T: domain::Choice>() -> Vec<(String, String)> {
    T::ALL.iter().map(|v| (v.as_str().to_string(), v.label().to_string())).collect()
}

/// Writes `text` to the clipboard (in the browser; nothing on the server).
pub fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let navigator = js_sys::Reflect::get(window().as_ref(), &"navigator".into()).ok();
        let clipboard = navigator.and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok());
        let write = clipboard
            .as_ref()
            .and_then(|c| js_sys::Reflect::get(c, &"writeText".into()).ok())
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let (Some(c), Some(f)) = (clipboard, write) {
            let _ = f.call1(&c, &text.into());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// A read-only URL with a copy button that says "Copied!" for two seconds.
#[component]
pub fn CopyField(label: &'static str, value: String, test_id: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = value.clone();
    let title = value.clone();
    view! {
        <div class="mt-2">
            <span class="text-xs font-medium uppercase tracking-wide text-slate-400">{label}</span>
            <div class="mt-1 flex items-center gap-2">
                <code data-testid=format!("{test_id}-url") class="min-w-0 flex-1 truncate rounded bg-slate-100 px-2 py-1 font-mono text-xs" title=title>{value}</code>
                <button type="button" data-testid=format!("{test_id}-copy") class=SECONDARY
                    on:click=move |_| {
                        copy_to_clipboard(&text);
                        copied.set(true);
                        set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
                    }>
                    {move || if copied.get() { "Copied!" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}
