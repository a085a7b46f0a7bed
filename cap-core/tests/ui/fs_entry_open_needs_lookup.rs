use cap_core::{ambient_authority, fs::Dir, rights};

fn main() {
    let dir = Dir::<rights![Read]>::open_ambient_dir(".", ambient_authority()).unwrap();
    for entry in dir.entries().unwrap() {
        // Opening an entry is a lookup beneath the directory.
        let _ = entry.unwrap().open();
    }
}
