use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir(from = std::env::temp_dir(), default = "/srv"))]
fn main(site: Dir<ReadOnly>) {
    let _ = site;
}
