//! Benchmarks (issue 9 fills these in): parse+resolve and render of the reference site.
use criterion::{Criterion, criterion_group, criterion_main};

fn reference(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site.toml"))
        .expect("site.toml");
    c.bench_function("reference/parse+resolve", |b| {
        b.iter(|| sitebundle::model::parse_and_resolve("site.toml", &text).expect("valid"))
    });
    let (site, _) = sitebundle::model::parse_and_resolve("site.toml", &text).expect("valid");
    c.bench_function("reference/render", |b| {
        b.iter(|| sitebundle::build_bundle(&site).expect("renders"))
    });
}

criterion_group!(benches, reference);
criterion_main!(benches);
