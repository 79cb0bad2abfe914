//! How long the three enforcement documents take to render from a realistic signed record
//! (the real 工贸 checklist with three failed items, hazards with orders, a re-inspection,
//! three signatures): the PDF part of a case-file export, which the case-file benchmark
//! (`cargo bench -p casefile --bench export`) replaces by a stub so that it measures the
//! archive against its copy-and-hash floor.
//!
//! Run with `cargo bench -p pdf-forms --bench render`.

#[path = "../tests/common/mod.rs"]
mod common;

use app_core::evidence::Sha256Hex;
use common::*;
use pdf_forms::FormKind;
use std::time::{Duration, Instant};

fn main() {
    let mut case = on_site_case(&Names::default(), false);
    let _v1 = case.sign("v1");
    reinspect(&mut case);
    let signed = case.sign("v2");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let input = case.input(&signed, &lookup);
    let kinds = [
        FormKind::InspectionRecord,
        FormKind::RectificationOrder,
        FormKind::ReinspectionOpinion,
    ];
    // Once untimed (font files into the page cache), then the median of 7.
    let sizes: Vec<usize> = kinds.iter().map(|k| render(*k, &input).len()).collect();
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for k in kinds {
                std::hint::black_box(render(k, &input));
            }
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "three forms ({} + {} + {} bytes): median {:.0} ms (min {:.0}, max {:.0}) for all three",
        sizes[0],
        sizes[1],
        sizes[2],
        times[3].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[6].as_secs_f64() * 1e3
    );
}
