//! What the types refuse before anything runs: no capability from an integer,
//! none that outlives its referent, no widening of the pointee type's
//! lifetime, no loading a capability as plain data, no sending across threads.

#[test]
#[cfg_attr(miri, ignore = "trybuild runs the compiler, which Miri cannot")]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
