//! Decode throughput per recording: the whole session (handshake included) replayed through
//! a fresh client core, reported as MB/s of output pixels (damaged area × 4 bytes), next to
//! a memcpy of the same number of bytes as the physical reference.
//!
//! `cargo bench -p rfb-benches --bench decode` (corpus: `benches/recordings`, regenerate
//! with `cargo test -p rfb-cli --release --test record_corpus -- --ignored`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfb_benches::{corpus_dir, load};
use rfb_core::Config;
use rfb_testkit::replay::replay;

fn decode(c: &mut Criterion) {
    let recordings = load(&corpus_dir());
    let mut g = c.benchmark_group("decode");
    for r in &recordings {
        // One untimed run to learn the workload size (and that the recording replays).
        let first = match replay(&r.frames, Config::default(), None) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{}: does not replay: {e}", r.name);
                continue;
            }
        };
        let bytes = first.damaged_pixels * 4;
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(&r.name, |b| {
            b.iter(|| {
                black_box(replay(black_box(&r.frames), Config::default(), None).map(|x| x.updates))
            })
        });
        let src = vec![7u8; bytes as usize];
        let mut dst = vec![0u8; bytes as usize];
        g.bench_function(format!("{}/memcpy-reference", r.name), |b| {
            b.iter(|| dst.copy_from_slice(black_box(&src)))
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
