//! Live updates of the Call Logs: the server's `/api/calls/live` event stream (SurrealDB live
//! queries scoped to the signed-in user) bumps a counter the page's resources depend on.

use leptos::prelude::*;

/// A counter that goes up whenever one of the user's calls changes or gains a turn; `live`
/// says whether the event stream is connected.
pub fn use_live_calls() -> (ReadSignal<u32>, ReadSignal<bool>) {
    let (version, set_version) = signal(0u32);
    let (live, set_live) = signal(false);
    Effect::new(move |_| {
        use send_wrapper::SendWrapper;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new("/api/calls/live") else { return };
        let bump = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_version.update(|v| *v += 1));
        let opened = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_live.set(true));
        let failed = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_live.set(false));
        for name in ["call", "turn"] {
            let _ = source.add_event_listener_with_callback(name, bump.as_ref().unchecked_ref());
        }
        let _ = source.add_event_listener_with_callback("open", opened.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", failed.as_ref().unchecked_ref());
        // Closed (and the callbacks freed) when the page goes away.
        let held = SendWrapper::new((source, bump, opened, failed));
        on_cleanup(move || held.0.close());
    });
    (version, live)
}
