//! Throughput benchmarks (filled in with the precise tier).
fn main() {}
