use cap_core::{ambient_authority, fs::Dir, rights::{ReadOnly, ReadWrite}};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    let _rw: Dir<ReadWrite> = dir.narrow();
}
