use cap_core::{ambient_authority, fs::Dir, rights};

fn main() {
    let dir = Dir::<rights![Lookup, Create, Write]>::open_ambient_dir(".", ambient_authority()).unwrap();
    // `create` truncates an existing file, so it needs `Truncate` too.
    dir.create("out.txt").unwrap();
}
