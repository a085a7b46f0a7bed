// A capability stays on the thread that made it.
use cap_cheri::Cap;

fn main() {
    let x = 1u8;
    let c = Cap::from_ref(&x);
    std::thread::scope(|s| {
        s.spawn(move || c.load());
    });
}
