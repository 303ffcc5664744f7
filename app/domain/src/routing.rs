//! Call routing per phone number: business hours in the number's time zone with holidays, what
//! happens inside and outside them (an agent, a keypad menu, or a spoken message then hang-up),
//! and the menu itself. Shared by the dashboard's editor and the server; the time zone's name
//! is checked against the time zone database on the server (the browser does not carry it).
//!
//! No routing on a number keeps the plain behaviour: its linked agent answers every call.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::campaign::parse_hhmm;

pub mod decide;
#[cfg(test)]
mod tests;

pub use decide::{LocalTime, Opening, opening};

/// At most this many rules of weekly hours.
pub const MAX_HOUR_RULES: usize = 10;
/// At most this many holidays.
pub const MAX_HOLIDAYS: usize = 100;
/// At most this many menu options (one per key).
pub const MAX_OPTIONS: usize = 10;
/// Longest menu prompt or spoken message, in characters.
pub const MAX_SPOKEN: usize = 500;
/// The keys a menu option may use.
pub const DIGITS: &str = "0123456789*#";
/// Seconds to wait for a key: the bounds and the default.
pub const TIMEOUT_SECS: (u32, u32, u32) = (1, 30, 5);
/// Times the prompt is said again after no key or a wrong one: at most, and the default.
pub const REPEATS: (u32, u32) = (5, 2);
/// The days of a week, as rules name them (Monday first).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A number's routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Routing {
    /// The IANA time zone the hours and holidays are in (`Asia/Kolkata`).
    pub timezone: String,
    /// Weekly opening hours; none means open around the clock (holidays still close).
    #[serde(default)]
    pub hours: Vec<HoursRule>,
    /// Local dates that are closed all day.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// What a call inside opening hours gets.
    pub open: Target,
    /// What a call outside opening hours, or on a holiday, gets.
    pub closed: Target,
    /// The keypad menu a target of type `menu` plays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Menu>,
}

/// Opening hours on some days: `from` to `to` local time; `to` before `from` runs past midnight
/// into the next day (Fri 22:00–06:00 covers Saturday until 06:00). `24:00` ends at midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HoursRule {
    /// Days the hours start on: `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`.
    pub from: String,
    /// `HH:MM` (or `24:00`).
    pub to: String,
}

/// A closed day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Holiday {
    /// `YYYY-MM-DD`, local date.
    pub date: String,
    #[serde(default)]
    pub name: String,
}

/// Where a call goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Target {
    /// One of the user's agents answers.
    #[serde(rename_all = "camelCase")]
    Agent { agent_id: String },
    /// The number's keypad menu (a menu's own options cannot lead to a menu).
    Menu,
    /// A spoken message, then the call ends.
    Message { text: String },
    /// A person: the agent's transfer line, then the call is handed to `number` (international
    /// format) like an agent's transfer.
    Person { number: String },
}

/// A keypad menu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Menu {
    /// Said to the caller (“Press 1 for sales, 2 for support.”).
    pub prompt: String,
    pub options: Vec<MenuOption>,
    /// Seconds to wait for a key after the prompt.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u32,
    /// Times the prompt is said again after no key or a key with no option.
    #[serde(default = "default_repeats")]
    pub repeats: u32,
    /// The option taken when the repeats run out; none ends the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_digit: Option<String>,
}

fn default_timeout() -> u32 {
    TIMEOUT_SECS.2
}

fn default_repeats() -> u32 {
    REPEATS.1
}

/// One key of a menu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MenuOption {
    pub digit: String,
    pub target: Target,
}

impl Menu {
    /// The option of `digit`, if any.
    pub fn option(&self, digit: &str) -> Option<&MenuOption> {
        self.options.iter().find(|o| o.digit == digit)
    }
}

impl Routing {
    /// Every agent the routing names, with the field that names it.
    pub fn agents(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut add = |field: String, t: &Target| {
            if let Target::Agent { agent_id } = t {
                found.push((format!("{field}.agentId"), agent_id.trim().to_string()));
            }
        };
        add("routing.open".into(), &self.open);
        add("routing.closed".into(), &self.closed);
        for (i, o) in self.menu.iter().flat_map(|m| m.options.iter()).enumerate() {
            add(format!("routing.menu.options.{i}.target"), &o.target);
        }
        found
    }

    /// The problems of every field, named from `routing.` on (the time zone's name is checked
    /// on the server).
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let tz = self.timezone.trim();
        if tz.is_empty() || tz.len() > 64 {
            e.push(FieldError::new("routing.timezone", "Choose the number's time zone, e.g. Asia/Kolkata."));
        }
        if self.hours.len() > MAX_HOUR_RULES {
            e.push(FieldError::new("routing.hours", format!("Use at most {MAX_HOUR_RULES} rules of hours.")));
        }
        for (i, r) in self.hours.iter().enumerate().take(MAX_HOUR_RULES) {
            check_rule(&mut e, &format!("routing.hours.{i}"), r);
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            e.push(FieldError::new("routing.holidays", format!("Use at most {MAX_HOLIDAYS} holidays.")));
        }
        for (i, h) in self.holidays.iter().enumerate().take(MAX_HOLIDAYS) {
            let field = format!("routing.holidays.{i}");
            if parse_date(&h.date).is_none() {
                e.push(FieldError::new(&format!("{field}.date"), "Write the date as YYYY-MM-DD, e.g. 2026-12-25."));
            } else if self.holidays[..i].iter().any(|o| o.date.trim() == h.date.trim()) {
                e.push(FieldError::new(&format!("{field}.date"), "This date is already a holiday."));
            }
            if h.name.trim().chars().count() > 60 {
                e.push(FieldError::new(&format!("{field}.name"), "Use at most 60 characters."));
            }
        }
        check_target(&mut e, "routing.open", &self.open, self.menu.is_some(), true);
        check_target(&mut e, "routing.closed", &self.closed, self.menu.is_some(), true);
        if let Some(m) = &self.menu {
            check_menu(&mut e, m);
        }
        e
    }
}

fn check_rule(e: &mut Vec<FieldError>, field: &str, r: &HoursRule) {
    if r.days.is_empty() {
        e.push(FieldError::new(&format!("{field}.days"), "Choose at least one day."));
    } else if r.days.iter().any(|d| !DAYS.contains(&d.as_str())) {
        e.push(FieldError::new(&format!("{field}.days"), "Name days as mon, tue, wed, thu, fri, sat, sun."));
    } else if r.days.iter().enumerate().any(|(i, d)| r.days[..i].contains(d)) {
        e.push(FieldError::new(&format!("{field}.days"), "Name each day once."));
    }
    let from = parse_hhmm(&r.from);
    let to = parse_to(&r.to);
    if from.is_none() {
        e.push(FieldError::new(&format!("{field}.from"), "Write the time as HH:MM, e.g. 09:00."));
    }
    if to.is_none() {
        e.push(FieldError::new(&format!("{field}.to"), "Write the time as HH:MM, e.g. 17:30 (24:00 for midnight)."));
    }
    if from.is_some() && from == to {
        e.push(FieldError::new(&format!("{field}.to"), "Opening hours must not start and end at the same time."));
    }
}

fn check_target(e: &mut Vec<FieldError>, field: &str, t: &Target, has_menu: bool, menu_allowed: bool) {
    match t {
        Target::Agent { agent_id } if agent_id.trim().is_empty() => {
            e.push(FieldError::new(&format!("{field}.agentId"), "Choose one of your agents."));
        }
        Target::Agent { .. } => {}
        Target::Menu if !menu_allowed => {
            e.push(FieldError::new(&format!("{field}.type"), "A menu option leads to an agent or a message, not another menu."));
        }
        Target::Menu if !has_menu => e.push(FieldError::new(&format!("{field}.type"), "Set up the menu first, or choose an agent.")),
        Target::Menu => {}
        Target::Message { text } => crate::check_len(e, &format!("{field}.text"), text, 1, MAX_SPOKEN, "the message to say"),
        Target::Person { number } if crate::phone_number::normalize_e164(number).is_err() => {
            e.push(FieldError::new(&format!("{field}.number"), "Enter the person's number in international format, e.g. +14155550100."));
        }
        Target::Person { .. } => {}
    }
}

fn check_menu(e: &mut Vec<FieldError>, m: &Menu) {
    crate::check_len(e, "routing.menu.prompt", &m.prompt, 1, MAX_SPOKEN, "what the menu says");
    if m.options.is_empty() || m.options.len() > MAX_OPTIONS {
        e.push(FieldError::new("routing.menu.options", format!("Give 1 to {MAX_OPTIONS} options.")));
    }
    for (i, o) in m.options.iter().enumerate().take(MAX_OPTIONS) {
        let field = format!("routing.menu.options.{i}");
        if o.digit.chars().count() != 1 || !DIGITS.contains(o.digit.as_str()) {
            e.push(FieldError::new(&format!("{field}.digit"), "Use one key: 0–9, * or #."));
        } else if m.options[..i].iter().any(|p| p.digit == o.digit) {
            e.push(FieldError::new(&format!("{field}.digit"), "Each key leads to one option."));
        }
        check_target(e, &format!("{field}.target"), &o.target, true, false);
    }
    let (min, max, _) = TIMEOUT_SECS;
    if !(min..=max).contains(&m.timeout_secs) {
        e.push(FieldError::new("routing.menu.timeoutSecs", format!("Wait {min} to {max} seconds for a key.")));
    }
    if m.repeats > REPEATS.0 {
        e.push(FieldError::new("routing.menu.repeats", format!("Repeat the menu at most {} times.", REPEATS.0)));
    }
    if let Some(d) = &m.default_digit
        && m.option(d).is_none()
    {
        e.push(FieldError::new("routing.menu.defaultDigit", "Choose the key of one of the options, or none."));
    }
}

/// Minutes after midnight of an end time: `HH:MM`, or `24:00` (the end of the day).
pub fn parse_to(s: &str) -> Option<u32> {
    if s.trim() == "24:00" { Some(24 * 60) } else { parse_hhmm(s) }
}

/// (year, month, day) of a `YYYY-MM-DD` date that exists.
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let s = s.trim();
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}
