use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir("."))]
fn main((site, _): (Dir<ReadOnly>, u8)) {
    let _ = site;
}
