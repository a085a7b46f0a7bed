use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir(arg = "root"))]
fn main(site: Dir<ReadOnly>) {
    let _ = site;
}
