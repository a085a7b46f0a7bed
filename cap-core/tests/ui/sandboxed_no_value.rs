use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir())]
fn main(site: Dir<ReadOnly>) {
    let _ = site;
}
