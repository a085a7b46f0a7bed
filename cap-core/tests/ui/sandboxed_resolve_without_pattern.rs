use cap_core::broker::Resolver;

#[cap_core::sandboxed(dns = resolve())]
fn main(dns: Resolver) {
    let _ = dns;
}
