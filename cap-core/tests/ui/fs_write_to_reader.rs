use std::io::Write;

use cap_core::{ambient_authority, fs::Dir, rights::ReadOnly};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    let mut file = dir.open("file.txt").unwrap();
    file.write_all(b"no").unwrap();
}
