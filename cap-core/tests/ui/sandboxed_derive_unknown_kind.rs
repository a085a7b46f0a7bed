use cap_core::{Preopen, fs::Dir, rights::ReadOnly};

#[derive(Preopen)]
struct Caps {
    #[preopen(folder("/srv"))]
    site: Dir<ReadOnly>,
}

#[cap_core::sandboxed]
fn main(caps: Caps) {
    let _ = caps.site;
}
