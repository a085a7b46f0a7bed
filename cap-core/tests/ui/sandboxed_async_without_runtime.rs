use cap_core::{fs::Dir, rights::ReadOnly};

#[cap_core::sandboxed(site = dir("."))]
async fn main(site: Dir<ReadOnly>) {
    let entries = async { site.entries().map(Iterator::count) };
    let _ = entries.await;
}
