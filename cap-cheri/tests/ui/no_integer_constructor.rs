// Authority comes only from authority held: an address alone makes no capability.
use cap_cheri::Cap;

fn main() {
    let _forged: Cap<'static, u64> = Cap::from(0x1000usize);
}
