use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

#[cap_core::sandboxed(root = dir(arg = 1), open_files = "lots")]
fn main(root: Dir<ReadOnly>) {
    let _ = root;
}
