use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = directory("examples/site"))]
fn main(site: Dir<ReadOnly>) {
    let _ = site;
}
