use cap_core::{ambient_authority, fs::Dir, rights::ReadOnly};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    let file = dir.open("file.txt").unwrap();
    // A file opened for reading from a read-only dir cannot be truncated.
    file.set_len(0).unwrap();
}
