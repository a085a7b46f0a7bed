//! Compile-fail tests: a missing right or a widening is a `cargo check` error
//! that names the right. The expected messages are the committed `.stderr`
//! files beside each case.

#[test]
fn fs_rights_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fs_*.rs");
}
