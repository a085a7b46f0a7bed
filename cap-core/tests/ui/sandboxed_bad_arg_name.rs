use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

#[cap_core::sandboxed(args = ["--from"], root = dir(arg = 2))]
fn main(root: Dir<ReadOnly>) {
    let _ = root;
}
