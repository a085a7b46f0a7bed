use cap_core::{
    fs::{Dir, File},
    rights::ReadOnly,
};

#[cap_core::sandboxed(site = dir("."), index = file("index.html"))]
fn main(site: File<ReadOnly>, index: File<ReadOnly>) {
    let _ = (site, index);
}

fn _unused(_: Dir<ReadOnly>) {}
