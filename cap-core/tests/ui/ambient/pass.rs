// `#[cap_core::ambient(reason = "…")]` compiles to the item unchanged, on a
// function, an impl block, an inline module and a trait.
#[cap_core::ambient(reason = "reads the config before the sandbox is entered")]
fn load() -> std::io::Result<String> {
    std::fs::read_to_string("/etc/hostname")
}

struct Loader;

#[cap_core::ambient(reason = "the loader pre-opens")]
impl Loader {
    fn open(&self) -> bool {
        std::path::Path::new("/").exists()
    }
}

#[cap_core::ambient(reason = "start-up code")]
mod startup {
    pub fn cwd() -> std::io::Result<std::path::PathBuf> {
        std::env::current_dir()
    }
}

use cap_core::ambient;

#[ambient(reason = "imported by name")]
fn imported() -> bool {
    Loader.open()
}

fn main() {
    let _ = load();
    let _ = startup::cwd();
    let _ = imported();
}
