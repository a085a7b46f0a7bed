use cap_core::{ambient_authority, fs::{Dir, File, OpenOptions}, rights, rights::ReadOnly};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    let _f: File<rights![Read, Write]> = dir.open_with("file.txt", &OpenOptions::new()).unwrap();
}
