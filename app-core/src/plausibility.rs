//! Evidence that does not fit: badges a supervisor sees on the record list and at the top of
//! a record, each with its figures. Nothing here refuses anything; a badge is a reason to
//! look, not a rule broken (a camera's clock can be wrong, a plant can be large).
//!
//! Pure: the server reads the photos' EXIF, the enterprise's registered position, which
//! photo digests other enterprises' records name, and the record's history, and passes them
//! in ([`Evidence`]). The texts are in [`crate::messages`].

use crate::document::ChangeEntry;
use crate::evidence::Sha256Hex;
use crate::geo::{Position, PositionSource, SHANGHAI, Timestamp};
use crate::inspection::{Command, Inspection};
use std::collections::BTreeMap;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// A photo taken more than this many hours before or after the arrival is flagged.
///
/// A visit lasts a working day at most (≤ 12 h). A camera clock left in another time zone
/// and read as Beijing time is off by at most 20 h (UTC−12 … UTC+14 against UTC+8). 36 h
/// covers both with a margin, so a flag means the photo was not taken on this visit.
pub const PHOTO_TIME_TOLERANCE_HOURS: i64 = 36;

/// A photo whose GPS position is farther than this from the arrival position is flagged.
///
/// Phone GPS outdoors is good to some tens of metres; the largest plants a district
/// inspects (steel, chemical parks) extend a kilometre or two from the gate. 2 km keeps
/// every photo taken anywhere on such a site unflagged.
pub const PHOTO_DISTANCE_KM: f64 = 2.0;

/// An arrival position farther than this from the enterprise's registered position is
/// flagged.
///
/// A registered position is geocoded from the address and can be a few hundred metres
/// off; a large site adds up to 2 km. 3 km leaves both out, and is still far less than
/// the distance to the next town's enterprises.
pub const ENTERPRISE_DISTANCE_KM: f64 = 3.0;

/// This many answers or more ...
///
/// A checklist item is a sentence of 15–60 Chinese characters with a legal basis; reading
/// Chinese at 5–8 characters a second (300–500 a minute), nobody reads one in under two
/// seconds, let alone checks the site. Ten answers are a section's worth: fewer could be a
/// quick run of "不涉及" the inspector knew beforehand.
pub const FAST_ANSWER_COUNT: usize = 10;

/// ... within this many milliseconds are flagged: under half a second per item.
pub const FAST_ANSWER_WINDOW_MS: i64 = 5_000;

/// What the camera wrote into one photo, as the server read it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhotoFacts {
    pub taken_at: Option<Timestamp>,
    /// WGS-84 latitude and longitude.
    pub gps: Option<(f64, f64)>,
}

/// Everything the badges are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub record: &'a Inspection,
    /// EXIF facts of the record's photos whose originals the server holds.
    pub photos: &'a BTreeMap<Sha256Hex, PhotoFacts>,
    /// The enterprise's registered position, if any.
    pub enterprise_position: Option<Position>,
    /// The record's photos that records of other enterprises name: digest → their names.
    pub elsewhere: &'a BTreeMap<Sha256Hex, Vec<String>>,
    /// When each answer was given ([`answer_times`]).
    pub answer_times: &'a [Timestamp],
}

/// What place a photo was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceRef {
    /// The arrival position of a 四不两直 visit.
    Arrival,
    /// The enterprise's registered position (no arrival recorded).
    Enterprise,
}

/// One reason to look twice. The figures are those of the worst case; `photos` counts the
/// photos concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Badge {
    /// A photo's EXIF time is far from the arrival (or the start of the visit).
    PhotoTime {
        taken: Timestamp,
        reference: Timestamp,
        photos: usize,
    },
    /// A photo's EXIF position is far from where the visit was.
    PhotoPlace {
        km: f64,
        against: PlaceRef,
        photos: usize,
    },
    /// The arrival position was typed in by hand.
    ManualPosition,
    /// The arrival position is far from the enterprise's registered position.
    FarFromEnterprise { km: f64 },
    /// A photo of this record is named by a record of another enterprise.
    PhotoReused {
        photos: usize,
        enterprises: Vec<String>,
    },
    /// Many items answered faster than a person can read them.
    FastAnswers { count: usize, millis: i64 },
}

impl Badge {
    /// A stable code for the page (CSS class, test hook), never shown.
    pub fn code(&self) -> &'static str {
        match self {
            Badge::PhotoTime { .. } => "photo-time",
            Badge::PhotoPlace { .. } => "photo-place",
            Badge::ManualPosition => "manual-position",
            Badge::FarFromEnterprise { .. } => "far-from-enterprise",
            Badge::PhotoReused { .. } => "photo-reused",
            Badge::FastAnswers { .. } => "fast-answers",
        }
    }
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6371.0088;
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// An EXIF time as the server shows it (`2008-10-22 16:28:39`, optionally followed by an
/// offset `+02:00`). Without an offset the camera is taken to be on Beijing time, as the
/// tablets are.
pub fn parse_exif_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let (dt, offset) = match s.get(19..) {
        Some(rest) if !rest.trim().is_empty() => (&s[..19], Some(rest.trim())),
        _ => (s.get(..19)?, None),
    };
    let num = |r: std::ops::Range<usize>| dt.get(r)?.parse::<u32>().ok();
    let date = Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?,
        u8::try_from(num(8..10)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(14..16)?).ok()?,
        u8::try_from(num(17..19)?).ok()?,
    )
    .ok()?;
    let offset = match offset {
        None => SHANGHAI,
        Some(o) => {
            let sign: i8 = match o.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i8 = o.get(1..3)?.parse().ok()?;
            let m: i8 = o.get(4..6)?.parse().ok()?;
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some(Timestamp(
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?,
    ))
}

/// When each answer (a [`Command::Answer`] giving an answer) was written: the note's
/// millisecond time, else the change's own second.
pub fn answer_times(history: &[ChangeEntry]) -> Vec<Timestamp> {
    history
        .iter()
        .filter_map(|c| {
            let note = c.note.as_ref()?;
            match &note.op {
                Some(Command::Answer {
                    answer: Some(_), ..
                }) => Some(note.at.unwrap_or(Timestamp(c.time.saturating_mul(1000)))),
                _ => None,
            }
        })
        .collect()
}

/// The largest number of answers given within [`FAST_ANSWER_WINDOW_MS`], and the time
/// they took.
fn fastest_run(times: &[Timestamp]) -> (usize, i64) {
    let mut t: Vec<i64> = times.iter().map(|t| t.0).collect();
    t.sort_unstable();
    let mut best = (0, 0);
    let mut start = 0;
    for end in 0..t.len() {
        while t[end] - t[start] > FAST_ANSWER_WINDOW_MS {
            start += 1;
        }
        let n = end - start + 1;
        if n > best.0 {
            best = (n, t[end] - t[start]);
        }
    }
    best
}

/// The record's badges, in a fixed order; empty when everything fits.
pub fn badges(e: &Evidence<'_>) -> Vec<Badge> {
    let r = e.record;
    let mut out = Vec::new();
    let reference_time = r
        .arrival
        .as_ref()
        .map(|a| a.at)
        .or(r.started_at)
        .unwrap_or(r.created_at);
    let place: Option<((f64, f64), PlaceRef)> = match &r.arrival {
        Some(a) => Some(((a.position.lat, a.position.lon), PlaceRef::Arrival)),
        None => e
            .enterprise_position
            .map(|p| ((p.lat, p.lon), PlaceRef::Enterprise)),
    };
    let mut time_far: Option<(Timestamp, i64)> = None;
    let mut time_count = 0;
    let mut place_far: Option<f64> = None;
    let mut place_count = 0;
    for sha in r.photo_digests() {
        let Some(f) = e.photos.get(&sha) else {
            continue;
        };
        if let Some(taken) = f.taken_at {
            let off = (taken.0 - reference_time.0).abs();
            if off > PHOTO_TIME_TOLERANCE_HOURS * 3_600_000 {
                time_count += 1;
                if time_far.is_none_or(|(_, worst)| off > worst) {
                    time_far = Some((taken, off));
                }
            }
        }
        if let (Some(gps), Some((p, _))) = (f.gps, place) {
            let km = distance_km(gps, p);
            if km > PHOTO_DISTANCE_KM {
                place_count += 1;
                if place_far.is_none_or(|worst| km > worst) {
                    place_far = Some(km);
                }
            }
        }
    }
    if let Some((taken, _)) = time_far {
        out.push(Badge::PhotoTime {
            taken,
            reference: reference_time,
            photos: time_count,
        });
    }
    if let (Some(km), Some((_, against))) = (place_far, place) {
        out.push(Badge::PhotoPlace {
            km,
            against,
            photos: place_count,
        });
    }
    if let Some(a) = &r.arrival {
        if a.position.source == PositionSource::Manual {
            out.push(Badge::ManualPosition);
        }
        if let Some(ep) = e.enterprise_position {
            let km = distance_km((a.position.lat, a.position.lon), (ep.lat, ep.lon));
            if km > ENTERPRISE_DISTANCE_KM {
                out.push(Badge::FarFromEnterprise { km });
            }
        }
    }
    let mut reused = 0;
    let mut names: Vec<String> = Vec::new();
    for sha in r.photo_digests() {
        if let Some(others) = e.elsewhere.get(&sha).filter(|o| !o.is_empty()) {
            reused += 1;
            for n in others {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    if reused > 0 {
        out.push(Badge::PhotoReused {
            photos: reused,
            enterprises: names,
        });
    }
    let (count, millis) = fastest_run(e.answer_times);
    if count >= FAST_ANSWER_COUNT {
        out.push(Badge::FastAnswers { count, millis });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::ChangeNote;
    use crate::geo::Position;
    use crate::ids::{DeviceId, ItemCode, UserId};
    use crate::inspection::{Answer, ArrivalProof};
    use crate::messages::{Bilingual, Lang};
    use crate::test_support;

    /// 2026-12-06 10:00 Beijing time.
    const ARRIVAL: Timestamp = Timestamp(1_796_522_400_000);
    const NANJING: (f64, f64) = (32.0603, 118.7969);

    fn sha(n: u8) -> Sha256Hex {
        Sha256Hex::of(&[n])
    }

    fn record(source: PositionSource) -> Inspection {
        let mut r = test_support::new_record(crate::kind::InspectionKind::Unannounced);
        r.arrival = Some(ArrivalProof {
            at: ARRIVAL,
            position: Position::new(NANJING.0, NANJING.1, source).unwrap(),
            entrance_photo: sha(1),
        });
        r
    }

    struct Inputs {
        photos: BTreeMap<Sha256Hex, PhotoFacts>,
        elsewhere: BTreeMap<Sha256Hex, Vec<String>>,
        times: Vec<Timestamp>,
        enterprise: Option<Position>,
    }

    impl Inputs {
        fn new() -> Self {
            Inputs {
                photos: BTreeMap::new(),
                elsewhere: BTreeMap::new(),
                times: Vec::new(),
                enterprise: Some(Position::new(32.061, 118.797, PositionSource::Device).unwrap()),
            }
        }
        fn badges(&self, r: &Inspection) -> Vec<Badge> {
            badges(&Evidence {
                record: r,
                photos: &self.photos,
                enterprise_position: self.enterprise,
                elsewhere: &self.elsewhere,
                answer_times: &self.times,
            })
        }
    }

    fn codes(b: &[Badge]) -> Vec<&'static str> {
        b.iter().map(Badge::code).collect()
    }

    #[test]
    fn a_consistent_record_has_no_badge() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        i.photos.insert(
            sha(1),
            PhotoFacts {
                taken_at: Some(Timestamp(ARRIVAL.0 + 60_000)),
                gps: Some((32.0605, 118.7975)),
            },
        );
        // Twenty answers, one every 20 s.
        i.times = (0..20).map(|k| Timestamp(ARRIVAL.0 + k * 20_000)).collect();
        assert_eq!(i.badges(&r), vec![]);
    }

    #[test]
    fn a_photo_from_2008_in_italy_is_flagged_with_its_figures() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        let taken = parse_exif_time("2008-10-22 16:28:39").unwrap();
        i.photos.insert(
            sha(1),
            PhotoFacts {
                taken_at: Some(taken),
                gps: Some((43.4674, 11.8851)),
            },
        );
        let b = i.badges(&r);
        assert_eq!(codes(&b), vec!["photo-time", "photo-place"]);
        let zh = b[0].zh();
        assert!(zh.contains("照片拍摄于2008-10-22"), "{zh}");
        assert!(zh.contains("距到场时间6,618天"), "{zh}");
        assert!(b[0].en().contains("6,618 days"), "{}", b[0].en());
        let place = b[1].zh();
        assert!(place.contains("距到场位置"), "{place}");
        assert!(place.contains("公里"), "{place}");
        assert!(Lang::Zh.badge_title(&b[1]).contains("地点"));
    }

    #[test]
    fn photo_time_within_the_tolerance_is_not_flagged_and_just_beyond_is() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        let edge = PHOTO_TIME_TOLERANCE_HOURS * 3_600_000;
        i.photos.insert(
            sha(1),
            PhotoFacts {
                taken_at: Some(Timestamp(ARRIVAL.0 - edge)),
                gps: None,
            },
        );
        assert!(i.badges(&r).is_empty());
        i.photos.insert(
            sha(1),
            PhotoFacts {
                taken_at: Some(Timestamp(ARRIVAL.0 + edge + 3_600_000)),
                gps: None,
            },
        );
        let b = i.badges(&r);
        assert_eq!(codes(&b), vec!["photo-time"]);
        assert!(b[0].zh().contains("小时"), "{}", b[0].zh());
    }

    #[test]
    fn a_photo_without_exif_raises_nothing() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        i.photos.insert(sha(1), PhotoFacts::default());
        assert!(i.badges(&r).is_empty());
    }

    #[test]
    fn a_hand_typed_position_is_flagged() {
        let r = record(PositionSource::Manual);
        let b = Inputs::new().badges(&r);
        assert_eq!(codes(&b), vec!["manual-position"]);
        assert!(b[0].zh().contains("手工输入"));
    }

    #[test]
    fn an_arrival_far_from_the_registered_position_is_flagged() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        // Registered in Suzhou, about 190 km away.
        i.enterprise = Some(Position::new(31.2990, 120.5853, PositionSource::Device).unwrap());
        let b = i.badges(&r);
        assert_eq!(codes(&b), vec!["far-from-enterprise"]);
        assert!(b[0].zh().contains("距企业登记位置"), "{}", b[0].zh());
        // No registered position: nothing to compare with.
        i.enterprise = None;
        assert!(i.badges(&r).is_empty());
    }

    #[test]
    fn without_arrival_photos_are_compared_with_the_registered_position() {
        let mut r = test_support::new_record(crate::kind::InspectionKind::Unannounced);
        r.arrival = None;
        let p = crate::evidence::PhotoRef {
            sha256: sha(7),
            added_at: r.created_at,
            added_by: r.created_by.clone(),
        };
        r.results
            .entry(ItemCode::from("T-01"))
            .or_default()
            .photos
            .insert(sha(7), p);
        let mut i = Inputs::new();
        i.photos.insert(
            sha(7),
            PhotoFacts {
                taken_at: None,
                gps: Some((43.4674, 11.8851)),
            },
        );
        let b = i.badges(&r);
        assert_eq!(b.first().map(Badge::code), Some("photo-place"), "{b:?}");
        assert!(b[0].zh().contains("距企业登记位置"), "{}", b[0].zh());
    }

    #[test]
    fn a_photo_named_by_another_enterprise_is_flagged() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        i.elsewhere
            .insert(sha(1), vec!["南京某某化工有限公司".into()]);
        let b = i.badges(&r);
        assert_eq!(codes(&b), vec!["photo-reused"]);
        assert!(b[0].zh().contains("南京某某化工有限公司"), "{}", b[0].zh());
        // An empty list (only this enterprise's records) is no badge.
        i.elsewhere.insert(sha(1), vec![]);
        assert!(i.badges(&r).is_empty());
    }

    #[test]
    fn answers_faster_than_reading_are_flagged_and_a_steady_pace_is_not() {
        let r = record(PositionSource::Device);
        let mut i = Inputs::new();
        // 43 answers within 0.1 s.
        i.times = (0..43).map(|k| Timestamp(ARRIVAL.0 + k * 2)).collect();
        let b = i.badges(&r);
        assert_eq!(
            b,
            vec![Badge::FastAnswers {
                count: 43,
                millis: 84
            }]
        );
        assert!(
            b[0].zh().contains("43个检查项在不到0.1秒内作答"),
            "{}",
            b[0].zh()
        );
        // Nine quick ones are below the threshold.
        i.times = (0..FAST_ANSWER_COUNT as i64 - 1)
            .map(|k| Timestamp(ARRIVAL.0 + k))
            .collect();
        assert!(i.badges(&r).is_empty());
        // Ten spread over more than the window are not either.
        i.times = (0..FAST_ANSWER_COUNT as i64)
            .map(|k| Timestamp(ARRIVAL.0 + k * 600))
            .collect();
        assert!(i.badges(&r).is_empty());
    }

    #[test]
    fn answer_times_come_from_answer_notes() {
        let note = |op: Command, at: Option<i64>| ChangeEntry {
            hash: String::new(),
            actor: String::new(),
            time: 1_796_522_400,
            note: Some(ChangeNote {
                by: UserId::from("u"),
                device: DeviceId::from("d"),
                command: op.name().into(),
                at: at.map(Timestamp),
                op: Some(op),
                seal: None,
            }),
        };
        let answer = Command::Answer {
            item: ItemCode::from("T-01"),
            answer: Some(Answer::Complies),
        };
        let clear = Command::Answer {
            item: ItemCode::from("T-01"),
            answer: None,
        };
        let h = vec![
            note(answer.clone(), Some(5)),
            note(clear, Some(6)),
            note(answer, None),
        ];
        assert_eq!(
            answer_times(&h),
            vec![Timestamp(5), Timestamp(1_796_522_400_000)]
        );
    }

    #[test]
    fn exif_times_read_with_and_without_offset() {
        let beijing = parse_exif_time("2026-12-06 10:00:00").unwrap();
        assert_eq!(beijing, ARRIVAL);
        let rome = parse_exif_time("2026-12-06 03:00:00 +01:00").unwrap();
        assert_eq!(rome, ARRIVAL);
        assert_eq!(parse_exif_time("2026-13-06 10:00:00"), None);
        assert_eq!(parse_exif_time("garbage"), None);
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let d = distance_km(NANJING, (31.2304, 121.4737));
        assert!((d - 270.0).abs() < 10.0, "{d}");
        assert!(distance_km(NANJING, NANJING) < 1e-9);
    }
}
