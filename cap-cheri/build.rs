//! Selects the hardware path on CHERI purecap targets.
//!
//! The CHERI Rust compiler forks name their CheriBSD/Morello target
//! `aarch64-unknown-freebsd-purecap` (older trees: `morello-unknown-freebsd-purecap`);
//! their `cfg` values (`target_arch`, `target_pointer_width`) differ between forks,
//! so the one stable signal is the triple's `purecap` suffix. On such a target we
//! set `cfg(ambit_cheri_purecap)`; a user can also pass `--cfg ambit_cheri_purecap`.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=TARGET");
    println!("cargo::rustc-check-cfg=cfg(ambit_cheri_purecap)");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-purecap") {
        println!("cargo::rustc-cfg=ambit_cheri_purecap");
    }
}
