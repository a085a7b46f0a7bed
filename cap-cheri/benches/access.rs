//! What the software model's checks cost: summing 4 KiB through a `CapSlice`
//! (one checked load per byte, and one checked bulk read) against the same
//! loop over a plain `&[u8]` (the baseline), in the same run.
//!
//! `cargo bench -p cap-cheri --bench access`

use cap_cheri::CapSlice;
use divan::black_box;

fn main() {
    divan::main();
}

const LEN: usize = 4096;

fn input() -> Vec<u8> {
    (0..LEN).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

/// Baseline: indexing a slice (bounds-checked by Rust), the same loop shape
/// as the per-byte capability load.
#[divan::bench]
#[allow(clippy::needless_range_loop)]
fn slice_index(b: divan::Bencher) {
    let data = input();
    b.bench_local(|| {
        let s = black_box(&data[..]);
        let mut sum = 0u64;
        for i in 0..s.len() {
            sum += u64::from(s[i]);
        }
        sum
    });
}

/// One capability-checked load per byte.
#[divan::bench]
fn capslice_load_each(b: divan::Bencher) {
    let data = input();
    b.bench_local(|| {
        let c = black_box(CapSlice::from_slice(&data));
        let mut sum = 0u64;
        for i in 0..c.len() {
            sum += u64::from(c.load(i));
        }
        sum
    });
}

/// One checked bulk read, then a plain loop.
#[divan::bench]
fn capslice_read_into(b: divan::Bencher) {
    let data = input();
    let mut buf = vec![0u8; LEN];
    b.bench_local(|| {
        let c = black_box(CapSlice::from_slice(&data));
        c.try_read_into(0, &mut buf).unwrap();
        buf.iter().map(|&x| u64::from(x)).sum::<u64>()
    });
}
