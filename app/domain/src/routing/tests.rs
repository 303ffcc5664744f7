use super::*;

fn rule(days: &[&str], from: &str, to: &str) -> HoursRule {
    HoursRule { days: days.iter().map(|d| d.to_string()).collect(), from: from.into(), to: to.into() }
}

fn agent(id: &str) -> Target {
    Target::Agent { agent_id: id.into() }
}

fn routing() -> Routing {
    Routing {
        timezone: "Asia/Kolkata".into(),
        hours: vec![rule(&["mon", "tue", "wed", "thu", "fri"], "09:00", "17:30")],
        holidays: vec![Holiday { date: "2026-12-25".into(), name: "Christmas".into() }],
        open: Target::Menu,
        closed: Target::Message { text: "We are closed.".into() },
        menu: Some(Menu {
            prompt: "Press 1 for sales, 2 for support.".into(),
            options: vec![MenuOption { digit: "1".into(), target: agent("a") }, MenuOption { digit: "2".into(), target: agent("b") }],
            timeout_secs: 5,
            repeats: 2,
            default_digit: Some("1".into()),
        }),
    }
}

fn fields(r: &Routing) -> Vec<String> {
    r.check().into_iter().map(|e| e.field).collect()
}

/// 2026-12-07 is a Monday.
fn at(day: u32, weekday: usize, hh: u32, mm: u32) -> LocalTime {
    LocalTime { date: (2026, 12, day), weekday, minute: hh * 60 + mm }
}

#[test]
fn a_complete_routing_passes_and_round_trips_as_json() {
    let r = routing();
    assert_eq!(r.check(), vec![]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["open"], serde_json::json!({ "type": "menu" }));
    assert_eq!(json["menu"]["options"][1]["target"], serde_json::json!({ "type": "agent", "agentId": "b" }));
    assert_eq!(serde_json::from_value::<Routing>(json).unwrap(), r);
    let sparse: Routing = serde_json::from_value(serde_json::json!({
        "timezone": "UTC", "open": { "type": "agent", "agentId": "a" }, "closed": { "type": "message", "text": "Bye" },
        "menu": { "prompt": "Hi", "options": [{ "digit": "1", "target": { "type": "agent", "agentId": "a" } }] }
    }))
    .unwrap();
    let menu = sparse.menu.unwrap();
    assert_eq!((menu.timeout_secs, menu.repeats, menu.default_digit), (5, 2, None));
}

#[test]
fn each_problem_names_its_field() {
    let mut r = routing();
    r.timezone = " ".into();
    r.hours.push(rule(&[], "9:00", "09:00"));
    r.hours.push(rule(&["mon", "mon"], "10:00", "10:00"));
    r.hours.push(rule(&["funday"], "25:00", "24:01"));
    r.holidays.push(Holiday { date: "2026-02-29".into(), name: String::new() });
    r.holidays.push(Holiday { date: "2026-12-25".into(), name: "x".repeat(61) });
    let m = r.menu.as_mut().unwrap();
    m.options.push(MenuOption { digit: "1".into(), target: Target::Menu });
    m.options.push(MenuOption { digit: "12".into(), target: Target::Message { text: " ".into() } });
    m.options.push(MenuOption { digit: "#".into(), target: agent(" ") });
    m.timeout_secs = 0;
    m.repeats = 6;
    m.default_digit = Some("9".into());
    assert_eq!(
        fields(&r),
        [
            "routing.timezone",
            "routing.hours.1.days",
            "routing.hours.1.from",
            "routing.hours.2.days",
            "routing.hours.2.to",
            "routing.hours.3.days",
            "routing.hours.3.from",
            "routing.hours.3.to",
            "routing.holidays.1.date",
            "routing.holidays.2.date",
            "routing.holidays.2.name",
            "routing.menu.options.2.digit",
            "routing.menu.options.2.target.type",
            "routing.menu.options.3.digit",
            "routing.menu.options.3.target.text",
            "routing.menu.options.4.target.agentId",
            "routing.menu.timeoutSecs",
            "routing.menu.repeats",
            "routing.menu.defaultDigit",
        ]
    );
}

#[test]
fn sizes_are_bounded_and_a_menu_target_needs_a_menu() {
    let mut r = routing();
    r.hours = vec![rule(&["mon"], "09:00", "10:00"); MAX_HOUR_RULES + 1];
    r.holidays = (0..=MAX_HOLIDAYS).map(|i| Holiday { date: format!("2027-01-{:02}", i % 28 + 1), name: String::new() }).collect();
    r.menu.as_mut().unwrap().options = (0..=MAX_OPTIONS).map(|i| MenuOption { digit: format!("{}", i % 10), target: agent("a") }).collect();
    let f = fields(&r);
    for field in ["routing.hours", "routing.holidays", "routing.menu.options"] {
        assert!(f.contains(&field.to_string()), "{field}: {f:?}");
    }
    let mut r = routing();
    r.menu = None;
    assert_eq!(fields(&r), ["routing.open.type"]);
}

#[test]
fn the_agents_named_are_listed_with_their_fields() {
    let mut r = routing();
    r.closed = agent(" c ");
    let found = r.agents();
    assert_eq!(
        found,
        [
            ("routing.closed.agentId".to_string(), "c".to_string()),
            ("routing.menu.options.0.target.agentId".into(), "a".into()),
            ("routing.menu.options.1.target.agentId".into(), "b".into()),
        ]
    );
}

#[test]
fn hours_are_open_from_their_start_until_just_before_their_end() {
    let r = routing();
    assert_eq!(opening(&r, &at(7, 0, 8, 59)), Opening::Closed);
    assert_eq!(opening(&r, &at(7, 0, 9, 0)), Opening::Open);
    assert_eq!(opening(&r, &at(7, 0, 17, 29)), Opening::Open);
    assert_eq!(opening(&r, &at(7, 0, 17, 30)), Opening::Closed);
    // Saturday.
    assert_eq!(opening(&r, &at(12, 5, 12, 0)), Opening::Closed);
}

#[test]
fn a_holiday_closes_its_whole_date() {
    let r = routing();
    // Friday 25 December, within the weekday hours.
    assert_eq!(opening(&r, &at(25, 4, 12, 0)), Opening::Holiday("Christmas".into()));
    assert_eq!(opening(&r, &at(24, 3, 12, 0)), Opening::Open);
    let mut always = routing();
    always.hours.clear();
    assert_eq!(opening(&always, &at(12, 5, 3, 0)), Opening::Open, "no hours: open around the clock");
    assert_eq!(opening(&always, &at(25, 4, 3, 0)).as_str(), "holiday");
}

#[test]
fn overnight_hours_run_into_the_next_day() {
    let mut r = routing();
    r.hours = vec![rule(&["fri"], "22:00", "06:00"), rule(&["sun"], "00:00", "24:00")];
    assert_eq!(opening(&r, &at(11, 4, 21, 59)), Opening::Closed);
    assert_eq!(opening(&r, &at(11, 4, 22, 0)), Opening::Open);
    assert_eq!(opening(&r, &at(12, 5, 5, 59)), Opening::Open, "Saturday morning belongs to Friday's rule");
    assert_eq!(opening(&r, &at(12, 5, 6, 0)), Opening::Closed);
    assert_eq!(opening(&r, &at(13, 6, 23, 59)), Opening::Open, "24:00 ends at midnight");
    assert_eq!(opening(&r, &at(14, 0, 0, 0)), Opening::Closed);
    // Thursday night is not Friday's.
    assert_eq!(opening(&r, &at(11, 4, 5, 0)), Opening::Closed);
}

#[test]
fn dates_must_exist() {
    assert_eq!(parse_date("2028-02-29"), Some((2028, 2, 29)));
    for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-04-31", "2026-01-01-1", ""] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    assert_eq!(parse_to("24:00"), Some(1440));
    assert_eq!(parse_to("24:01"), None);
}
