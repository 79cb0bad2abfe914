//! Statistical fairness of the 双随机 draw: over many published seeds, every enterprise and
//! every inspector must come up equally often, judged by a chi-square goodness-of-fit test
//! against the uniform distribution at significance p = 0.001.
//!
//! The seeds are fixed, so these tests are deterministic: they cannot flake, and if they ever
//! start failing the algorithm has changed (which the golden test in `draw.rs` also catches).
//! The last tests show that the check has teeth: the same algorithm with a biased integer
//! picker fails the same chi-square check.

use app_core::draw::{DrawInput, DrawStream, PoolFilter, run_draw};
use app_core::ids::{EnterpriseId, UnitId, UserId};
use std::sync::LazyLock;

const SEEDS: usize = 20_000;
const ENTERPRISES: usize = 10;
const INSPECTORS: usize = 7;
const TARGETS: usize = 3;
const PER_TARGET: usize = 2;

/// Upper 0.1 % points of the chi-square distribution, by degrees of freedom.
const CHI2_CRIT_P001_DF6: f64 = 22.458;
const CHI2_CRIT_P001_DF9: f64 = 27.877;
const CHI2_CRIT_P001_DF20: f64 = 45.315;

/// One draw as indices: `targets[i]` is the i-th drawn enterprise, `teams[i]` its inspectors.
#[derive(Debug, PartialEq)]
struct Draw {
    targets: Vec<usize>,
    teams: Vec<Vec<usize>>,
}

fn seed(i: usize) -> String {
    format!("fairness-{i}")
}

/// Draw 3 of 10 enterprises, 2 of 7 inspectors each, no conflicts. Ids are `e0`…`e9` and
/// `u0`…`u6`, so canonical order is index order.
fn input(seed: &str) -> DrawInput {
    DrawInput {
        filter: PoolFilter::unit(UnitId::from("xw")),
        pool: (0..ENTERPRISES)
            .map(|i| EnterpriseId::new(format!("e{i}")))
            .collect(),
        roster: (0..INSPECTORS)
            .map(|i| UserId::new(format!("u{i}")))
            .collect(),
        conflicts: vec![],
        targets: TARGETS as u32,
        inspectors_per_target: PER_TARGET as u32,
        seed: seed.to_owned(),
    }
}

fn index(id: &str) -> usize {
    id[1..].parse().unwrap()
}

fn real_draw(seed: &str) -> Draw {
    let result = run_draw(&input(seed)).unwrap();
    Draw {
        targets: result
            .assignments
            .iter()
            .map(|a| index(a.enterprise.as_str()))
            .collect(),
        teams: result
            .assignments
            .iter()
            .map(|a| a.inspectors.iter().map(|u| index(u.as_str())).collect())
            .collect(),
    }
}

/// The real draws over all seeds, computed once and shared by the tests.
static DRAWS: LazyLock<Vec<Draw>> =
    LazyLock::new(|| (0..SEEDS).map(|i| real_draw(&seed(i))).collect());

/// Picks an index in `[0, n)` from the stream.
type Picker = fn(&mut DrawStream, usize) -> usize;

fn fair(stream: &mut DrawStream, n: usize) -> usize {
    stream.below(n as u64) as usize
}

/// The classic modulo bug on a small-range value: 4 random bits, `% n`.
fn modulo_of_four_bits(stream: &mut DrawStream, n: usize) -> usize {
    ((stream.next_u64() >> 60) as usize) % n
}

/// No randomness at all: always the first candidate.
fn always_first(_: &mut DrawStream, _: usize) -> usize {
    0
}

/// The exclusive-range slip: uniform in `[0, n − 1)`, so the last candidate is never picked.
fn never_the_last(stream: &mut DrawStream, n: usize) -> usize {
    if n > 1 {
        stream.below(n as u64 - 1) as usize
    } else {
        0
    }
}

/// The documented algorithm (module documentation of `app_core::draw`, steps 5 and 6) for this
/// conflict-free input, with the uniform integer replaced by `pick`.
fn draw_with(seed: &str, pick: Picker) -> Draw {
    let mut stream = DrawStream::new(seed);
    let mut pool: Vec<usize> = (0..ENTERPRISES).collect();
    for i in 0..TARGETS {
        let j = i + pick(&mut stream, ENTERPRISES - i);
        pool.swap(i, j);
    }
    let targets = pool[..TARGETS].to_vec();
    let mut load = [0u32; INSPECTORS];
    let teams = targets
        .iter()
        .map(|_| {
            let mut team: Vec<usize> = Vec::new();
            for _ in 0..PER_TARGET {
                let free: Vec<usize> = (0..INSPECTORS).filter(|u| !team.contains(u)).collect();
                let lowest = free.iter().map(|&u| load[u]).min().unwrap();
                let ties: Vec<usize> = free.into_iter().filter(|&u| load[u] == lowest).collect();
                let chosen = ties[pick(&mut stream, ties.len())];
                load[chosen] += 1;
                team.push(chosen);
            }
            team
        })
        .collect();
    Draw { targets, teams }
}

/// Pearson's chi-square statistic of `counts` against equal expected counts.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

fn assert_uniform(what: &str, counts: &[u64], critical: f64) {
    let stat = chi_square(counts);
    println!("{what}: chi-square {stat:.3} (critical {critical}) counts {counts:?}");
    assert!(
        stat < critical,
        "{what} is not uniform: chi-square {stat:.3} ≥ {critical}; counts {counts:?}"
    );
}

fn enterprise_counts(draws: &[Draw]) -> Vec<u64> {
    let mut counts = vec![0; ENTERPRISES];
    for d in draws {
        for &e in &d.targets {
            counts[e] += 1;
        }
    }
    counts
}

fn position_counts(draws: &[Draw], position: usize) -> Vec<u64> {
    let mut counts = vec![0; ENTERPRISES];
    for d in draws {
        counts[d.targets[position]] += 1;
    }
    counts
}

fn inspector_counts(draws: &[Draw]) -> Vec<u64> {
    let mut counts = vec![0; INSPECTORS];
    for d in draws {
        for &u in d.teams.iter().flatten() {
            counts[u] += 1;
        }
    }
    counts
}

/// How often each inspector is the one left out of a draw (6 assignments over 7 inspectors,
/// dealt least-loaded first, leave exactly one inspector out of every draw).
fn left_out_counts(draws: &[Draw]) -> Vec<u64> {
    let mut counts = vec![0; INSPECTORS];
    for d in draws {
        let out: Vec<usize> = (0..INSPECTORS)
            .filter(|u| !d.teams.iter().flatten().any(|v| v == u))
            .collect();
        if let [u] = out[..] {
            counts[u] += 1;
        }
    }
    counts
}

/// How often each unordered pair of inspectors forms the team of the target at `position`.
fn pair_counts(draws: &[Draw], position: usize) -> Vec<u64> {
    let mut counts = vec![0; INSPECTORS * INSPECTORS];
    for d in draws {
        let team = &d.teams[position];
        let (a, b) = (team[0].min(team[1]), team[0].max(team[1]));
        counts[a * INSPECTORS + b] += 1;
    }
    // Keep the 21 cells a < b.
    (0..INSPECTORS)
        .flat_map(|a| (a + 1..INSPECTORS).map(move |b| (a, b)))
        .map(|(a, b)| counts[a * INSPECTORS + b])
        .collect()
}

fn draws_with(pick: Picker) -> Vec<Draw> {
    (0..SEEDS).map(|i| draw_with(&seed(i), pick)).collect()
}

#[test]
fn the_test_harness_mirrors_the_real_draw() {
    // With the fair picker the mirror in this file is the real algorithm, so the biased
    // variants below differ from the real draw in the picker only.
    for i in (0..SEEDS).step_by(97) {
        assert_eq!(draw_with(&seed(i), fair), DRAWS[i], "seed {}", seed(i));
    }
}

#[test]
fn every_enterprise_is_selected_equally_often() {
    // 3 distinct enterprises per draw: the cells are slightly less variable than multinomial
    // ones (by a factor (10 − 3)/(10 − 1)), so the test is conservative at df = 9.
    assert_uniform(
        "enterprise selection counts",
        &enterprise_counts(&DRAWS),
        CHI2_CRIT_P001_DF9,
    );
}

#[test]
fn every_enterprise_is_equally_likely_at_every_draw_position() {
    for position in 0..TARGETS {
        assert_uniform(
            &format!("enterprise drawn at position {}", position + 1),
            &position_counts(&DRAWS, position),
            CHI2_CRIT_P001_DF9,
        );
    }
}

#[test]
fn every_inspector_is_assigned_equally_often() {
    // 6 assignments per draw over 7 inspectors. The least-loaded rule leaves exactly one
    // inspector out of each draw, so the totals vary much less than multinomial counts and
    // this check is lenient; the left-out inspector is a plain multinomial draw and gives the
    // sharp check.
    assert_uniform(
        "inspector assignment counts",
        &inspector_counts(&DRAWS),
        CHI2_CRIT_P001_DF6,
    );
    let left_out = left_out_counts(&DRAWS);
    assert_eq!(left_out.iter().sum::<u64>(), SEEDS as u64);
    assert_uniform("inspector left out", &left_out, CHI2_CRIT_P001_DF6);
}

#[test]
fn the_first_inspector_drawn_is_uniform() {
    let mut counts = vec![0; INSPECTORS];
    for d in DRAWS.iter() {
        counts[d.teams[0][0]] += 1;
    }
    assert_uniform(
        "first inspector of the first target",
        &counts,
        CHI2_CRIT_P001_DF6,
    );
}

#[test]
fn every_pair_of_inspectors_is_equally_likely_to_form_a_team() {
    // First team (all loads 0) and last team (most constrained by the least-loaded rule).
    for position in [0, TARGETS - 1] {
        assert_uniform(
            &format!("inspector pair on target {}", position + 1),
            &pair_counts(&DRAWS, position),
            CHI2_CRIT_P001_DF20,
        );
    }
}

/// Runs the draws with `pick` and asserts that the same chi-square checks reject them.
fn assert_rejected(name: &str, pick: Picker) {
    let biased = draws_with(pick);
    for (what, stat, critical) in [
        (
            "enterprise selection counts",
            chi_square(&enterprise_counts(&biased)),
            CHI2_CRIT_P001_DF9,
        ),
        (
            "first-drawn enterprise",
            chi_square(&position_counts(&biased, 0)),
            CHI2_CRIT_P001_DF9,
        ),
        (
            "inspector left out",
            chi_square(&left_out_counts(&biased)),
            CHI2_CRIT_P001_DF6,
        ),
    ] {
        println!("{name} {what}: chi-square {stat:.1} (critical {critical})");
        assert!(stat > critical, "{name} {what} passed: {stat:.3}");
    }
}

#[test]
fn a_modulo_biased_picker_fails_the_same_checks() {
    assert_rejected("modulo-of-four-bits", modulo_of_four_bits);
}

#[test]
fn an_always_first_picker_fails_the_same_checks() {
    assert_rejected("always-first", always_first);
}

#[test]
fn an_off_by_one_picker_fails_the_same_checks() {
    assert_rejected("off-by-one", never_the_last);
}
