// A capability may store a `T`, so `T` cannot be shortened: otherwise a
// short-lived `&str` could be stored where a `&'static str` is expected.
use cap_cheri::Cap;

fn shorten<'a>(c: Cap<'a, &'static str>) -> Cap<'a, &'a str> {
    c
}

fn main() {
    let mut s: &'static str = "static";
    let _ = shorten(Cap::from_mut(&mut s));
}
