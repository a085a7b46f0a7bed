use cap_core::net::Net;

#[cap_core::sandboxed(http = listen("127.0.0.1:0"))]
fn main(http: Net) {
    let _ = http;
}
