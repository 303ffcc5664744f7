//! Whether a number is open at a local time: pure (the server turns the call's instant into the
//! number's local time, so daylight saving is its concern, not this one's).

use super::{DAYS, Routing, parse_date, parse_to};
use crate::campaign::parse_hhmm;

/// A moment as the number's time zone shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// (year, month, day).
    pub date: (i32, u32, u32),
    /// 0 = Monday … 6 = Sunday.
    pub weekday: usize,
    /// Minutes after midnight.
    pub minute: u32,
}

/// What the hours say about a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    Open,
    /// Outside the weekly hours.
    Closed,
    /// A holiday (its name, possibly empty).
    Holiday(String),
}

impl Opening {
    /// The word stored in a call's route note.
    pub fn as_str(&self) -> &'static str {
        match self {
            Opening::Open => "open",
            Opening::Closed => "closed",
            Opening::Holiday(_) => "holiday",
        }
    }
}

/// Whether `r` is open at `t`: a holiday closes its whole date; no hours means always open; a
/// rule whose end is before its start runs into the next day.
pub fn opening(r: &Routing, t: &LocalTime) -> Opening {
    if let Some(h) = r.holidays.iter().find(|h| parse_date(&h.date) == Some(t.date)) {
        return Opening::Holiday(h.name.trim().to_string());
    }
    if r.hours.is_empty() {
        return Opening::Open;
    }
    let today = DAYS[t.weekday % 7];
    let yesterday = DAYS[(t.weekday + 6) % 7];
    let open = r.hours.iter().any(|rule| {
        let (Some(from), Some(to)) = (parse_hhmm(&rule.from), parse_to(&rule.to)) else { return false };
        let on = |day: &str| rule.days.iter().any(|d| d == day);
        if from < to {
            on(today) && (from..to).contains(&t.minute)
        } else {
            (on(today) && t.minute >= from) || (on(yesterday) && t.minute < to)
        }
    });
    if open { Opening::Open } else { Opening::Closed }
}
