use cap_core::fs::File;
use cap_core::rights::ReadOnly;

#[cap_core::sandboxed(inputs = files(from = std::env::args_os().skip(1)))]
fn main(inputs: Vec<File<ReadOnly>>) {
    let _ = inputs;
}
