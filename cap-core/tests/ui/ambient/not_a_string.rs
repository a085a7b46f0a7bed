#[cap_core::ambient(reason = 42)]
fn load() -> std::io::Result<Vec<u8>> {
    std::fs::read("/etc/hostname")
}

fn main() {
    let _ = load();
}
