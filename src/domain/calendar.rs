//! Business days in Europe/Paris, weekends and French public holidays (metropolitan France)
//! excluded. Used for the first-response SLA of referrals.
//!
//! Everything here is pure: no I/O, no time-zone database. The Paris offset follows the EU
//! rule (CET = UTC+1, CEST = UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday
//! of October 01:00 UTC). Every function is total: dates at the edge of chrono's range
//! saturate instead of panicking.

use chrono::{Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Paris local time at which a business day ends, and so at which every deadline falls.
const END_OF_DAY_HOUR: u32 = 18;

/// Easter Sunday of `year`, or `None` when chrono cannot represent it.
fn easter_opt(year: i32) -> Option<NaiveDate> {
    // Anonymous Gregorian algorithm (Meeus/Jones/Butcher), with Euclidean division so that it
    // also holds for the proleptic calendar before year 0.
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    let month = u32::try_from(n / 31).ok()?;
    let day = u32::try_from(n % 31 + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Easter Sunday of `year` (anonymous Gregorian algorithm). Years that chrono cannot
/// represent saturate to `NaiveDate::MIN` / `NaiveDate::MAX`.
pub fn easter_sunday(year: i32) -> NaiveDate {
    easter_opt(year).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// French public holidays of `year` (metropolitan France): 1 Jan, Easter Monday, 1 May, 8 May,
/// Ascension (Easter + 39), Whit Monday (Easter + 50), 14 Jul, 15 Aug, 1 Nov, 11 Nov, 25 Dec.
///
/// Sorted and without duplicates: when Ascension falls on 1 May or 8 May (as in 2008) the year
/// has 10 distinct holidays, otherwise 11. Days chrono cannot represent are left out.
pub fn french_holidays(year: i32) -> Vec<NaiveDate> {
    const FIXED: [(u32, u32); 8] = [
        (1, 1),
        (5, 1),
        (5, 8),
        (7, 14),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
    ];
    let mut days: Vec<NaiveDate> = FIXED
        .iter()
        .filter_map(|&(month, day)| NaiveDate::from_ymd_opt(year, month, day))
        .collect();
    if let Some(easter) = easter_opt(year) {
        days.extend(
            [1, 39, 50]
                .into_iter()
                .filter_map(|n| easter.checked_add_days(Days::new(n))),
        );
    }
    days.sort_unstable();
    days.dedup();
    days
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday to Friday and not a French public holiday.
pub fn is_business_day(date: NaiveDate) -> bool {
    BusinessDays::default().contains(date)
}

/// `is_business_day` with the holidays of the last year looked at kept, for day-by-day walks.
#[derive(Default)]
struct BusinessDays {
    holidays: Option<(i32, Vec<NaiveDate>)>,
}

impl BusinessDays {
    fn contains(&mut self, date: NaiveDate) -> bool {
        if is_weekend(date) {
            return false;
        }
        let year = date.year();
        let holidays = match &mut self.holidays {
            Some((cached, days)) if *cached == year => days,
            slot => &mut slot.insert((year, french_holidays(year))).1,
        };
        holidays.binary_search(&date).is_err()
    }
}

/// The last Sunday of `month` in `year`, at 01:00 (the time, in UTC, of the EU DST changes).
fn last_sunday_at_one(year: i32, month: u32) -> Option<NaiveDateTime> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = u64::from(last.weekday().num_days_from_sunday());
    let sunday = last.checked_sub_days(Days::new(back))?;
    Some(sunday.and_time(NaiveTime::from_hms_opt(1, 0, 0)?))
}

/// Offset in hours of Paris local time from UTC at the UTC instant `utc`: 2 (CEST) from the
/// last Sunday of March 01:00 UTC (inclusive) to the last Sunday of October 01:00 UTC
/// (exclusive), 1 (CET) otherwise.
pub fn paris_offset_hours(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    match (last_sunday_at_one(year, 3), last_sunday_at_one(year, 10)) {
        (Some(start), Some(end)) if start <= utc && utc < end => 2,
        _ => 1,
    }
}

fn add_hours_saturating(at: NaiveDateTime, hours: i64) -> NaiveDateTime {
    at.checked_add_signed(Duration::hours(hours))
        .unwrap_or(if hours < 0 {
            NaiveDateTime::MIN
        } else {
            NaiveDateTime::MAX
        })
}

/// Paris local time of the UTC instant `utc`.
pub fn to_paris(utc: NaiveDateTime) -> NaiveDateTime {
    add_hours_saturating(utc, paris_offset_hours(utc))
}

/// The UTC instant of the Paris local time `local`. Meant for times such as 18:00 that are
/// never ambiguous. For the others: a time repeated in October (02:00–02:59 on the last
/// Sunday) is read as the first one, in CEST; a time skipped in March (02:00–02:59 on the
/// last Sunday) is read with the CET offset, so it lands an hour later on the clock.
pub fn paris_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    let summer = add_hours_saturating(local, -2);
    if paris_offset_hours(summer) == 2 {
        summer
    } else {
        add_hours_saturating(local, -1)
    }
}

/// The first-response deadline of something received at `received_utc`: the end (18:00 Paris
/// time) of the `business_days`-th business day after the Paris date of receipt, in UTC.
///
/// A referral received on a Friday evening with 1 business day is due Monday 18:00 Paris, or
/// Tuesday if Monday is a holiday; one received on a Saturday or Sunday (Paris date) with 1
/// business day is due Monday 18:00 too. `business_days` of 0 is read as 1. Saturates to
/// `NaiveDateTime::MAX` past the end of chrono's range.
pub fn due_at(received_utc: NaiveDateTime, business_days: u32) -> NaiveDateTime {
    let mut date = to_paris(received_utc).date();
    let mut left = business_days.max(1);
    let mut calendar = BusinessDays::default();
    while left > 0 {
        let Some(next) = date.succ_opt() else {
            return NaiveDateTime::MAX;
        };
        date = next;
        if calendar.contains(date) {
            left -= 1;
        }
    }
    match NaiveTime::from_hms_opt(END_OF_DAY_HOUR, 0, 0) {
        Some(end_of_day) => paris_to_utc(date.and_time(end_of_day)),
        None => NaiveDateTime::MAX,
    }
}

/// Number of weekdays (Monday to Friday) up to and including `date`, counted from a fixed
/// origin: only differences between two values mean anything.
fn weekdays_through(date: NaiveDate) -> i64 {
    let from_monday = i64::from(date.weekday().num_days_from_monday());
    let monday = i64::from(date.num_days_from_ce()) - from_monday;
    monday.div_euclid(7) * 5 + (from_monday + 1).min(5)
}

/// The number of business days strictly after `from_utc`'s Paris date, up to and including
/// `to_utc`'s Paris date. 0 when `to_utc`'s Paris date is not after `from_utc`'s.
pub fn business_days_between(from_utc: NaiveDateTime, to_utc: NaiveDateTime) -> i64 {
    let from = to_paris(from_utc).date();
    let to = to_paris(to_utc).date();
    if to <= from {
        return 0;
    }
    let weekdays = weekdays_through(to) - weekdays_through(from);
    let holidays: i64 = (from.year()..=to.year())
        .map(|year| {
            let on_weekdays = french_holidays(year)
                .into_iter()
                .filter(|&day| from < day && day <= to && !is_weekend(day))
                .count();
            i64::try_from(on_weekdays).unwrap_or(0)
        })
        .sum();
    weekdays - holidays
}

/// Moves a deadline for a pause of the SLA clock from `paused_at` to `resumed_at` (UTC).
///
/// Rule: let `n = business_days_between(paused_at, resumed_at)`, the business days whose
/// Paris date is after the day the clock was paused, up to and including the day it resumed.
/// If `n` is 0 (a pause within one day, over a weekend or holidays only, or `resumed_at`
/// before `paused_at`) the deadline is unchanged. Otherwise the new deadline is
/// `due_at(due_utc, n)`: 18:00 Paris time on the `n`-th business day after the old
/// deadline's Paris date.
pub fn extend_for_pause(
    due_utc: NaiveDateTime,
    paused_at: NaiveDateTime,
    resumed_at: NaiveDateTime,
) -> NaiveDateTime {
    let covered = business_days_between(paused_at, resumed_at);
    if covered <= 0 {
        return due_utc;
    }
    due_at(due_utc, u32::try_from(covered).unwrap_or(u32::MAX))
}

/// Paris local time at which people start the business day: reminders are sent from then on.
const START_OF_DAY_HOUR: u32 = 9;

/// `utc` if it falls in Paris business hours (09:00 to 18:00 on a business day), otherwise the
/// next 09:00 Paris time of a business day: when a reminder to a person may be sent, never at
/// night, at a weekend or on a French public holiday.
pub fn business_hours_at_or_after(utc: NaiveDateTime) -> NaiveDateTime {
    let local = to_paris(utc);
    let (Some(start), Some(end)) = (
        NaiveTime::from_hms_opt(START_OF_DAY_HOUR, 0, 0),
        NaiveTime::from_hms_opt(END_OF_DAY_HOUR, 0, 0),
    ) else {
        return utc;
    };
    let mut calendar = BusinessDays::default();
    let mut date = local.date();
    if calendar.contains(date) {
        if local.time() < start {
            return paris_to_utc(date.and_time(start));
        }
        if local.time() < end {
            return utc;
        }
    }
    // The next business day's morning (a year holds far fewer than 400 days off in a row).
    for _ in 0..400 {
        let Some(next) = date.succ_opt() else {
            return NaiveDateTime::MAX;
        };
        date = next;
        if calendar.contains(date) {
            return paris_to_utc(date.and_time(start));
        }
    }
    utc
}

/// When to remind someone of a deadline `due_utc`: 09:00 Paris time on the deadline's Paris
/// date (deadlines fall at 18:00 on business days, so that is the morning of the day it is
/// due), or the deadline itself if that is earlier.
pub fn reminder_at(due_utc: NaiveDateTime) -> NaiveDateTime {
    match NaiveTime::from_hms_opt(START_OF_DAY_HOUR, 0, 0) {
        Some(start) => paris_to_utc(to_paris(due_utc).date().and_time(start)).min(due_utc),
        None => due_utc,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A UTC (or local, where said) date-time written "YYYY-MM-DD HH:MM".
    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn eighteen() -> NaiveTime {
        NaiveTime::from_hms_opt(18, 0, 0).unwrap()
    }

    #[test]
    fn easter_sunday_known_dates() {
        let table = [
            (2024, d(2024, 3, 31)),
            (2025, d(2025, 4, 20)),
            (2026, d(2026, 4, 5)),
            (2027, d(2027, 3, 28)),
            (2038, d(2038, 4, 25)),
            (2285, d(2285, 3, 22)),
            (1943, d(1943, 4, 25)),
        ];
        for (year, expected) in table {
            assert_eq!(easter_sunday(year), expected, "{year}");
            assert_eq!(easter_sunday(year).weekday(), Weekday::Sun, "{year}");
        }
    }

    #[test]
    fn holidays_2026_include_the_movable_feasts() {
        let h = french_holidays(2026);
        assert_eq!(h.len(), 11);
        for day in [
            d(2026, 1, 1),
            d(2026, 4, 6),
            d(2026, 5, 1),
            d(2026, 5, 8),
            d(2026, 5, 14),
            d(2026, 5, 25),
            d(2026, 7, 14),
            d(2026, 8, 15),
            d(2026, 11, 1),
            d(2026, 11, 11),
            d(2026, 12, 25),
        ] {
            assert!(h.contains(&day), "{day}");
        }
        assert!(h.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn holidays_have_no_duplicates_when_ascension_is_may_day() {
        // Easter 2008 was 23 March, so Ascension was Thursday 1 May.
        let h = french_holidays(2008);
        assert_eq!(h.len(), 10);
        assert!(h.contains(&d(2008, 5, 1)));
    }

    #[test]
    fn is_business_day_table() {
        let table = [
            (d(2026, 4, 3), true),   // Good Friday is not a holiday in metropolitan France
            (d(2026, 4, 4), false),  // Saturday
            (d(2026, 4, 5), false),  // Easter Sunday
            (d(2026, 4, 6), false),  // Easter Monday
            (d(2026, 4, 7), true),   // Tuesday
            (d(2026, 5, 14), false), // Ascension
            (d(2026, 5, 25), false), // Whit Monday
            (d(2026, 7, 14), false), // Bastille Day, a Tuesday
            (d(2026, 12, 24), true), // Christmas Eve
        ];
        for (date, expected) in table {
            assert_eq!(is_business_day(date), expected, "{date}");
        }
    }

    #[test]
    fn paris_offset_on_both_sides_of_the_2026_transitions() {
        assert_eq!(paris_offset_hours(t("2026-03-29 00:59")), 1);
        assert_eq!(paris_offset_hours(t("2026-03-29 01:00")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25 00:59")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25 01:00")), 1);
        assert_eq!(paris_offset_hours(t("2026-01-15 12:00")), 1);
        assert_eq!(paris_offset_hours(t("2026-07-15 12:00")), 2);
        assert_eq!(to_paris(t("2026-03-29 00:59")), t("2026-03-29 01:59"));
        assert_eq!(to_paris(t("2026-03-29 01:00")), t("2026-03-29 03:00"));
        assert_eq!(to_paris(t("2026-10-25 00:59")), t("2026-10-25 02:59"));
        assert_eq!(to_paris(t("2026-10-25 01:00")), t("2026-10-25 02:00"));
    }

    #[test]
    fn paris_to_utc_table() {
        assert_eq!(paris_to_utc(t("2026-01-15 18:00")), t("2026-01-15 17:00"));
        assert_eq!(paris_to_utc(t("2026-07-15 18:00")), t("2026-07-15 16:00"));
        // The changes happen at night: 18:00 on the day of a change has the new offset.
        assert_eq!(paris_to_utc(t("2026-03-29 18:00")), t("2026-03-29 16:00"));
        assert_eq!(paris_to_utc(t("2026-10-25 18:00")), t("2026-10-25 17:00"));
        // Repeated hour: the first (CEST) reading. Skipped hour: read as CET.
        assert_eq!(paris_to_utc(t("2026-10-25 02:30")), t("2026-10-25 00:30"));
        assert_eq!(paris_to_utc(t("2026-03-29 02:30")), t("2026-03-29 01:30"));
    }

    #[test]
    fn due_at_table() {
        let table = [
            // Across a weekend: Friday evening (21:00 Paris) -> Monday 18:00 CET.
            ("2026-11-27 20:00", 1, "2026-11-30 17:00"),
            // Across Easter Monday: Friday 3 April -> Tuesday 7 April 18:00 CEST.
            ("2026-04-03 10:00", 1, "2026-04-07 16:00"),
            ("2026-04-02 10:00", 2, "2026-04-07 16:00"),
            // Friday before Whit Monday -> Tuesday.
            ("2026-05-22 19:00", 1, "2026-05-26 16:00"),
            // Across 14 July (a Tuesday).
            ("2026-07-13 09:00", 1, "2026-07-15 16:00"),
            // Across the March DST change: received in CET, due in CEST.
            ("2026-03-27 10:00", 1, "2026-03-30 16:00"),
            // Across the October DST change: received in CEST, due in CET.
            ("2026-10-23 09:00", 1, "2026-10-26 17:00"),
            // Received on a Saturday.
            ("2026-11-28 10:00", 1, "2026-11-30 17:00"),
            ("2026-11-28 10:00", 3, "2026-12-02 17:00"),
            // Sunday 23:30 UTC in summer is already Monday 01:30 in Paris -> Tuesday.
            ("2026-06-07 23:30", 1, "2026-06-09 16:00"),
            // ...while Sunday 21:30 UTC is still Sunday 23:30 in Paris -> Monday.
            ("2026-06-07 21:30", 1, "2026-06-08 16:00"),
            // Ten business days over Christmas and New Year.
            ("2026-12-21 09:00", 10, "2027-01-06 17:00"),
        ];
        for (received, days, expected) in table {
            assert_eq!(
                due_at(t(received), days),
                t(expected),
                "{received} + {days}"
            );
        }
    }

    #[test]
    fn due_at_reads_zero_business_days_as_one() {
        let received = t("2026-11-27 20:00");
        assert_eq!(due_at(received, 0), due_at(received, 1));
    }

    #[test]
    fn business_days_between_table() {
        let table = [
            ("2026-11-27 10:00", "2026-11-27 17:00", 0), // same day
            ("2026-11-27 10:00", "2026-11-29 10:00", 0), // only the weekend
            ("2026-11-27 10:00", "2026-11-30 08:00", 1), // Monday counts
            ("2026-11-27 10:00", "2026-12-01 09:00", 2),
            ("2026-04-02 10:00", "2026-04-07 10:00", 2), // Good Friday, Easter Monday skipped
            ("2026-12-01 10:00", "2026-11-27 10:00", 0), // backwards
            ("2026-01-01 12:00", "2027-01-01 12:00", 252), // 261 weekdays - 9 holidays on them
            // 22:30 UTC on Sunday 7 June is Monday 00:30 in Paris.
            ("2026-06-05 12:00", "2026-06-07 22:30", 1),
        ];
        for (from, to, expected) in table {
            assert_eq!(
                business_days_between(t(from), t(to)),
                expected,
                "{from} .. {to}"
            );
        }
    }

    #[test]
    fn extend_for_pause_table() {
        let due = t("2026-11-30 17:00"); // Monday 18:00 Paris
        // Paused Friday, resumed Tuesday: Monday and Tuesday covered -> due Wednesday 18:00.
        assert_eq!(
            extend_for_pause(due, t("2026-11-27 10:00"), t("2026-12-01 09:00")),
            t("2026-12-02 17:00")
        );
        // Within one day, over a weekend only, or backwards: unchanged.
        assert_eq!(
            extend_for_pause(due, t("2026-11-26 09:00"), t("2026-11-26 16:00")),
            due
        );
        assert_eq!(
            extend_for_pause(due, t("2026-11-27 10:00"), t("2026-11-29 20:00")),
            due
        );
        assert_eq!(
            extend_for_pause(due, t("2026-12-01 09:00"), t("2026-11-27 10:00")),
            due
        );
        // Two business days covered, moved past Easter Monday: Thu 2 Apr + 2 -> Tue 7 Apr.
        assert_eq!(
            extend_for_pause(
                t("2026-04-02 16:00"),
                t("2026-03-25 10:00"),
                t("2026-03-27 10:00")
            ),
            t("2026-04-07 16:00")
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        for at in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
            let _ = to_paris(at);
            let _ = paris_to_utc(at);
            let _ = due_at(at, 5);
            let _ = business_days_between(at, at);
            let _ = extend_for_pause(at, at, at);
        }
        assert_eq!(due_at(NaiveDateTime::MAX, 1), NaiveDateTime::MAX);
        for year in [i32::MIN, -262_144, 262_143, i32::MAX] {
            let _ = easter_sunday(year);
            let _ = french_holidays(year);
        }
    }

    /// 2000-01-01 00:00 UTC plus up to 100 years, minute by minute.
    fn instant() -> impl Strategy<Value = NaiveDateTime> {
        (0i64..100 * 366 * 24 * 60).prop_map(|m| t("2000-01-01 00:00") + Duration::minutes(m))
    }

    fn naive_between(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        let (from, to) = (to_paris(from).date(), to_paris(to).date());
        from.iter_days()
            .skip(1)
            .take_while(|day| *day <= to)
            .filter(|day| is_business_day(*day))
            .count() as i64
    }

    proptest! {
        #[test]
        // The `business_days + 14` calendar-day bound holds up to 16 business days; from 17 on,
        // May's holidays can push a deadline past it (17 business days: up to 31.75 calendar days).
        fn due_at_is_a_business_day_at_six_in_paris_after_receipt(
            received in instant(),
            days in 1u32..=16,
        ) {
            let due = due_at(received, days);
            let local = to_paris(due);
            prop_assert!(due > received);
            prop_assert!(is_business_day(local.date()));
            prop_assert_eq!(local.time(), eighteen());
            prop_assert!(due_at(received, days + 1) > due);
            prop_assert!(due - received <= Duration::days(i64::from(days) + 14));
            prop_assert_eq!(business_days_between(received, due), i64::from(days));
        }

        #[test]
        fn business_days_between_matches_a_day_by_day_count(
            from in instant(),
            span in 0i64..3 * 366 * 24 * 60,
        ) {
            let to = from + Duration::minutes(span);
            prop_assert_eq!(business_days_between(from, to), naive_between(from, to));
            prop_assert_eq!(business_days_between(to, from), 0);
        }

        #[test]
        fn six_pm_round_trips_through_utc(day in 0u64..100 * 366) {
            let local = d(2000, 1, 1).checked_add_days(Days::new(day)).unwrap().and_time(eighteen());
            prop_assert_eq!(to_paris(paris_to_utc(local)), local);
        }

        #[test]
        fn extend_for_pause_never_moves_a_deadline_earlier(
            received in instant(),
            days in 1u32..=15,
            paused in instant(),
            span in 0i64..60 * 24 * 60,
        ) {
            let due = due_at(received, days);
            let resumed = paused + Duration::minutes(span);
            let moved = extend_for_pause(due, paused, resumed);
            prop_assert!(moved >= due);
            let covered = business_days_between(paused, resumed);
            prop_assert_eq!(business_days_between(due, moved), covered);
        }
    }

    #[test]
    fn reminders_wait_for_paris_business_hours() {
        // (UTC instant, when a reminder may go, UTC)
        let table = [
            // Tuesday 8 Dec 2026, 10:00 Paris (CET): at once.
            ("2026-12-08 09:00", "2026-12-08 09:00"),
            // Tuesday 07:30 Paris: that morning at 09:00 Paris.
            ("2026-12-08 06:30", "2026-12-08 08:00"),
            // Tuesday 18:00 Paris sharp: the business day is over, Wednesday 09:00.
            ("2026-12-08 17:00", "2026-12-09 08:00"),
            // Friday 23:00 Paris: Monday 09:00.
            ("2026-12-11 22:00", "2026-12-14 08:00"),
            // Thursday 24 Dec 2026 20:00 Paris: Christmas Friday is off, Monday 28 Dec.
            ("2026-12-24 19:00", "2026-12-28 08:00"),
            // Thursday 31 Dec 2026 evening: 1 Jan is off, then the weekend: Monday 4 Jan 2027.
            ("2026-12-31 20:00", "2027-01-04 08:00"),
            // Saturday 28 Mar 2026 evening (CET), the clocks go forward on Sunday: Monday
            // 30 Mar 09:00 Paris is 07:00 UTC (CEST).
            ("2026-03-28 20:00", "2026-03-30 07:00"),
            // Saturday 24 Oct 2026 (CEST), back to CET on Sunday: Monday 09:00 = 08:00 UTC.
            ("2026-10-24 12:00", "2026-10-26 08:00"),
            // Easter Monday 6 Apr 2026 morning: Tuesday 7 Apr 09:00 CEST.
            ("2026-04-06 07:00", "2026-04-07 07:00"),
            // Ascension Thursday 14 May 2026, Friday is a business day.
            ("2026-05-14 10:00", "2026-05-15 07:00"),
        ];
        for (at, expected) in table {
            assert_eq!(business_hours_at_or_after(t(at)), t(expected), "{at}");
        }
    }

    #[test]
    fn a_reminder_falls_on_the_morning_of_the_due_day() {
        // Due Tuesday 8 Dec 2026 18:00 Paris (17:00 UTC): reminded at 09:00 Paris (08:00 UTC).
        assert_eq!(reminder_at(t("2026-12-08 17:00")), t("2026-12-08 08:00"));
        // Summer: due 18:00 CEST (16:00 UTC), reminded 09:00 CEST (07:00 UTC).
        assert_eq!(reminder_at(t("2026-06-16 16:00")), t("2026-06-16 07:00"));
        // A deadline earlier than 09:00 (never produced by due_at) is its own reminder time.
        assert_eq!(reminder_at(t("2026-06-16 05:00")), t("2026-06-16 05:00"));
        // Every deadline due_at produces is reminded within business hours, the same day.
        let mut at = t("2026-01-01 00:00");
        while at < t("2027-01-01 00:00") {
            let due = due_at(at, 3);
            let remind = reminder_at(due);
            assert_eq!(business_hours_at_or_after(remind), remind, "{at}");
            assert_eq!(to_paris(remind).date(), to_paris(due).date());
            at += Duration::hours(7);
        }
    }
}
