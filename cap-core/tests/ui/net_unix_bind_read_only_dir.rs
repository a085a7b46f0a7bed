use cap_core::{fs::Dir, rights::ReadOnly};

fn listen(dir: &Dir<ReadOnly>) {
    let _ = dir.bind_unix_listener("app.sock");
}

fn main() {}
