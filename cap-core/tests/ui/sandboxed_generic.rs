use cap_core::{fs::Dir, rights::RightSet};

#[cap_core::sandboxed(site = dir("."))]
fn main<R: RightSet>(site: Dir<R>) {
    let _ = site;
}
