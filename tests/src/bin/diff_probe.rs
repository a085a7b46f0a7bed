//! The runner of the model-based differential tester
//! (`tests/tests/differential.rs`): enters one policy and performs every
//! operation of the fixed list, printing what the kernel answered.
//!
//! `diff_probe <root> <connect-port> <bind-port> <other-port> <tcp-connect 0|1>
//! <tcp-bind 0|1> <held-unix 0|1> [<dir-index>:<rights-bits>]...`
//!
//! `<root>` holds `d0`, `d1`, `d2` (each a handle when listed) and `out` (never
//! one; `out/dsock` is a unix datagram socket). Prints `REPORT <json>` after entering, then `OP <name> ok` or
//! `OP <name> errno <n>` per operation, in the order of [`OPERATIONS`].

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use ambit_tests::differential::{FS_OPS, NET_OPS, TARGETS};
    use cap_runtime::{InheritedFds, Mode, NetGrant, Options, Policy, Rights};

    fn io<T>(r: std::io::Result<T>) -> Result<(), i32> {
        r.map(drop).map_err(|e| e.raw_os_error().unwrap_or(-1))
    }

    fn fs_op(op: &str, t: &Path) -> Result<(), i32> {
        match op {
            "read" => io(
                fs::File::open(t.join("f.txt")).and_then(|mut f| f.read_to_end(&mut Vec::new()))
            ),
            "write" => io(fs::OpenOptions::new().write(true).open(t.join("w.txt"))),
            "truncate" => io(fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(t.join("t.txt"))),
            "create" => io(fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(t.join("new.txt"))),
            "mkdir" => io(fs::create_dir(t.join("newdir"))),
            "remove" => io(fs::remove_file(t.join("r.txt"))),
            "rename" => io(fs::rename(t.join("m.txt"), t.join("m2.txt"))),
            "link" => io(fs::hard_link(t.join("f.txt"), t.join("l.txt"))),
            "symlink" => io(std::os::unix::fs::symlink("f.txt", t.join("s.txt"))),
            "chmod" => io(fs::set_permissions(
                t.join("c.txt"),
                fs::Permissions::from_mode(0o600),
            )),
            "readdir" => io(fs::read_dir(t.join("sub"))),
            "stat" => io(fs::metadata(t.join("f.txt"))),
            "exec" => match std::process::Command::new(t.join("tiny")).status() {
                Ok(s) if s.code() == Some(42) => Ok(()),
                Ok(_) => Err(-1),
                Err(e) => Err(e.raw_os_error().unwrap_or(-1)),
            },
            "opath" => io(rustix::fs::open(
                t.join("f.txt"),
                rustix::fs::OFlags::PATH,
                rustix::fs::Mode::empty(),
            )
            .map_err(std::io::Error::from)),
            // A set-uid file, made with the raw call (the types refuse the
            // mode without SetMeta; the kernel does not look at it).
            "create_setuid" => io(rustix::fs::open(
                t.join("suid"),
                rustix::fs::OFlags::CREATE | rustix::fs::OFlags::EXCL | rustix::fs::OFlags::WRONLY,
                rustix::fs::Mode::from_raw_mode(0o4755),
            )
            .map_err(std::io::Error::from)),
            other => panic!("unknown operation {other}"),
        }
    }

    pub(crate) fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let root = Path::new(&args[0]);
        let port = |i: usize| args[i].parse::<u16>().expect("port");
        let (connect_port, bind_port, other_port) = (port(1), port(2), port(3));
        let (tcp_connect, tcp_bind) = (args[4] == "1", args[5] == "1");
        let held_unix = (args[6] == "1")
            .then(|| std::os::unix::net::UnixDatagram::unbound().expect("unbound socket"));
        let mut held = Vec::new();
        for spec in &args[7..] {
            let (i, bits) = spec.split_once(':').expect("index:bits");
            let i: usize = i.parse().expect("index");
            let rights = Rights::from_bits_truncate(bits.parse().expect("bits"));
            let dir = fs::File::open(root.join(TARGETS[i])).expect("open handle dir");
            held.push((i, dir, rights));
        }
        let mut policy = Policy::new();
        for (i, dir, rights) in &held {
            policy.dir(dir.as_fd(), *rights, &root.join(TARGETS[*i]));
        }
        if let Some(sock) = &held_unix {
            policy.socket(
                sock.as_fd(),
                cap_runtime::SocketKind::UnixDatagram,
                Rights::SEND | Rights::RECV,
                "held unix datagram",
            );
        }
        if tcp_connect || tcp_bind {
            policy.net(NetGrant {
                label: "differential".into(),
                tcp_connect_ports: if tcp_connect {
                    vec![connect_port]
                } else {
                    vec![]
                },
                tcp_bind_ports: if tcp_bind { vec![bind_port] } else { vec![] },
                ..NetGrant::default()
            });
        }
        let options = Options {
            mode: Mode::Strict,
            inherited_fds: InheritedFds::Close,
            assume_landlock_abi: None,
        };
        match cap_runtime::enter_with(&policy, &options) {
            Ok(report) => println!("REPORT {}", report.to_json().replace('\n', " ")),
            Err(e) => {
                println!("ENTER-FAILED {e}");
                std::process::exit(3);
            }
        }
        let print = |name: &str, r: Result<(), i32>| match r {
            Ok(()) => println!("OP {name} ok"),
            Err(e) => println!("OP {name} errno {e}"),
        };
        for target in TARGETS {
            for op in FS_OPS {
                print(&format!("{op}:{target}"), fs_op(op, &root.join(target)));
            }
        }
        for op in NET_OPS {
            let r = match *op {
                "connect_granted" => io(TcpStream::connect(("127.0.0.1", connect_port))),
                "connect_other" => io(TcpStream::connect(("127.0.0.1", other_port))),
                "bind_granted" => io(TcpListener::bind(("127.0.0.1", bind_port))),
                "bind_other" => io(TcpListener::bind(("127.0.0.1", 0))),
                "unix_connect_held" => match &held_unix {
                    Some(sock) => io(sock.connect(root.join("out/dsock"))),
                    // Nothing held: a new unix socket is the attempt.
                    None => io(std::os::unix::net::UnixDatagram::unbound()
                        .and_then(|s| s.connect(root.join("out/dsock")))),
                },
                "signal_parent" => {
                    let ppid = rustix::process::getppid().expect("a parent");
                    io(rustix::process::test_kill_process(ppid).map_err(std::io::Error::from))
                }
                other => panic!("unknown operation {other}"),
            };
            print(op, r);
        }
    }
}
