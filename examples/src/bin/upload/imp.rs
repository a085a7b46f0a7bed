//! `upload`: an axum service that stores uploads in a write-only directory
//! and lists a read-only one (see `ambit_examples::upload`).
//!
//! ```text
//! cargo run -p ambit-examples --bin upload -- --inbox /tmp/inbox --shelf examples/site --addr 127.0.0.1:0
//! curl -T notes.txt http://127.0.0.1:PORT/upload/notes.txt
//! curl http://127.0.0.1:PORT/files
//! ```

use std::io::{self, Write};

use ambit_examples::upload::{Accept, Dirs, router};
use cap_core::fs::Dir;
use cap_core::net::TcpListener;
use cap_core::rights::{ReadOnly, WriteOnly};

#[cap_core::sandboxed(
    inbox = dir(arg = "--inbox"),
    shelf = dir(arg = "--shelf", default = "examples/site"),
    http = listen(arg = "--addr", default = "127.0.0.1:8081"),
    report,
)]
pub(crate) fn main(
    inbox: Dir<WriteOnly>,
    shelf: Dir<ReadOnly>,
    http: TcpListener,
) -> io::Result<()> {
    println!(
        "storing into {} and listing {} on http://{}/",
        inbox.origin().display(),
        shelf.origin().display(),
        http.local_addr()?
    );
    io::stdout().flush()?;
    // The runtime starts after the lock, so its threads inherit it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dirs = Dirs {
            inbox: inbox.into(),
            shelf: shelf.into(),
        };
        let listener = Accept(http.try_into()?);
        axum::serve(listener, router(dirs)).await
    })
}
