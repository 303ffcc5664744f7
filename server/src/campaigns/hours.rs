//! Calling hours: whether a contact may be called now, in their time zone: the contact's own
//! (`timezone` column), else their number's country when it has a single zone, else the
//! campaign's. Pure: the time is an input.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Countries with one time zone, by ISO code (the ones whose numbers we meet most).
const SINGLE_ZONE: &[(&str, Tz)] = &[
    ("IN", chrono_tz::Asia::Kolkata),
    ("GB", chrono_tz::Europe::London),
    ("IE", chrono_tz::Europe::Dublin),
    ("DE", chrono_tz::Europe::Berlin),
    ("FR", chrono_tz::Europe::Paris),
    ("ES", chrono_tz::Europe::Madrid),
    ("IT", chrono_tz::Europe::Rome),
    ("NL", chrono_tz::Europe::Amsterdam),
    ("SG", chrono_tz::Asia::Singapore),
    ("AE", chrono_tz::Asia::Dubai),
    ("SA", chrono_tz::Asia::Riyadh),
    ("JP", chrono_tz::Asia::Tokyo),
    ("PH", chrono_tz::Asia::Manila),
    ("NG", chrono_tz::Africa::Lagos),
    ("ZA", chrono_tz::Africa::Johannesburg),
    ("KE", chrono_tz::Africa::Nairobi),
];

/// The time zone a contact is called in.
pub fn zone_of(contact_tz: Option<&str>, phone: &str, campaign_tz: Tz) -> Tz {
    if let Some(tz) = contact_tz.and_then(|t| t.parse::<Tz>().ok()) {
        return tz;
    }
    let country = phonenumber::parse(None, phone).ok().and_then(|n| n.country().id()).map(|c| c.as_ref().to_string());
    country.and_then(|c| SINGLE_ZONE.iter().find(|(code, _)| *code == c).map(|(_, tz)| *tz)).unwrap_or(campaign_tz)
}

/// Calling hours as minutes after midnight; `from > to` spans midnight (22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: u32,
    pub to: u32,
}

impl Window {
    fn contains(&self, minute: u32) -> bool {
        if self.from < self.to { (self.from..self.to).contains(&minute) } else { minute >= self.from || minute < self.to }
    }
}

/// `None` when `now` is inside `window` in zone `tz` (call now); else the next opening (UTC).
pub fn next_opening(window: Option<Window>, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = window?;
    let local = now.with_timezone(&tz);
    let minute = local.hour() * 60 + local.minute();
    if window.contains(minute) {
        return None;
    }
    let opens = NaiveTime::from_hms_opt(window.from / 60, window.from % 60, 0)?;
    let today = local.date_naive();
    // Today's opening if still ahead, else tomorrow's; a gap in local time (DST) takes the next valid instant.
    [today, today + Duration::days(1), today + Duration::days(2)]
        .into_iter()
        .filter_map(|d| tz.from_local_datetime(&d.and_time(opens)).earliest())
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_contacts_zone_comes_from_them_their_country_or_the_campaign() {
        let utc = chrono_tz::UTC;
        assert_eq!(zone_of(Some("America/Chicago"), "+919876543210", utc), chrono_tz::America::Chicago);
        assert_eq!(zone_of(None, "+919876543210", utc), chrono_tz::Asia::Kolkata);
        assert_eq!(zone_of(Some("nowhere"), "+442079460958", utc), chrono_tz::Europe::London);
        assert_eq!(zone_of(None, "+14155552671", chrono_tz::America::New_York), chrono_tz::America::New_York, "the US has many zones");
    }

    #[test]
    fn inside_hours_calls_now_outside_waits_for_the_next_opening() {
        let w = Some(Window { from: 9 * 60, to: 18 * 60 });
        let kolkata = chrono_tz::Asia::Kolkata;
        // 10:00 IST is 04:30 UTC.
        assert_eq!(next_opening(w, kolkata, at("2026-12-03T04:30:00Z")), None);
        // 20:00 IST: tomorrow 09:00 IST = 03:30 UTC.
        assert_eq!(next_opening(w, kolkata, at("2026-12-03T14:30:00Z")), Some(at("2026-12-04T03:30:00Z")));
        // 07:00 IST: today 09:00 IST.
        assert_eq!(next_opening(w, kolkata, at("2026-12-03T01:30:00Z")), Some(at("2026-12-03T03:30:00Z")));
        assert_eq!(next_opening(None, kolkata, at("2026-12-03T14:30:00Z")), None, "no hours: any time");
    }

    #[test]
    fn hours_may_span_midnight() {
        let night = Some(Window { from: 22 * 60, to: 6 * 60 });
        let utc = chrono_tz::UTC;
        assert_eq!(next_opening(night, utc, at("2026-12-03T23:00:00Z")), None);
        assert_eq!(next_opening(night, utc, at("2026-12-03T05:59:00Z")), None);
        assert_eq!(next_opening(night, utc, at("2026-12-03T12:00:00Z")), Some(at("2026-12-03T22:00:00Z")));
    }
}
