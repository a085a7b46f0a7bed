//! A brokered open against a direct `openat` and against the floor, a bare
//! unix-socket round trip of the same size, in the same run.
//!
//! Run with `cargo bench -p cap-core --bench broker`.
//!
//! - `brokered_open`: `FileArgs::open("a.txt")` through a broker process
//!   (request frame, the broker's rights check and cap-std open beneath its
//!   root, the reply with the descriptor as `SCM_RIGHTS`), then close.
//! - `direct_openat`: `Dir::open("a.txt")` on the same directory held by
//!   this process (one `openat`), then close: what the open costs without a
//!   broker.
//! - `floor_round_trip`: the same number of bytes each way over a
//!   `SOCK_SEQPACKET` socketpair to another process (forked from this one
//!   the way the broker is, unsandboxed) that answers with one descriptor as
//!   `SCM_RIGHTS`, then close:
//!   the round trip with nothing done on the other side. Budget: the
//!   brokered open ≤ 1.5× this floor.
//! - `brokered_null`: a request the broker answers without a system call
//!   (the test probe, feature `broker-probe`): the protocol's and the
//!   broker's own cost, without the open.
//!
//! Where the processes run decides most of a round trip's time, so the
//! bench places them (`AMBIT_BENCH_CPUS`):
//!
//! - `same` (the default): this process, the broker and the echo peer all on
//!   CPU 0. Every wake-up hands the CPU over directly: the figures are the
//!   work of the two sides and the kernel between them.
//! - `split`: this process on CPU 0, the broker and the echo peer on CPU 1.
//!   Every call pays two wake-ups of an idle CPU (on a virtual machine, each
//!   a trip through the hypervisor), for the floor as for the broker.
//! - `free`: no placement; the scheduler decides per call, and the figures
//!   are a mix of the two above that changes with the order the benches run
//!   in (left as it is, the floor, run last, often gets the fast placement
//!   and the broker the slow one).
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use cap_core::ambient_authority;
use cap_core::broker::{Broker, FileArgs};
use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

struct Fixture {
    _tmp: tempfile::TempDir,
    inputs: FileArgs<ReadOnly>,
    dir: Dir<ReadOnly>,
    floor: OwnedFd,
    request_len: usize,
    reply_len: usize,
    broker: Broker,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// The echo peer: answers each message on `socket` with `reply_len` bytes
/// and one descriptor (`file`, duplicated by the kernel into the receiver),
/// until the socket closes.
fn echo(socket: &OwnedFd, file: &Dir<ReadOnly>, reply_len: usize) {
    let file = cap_core::process::Passable::pass_fd(file);
    let mut buf = vec![0u8; 65536];
    let reply = vec![7u8; reply_len];
    loop {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let got = rustix::net::recvmsg(
            socket.as_fd(),
            &mut [IoSliceMut::new(&mut buf)],
            &mut control,
            RecvFlags::empty(),
        );
        match got {
            Ok(m) if m.bytes > 0 => {}
            _ => return,
        }
        let fds = [file];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        control.push(SendAncillaryMessage::ScmRights(&fds));
        if rustix::net::sendmsg(
            socket.as_fd(),
            &[IoSlice::new(&reply)],
            &mut control,
            SendFlags::NOSIGNAL,
        )
        .is_err()
        {
            return;
        }
    }
}

/// Keeps `pid` (this process when `None`) on `cpu`.
fn pin(pid: Option<i32>, cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    let pid = pid.map(|p| rustix::process::Pid::from_raw(p).expect("a live child's pid"));
    rustix::thread::sched_setaffinity(pid, &set).expect("sched_setaffinity");
}

fn main() {
    let placement = std::env::var("AMBIT_BENCH_CPUS").unwrap_or_else(|_| "same".to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    match placement.as_str() {
        "same" => pin(None, 0),
        "split" | "free" => {}
        other => panic!("AMBIT_BENCH_CPUS={other:?}: expected same, split or free"),
    }
    let split = placement == "split";
    assert!(!split || cpus >= 2, "AMBIT_BENCH_CPUS=split needs two CPUs");
    eprintln!("broker bench: placement {placement} ({cpus} CPUs)");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.txt"), "alpha").unwrap();
    let a = ambient_authority();
    let root: Dir<ReadOnly> = Dir::open_ambient_dir(tmp.path(), a).unwrap();
    let dir: Dir<ReadOnly> = Dir::open_ambient_dir(tmp.path(), a).unwrap();
    // The broker first, while this process has one thread.
    let mut builder = Broker::builder();
    let inputs = builder.fileargs([root]);
    builder.probe();
    let broker = builder.spawn().unwrap();
    let inputs = broker.claim(inputs).unwrap();
    // The sizes of the brokered open's frames: header, then the request's
    // path, rights, flags and mode; the reply's rights and label.
    let request_len = 16 + 4 + "a.txt".len() + 4 + 1 + 4;
    let label = tmp.path().join("a.txt");
    let reply_len = 16 + 4 + 4 + label.as_os_str().len();
    let (floor, peer) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    // The echo peer, forked like the broker (and before it: one thread).
    match cap_runtime::linux::fork::fork_helper().unwrap() {
        cap_runtime::linux::fork::Forked::Child => {
            use std::os::fd::AsRawFd;
            let keep = [
                peer.as_raw_fd(),
                cap_core::process::Passable::pass_fd(&dir).as_raw_fd(),
            ];
            cap_runtime::linux::fork::close_all_except(&keep).unwrap();
            echo(&peer, &dir, reply_len);
            cap_runtime::linux::fork::exit_now(0);
        }
        cap_runtime::linux::fork::Forked::Parent(echo) => {
            drop(peer);
            if split {
                pin(Some(echo.pid), 1);
                pin(Some(broker.id()), 1);
                pin(None, 0);
            }
        }
    }
    let _ = FIXTURE.set(Fixture {
        _tmp: tmp,
        inputs,
        dir,
        floor,
        request_len,
        reply_len,
        broker,
    });
    divan::main();
}

fn fixture() -> &'static Fixture {
    FIXTURE.get().unwrap()
}

#[divan::bench(sample_count = 2000)]
fn brokered_open() {
    let file = fixture().inputs.open("a.txt").unwrap();
    drop(divan::black_box(file));
}

#[divan::bench(sample_count = 2000)]
fn direct_openat() {
    let file = fixture().dir.open("a.txt").unwrap();
    drop(divan::black_box(file));
}

#[divan::bench(sample_count = 2000)]
fn floor_round_trip() {
    let f = fixture();
    let request = [1u8; 64];
    rustix::net::sendmsg(
        f.floor.as_fd(),
        &[IoSlice::new(&request[..f.request_len])],
        &mut SendAncillaryBuffer::default(),
        SendFlags::NOSIGNAL,
    )
    .unwrap();
    let mut buf = [0u8; 4096];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = rustix::net::recvmsg(
        f.floor.as_fd(),
        &mut [IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .unwrap();
    assert_eq!(got.bytes, f.reply_len);
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = m {
            for fd in fds {
                drop(divan::black_box(fd));
            }
        }
    }
}

/// A request the broker answers without a system call (the test probe's
/// zero-millisecond sleep): the protocol and the broker's sandbox without
/// the open.
#[divan::bench(sample_count = 2000)]
fn brokered_null() {
    let body = [0u8; 4];
    let reply = fixture()
        .broker
        .raw_call(2, cap_core::broker::ProbeOp::Sleep as u8, &body)
        .unwrap();
    divan::black_box(reply);
}
