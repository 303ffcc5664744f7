//! Routing per number: saved over REST (checked whole, nothing written on a wrong field, only
//! the user's own agents), and real calls through the simulator at set times of the state's
//! clock: the menu inside hours (a key reaches its agent; no key repeats, then the default),
//! another agent outside hours, a message then hang-up on a holiday.

use crate::common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::agent::AgentInput;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::simulator::{self, CallOptions, Step};

const MENU: &str = "Press 1 for sales, 2 for support.";
const CLOSED: &str = "We are closed for the holiday. Goodbye.";
const ADDRESS: &str = "We are at 1 Main Street. Goodbye.";

struct Desk {
    state: server::AppState,
    base: String,
    token: String,
    number: domain::phone_number::PhoneNumberView,
    owner: server::users::Owner,
    /// Sales, support, night.
    agents: [String; 3],
}

async fn desk() -> Desk {
    let (state, base) = common::live_server().await;
    let (user, token) = common::user_with_token(&state, "routing@example.com").await;
    let mut agents = Vec::new();
    for (name, greeting) in [
        ("Sales", "Sales here, what can I sell you?"),
        ("Support", "Support desk, how can I help?"),
        ("Night", "Night line, how can I help?"),
    ] {
        let input = AgentInput { name: name.into(), greeting: greeting.into(), ..Default::default() };
        agents.push(server::agents::create(&state, &user.owner, input).await.unwrap().id);
    }
    let number = common::linked_number(&state, &user.owner, &agents[0]).await;
    Desk { state, base, token, number, owner: user.owner, agents: agents.try_into().unwrap() }
}

impl Desk {
    /// Open Monday to Friday 09:00–17:00 in Kolkata, the menu inside, the night agent outside,
    /// a message on Christmas.
    fn routing(&self) -> Value {
        json!({
            "timezone": "Asia/Kolkata",
            "hours": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00" }],
            "holidays": [{ "date": "2026-12-25", "name": "Christmas" }],
            "open": { "type": "menu" },
            "closed": { "type": "agent", "agentId": self.agents[2] },
            "menu": {
                "prompt": MENU, "timeoutSecs": 2, "repeats": 1, "defaultDigit": "1",
                "options": [
                    { "digit": "1", "target": { "type": "agent", "agentId": self.agents[0] } },
                    { "digit": "2", "target": { "type": "agent", "agentId": self.agents[1] } },
                    { "digit": "3", "target": { "type": "message", "text": ADDRESS } },
                    { "digit": "0", "target": { "type": "person", "number": "+91 98765 00000" } },
                ],
            },
        })
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    async fn put_routing(&self, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, &format!("/api/phone-numbers/{}/routing", self.number.id), Some(body)).await
    }

    async fn stored(&self) -> Value {
        self.send(reqwest::Method::GET, &format!("/api/phone-numbers/{}/routing", self.number.id), None).await.1["routing"].clone()
    }

    /// Sets the state's clock to `at` (UTC).
    fn at(&self, at: chrono::DateTime<Utc>) {
        self.state.clock.advance(at - self.state.clock.now());
    }

    async fn call(&self, steps: Vec<Step>) -> (simulator::CallReport, Vec<(String, String, String)>, server::db::calls::CallRow) {
        let report = simulator::run(CallOptions::new(self.number.webhook_url.clone(), steps)).await.expect("the call runs");
        let key = format!("exotel_{}", report.call_sid);
        let mut call = None;
        for _ in 0..50 {
            call = server::db::calls::get_by_key(&self.state.db, &key).await.unwrap();
            if call.as_ref().is_some_and(|c| c.status != domain::call::CallStatus::InProgress) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let turns: Vec<Value> = server::db::rows(
            &self.state.db,
            "SELECT role, kind, text, seq FROM turn WHERE call = type::record('call', $c) ORDER BY seq",
            json!({ "c": key }),
        )
        .await
        .unwrap();
        let said = turns
            .iter()
            .map(|t| (t["role"].as_str().unwrap().into(), t["kind"].as_str().unwrap().into(), t["text"].as_str().unwrap().into()))
            .collect();
        (report, said, call.expect("the call is stored"))
    }
}

fn turn(role: &str, kind: &str, text: &str) -> (String, String, String) {
    (role.into(), kind.into(), text.into())
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["errors"]
        .as_array()
        .map(|a| a.iter().map(|f| f["field"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn routing_is_checked_whole_saved_read_back_and_keeps_its_agents() {
    // Saving a menu renders its prompt in the background: not while another test times a call.
    let _serial = common::voice_lock().await;
    let d = desk().await;
    // Wrong fields: each named, nothing written.
    let mut bad = d.routing();
    bad["timezone"] = json!("Mars/Olympus");
    bad["hours"][0]["to"] = json!("9pm");
    bad["menu"]["options"][1]["digit"] = json!("1");
    let (status, body) = d.put_routing(bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(fields(&body), ["routing.hours.0.to", "routing.menu.options.1.digit", "routing.timezone"], "{body}");
    assert_eq!(d.stored().await, Value::Null);
    // A shape serde cannot read names its path; a person needs a real number.
    let mut shape = d.routing();
    shape["closed"] = json!({ "type": "robot" });
    let (status, body) = d.put_routing(shape).await;
    assert_eq!((status, fields(&body)), (StatusCode::BAD_REQUEST, vec!["routing.closed.type".to_string()]), "{body}");
    let mut person = d.routing();
    person["closed"] = json!({ "type": "person", "number": "+15550100" });
    let (status, body) = d.put_routing(person).await;
    assert_eq!((status, fields(&body)), (StatusCode::BAD_REQUEST, vec!["routing.closed.number".to_string()]), "{body}");
    // Another user's agent is refused like a missing one.
    let other = common::user(&d.state, "other@example.com").await;
    let theirs = server::agents::create(&d.state, &other.owner, AgentInput { name: "Theirs".into(), ..Default::default() }).await.unwrap();
    let mut foreign = d.routing();
    foreign["menu"]["options"][1]["target"]["agentId"] = json!(theirs.id);
    let (status, body) = d.put_routing(foreign).await;
    assert_eq!((status, fields(&body)), (StatusCode::BAD_REQUEST, vec!["routing.menu.options.1.target.agentId".to_string()]));
    assert_eq!(d.stored().await, Value::Null);

    // Saved, and read back the same through the number too.
    let rendered = d.state.voice.greetings.rendered();
    let (status, view) = d.put_routing(d.routing()).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["routing"]["menu"]["options"][1]["target"]["agentId"], json!(d.agents[1]));
    assert_eq!(d.stored().await, d.routing());
    // The menu's prompt is rendered ahead, for the first caller.
    for _ in 0..100 {
        if d.state.voice.greetings.rendered() > rendered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(d.state.voice.greetings.rendered() > rendered, "the prompt was rendered on save");
    // The other user sees no such number.
    let owner_only = reqwest::Client::new()
        .get(format!("{}/api/phone-numbers/{}/routing", d.base, d.number.id))
        .bearer_auth(common::user_with_token(&d.state, "third@example.com").await.1)
        .send()
        .await
        .unwrap();
    assert_eq!(owner_only.status(), StatusCode::NOT_FOUND);

    // An agent a route names cannot be deleted.
    let (status, body) = d.send(reqwest::Method::DELETE, &format!("/api/agents/{}", d.agents[1]), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("+918047491899"), "{body}");

    // PATCH: a wrong routing stops the whole edit; `routing: null` removes it with the rest.
    let path = format!("/api/phone-numbers/{}", d.number.id);
    let mut bad = d.routing();
    bad["menu"]["repeats"] = json!(9);
    let (status, body) = d.send(reqwest::Method::PATCH, &path, Some(json!({ "displayName": "Front desk", "routing": bad }))).await;
    assert_eq!((status, fields(&body)), (StatusCode::BAD_REQUEST, vec!["routing.menu.repeats".to_string()]));
    let (_, now) = d.send(reqwest::Method::GET, &path, None).await;
    assert_eq!(now["displayName"], json!(""), "nothing written: {now}");
    let (status, view) = d.send(reqwest::Method::PATCH, &path, Some(json!({ "displayName": "Front desk", "routing": null }))).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!((view["displayName"].clone(), view["routing"].clone()), (json!("Front desk"), Value::Null));
    let (status, _) = d.send(reqwest::Method::DELETE, &format!("/api/agents/{}", d.agents[1]), None).await;
    assert_eq!(status, StatusCode::OK, "no route names it any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_follow_the_hours_the_menu_and_the_holidays_at_the_clocks_time() {
    let _serial = common::voice_lock().await;
    let d = desk().await;
    assert_eq!(d.put_routing(d.routing()).await.0, StatusCode::OK);
    d.state.voice.warm_up(&[], true).await;

    // Monday 7 December 2026, 10:00 in Kolkata: the menu; 2 reaches support, which greets.
    d.at(Utc.with_ymd_and_hms(2026, 12, 7, 4, 30, 0).unwrap());
    let (report, said, call) = d.call(vec![Step::Dtmf("2".into())]).await;
    assert!(report.greeting_audio_ms > 1000.0, "the menu was heard: {report:?}");
    assert!(report.turns[0].reply_audio_ms > 1000.0, "support's greeting was heard: {report:?}");
    assert_eq!(
        said,
        [turn("agent", "greeting", MENU), turn("caller", "dtmf", "2"), turn("agent", "greeting", "Support desk, how can I help?")]
    );
    assert_eq!((call.route.as_deref(), call.agent_id.as_deref()), (Some("open/menu:2/agent"), Some(d.agents[1].as_str())));
    // Call Logs name the agent that answered, and the route.
    let listed = server::calls::list(&d.state, &d.owner, &Default::default()).await.unwrap();
    let logged = listed.calls.iter().find(|c| c.id == call.id).unwrap();
    assert_eq!((logged.agent_name.as_deref(), logged.route.as_deref()), (Some("Support"), Some("open/menu:2/agent")));

    // No key: the menu once more, then the default (sales).
    let (_, said, call) = d.call(vec![Step::Silence(Duration::from_secs(10))]).await;
    assert_eq!(
        said,
        [turn("agent", "greeting", MENU), turn("agent", "greeting", MENU), turn("agent", "greeting", "Sales here, what can I sell you?")]
    );
    assert_eq!((call.route.as_deref(), call.agent_id.as_deref()), (Some("open/menu:1/agent"), Some(d.agents[0].as_str())));

    // A key with no option counts as a try: the menu again, then 2.
    let (_, said, _) = d.call(vec![Step::Dtmf("7".into()), Step::Dtmf("2".into())]).await;
    let kinds: Vec<&str> = said.iter().map(|t| t.2.as_str()).collect();
    assert_eq!(kinds, [MENU, "7", MENU, "2", "Support desk, how can I help?"]);

    // 3 is a message: said, then the call ends from our side.
    let (report, said, call) = d.call(vec![Step::Dtmf("3".into()), Step::Silence(Duration::from_secs(2))]).await;
    assert_eq!(said, [turn("agent", "greeting", MENU), turn("caller", "dtmf", "3"), turn("agent", "greeting", ADDRESS)]);
    assert_eq!(report.closed_by_server.as_ref().map(|c| c.0), Some(1000), "{report:?}");
    assert_eq!((call.route.as_deref(), call.agent_id.as_deref()), (Some("open/menu:3/message"), None));

    // 0 is a person: the transfer line, then the call goes on in Exotel's flow to them.
    let (report, said, call) = d.call(vec![Step::Dtmf("0".into())]).await;
    let line = AgentInput::default().transfer_line;
    assert_eq!(said, [turn("agent", "greeting", MENU), turn("caller", "dtmf", "0"), turn("agent", "transfer", &line)]);
    assert_eq!(report.closed_by_server.as_ref().map(|c| c.0), Some(1000), "{report:?}");
    assert_eq!((call.route.as_deref(), call.outcome), (Some("open/menu:0/person"), Some(domain::outbound::CallOutcome::Transferred)));
    let connect = d.number.webhook_url.replace("/api/telephony/webhook/", "/api/telephony/exotel/connect/");
    let answer: Value = reqwest::get(format!("{connect}&CallSid={}", report.call_sid)).await.unwrap().json().await.unwrap();
    assert_eq!(answer["destination"]["numbers"], json!(["+919876500000"]), "{answer}");

    // Monday 17:00 in Kolkata: closed, the night agent answers at once.
    d.at(Utc.with_ymd_and_hms(2026, 12, 7, 11, 30, 0).unwrap());
    let (_, said, call) = d.call(vec![]).await;
    assert_eq!(said, [turn("agent", "greeting", "Night line, how can I help?")]);
    assert_eq!((call.route.as_deref(), call.agent_id.as_deref()), (Some("closed/agent"), Some(d.agents[2].as_str())));

    // Christmas, within the weekday hours, closed says a message and hangs up.
    let mut holiday = d.routing();
    holiday["closed"] = json!({ "type": "message", "text": CLOSED });
    assert_eq!(d.put_routing(holiday).await.0, StatusCode::OK);
    d.at(Utc.with_ymd_and_hms(2026, 12, 25, 5, 0, 0).unwrap());
    let (report, said, call) = d.call(vec![Step::Silence(Duration::from_secs(6))]).await;
    assert_eq!(said, [turn("agent", "greeting", CLOSED)]);
    assert_eq!(report.closed_by_server.as_ref().map(|c| c.0), Some(1000), "{report:?}");
    assert_eq!((call.route.as_deref(), call.agent_id.as_deref()), (Some("holiday/message"), None));
    assert_eq!(call.reason.as_deref(), Some("agent ended the call"));
}
