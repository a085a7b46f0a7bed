use cap_core::{fs::File, rights::ReadOnly};

#[cap_core::sandboxed(tool = exec("/bin/true"))]
fn main(tool: File<ReadOnly>) {
    let _ = tool;
}
