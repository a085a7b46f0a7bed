// A capability in memory is read with `try_load_cap` (which needs the
// load-capability permission), never as plain data: `Cap` is not `Copy`.
use cap_cheri::Cap;

fn main() {
    let x = 1u8;
    let slot = Cap::from_ref(&x);
    let holder = Cap::from_ref(&slot);
    let _copied = holder.try_load();
}
