//! Compile-fail tests for network handles: every missing right and every
//! attempt to widen is a compile error that names the right.

#[test]
fn net_rights_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/net_*.rs");
}
