use chrono::TimeZone;
use domain::routing::{Holiday, HoursRule};

use super::*;

fn routing(tz: &str) -> Routing {
    Routing {
        timezone: tz.into(),
        hours: vec![HoursRule {
            days: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect(),
            from: "09:00".into(),
            to: "17:00".into(),
        }],
        holidays: vec![Holiday { date: "2026-12-25".into(), name: "Christmas".into() }],
        open: Target::Agent { agent_id: "day".into() },
        closed: Target::Message { text: "Closed".into() },
        menu: None,
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn opening(r: &Routing, now: DateTime<Utc>) -> Opening {
    decide(r, now).0
}

#[test]
fn hours_are_read_in_the_numbers_time_zone() {
    let r = routing("Asia/Kolkata");
    // Monday 7 December 2026: 03:29 UTC is 08:59 in India, 03:30 is 09:00.
    assert_eq!(opening(&r, utc(2026, 12, 7, 3, 29)), Opening::Closed);
    assert_eq!(opening(&r, utc(2026, 12, 7, 3, 30)), Opening::Open);
    assert_eq!(decide(&r, utc(2026, 12, 7, 3, 30)).1, &Target::Agent { agent_id: "day".into() });
    // 11:29 UTC is 16:59; 11:30 is 17:00, closed.
    assert_eq!(opening(&r, utc(2026, 12, 7, 11, 29)), Opening::Open);
    assert_eq!(decide(&r, utc(2026, 12, 7, 11, 30)).1, &Target::Message { text: "Closed".into() });
    // Sunday 6 December 22:00 UTC is already Monday 03:30 in India: closed, but Monday.
    assert_eq!(local_time(chrono_tz::Asia::Kolkata, utc(2026, 12, 6, 22, 0)).weekday, 0);
}

#[test]
fn daylight_saving_moves_the_utc_hours_with_the_wall_clock() {
    let r = routing("America/New_York");
    // Friday 6 March 2026 (EST, UTC-5): 13:30 UTC is 08:30, closed; 14:00 UTC is 09:00.
    assert_eq!(opening(&r, utc(2026, 3, 6, 13, 30)), Opening::Closed);
    assert_eq!(opening(&r, utc(2026, 3, 6, 14, 0)), Opening::Open);
    // Monday 9 March 2026 (EDT since Sunday, UTC-4): 13:30 UTC is 09:30, open; 21:00 UTC is 17:00.
    assert_eq!(opening(&r, utc(2026, 3, 9, 13, 30)), Opening::Open);
    assert_eq!(opening(&r, utc(2026, 3, 9, 20, 59)), Opening::Open);
    assert_eq!(opening(&r, utc(2026, 3, 9, 21, 0)), Opening::Closed);
}

#[test]
fn a_holiday_is_the_local_date_not_the_utc_one() {
    let r = routing("Pacific/Auckland");
    // 24 December 20:00 UTC is already Friday 25 December 09:00 in Auckland (UTC+13).
    assert_eq!(opening(&r, utc(2026, 12, 24, 20, 0)), Opening::Holiday("Christmas".into()));
    // 23 December 20:00 UTC is Thursday 24 December 09:00 there: open.
    assert_eq!(opening(&r, utc(2026, 12, 23, 20, 0)), Opening::Open);
}
