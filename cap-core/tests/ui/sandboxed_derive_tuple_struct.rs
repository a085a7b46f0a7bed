use cap_core::{Preopen, fs::Dir, rights::ReadOnly};

#[derive(Preopen)]
struct Caps(Dir<ReadOnly>);

fn main() {}
