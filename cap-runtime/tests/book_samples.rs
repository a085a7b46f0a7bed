//! The sample reports in the book show the seccomp line a program gets:
//! `seccomp       baseline, fs (168 syscalls, 182 instructions)`. Each must
//! be one the planner can produce today (on x86_64, where the samples were
//! taken): some set of needs with those groups gives that many allowed
//! syscalls and that long a program. A change to the tables that leaves a
//! sample stale fails here, naming the page and what the groups give now.
#![cfg(target_os = "linux")]

use std::path::Path;

use cap_runtime::linux::Needs;
use cap_runtime::linux::seccomp::{Arch, build_for};

/// Every set of needs (ten flags).
fn every_needs() -> impl Iterator<Item = Needs> {
    (0u16..1 << 10).map(|bits| {
        let on = |i: u16| bits & (1 << i) != 0;
        Needs {
            fs: on(0),
            set_meta: on(1),
            truncate: on(2),
            inet: on(3),
            tcp_bind: on(4),
            udp: on(5),
            unix: on(6),
            accept: on(7),
            exec: on(8),
            unmodified: on(9),
        }
    })
}

/// `(page, groups, syscalls, instructions)` of each sample line.
fn samples() -> Vec<(String, Vec<String>, usize, usize)> {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&book).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            // The report's column: the name padded to 13, then a space.
            let Some(rest) = line.trim_start().strip_prefix("seccomp       ") else {
                continue;
            };
            let rest = rest.trim();
            if rest == "-" {
                // No filter.
                continue;
            }
            let parsed = rest.split_once(" (").and_then(|(groups, counts)| {
                counts
                    .strip_suffix(" instructions)")
                    .and_then(|c| c.split_once(" syscalls, "))
                    .map(|(calls, insns)| (groups, calls, insns))
            });
            let Some((groups, calls, insns)) = parsed else {
                panic!(
                    "{}: a seccomp line not in the report's form: {line:?}",
                    path.display()
                );
            };
            let page = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((
                page,
                groups.split(", ").map(str::to_owned).collect(),
                calls.parse().unwrap(),
                insns.parse().unwrap(),
            ));
        }
    }
    out
}

#[test]
fn the_books_sample_reports_are_what_the_planner_gives() {
    let samples = samples();
    // The pages that show a report (getting-started, capability-mode,
    // broker, running-existing-programs) all have their sample.
    assert!(samples.len() >= 4, "found {samples:?}");
    for (page, groups, calls, insns) in samples {
        let mut seen = Vec::new();
        let mut matched = false;
        for needs in every_needs() {
            let filter = build_for(needs, Arch::X86_64).unwrap();
            let names: Vec<&str> = filter.groups.iter().map(|g| g.name()).collect();
            if names != groups {
                continue;
            }
            matched = true;
            let got = (filter.allowed.len(), filter.len());
            if got == (calls, insns) {
                seen.clear();
                break;
            }
            if !seen.contains(&got) {
                seen.push(got);
            }
        }
        assert!(
            matched,
            "{page}: no set of needs gives the groups `{}` (renamed, reordered, or no longer made)",
            groups.join(", ")
        );
        assert!(
            seen.is_empty(),
            "{page}: `{}` with {calls} syscalls and {insns} instructions is not what the planner \
             gives for these groups now (syscalls, instructions): {seen:?}",
            groups.join(", ")
        );
    }
}
