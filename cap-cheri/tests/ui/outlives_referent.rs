// A capability borrows what it was made from and cannot outlive it.
use cap_cheri::Cap;

fn dangling() -> Cap<'static, u32> {
    let local = 5u32;
    Cap::from_ref(&local)
}

fn main() {
    let _ = dangling();
}
