//! The agent editor: every setting, validated live with the same rules as the server.

use domain::agent::{AgentInput, AgentView, LANGUAGES, LLM_PROVIDERS, ON_MACHINE, STT_PROVIDERS, ScriptRule, TTS_PROVIDERS};
use leptos::prelude::*;

use super::SaveAgent;
use crate::form::{PRIMARY, SECONDARY, Select, TextArea, TextInput, options};

/// Rules as the editor shows them: `keyword, keyword => reply`, one per line.
pub fn rules_to_text(rules: &[ScriptRule]) -> String {
    rules.iter().map(|r| format!("{} => {}", r.keywords.join(", "), r.reply)).collect::<Vec<_>>().join("\n")
}

/// Parses the editor's rule lines.
pub fn text_to_rules(text: &str) -> Vec<ScriptRule> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (keys, reply) = line.split_once("=>").unwrap_or((line, ""));
            ScriptRule { keywords: keys.split(',').map(|k| k.trim().to_string()).collect(), reply: reply.trim().to_string() }
        })
        .collect()
}

/// Modal form to create (`agent` = None) or edit an agent.
#[component]
pub fn AgentForm(agent: Option<AgentView>, on_saved: Callback<AgentView>, on_close: Callback<()>) -> impl IntoView {
    let id = agent.as_ref().map(|a| a.id.clone());
    let s = agent.map(|a| a.settings).unwrap_or_default();
    let name = RwSignal::new(s.name.clone());
    let language = RwSignal::new(s.language.clone());
    let greeting = RwSignal::new(s.greeting.clone());
    let system_prompt = RwSignal::new(s.system_prompt.clone());
    let rules = RwSignal::new(rules_to_text(&s.rules));
    let default_reply = RwSignal::new(s.default_reply.clone());
    let goodbye = RwSignal::new(s.goodbye.clone());
    let voice = RwSignal::new(s.voice.clone());
    let stt = RwSignal::new(s.providers.stt.clone());
    let llm = RwSignal::new(s.providers.llm.clone());
    let tts = RwSignal::new(s.providers.tts.clone());
    let base_url = RwSignal::new(s.providers.base_url.clone());
    let model = RwSignal::new(s.providers.model.clone());
    let api_key = RwSignal::new(String::new());
    let key_hint = s.providers.api_key_hint.clone();
    let eos = RwSignal::new(s.end_of_speech_ms.to_string());
    let on_machine = RwSignal::new(s.on_machine.clone());
    let voicemail = RwSignal::new(s.voicemail_message.clone());
    let record_calls = RwSignal::new(s.record_calls);
    let notice = RwSignal::new(s.recording_notice.clone());
    let retention = RwSignal::new(s.recording_retention_days.to_string());
    let transfer_to = RwSignal::new(s.transfer_to.clone());
    let transfer_words = RwSignal::new(s.transfer_keywords.join(", "));
    let transfer_digit = RwSignal::new(s.transfer_digit.clone());
    let transfer_line = RwSignal::new(s.transfer_line.clone());
    let warm = RwSignal::new(s.warm_transfer);
    let vocabulary = RwSignal::new(s.vocabulary.clone());

    let input = move || AgentInput {
        name: name.get(),
        language: language.get(),
        greeting: greeting.get(),
        system_prompt: system_prompt.get(),
        rules: text_to_rules(&rules.get()),
        default_reply: default_reply.get(),
        goodbye: goodbye.get(),
        voice: voice.get(),
        providers: domain::agent::Providers {
            stt: stt.get(),
            llm: llm.get(),
            tts: tts.get(),
            base_url: base_url.get(),
            model: model.get(),
            api_key: api_key.get(),
            api_key_hint: None,
            clear_api_key: false,
        },
        end_of_speech_ms: eos.get().trim().parse().unwrap_or(0),
        on_machine: on_machine.get(),
        voicemail_message: voicemail.get(),
        record_calls: record_calls.get(),
        recording_notice: notice.get(),
        // Not a number: over the limit, so the field says what it takes.
        recording_retention_days: retention.get().trim().parse().unwrap_or(u32::MAX),
        transfer_to: transfer_to.get(),
        transfer_keywords: transfer_words.get().split(',').map(str::to_string).collect(),
        transfer_digit: transfer_digit.get(),
        transfer_line: transfer_line.get(),
        warm_transfer: warm.get(),
        vocabulary: vocabulary.get(),
    };
    let save = ServerAction::<SaveAgent>::new();
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let submitted = RwSignal::new(false);
    let on_edit = Callback::new(move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        })
    });
    let live = Memo::new(move |_| input().normalized().validate());
    let error = move |field: &'static str| -> Signal<Option<String>> {
        Signal::derive(move || {
            let shown = submitted.get() || touched.with(|t| t.contains(&field) || (field.starts_with("rules") && t.contains(&"rules")));
            let local = live.with(|e| {
                e.iter().find(|e| e.field == field || (field == "rules" && e.field.starts_with("rules"))).map(|e| e.message.clone())
            });
            let server = save.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field)));
            if shown { local.or(server) } else { server }
        })
    };
    Effect::new(move || {
        if let Some(Ok(a)) = save.value().get() {
            on_saved.run(a);
        }
    });
    let title = if id.is_some() { "Edit agent" } else { "New agent" };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if live.with(|e| e.is_empty()) {
            save.dispatch(SaveAgent { id: id.clone(), input: input() });
        }
    };
    let show_cloud = move || [stt.get(), llm.get(), tts.get()].iter().any(|p| p == "openai");
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label=title>
            <form on:submit=submit novalidate class="w-full max-w-2xl space-y-2 rounded-xl bg-white p-6 shadow-xl">
                <h2 class="mb-4 text-lg font-semibold">{title}</h2>
                <div class="grid gap-x-4 md:grid-cols-2">
                    <TextInput label="Name" name="name" value=name error=error("name") on_edit/>
                    <Select label="Language" name="language" value=language options=options(LANGUAGES) error=error("language") on_edit/>
                </div>
                <TextArea label="Greeting" name="greeting" value=greeting error=error("greeting") rows=2 on_edit/>
                <TextArea label="System prompt (LLM agents)" name="systemPrompt" value=system_prompt error=error("systemPrompt") rows=3 on_edit/>
                <TextArea label="Scripted replies" name="rules" value=rules error=error("rules") rows=4
                    hint="One rule per line: keyword, keyword => reply. Keywords match tolerantly." on_edit/>
                <TextInput label="Words callers will say" name="vocabulary" value=vocabulary error=error("vocabulary")
                    placeholder="e.g. Brightsmile Dental, Dr. Okonkwo, Zephyrine (helps offline speech recognition spell them)" on_edit/>
                <div class="grid gap-x-4 md:grid-cols-2">
                    <TextInput label="Default reply" name="defaultReply" value=default_reply error=error("defaultReply") on_edit/>
                    <TextInput label="Goodbye" name="goodbye" value=goodbye error=error("goodbye") on_edit/>
                </div>
                <div class="grid gap-x-4 md:grid-cols-2">
                    <Select label="Outbound calls a machine answers" name="onMachine" value=on_machine options=options(ON_MACHINE) error=error("onMachine") on_edit/>
                    <TextInput label="Voicemail message" name="voicemailMessage" value=voicemail error=error("voicemailMessage") placeholder="Empty: the agent says its opening line" on_edit/>
                </div>
                <fieldset class="rounded-lg border border-slate-200 px-3 py-2">
                    <label class="flex items-center gap-2 text-sm font-medium">
                        <input type="checkbox" name="recordCalls" data-testid="record-calls" prop:checked=move || record_calls.get()
                            on:change=move |ev| record_calls.set(event_target_checked(&ev))/>
                        "Record calls (stereo WAV: caller left, agent right)"
                    </label>
                    <Show when=move || record_calls.get()>
                        <div class="grid gap-x-4 md:grid-cols-2">
                            <TextInput label="Recording notice" name="recordingNotice" value=notice error=error("recordingNotice")
                                placeholder="Empty: no notice" on_edit/>
                            <TextInput label="Keep recordings (days)" name="recordingRetentionDays" kind="number" value=retention
                                error=error("recordingRetentionDays") placeholder="0 keeps them until the call is deleted" on_edit/>
                        </div>
                    </Show>
                </fieldset>
                <fieldset class="rounded-lg border border-slate-200 px-3 py-2">
                    <legend class="px-1 text-sm font-medium">"Transfer to a person"</legend>
                    <div class="grid gap-x-4 md:grid-cols-2">
                        <TextInput label="Transfer to" name="transferTo" value=transfer_to error=error("transferTo")
                            placeholder="+14155550100 (empty: no transfers)" on_edit/>
                        <TextInput label="Key that asks for a person" name="transferDigit" value=transfer_digit error=error("transferDigit")
                            placeholder="e.g. 0" on_edit/>
                    </div>
                    <TextInput label="Words that ask for a person" name="transferKeywords" value=transfer_words error=error("transferKeywords")
                        placeholder="a person, human, operator" on_edit/>
                    <TextInput label="Line before the transfer" name="transferLine" value=transfer_line error=error("transferLine") on_edit/>
                    <label class="mt-1 flex items-center gap-2 text-sm">
                        <input type="checkbox" name="warmTransfer" data-testid="warm-transfer" prop:checked=move || warm.get()
                            on:change=move |ev| warm.set(event_target_checked(&ev))/>
                        "Warm transfer: the person hears a one-line summary first (Twilio, Vonage, Plivo, Exotel)"
                    </label>
                </fieldset>
                <div class="grid gap-x-4 md:grid-cols-3">
                    <Select label="Speech to text" name="providers.stt" value=stt options=options(STT_PROVIDERS) error=error("providers.stt") on_edit/>
                    <Select label="Replies" name="providers.llm" value=llm options=options(LLM_PROVIDERS) error=error("providers.llm") on_edit/>
                    <Select label="Text to speech" name="providers.tts" value=tts options=options(TTS_PROVIDERS) error=error("providers.tts") on_edit/>
                </div>
                <Show when=show_cloud>
                    <div class="grid gap-x-4 md:grid-cols-3">
                        <TextInput label="API base URL" name="providers.baseUrl" value=base_url error=error("providers.baseUrl") placeholder="https://api.openai.com/v1" on_edit/>
                        <TextInput label="Chat model" name="providers.model" value=model error=error("providers.model") placeholder="gpt-4o-mini" on_edit/>
                        <TextInput label="API key" name="providers.apiKey" kind="password" value=api_key error=error("providers.apiKey")
                            placeholder=key_hint.clone().map(|h| format!("{h} (leave empty to keep)")).unwrap_or_else(|| "sk-…".to_string()) on_edit/>
                    </div>
                </Show>
                <div class="grid gap-x-4 md:grid-cols-2">
                    <TextInput label="Voice" name="voice" value=voice error=error("voice") on_edit/>
                    <TextInput label="End-of-speech silence (ms)" name="endOfSpeechMs" kind="number" value=eos error=error("endOfSpeechMs") on_edit/>
                </div>
                <div class="flex justify-end gap-2 pt-2">
                    <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class=PRIMARY data-testid="save-agent" disabled=move || save.pending().get()>"Save agent"</button>
                </div>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_lines_round_trip() {
        let rules = text_to_rules("hours, open => We open at 9.\n\nprice => Ten rupees.");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].keywords, ["hours", "open"]);
        assert_eq!(text_to_rules(&rules_to_text(&rules)), rules);
    }
}
