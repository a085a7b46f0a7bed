struct Settings {
    _verbose: bool,
}

#[cap_core::sandboxed]
fn main(settings: Settings) {
    let _ = settings;
}
