//! `#[cap_core::ambient(reason = "…")]`: compiles to nothing when the reason
//! is a non-empty string, and every malformed use is one `compile_error!`
//! spanned on the offending tokens (committed `.stderr` snapshots).

#[test]
fn ambient_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/ambient/pass.rs");
    t.compile_fail("tests/ui/ambient/no_reason.rs");
    t.compile_fail("tests/ui/ambient/empty_reason.rs");
    t.compile_fail("tests/ui/ambient/wrong_key.rs");
    t.compile_fail("tests/ui/ambient/not_a_string.rs");
    t.compile_fail("tests/ui/ambient/trailing.rs");
}
