//! A length of time as Task Scheduler, Group Policy Preferences and the runbook need it. Every
//! spelling is rendered here: ISO 8601 for Task XML (`PT10M`, the `xs:duration` of the Task
//! Scheduler schema), milliseconds and minutes for the legacy GPP task item, words for the
//! runbook. Parsing the ISO form (a Task XML read back from a server) gives the same type, so
//! `PT60M` and `PT1H` compare equal.

use serde::{Serialize, Serializer};

/// Whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    secs: u64,
}

impl Duration {
    pub const fn seconds(secs: u64) -> Duration {
        Duration { secs }
    }
    pub const fn minutes(minutes: u64) -> Duration {
        Duration { secs: minutes * 60 }
    }
    pub const fn hours(hours: u64) -> Duration {
        Duration { secs: hours * 3600 }
    }

    pub fn as_secs(self) -> u64 {
        self.secs
    }

    /// Whole minutes, when the duration is a whole number of them.
    pub fn whole_minutes(self) -> Option<u64> {
        (self.secs % 60 == 0).then_some(self.secs / 60)
    }

    /// ISO 8601 as the bundle writes it: whole minutes as `PT{n}M` (Task Scheduler's own UI
    /// writes a repetition of 5 minutes as `PT5M`), anything else in seconds (`PT90S`).
    pub fn iso8601(self) -> String {
        match self.whole_minutes() {
            Some(m) if m > 0 => format!("PT{m}M"),
            _ => format!("PT{}S", self.secs),
        }
    }

    /// A simple ISO 8601 duration (`P1D`, `PT10M`, `PT1H30M`, `PT45S`, `P1W`): what Task XML and
    /// GPP hold. Years and months (no fixed length) are refused, as is `PT` without a number.
    pub fn parse_iso8601(s: &str) -> Option<Duration> {
        let rest = s.trim().strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut secs = sum_units(date, &[('D', 86_400), ('W', 604_800)])?;
        if let Some(t) = time {
            if t.is_empty() {
                return None;
            }
            secs = secs.checked_add(sum_units(t, &[('H', 3600), ('M', 60), ('S', 1)])?)?;
        }
        Some(Duration { secs })
    }

    /// Words for the runbook: `5 minute(s)` for whole minutes, `90 second(s)` otherwise.
    pub fn words(self) -> String {
        match self.whole_minutes() {
            Some(m) => format!("{m} minute(s)"),
            None => format!("{} second(s)", self.secs),
        }
    }
}

/// `12H30M` with the given unit letters → seconds; `None` on anything else.
fn sum_units(part: &str, units: &[(char, u64)]) -> Option<u64> {
    let mut total = 0u64;
    let mut num = String::new();
    for c in part.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mul = units.iter().find(|(u, _)| *u == c)?.1;
        total = total.checked_add(num.parse::<u64>().ok()?.checked_mul(mul)?)?;
        num.clear();
    }
    num.is_empty().then_some(total)
}

/// Templates see the ISO 8601 form (Task XML).
impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.iso8601())
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn iso8601_both_ways() {
        assert_eq!(Duration::minutes(10).iso8601(), "PT10M");
        assert_eq!(Duration::minutes(60).iso8601(), "PT60M");
        assert_eq!(Duration::seconds(90).iso8601(), "PT90S");
        assert_eq!(
            Duration::parse_iso8601("PT10M"),
            Some(Duration::minutes(10))
        );
        assert_eq!(
            Duration::parse_iso8601("PT1H30M"),
            Some(Duration::minutes(90))
        );
        assert_eq!(Duration::parse_iso8601("PT72H"), Some(Duration::hours(72)));
        assert_eq!(Duration::parse_iso8601("P1D"), Some(Duration::hours(24)));
        assert_eq!(
            Duration::parse_iso8601("PT1H"),
            Duration::parse_iso8601("PT60M")
        );
        for bad in ["PT", "P1Y", "PT5X", "10M", "PT5", ""] {
            assert_eq!(Duration::parse_iso8601(bad), None, "{bad}");
        }
    }
}
