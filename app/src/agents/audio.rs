//! The browser's side of a test call: the microphone through an AudioWorklet
//! (public/mic-worklet.js, which sends 16 kHz 16-bit PCM), the socket to
//! `/api/agents/{id}/test-call`, and the agent's audio played with Web Audio. Marks go back once
//! the audio before them has played, and `clear` silences what is queued (barge-in).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use domain::test_call::{BROWSER_RATE, BrowserMessage};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioBufferSourceNode, AudioContext, AudioScheduledSourceNode, AudioWorkletNode, AudioWorkletNodeOptions, BinaryType, CloseEvent,
    MediaStream, MediaStreamConstraints, MessageEvent, WebSocket,
};

/// What the call tells the page.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The server recorded the call under this id.
    Started(String),
    /// The call is over (the reason, as the server or the browser gave it).
    Ended(String),
}

/// Agent audio queued ahead, at most (older chunks are dropped rather than heard late).
const MAX_AHEAD_S: f64 = 30.0;

/// What the socket's and the worklet's callbacks share.
struct Shared {
    ws: WebSocket,
    ctx: AudioContext,
    mic: MediaStream,
    /// When the queued agent audio ends (in the context's time).
    next: f64,
    sources: VecDeque<(AudioBufferSourceNode, f64)>,
    /// Marks to send back, with when the audio before them has played.
    marks: VecDeque<(String, f64)>,
    interval: Option<i32>,
    done: bool,
}

impl Shared {
    fn now(&self) -> f64 {
        self.ctx.current_time()
    }

    fn play(&mut self, bytes: &[u8]) {
        if bytes.len() < 2 || self.next - self.now() > MAX_AHEAD_S {
            return;
        }
        let samples: Vec<f32> = bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0).collect();
        let Ok(buffer) = self.ctx.create_buffer(1, samples.len() as u32, BROWSER_RATE as f32) else { return };
        if buffer.copy_to_channel(&samples, 0).is_err() {
            return;
        }
        let Ok(source) = self.ctx.create_buffer_source() else { return };
        source.set_buffer(Some(&buffer));
        if source.connect_with_audio_node(&self.ctx.destination()).is_err() {
            return;
        }
        let at = self.next.max(self.now());
        if AsRef::<AudioScheduledSourceNode>::as_ref(&source).start_with_when(at).is_ok() {
            self.next = at + buffer.duration();
            self.sources.push_back((source, self.next));
        }
    }

    fn clear(&mut self) {
        for (source, _) in self.sources.drain(..) {
            let _ = AsRef::<AudioScheduledSourceNode>::as_ref(&source).stop();
        }
        let now = self.now();
        self.next = now;
        for mark in self.marks.iter_mut() {
            mark.1 = now;
        }
    }

    /// Sends back the marks whose audio has played; forgets sources that have ended.
    fn tick(&mut self) {
        let now = self.now();
        while self.marks.front().is_some_and(|(_, due)| *due <= now) {
            if let Some((name, _)) = self.marks.pop_front() {
                let text = serde_json::to_string(&BrowserMessage::Mark { name }).unwrap_or_default();
                let _ = self.ws.send_with_str(&text);
            }
        }
        while self.sources.front().is_some_and(|(_, end)| *end <= now) {
            self.sources.pop_front();
        }
    }

    /// Stops the microphone, the audio and the timer (once).
    fn shut(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.clear();
        release(&self.ctx, &self.mic);
        if let (Some(id), Some(window)) = (self.interval.take(), web_sys::window()) {
            window.clear_interval_with_handle(id);
        }
    }
}

/// A running test call; its callbacks live as long as it does.
pub struct BrowserCall {
    shared: Rc<RefCell<Shared>>,
    _callbacks: Vec<Box<dyn std::any::Any>>,
}

impl BrowserCall {
    /// Hangs up: the server ends the call and closes the socket.
    pub fn stop(&self) {
        let shared = self.shared.borrow();
        if shared.ws.ready_state() == WebSocket::OPEN {
            let _ = shared.ws.send_with_str(&serde_json::to_string(&BrowserMessage::Stop).unwrap_or_default());
        } else {
            drop(shared);
            self.shared.borrow_mut().shut();
        }
    }
}

impl Drop for BrowserCall {
    fn drop(&mut self) {
        let _ = self.shared.borrow().ws.close();
        self.shared.borrow_mut().shut();
    }
}

/// Why the microphone could not be opened, in words.
fn mic_error(e: JsValue) -> String {
    let name = e.dyn_ref::<web_sys::DomException>().map(|d| d.name()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => "Microphone access was refused. Allow it for this site and try again.".into(),
        "NotFoundError" => "No microphone was found.".into(),
        "NotReadableError" => "The microphone is in use by another application.".into(),
        _ => "The microphone could not be opened.".into(),
    }
}

fn js_error(what: &str) -> impl Fn(JsValue) -> String + '_ {
    move |e| format!("{what}: {}", e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| e.message().into())).unwrap_or_default())
}

/// The microphone's capture: the worklet loaded and fed by the microphone.
async fn capture(ctx: &AudioContext, mic: &MediaStream) -> Result<AudioWorkletNode, String> {
    let loaded =
        ctx.audio_worklet().map_err(js_error("audio worklet"))?.add_module("/mic-worklet.js").map_err(js_error("audio worklet"))?;
    JsFuture::from(loaded).await.map_err(js_error("audio worklet"))?;
    let options = AudioWorkletNodeOptions::new();
    // No outputs: the browser runs the capture without it being played anywhere.
    options.set_number_of_outputs(0);
    let node = AudioWorkletNode::new_with_options(ctx, "mic-capture", &options).map_err(js_error("audio worklet"))?;
    ctx.create_media_stream_source(mic).map_err(js_error("microphone"))?.connect_with_audio_node(&node).map_err(js_error("microphone"))?;
    Ok(node)
}

/// Stops the microphone (its light goes off) and the audio context.
fn release(ctx: &AudioContext, mic: &MediaStream) {
    for track in mic.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
    let _ = ctx.close();
}

/// Opens the microphone and the socket for a test call with agent `agent_id`.
pub async fn start(agent_id: &str, on_event: Rc<dyn Fn(CallEvent)>) -> Result<BrowserCall, String> {
    let window = web_sys::window().ok_or("no window")?;
    let devices = window.navigator().media_devices().map_err(|_| "This browser cannot use a microphone here (HTTPS is needed).")?;
    // Made while the click still counts as the user's gesture (answering the microphone prompt
    // can take longer), so the browser lets it play and capture.
    let ctx = AudioContext::new().map_err(js_error("audio"))?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let mic = match devices.get_user_media_with_constraints(&constraints) {
        Ok(asked) => JsFuture::from(asked).await,
        Err(e) => Err(e),
    };
    let mic: MediaStream = match mic {
        Ok(m) => m.unchecked_into(),
        Err(e) => {
            let _ = ctx.close();
            return Err(mic_error(e));
        }
    };
    if let Ok(resumed) = ctx.resume() {
        let _ = JsFuture::from(resumed).await;
    }
    let location = window.location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    let url = format!("{scheme}://{}/api/agents/{agent_id}/test-call", location.host().unwrap_or_default());
    let opened = match capture(&ctx, &mic).await {
        Ok(node) => WebSocket::new(&url).map_err(js_error("socket")).map(|ws| (node, ws)),
        Err(e) => Err(e),
    };
    let (node, ws) = match opened {
        Ok(both) => both,
        Err(e) => {
            release(&ctx, &mic);
            return Err(e);
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let shared = Rc::new(RefCell::new(Shared {
        ws: ws.clone(),
        ctx,
        mic,
        next: 0.0,
        sources: VecDeque::new(),
        marks: VecDeque::new(),
        interval: None,
        done: false,
    }));
    let mut callbacks: Vec<Box<dyn std::any::Any>> = Vec::new();

    let socket = ws.clone();
    let captured = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if socket.ready_state() == WebSocket::OPEN
            && let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>()
        {
            let _ = socket.send_with_array_buffer(&buf);
        }
    });
    node.port().map_err(js_error("audio worklet"))?.set_onmessage(Some(captured.as_ref().unchecked_ref()));
    callbacks.push(Box::new(captured));
    callbacks.push(Box::new(node));

    let (s, events) = (shared.clone(), on_event.clone());
    let received = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let data = e.data();
        if let Ok(buf) = data.clone().dyn_into::<js_sys::ArrayBuffer>() {
            s.borrow_mut().play(&js_sys::Uint8Array::new(&buf).to_vec());
            return;
        }
        let Some(text) = data.as_string() else { return };
        match serde_json::from_str::<BrowserMessage>(&text) {
            Ok(BrowserMessage::Started { call_id }) => events(CallEvent::Started(call_id)),
            Ok(BrowserMessage::Mark { name }) => {
                let mut s = s.borrow_mut();
                let due = s.next;
                s.marks.push_back((name, due));
            }
            Ok(BrowserMessage::Clear) => s.borrow_mut().clear(),
            _ => {}
        }
    });
    ws.set_onmessage(Some(received.as_ref().unchecked_ref()));
    callbacks.push(Box::new(received));

    let (s, events) = (shared.clone(), on_event);
    let closed = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        s.borrow_mut().shut();
        let why = match (e.code(), e.reason()) {
            (1000, r) if !r.is_empty() => format!("Call ended: {r}."),
            (1000 | 1005, _) => "Call ended.".to_string(),
            (1013, _) => "Too many test calls at once; try again when one ends.".to_string(),
            (code, r) if !r.is_empty() => format!("Call ended ({code}: {r})."),
            (code, _) => format!("The connection closed ({code}). Are you still signed in?"),
        };
        events(CallEvent::Ended(why));
    });
    ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
    callbacks.push(Box::new(closed));

    let s = shared.clone();
    let tick = Closure::<dyn FnMut()>::new(move || s.borrow_mut().tick());
    let id = window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 50).map_err(js_error("timer"))?;
    shared.borrow_mut().interval = Some(id);
    callbacks.push(Box::new(tick));
    Ok(BrowserCall { shared, _callbacks: callbacks })
}
