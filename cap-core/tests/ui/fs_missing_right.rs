use cap_core::{ambient_authority, fs::Dir, rights::ReadOnly};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    dir.remove_file("x").unwrap();
}
