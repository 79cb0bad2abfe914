//! Property tests of the merge: any set of replicas with random edits (and random partial
//! syncs between them), merged in any order, ends with the same content, byte for byte, and
//! the same list of conflicts. 10,000 cases run in the normal test suite.

use crate::document::InspectionDoc;
use crate::geo::Day;
use crate::hazard::{HazardAction, HazardLevel};
use crate::ids::DeviceId;
use crate::inspection::{Answer, Command, InspectionStatus};
use crate::kind::InspectionKind;
use crate::test_support::*;
use proptest::prelude::*;
use std::sync::LazyLock;

const ITEMS: [&str; 3] = ["T-01", "T-02", "T-03"];

/// A base document every replica starts from: on site, two inspectors.
static BASE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let t = template();
    let mut doc = InspectionDoc::create(
        &new_record(InspectionKind::Routine),
        &t,
        &DeviceId::from("origin"),
        T0,
    )
    .unwrap();
    for (i, (actor, c)) in on_site_script()[..2].iter().enumerate() {
        doc.apply(c, &cx(actor, &t, i as i64), &DeviceId::from("origin"))
            .unwrap();
    }
    doc.apply(
        &Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
        &cx(&wang(), &t, 3),
        &DeviceId::from("origin"),
    )
    .unwrap();
    doc.save()
});

#[derive(Debug, Clone)]
enum Op {
    Answer(usize, Option<u8>),
    Note(usize, usize, char),
    Photo(usize, u8),
    Hazard(u8),
    Order(u8),
    Summary(String),
    /// Replica pulls everything another replica has (a partial sync).
    Sync(usize),
    Complete,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..ITEMS.len(), prop::option::of(0u8..3)).prop_map(|(i, a)| Op::Answer(i, a)),
        3 => (0..ITEMS.len(), 0usize..20, prop::sample::select(vec!['甲', '乙', 'a', ' ', '。']))
            .prop_map(|(i, p, c)| Op::Note(i, p, c)),
        2 => (0..ITEMS.len(), 0u8..4).prop_map(|(i, t)| Op::Photo(i, t)),
        1 => (0u8..3).prop_map(Op::Hazard),
        1 => (0u8..3).prop_map(Op::Order),
        1 => "[隐患整改ab]{0,4}".prop_map(Op::Summary),
        2 => (0usize..4).prop_map(Op::Sync),
        1 => Just(Op::Complete),
    ]
}

fn answer(n: u8) -> Answer {
    [Answer::Complies, Answer::Fails, Answer::NotApplicable][usize::from(n)]
}

fn apply(replicas: &mut [InspectionDoc], r: usize, op: &Op, step: i64) {
    let t = template();
    let actor = if r.is_multiple_of(2) { wang() } else { li() };
    let dev = DeviceId::new(format!("tab-{r}"));
    let command = match op {
        Op::Answer(i, a) => Command::Answer {
            item: ITEMS[*i].into(),
            answer: a.map(answer),
        },
        Op::Note(i, pos, c) => {
            let current = replicas[r]
                .record()
                .results
                .get(ITEMS[*i])
                .map(|x| x.note.clone())
                .unwrap_or_default();
            let mut chars: Vec<char> = current.chars().collect();
            let at = (*pos).min(chars.len());
            chars.insert(at, *c);
            Command::SetNote {
                item: ITEMS[*i].into(),
                text: chars.into_iter().collect(),
            }
        }
        Op::Photo(i, tag) => Command::AddItemPhoto {
            item: ITEMS[*i].into(),
            photo: photo(&format!("photo-{tag}"), &actor),
        },
        // Hazard ids are chosen per replica, as tablets do (UUIDs in the app).
        Op::Hazard(n) => {
            Command::RegisterHazard(hazard(&format!("h{r}-{n}"), "T-01", HazardLevel::General))
        }
        Op::Order(n) => Command::Hazard {
            hazard: format!("h{r}-{n}").as_str().into(),
            action: HazardAction::Order {
                deadline: Day::ymd(2026, 12, 1 + u8::try_from(step % 28).unwrap()),
                measures: format!("措施{step}"),
            },
        },
        Op::Summary(s) => Command::SetSummary { text: s.clone() },
        Op::Sync(from) => {
            let from = from % replicas.len();
            if from != r {
                let (a, b) = if from < r {
                    let (x, y) = replicas.split_at_mut(r);
                    (&mut y[0], &mut x[from])
                } else {
                    let (x, y) = replicas.split_at_mut(from);
                    (&mut x[r], &mut y[0])
                };
                a.merge(b).unwrap();
            }
            return;
        }
        Op::Complete => Command::Transition {
            to: InspectionStatus::Completed,
            comment: String::new(),
        },
    };
    // Commands the rules refuse are simply not made, as on a tablet.
    let _ = replicas[r].apply(&command, &cx(&actor, &t, step), &dev);
}

fn content(doc: &InspectionDoc) -> Vec<u8> {
    serde_json::to_vec(doc.record()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_merged_in_any_order_end_identical(
        n in 2usize..=4,
        script in prop::collection::vec((0usize..4, op()), 0..16),
        orders in prop::collection::vec(Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()), 2..4),
    ) {
        let mut replicas: Vec<InspectionDoc> = (0..n)
            .map(|r| InspectionDoc::load(&BASE, &DeviceId::new(format!("tab-{r}"))).unwrap())
            .collect();
        for (step, (r, op)) in script.iter().enumerate() {
            apply(&mut replicas, r % n, op, step as i64);
        }
        let mut results = Vec::new();
        for seed in orders {
            // A permutation of the replicas from the seed (Fisher–Yates on a tiny LCG).
            let mut order: Vec<usize> = (0..n).collect();
            let mut s = seed | 1;
            for i in (1..n).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (s >> 33) as usize % (i + 1));
            }
            let mut merged = InspectionDoc::load(&BASE, &DeviceId::from("server")).unwrap();
            for &i in &order {
                merged.merge(&mut replicas[i]).unwrap();
            }
            // Reading back from bytes gives the same content as the live merge.
            let reloaded = InspectionDoc::load(&merged.save(), &DeviceId::from("check")).unwrap();
            prop_assert_eq!(content(&reloaded), content(&merged));
            results.push((content(&merged), merged.conflicts(), order));
        }
        for (bytes, conflicts, order) in &results[1..] {
            prop_assert!(bytes == &results[0].0, "order {:?} differs from {:?}", order, results[0].2);
            prop_assert_eq!(conflicts, &results[0].1);
        }
    }
}
