#[cap_core::ambient(because = "pre-open")]
fn load() -> std::io::Result<Vec<u8>> {
    std::fs::read("/etc/hostname")
}

fn main() {
    let _ = load();
}
