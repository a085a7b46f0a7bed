use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

#[cap_core::sandboxed(root = dir("."), flags = ["-v", "verbose"])]
fn main(root: Dir<ReadOnly>) {
    let _ = root;
}
