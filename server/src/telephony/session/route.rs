//! An inbound call through its number's routing (crate::numbers::routing): at the stream's
//! start the hours are read with the state's clock in the number's time zone, and the call goes
//! to an agent, says a message and hangs up, or plays the keypad menu first (then an agent or a
//! message). The route taken and the answering agent are stored on the call. Messages and the
//! menu speak in the number's linked agent's offline voice (English by default). A call without
//! routing, or an outbound one, never comes here.

use std::time::Duration;

use domain::agent::AgentView;
use domain::routing::{Menu, Target};
use tokio::sync::mpsc;

use crate::state::AppState;
use crate::telephony::calls::Verified;
use crate::users::Owner;
use crate::voice::conversation::{self, TurnStore};
use crate::voice::engine::Pipeline;
use crate::voice::frames::{AgentFrame, CallAudio, Queued};
use crate::voice::menu::{self, MenuResult, MenuSpec};
use crate::voice::stats::Summary;

/// Said when a menu got no usable key and has no default option.
pub const NO_CHOICE: &str = "Sorry, we did not get a choice. Goodbye.";

/// What a routed call does first.
pub enum Plan {
    /// An agent answers (`None`: the agent is gone; the number's linked agent answers).
    Agent(Option<Box<AgentView>>),
    /// A message, then the call ends.
    Message(String),
    /// The menu, then what its key leads to.
    Menu { menu: Menu, opening: &'static str },
    /// The agent's transfer line, then the caller is handed to this person.
    Person(String),
}

/// The plan for `call` through its number's routing (none: no routing, or an outbound call).
pub async fn plan(state: &AppState, v: &Verified, call: &crate::db::calls::CallRow) -> Option<Plan> {
    if call.direction.as_deref() == Some("outbound") {
        return None;
    }
    let routing = crate::numbers::routing::of(&v.number)?;
    if call.route.is_some() {
        // A stream that reconnects goes on with the agent its route reached.
        let resumed = agent(state, &v.owner, call.agent_id.as_deref()).await.or_else(|| v.agent.clone());
        return Some(Plan::Agent(resumed.map(Box::new)));
    }
    let (opening, target) = crate::numbers::routing::decide(&routing, state.clock.now());
    let opening = opening.as_str();
    let plan = match target {
        Target::Agent { agent_id } => {
            let found = agent(state, &v.owner, Some(agent_id)).await;
            let note = if found.is_some() { format!("{opening}/agent") } else { format!("{opening}/agent-missing") };
            set_route(state, &call.id, &note, found.as_ref().or(v.agent.as_ref())).await;
            Plan::Agent(found.map(Box::new))
        }
        Target::Message { text } => {
            set_route(state, &call.id, &format!("{opening}/message"), None).await;
            Plan::Message(text.clone())
        }
        Target::Person { number } => {
            set_route(state, &call.id, &format!("{opening}/person"), None).await;
            Plan::Person(number.clone())
        }
        Target::Menu => match routing.menu.clone() {
            Some(menu) => Plan::Menu { menu, opening },
            None => Plan::Agent(None),
        },
    };
    Some(plan)
}

/// The menu, then the conversation its key leads to.
#[allow(clippy::too_many_arguments)]
pub async fn run_menu(
    state: AppState,
    owner: Owner,
    house_agent: Option<AgentView>,
    call_key: String,
    menu: Menu,
    opening: &'static str,
    audio: CallAudio,
    mut store: Option<TurnStore>,
    mut inbound: mpsc::Receiver<Queued>,
    out: mpsc::Sender<AgentFrame>,
) -> Summary {
    let house = pipeline(&state, &owner, house_agent.as_ref()).await;
    let spec = MenuSpec {
        prompt: menu.prompt.clone(),
        keys: menu.options.iter().map(|o| o.digit.clone()).collect(),
        timeout: Duration::from_secs(u64::from(menu.timeout_secs)),
        repeats: menu.repeats,
    };
    let result = menu::ask(&state.voice, &house, audio, &mut store, &mut inbound, &out, &spec).await;
    let digit = match result {
        MenuResult::Key(d) => Some(d),
        MenuResult::NoChoice => menu.default_digit.clone(),
        MenuResult::Gone => return Summary::default(),
    };
    let target = digit.as_deref().and_then(|d| menu.option(d)).map(|o| o.target.clone());
    let note = format!("{opening}/menu:{}", digit.as_deref().unwrap_or("none"));
    // The next agent greets the caller: the menu's turns were not its greeting.
    let store = store.map(|s| TurnStore { greeted: false, ..s });
    let next = match target {
        Some(Target::Agent { agent_id }) => {
            let found = agent(&state, &owner, Some(&agent_id)).await;
            let chosen = found.as_ref().or(house_agent.as_ref());
            let suffix = if found.is_some() { "agent" } else { "agent-missing" };
            set_route(&state, &call_key, &format!("{note}/{suffix}"), chosen).await;
            pipeline(&state, &owner, chosen).await
        }
        Some(Target::Message { text }) => {
            set_route(&state, &call_key, &format!("{note}/message"), None).await;
            saying(house, text)
        }
        Some(Target::Person { number }) => {
            set_route(&state, &call_key, &format!("{note}/person"), None).await;
            let line = house_agent.as_ref().map(|a| a.settings.transfer_line.clone()).unwrap_or_default();
            handing(house, line, &number)
        }
        _ => {
            set_route(&state, &call_key, &format!("{note}/hangup"), None).await;
            saying(house, NO_CHOICE.to_string())
        }
    };
    conversation::run(state.voice.clone(), next, audio, store, inbound, out).await
}

/// `house` saying `text` as its greeting, then hanging up.
pub fn saying(mut house: Pipeline, text: String) -> Pipeline {
    house.greeting = text;
    house.hang_up_after_greeting = true;
    house
}

/// `house` saying the transfer `line` as its greeting, then handing the caller to `number`.
pub fn handing(mut house: Pipeline, line: String, number: &str) -> Pipeline {
    house.greeting = if line.is_empty() { domain::agent::AgentInput::default().transfer_line } else { line };
    house.transfer_after_greeting = Some(domain::phone_number::normalize_e164(number).unwrap_or_else(|_| number.to_string()));
    house
}

/// The pipeline of `agent` (the default agent's when none).
pub async fn pipeline(state: &AppState, owner: &Owner, agent: Option<&AgentView>) -> Pipeline {
    let api_key = match agent {
        Some(a) => crate::agents::api_key(state, owner, a).await,
        None => None,
    };
    let mut p = state.voice.pipeline(&agent.map(|a| a.settings.clone()).unwrap_or_default(), api_key);
    p.tenant = Some(owner.id().to_string());
    p
}

/// `owner`'s agent `id`, if it still exists.
async fn agent(state: &AppState, owner: &Owner, id: Option<&str>) -> Option<AgentView> {
    let id = id?;
    // `for_call` falls back to the newest agent; a route wants this one or none.
    let found = crate::agents::for_call(state, owner, Some(id)).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read a routed call's agent");
        None
    });
    found.filter(|a| a.id == id)
}

async fn set_route(state: &AppState, call_key: &str, note: &str, agent: Option<&AgentView>) {
    if let Err(e) = crate::db::routing::set_route(&state.db, call_key, note, agent.map(|a| a.id.as_str())).await {
        tracing::warn!(call = %call_key, error = %e, "cannot store the call's route");
    }
}
