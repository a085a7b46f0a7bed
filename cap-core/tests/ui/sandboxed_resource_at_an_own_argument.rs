use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

// `TO` is the program's second argument: a resource cannot read it too.
#[cap_core::sandboxed(args = ["FROM", "TO"], root = dir(arg = 2))]
fn main(root: Dir<ReadOnly>) {
    let _ = root;
}
