//! Business days in Europe/Paris: weekends and French public holidays excluded. Used for the
//! first-response SLA of referrals.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// French public holidays of `year` (metropolitan France).
pub fn french_holidays(year: i32) -> Vec<NaiveDate> {
    let easter = easter_sunday(year);
    let fixed = [
        (1, 1),
        (5, 1),
        (5, 8),
        (7, 14),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
    ];
    let mut days: Vec<NaiveDate> = fixed
        .iter()
        .filter_map(|(m, d)| NaiveDate::from_ymd_opt(year, *m, *d))
        .collect();
    days.extend([1, 39, 50].iter().map(|n| easter + Duration::days(*n)));
    days.sort();
    days
}

pub fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        && !french_holidays(date.year()).contains(&date)
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month, 31).unwrap_or_default();
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// Paris is UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of October
/// 01:00 UTC (the EU rule), UTC+1 otherwise.
pub fn paris_offset_hours(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let one = NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default();
    let start = last_sunday(year, 3).and_time(one);
    let end = last_sunday(year, 10).and_time(one);
    if utc >= start && utc < end { 2 } else { 1 }
}

pub fn to_paris(utc: NaiveDateTime) -> NaiveDateTime {
    utc + Duration::hours(paris_offset_hours(utc))
}

/// For local times that are never ambiguous (such as 18:00).
pub fn paris_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    let guess = local - Duration::hours(1);
    local - Duration::hours(paris_offset_hours(guess))
}

/// The end (18:00 Paris time) of the `business_days`-th business day after the Paris date of
/// receipt, in UTC.
pub fn due_at(received_utc: NaiveDateTime, business_days: u32) -> NaiveDateTime {
    let mut date = to_paris(received_utc).date();
    let mut left = business_days.max(1);
    while left > 0 {
        date += Duration::days(1);
        if is_business_day(date) {
            left -= 1;
        }
    }
    paris_to_utc(date.and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn easter_moves_every_year() {
        assert_eq!(easter_sunday(2024), d(2024, 3, 31));
        assert_eq!(easter_sunday(2025), d(2025, 4, 20));
        assert_eq!(easter_sunday(2026), d(2026, 4, 5));
        assert_eq!(easter_sunday(2027), d(2027, 3, 28));
        assert_eq!(easter_sunday(2038), d(2038, 4, 25));
        let h = french_holidays(2026);
        for day in [
            d(2026, 4, 6),
            d(2026, 5, 14),
            d(2026, 5, 25),
            d(2026, 7, 14),
        ] {
            assert!(h.contains(&day), "{day}");
        }
        assert_eq!(h.len(), 11);
    }

    #[test]
    fn deadlines_skip_weekends_and_holidays_and_end_at_six_in_paris() {
        // Friday 2026-04-03 10:00 UTC, 1 business day: Monday is Easter Monday -> Tuesday.
        assert_eq!(due_at(t("2026-04-03 10:00"), 1), t("2026-04-07 16:00"));
        // Friday in winter, 1 business day -> Monday 18:00 CET = 17:00 UTC.
        assert_eq!(due_at(t("2026-11-27 10:00"), 1), t("2026-11-30 17:00"));
        // Sunday 23:30 UTC in summer is already Monday in Paris.
        assert_eq!(due_at(t("2026-06-07 23:30"), 1), t("2026-06-09 16:00"));
        // Across 14 July.
        assert_eq!(due_at(t("2026-07-13 09:00"), 1), t("2026-07-15 16:00"));
        // Across the October DST change: Friday 23 Oct, 1 day -> Monday 26 Oct 18:00 CET.
        assert_eq!(due_at(t("2026-10-23 09:00"), 1), t("2026-10-26 17:00"));
    }

    #[test]
    fn paris_offset_follows_the_eu_rule() {
        assert_eq!(paris_offset_hours(t("2026-03-29 00:59")), 1);
        assert_eq!(paris_offset_hours(t("2026-03-29 01:00")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25 00:59")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25 01:00")), 1);
    }

    proptest::proptest! {
        #[test]
        fn deadlines_are_business_days_after_receipt(minutes in 0i64..(20 * 365 * 24 * 60), days in 1u32..30) {
            let received = t("2020-01-01 00:00") + Duration::minutes(minutes);
            let due = due_at(received, days);
            let local = to_paris(due);
            proptest::prop_assert!(due > received);
            proptest::prop_assert!(is_business_day(local.date()));
            proptest::prop_assert_eq!(local.time(), NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default());
            proptest::prop_assert!(due_at(received, days + 1) > due);
            proptest::prop_assert!((due - received).num_days() <= i64::from(days) * 7 / 5 + 14);
        }
    }
}
