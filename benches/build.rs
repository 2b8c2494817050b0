//! Benchmarks: parse+resolve, render and write, for the reference site and synthetic sites of 100,
//! 1,000 and 10,000 servers (other sections in proportion). `cargo bench`; whole-process figures
//! against `cp -r` come from `bench/whole-process.sh`.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sitebundle::synth::{Size, site_toml};

fn sites() -> Vec<(String, String)> {
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site.toml"))
        .expect("site.toml");
    let mut v = vec![("reference".to_string(), reference)];
    for n in [100usize, 1_000, 10_000] {
        v.push((format!("{n}-servers"), site_toml(Size::proportional(n))));
    }
    v
}

fn phases(c: &mut Criterion) {
    for (name, text) in sites() {
        let mut g = c.benchmark_group(name.clone());
        if name.starts_with("10000") {
            g.sample_size(10);
        }
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(BenchmarkId::new("parse+resolve", &name), |b| {
            b.iter(|| sitebundle::load_text("site.toml", &text).expect("valid"))
        });
        let (site, _) = sitebundle::load_text("site.toml", &text).expect("valid");
        g.bench_function(BenchmarkId::new("render", &name), |b| {
            b.iter(|| sitebundle::build_bundle(&site).expect("renders"))
        });
        let bundle = sitebundle::build_bundle(&site).expect("renders");
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        g.bench_function(BenchmarkId::new("write", &name), |b| {
            b.iter(|| sitebundle::write::write_bundle(&bundle, &out, false).expect("writes"))
        });
        g.finish();
    }
}

criterion_group!(benches, phases);
criterion_main!(benches);
