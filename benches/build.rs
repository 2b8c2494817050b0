//! Benchmarks, one per phase of a build: parse, resolve (with the analyses), plan (every family's
//! contribution), render (the emitters), hash (the manifest: every file's sha256), and write (into
//! a new folder, and again into the bundle it wrote: the unchanged rebuild), for the reference site
//! and synthetic sites of 1,000, 10,000 and 50,000 servers (other sections in proportion).
//! `cargo bench`, or `cargo bench -- 10000` for one size. Whole-process figures against `cp -r`
//! come from `bench/whole-process.sh`.
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sitebundle::synth::{Size, site_toml};

fn sites() -> Vec<(String, String)> {
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site.toml"))
        .expect("site.toml");
    let mut v = vec![("reference".to_string(), reference)];
    for n in [1_000usize, 10_000, 50_000] {
        v.push((format!("{n}-servers"), site_toml(Size::proportional(n))));
    }
    v
}

fn analyse(site: &mut sitebundle::site::Site, ctx: &mut sitebundle::model::Ctx) {
    sitebundle::analysis::scenarios::validate_site(site, ctx)
}

fn phases(c: &mut Criterion) {
    for (name, text) in sites() {
        let mut g = c.benchmark_group(name.clone());
        if name != "reference" {
            g.sample_size(10);
        }
        g.throughput(Throughput::Bytes(text.len() as u64));
        let parse = || sitebundle::site::parse("site.toml", &text).expect("parses");
        g.bench_function(BenchmarkId::new("parse", &name), |b| b.iter(parse));
        g.bench_function(BenchmarkId::new("resolve", &name), |b| {
            b.iter_batched(
                parse,
                |p| sitebundle::site::resolve_parsed(p, analyse).expect("resolves"),
                BatchSize::PerIteration,
            )
        });
        let (site, _) = sitebundle::load_text("site.toml", &text).expect("valid");
        g.bench_function(BenchmarkId::new("plan", &name), |b| {
            b.iter(|| sitebundle::plan(&site).expect("plans"))
        });
        g.bench_function(BenchmarkId::new("render", &name), |b| {
            b.iter_batched(
                || sitebundle::plan(&site).expect("plans"),
                |plan| sitebundle::emit::all(&site.farm, &plan).expect("renders"),
                BatchSize::PerIteration,
            )
        });
        let files = sitebundle::build(&site).expect("renders").files;
        g.bench_function(BenchmarkId::new("hash", &name), |b| {
            b.iter_batched(
                || files.clone(),
                |mut bundle| bundle.add_manifest(&site.farm.name).expect("hashes"),
                BatchSize::PerIteration,
            )
        });
        let bundle = sitebundle::build_bundle(&site).expect("builds");
        let tmp = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).expect("tempdir");
        let out = tmp.path().join("out");
        g.bench_function(BenchmarkId::new("write-fresh", &name), |b| {
            b.iter_batched(
                || {
                    let _ = std::fs::remove_dir_all(&out);
                },
                |()| sitebundle::write::write_bundle(&bundle, &out, false).expect("writes"),
                BatchSize::PerIteration,
            )
        });
        sitebundle::write::write_bundle(&bundle, &out, false).expect("writes");
        g.bench_function(BenchmarkId::new("write-unchanged", &name), |b| {
            b.iter(|| sitebundle::write::write_bundle(&bundle, &out, false).expect("writes"))
        });
        g.finish();
    }
}

criterion_group!(benches, phases);
criterion_main!(benches);
