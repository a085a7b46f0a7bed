use cap_core::{ambient_authority, fs::Dir, rights, rights::ReadOnly};

fn main() {
    let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
    let sub = dir.open_dir("sub").unwrap();
    // A child has its parent's rights, never more.
    let _w = sub.narrow::<rights![Lookup, Read, Write]>();
}
