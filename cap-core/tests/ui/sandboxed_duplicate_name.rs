use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir("."), site = dir("/srv"))]
fn main(site: Dir<ReadOnly>) {
    let _ = site;
}
