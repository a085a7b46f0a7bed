//! The seccomp allowlist: pledge-style syscall groups chosen from the handles
//! held, assembled into a classic BPF program for the architecture.
//!
//! Layout of the program: kill on a foreign architecture; kill on the x32 bit
//! (x86_64); a decision tree over ranges of syscall numbers (one `jge` per
//! node) whose leaves return ALLOW for the plainly allowed ones (argument-free,
//! so the kernel's constant-action cache skips the filter for them entirely),
//! `ENOSYS` for `clone3`, `EPERM` for everything else, or jump to a small
//! argument-checking block. Arguments are checked only where the policy needs
//! it: `socket`, `socketpair`, `clone`, `prlimit64`, `sched_setaffinity`,
//! `ioctl`, `prctl`, `fcntl` (no leases) always; `sendto`, `sendmsg`,
//! `sendmmsg` (no `MSG_FASTOPEN`) only when the policy can connect sockets;
//! `fallocate` (no shrinking or punching modes) only when no handle has
//! `Truncate`; `seccomp` (a child's own filter) only with `Exec`.
//!
//! [`tables`] has the groups by name and each architecture's numbers;
//! [`bpf`] the assembler, the tree and the interpreter the tests run the
//! program in, for every architecture on any host.

pub(crate) mod bpf;
pub mod tables;

use bpf::{Asm, Leaf, To};
pub use tables::Arch;
#[cfg(test)]
use tables::{ACCEPT, BASELINE, ENOSYS, EXEC, FS, LISTEN, SETMETA, SOCKETS, Table, UNMODIFIED};
use tables::{
    ACCEPT_NR, BASELINE_NR, CHECKED_NR, ENOSYS_NR, EXEC_NR, FS_NR, LISTEN_NR, Numbers, SETMETA_NR,
    SOCKETS_NR, UNMODIFIED_NR,
};

use super::sys::SockFilter;

/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_ERRNO`.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// `__X32_SYSCALL_BIT`: syscalls of the x32 ABI carry it.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Offset of the low 32 bits of argument `i` in `struct seccomp_data`
/// (little-endian, as every architecture with a table is).
const fn off_arg(i: u32) -> u32 {
    16 + 8 * i
}

/// A group of syscalls, allowed together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Memory, time, signals, threads, I/O on held descriptors.
    Baseline,
    /// Path operations (Landlock decides which paths).
    Fs,
    /// chmod, chown, utimes, xattr writes: only when a handle has `SetMeta`.
    SetMeta,
    /// TCP (and UDP with a grant) sockets.
    Inet,
    /// Unix-domain sockets.
    Unix,
    /// `listen`: only with TCP bind ports or unix sockets.
    Listen,
    /// `accept`, `accept4`: a held listener with `Accept`, or a grant that
    /// makes listeners.
    Accept,
    /// execve, execveat, pidfds, and a child's own lock: only when a handle
    /// has `Exec`.
    Exec,
    /// Timers, process groups and sessions, terminal attributes: only for a
    /// program that was not written against ambit
    /// ([`crate::Policy::unmodified_program`]).
    Unmodified,
}

impl Group {
    /// Its plainly allowed syscalls, with their numbers.
    fn numbers(self) -> &'static Numbers {
        match self {
            Group::Baseline => &BASELINE_NR,
            Group::Fs => &FS_NR,
            Group::SetMeta => &SETMETA_NR,
            Group::Inet | Group::Unix => &SOCKETS_NR,
            Group::Listen => &LISTEN_NR,
            Group::Accept => &ACCEPT_NR,
            Group::Exec => &EXEC_NR,
            Group::Unmodified => &UNMODIFIED_NR,
        }
    }

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Group::Baseline => "baseline",
            Group::Fs => "fs",
            Group::SetMeta => "setmeta",
            Group::Inet => "inet",
            Group::Unix => "unix",
            Group::Listen => "listen",
            Group::Accept => "accept",
            Group::Exec => "exec",
            Group::Unmodified => "unmodified",
        }
    }

    /// Its plainly allowed syscalls.
    #[cfg(test)]
    fn table(self) -> Table {
        match self {
            Group::Baseline => BASELINE,
            Group::Fs => FS,
            Group::SetMeta => SETMETA,
            Group::Inet | Group::Unix => SOCKETS,
            Group::Listen => LISTEN,
            Group::Accept => ACCEPT,
            Group::Exec => EXEC,
            Group::Unmodified => UNMODIFIED,
        }
    }
}

pub use super::Needs;

/// The groups `needs` selects, in order.
pub fn groups(needs: Needs) -> Vec<Group> {
    let mut groups = vec![Group::Baseline];
    if needs.fs {
        groups.push(Group::Fs);
    }
    if needs.set_meta {
        groups.push(Group::SetMeta);
    }
    if needs.inet || needs.udp {
        groups.push(Group::Inet);
    }
    if needs.unix {
        groups.push(Group::Unix);
    }
    if needs.tcp_bind || needs.unix {
        groups.push(Group::Listen);
    }
    if needs.accept {
        groups.push(Group::Accept);
    }
    if needs.exec {
        groups.push(Group::Exec);
    }
    if needs.unmodified {
        groups.push(Group::Unmodified);
    }
    groups
}

/// A seccomp program and what it allows.
#[derive(Clone, Debug)]
pub struct Filter {
    /// The architecture the program is for.
    pub arch: Arch,
    /// The BPF instructions.
    pub(crate) program: Vec<SockFilter>,
    /// The groups allowed.
    pub groups: Vec<Group>,
    /// The syscalls allowed (plainly or with checked arguments), by name.
    pub allowed: Vec<&'static str>,
}

impl Filter {
    /// The program's length in instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Whether the program is empty (never, for a built filter).
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// The program's verdict (`SECCOMP_RET_*`) for syscall number `nr` of
    /// audit arch `arch` with `args`, computed by the classic-BPF
    /// interpreter; `RET_KILL_PROCESS` for a program the kernel would reject.
    #[cfg(any(test, feature = "probe"))]
    pub fn verdict_raw(&self, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        bpf::run(&self.program, arch, nr, args).unwrap_or(RET_KILL_PROCESS)
    }

    /// The verdict for syscall `name` of this filter's architecture, `None`
    /// if the architecture has no such syscall.
    #[cfg(any(test, feature = "probe"))]
    pub fn verdict(&self, name: &str, args: [u64; 6]) -> Option<u32> {
        let nr = self.arch.number(name)?;
        Some(self.verdict_raw(self.arch.audit(), nr, args))
    }
}

fn errno(e: i32) -> u32 {
    RET_ERRNO | (u32::try_from(e).expect("errno is positive") & 0xffff)
}

// Argument values are C ints; the filter compares their low 32 bits.
#[allow(clippy::cast_sign_loss)]
fn k(v: libc::c_int) -> u32 {
    v as u32
}

/// The `ioctl` requests every program may make on descriptors it holds
/// (terminal queries, non-blocking and close-on-exec flags). The values are
/// the asm-generic ones, the same on x86_64, aarch64 and riscv64.
#[allow(clippy::cast_possible_truncation)]
const IOCTLS: [u32; 7] = [
    libc::TCGETS as u32,
    libc::TIOCGWINSZ as u32,
    libc::TIOCGPGRP as u32,
    libc::FIONREAD as u32,
    libc::FIONBIO as u32,
    libc::FIOCLEX as u32,
    libc::FIONCLEX as u32,
];

/// The `prctl` options every program may use: names, and reading its own state.
#[allow(clippy::cast_sign_loss)]
const PRCTLS: [u32; 10] = [
    libc::PR_SET_NAME as u32,
    libc::PR_GET_NAME as u32,
    libc::PR_GET_NO_NEW_PRIVS as u32,
    libc::PR_GET_SECCOMP as u32,
    libc::PR_CAPBSET_READ as u32,
    libc::PR_GET_SECUREBITS as u32,
    libc::PR_GET_DUMPABLE as u32,
    libc::PR_SET_PDEATHSIG as u32,
    libc::PR_GET_PDEATHSIG as u32,
    0x5356_4d41, // PR_SET_VMA (naming anonymous mappings)
];

/// The `prctl` options a child makes to lock itself before exec (only with
/// an `Exec` handle): no_new_privs and dropping capabilities.
#[allow(clippy::cast_sign_loss)]
/// The `ioctl` requests a program that was not written against ambit may
/// also make ([`Group::Unmodified`]): setting terminal attributes
/// (`tcsetattr`: `less`, `read -s`) and the terminal's foreground process
/// group (job control). `TIOCSTI` (typing into the terminal) stays refused.
#[allow(clippy::cast_possible_truncation)]
const IOCTLS_UNMODIFIED: [u32; 4] = [
    libc::TCSETS as u32,
    libc::TCSETSW as u32,
    libc::TCSETSF as u32,
    libc::TIOCSPGRP as u32,
];

const PRCTLS_EXEC: [u32; 4] = [
    libc::PR_SET_NO_NEW_PRIVS as u32,
    libc::PR_CAPBSET_DROP as u32,
    libc::PR_SET_SECUREBITS as u32,
    libc::PR_CAP_AMBIENT as u32,
];

/// `clone` flags that make namespaces: never allowed.
#[allow(clippy::cast_sign_loss)]
const CLONE_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// `fallocate` mode bits allowed without `Truncate`: plain allocation, which
/// neither shrinks nor discards data. Every other bit (`PUNCH_HOLE`,
/// `COLLAPSE_RANGE`, `ZERO_RANGE`, `INSERT_RANGE`, `UNSHARE_RANGE`,
/// `NO_HIDE_STALE`, `WRITE_ZEROES` and any later one) is refused.
#[allow(clippy::cast_sign_loss)]
const FALLOC_PLAIN: u32 = libc::FALLOC_FL_KEEP_SIZE as u32;

type Block = Box<dyn Fn(&mut Asm)>;

/// Builds the filter for `needs` on the architecture this is compiled for.
pub fn build(needs: Needs) -> Result<Filter, &'static str> {
    build_for(
        needs,
        Arch::native().ok_or("no syscall table for this architecture")?,
    )
}

/// [`build`], remembered per set of needs: a program depends on nothing but
/// its needs and the architecture, so a parent that spawns children with the
/// same kinds of handles (or enters and then spawns) assembles each program
/// once. The returned filter is a copy of the first one built.
pub fn build_cached(needs: Needs) -> Result<Filter, &'static str> {
    /// At most this many programs are kept (there are 2^9 sets of needs; a
    /// program uses a few handle kinds).
    const KEPT: usize = 16;
    static BUILT: std::sync::Mutex<Vec<(Needs, Filter)>> = std::sync::Mutex::new(Vec::new());
    let lock = || {
        BUILT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some((_, f)) = lock().iter().find(|(n, _)| *n == needs) {
        return Ok(f.clone());
    }
    let filter = build(needs)?;
    let mut built = lock();
    if built.len() < KEPT && !built.iter().any(|(n, _)| *n == needs) {
        built.push((needs, filter.clone()));
    }
    Ok(filter)
}

/// Builds the filter for `needs` on `arch`.
pub fn build_for(needs: Needs, arch: Arch) -> Result<Filter, &'static str> {
    let groups = groups(needs);
    let eperm = errno(libc::EPERM);
    // A socket that can be connected (a new one, or a held TCP socket
    // disconnected with `connect(AF_UNSPEC)`) could connect with
    // MSG_FASTOPEN inside sendto/sendmsg, where Landlock's connect hook is
    // not called. Without connect, the sends need no check.
    let fast_open_check = needs.inet || needs.udp || needs.unix;

    let mut plain: Vec<(&'static str, u32)> = Vec::new();
    for group in &groups {
        plain.extend(group.numbers().on(arch));
    }
    let checked = |name: &'static str| CHECKED_NR.of(arch, name).map(|nr| (name, nr));
    if !fast_open_check {
        plain.extend(
            ["sendto", "sendmsg", "sendmmsg"]
                .into_iter()
                .filter_map(checked),
        );
    }
    if needs.fs && needs.truncate {
        plain.extend(checked("fallocate"));
    }

    // Syscalls whose arguments are checked: each gets a block of its own,
    // reached from the dispatch tree. Every block ends in a return.
    let mut blocks: Vec<(&'static str, Block)> = Vec::new();
    if needs.inet || needs.udp || needs.unix {
        // socket(domain, type, protocol): by family, type and protocol.
        blocks.push((
            "socket",
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(0));
                if needs.unix {
                    asm.ret_if_eq(k(libc::AF_UNIX), RET_ALLOW);
                }
                if needs.inet || needs.udp {
                    let inet = asm.label();
                    let deny = asm.label();
                    asm.jeq(k(libc::AF_INET), To::Label(inet), To::Next);
                    asm.jeq(k(libc::AF_INET6), To::Label(inet), To::Label(deny));
                    asm.place(inet);
                    asm.ld(off_arg(1));
                    asm.and(0xf); // SOCK_TYPE_MASK: without SOCK_NONBLOCK / SOCK_CLOEXEC
                    if needs.inet {
                        let not_stream = asm.label();
                        asm.jeq(k(libc::SOCK_STREAM), To::Next, To::Label(not_stream));
                        asm.ld(off_arg(2));
                        asm.ret_if_eq(0, RET_ALLOW);
                        asm.ret_if_eq(k(libc::IPPROTO_TCP), RET_ALLOW);
                        asm.ret(eperm);
                        asm.place(not_stream);
                    }
                    if needs.udp {
                        let not_dgram = asm.label();
                        asm.jeq(k(libc::SOCK_DGRAM), To::Next, To::Label(not_dgram));
                        asm.ld(off_arg(2));
                        asm.ret_if_eq(0, RET_ALLOW);
                        asm.ret_if_eq(k(libc::IPPROTO_UDP), RET_ALLOW);
                        asm.ret(eperm);
                        asm.place(not_dgram);
                    }
                    asm.place(deny);
                }
                asm.ret(eperm);
            }),
        ));
    }
    // socketpair: unix only. Without unix needs, stream and seqpacket only:
    // an unconnected datagram socket could `sendto` any pathname socket (and
    // pass held descriptors out with SCM_RIGHTS).
    blocks.push((
        "socketpair",
        Box::new(move |asm: &mut Asm| {
            asm.ld(off_arg(0));
            let unix = asm.label();
            asm.jeq(k(libc::AF_UNIX), To::Label(unix), To::Next);
            asm.ret(eperm);
            asm.place(unix);
            if !needs.unix {
                asm.ld(off_arg(1));
                asm.and(0xf); // SOCK_TYPE_MASK: without SOCK_NONBLOCK / SOCK_CLOEXEC
                asm.ret_if_eq(k(libc::SOCK_STREAM), RET_ALLOW);
                asm.ret_if_eq(k(libc::SOCK_SEQPACKET), RET_ALLOW);
                asm.ret(eperm);
            }
            asm.ret(RET_ALLOW);
        }),
    ));
    // sendto, sendmsg, sendmmsg: never with MSG_FASTOPEN when a socket can
    // be connected (see `fast_open_check`).
    if fast_open_check {
        for (name, arg) in [("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3)] {
            blocks.push((
                name,
                Box::new(move |asm: &mut Asm| {
                    asm.ld(off_arg(arg));
                    asm.ret_if_any(k(libc::MSG_FASTOPEN), eperm);
                    asm.ret(RET_ALLOW);
                }),
            ));
        }
    }
    // fallocate without Truncate: plain allocation only. Landlock does not
    // check fallocate, and its other modes shrink (COLLAPSE_RANGE) or
    // discard (PUNCH_HOLE, ZERO_RANGE) data through a descriptor opened for
    // writing.
    if needs.fs && !needs.truncate {
        blocks.push((
            "fallocate",
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(1));
                asm.ret_if_any(!FALLOC_PLAIN, eperm);
                asm.ret(RET_ALLOW);
            }),
        ));
    }
    // fcntl: every command but F_SETLEASE, whose lease makes any other
    // process opening the file for writing (or truncating it) wait for the
    // lease-break time. (F_NOTIFY and F_SETOWN only send signals to the
    // descriptor's owner; signals to processes outside are Landlock's signal
    // scope, as for kill.)
    blocks.push((
        "fcntl",
        Box::new(move |asm: &mut Asm| {
            asm.ld(off_arg(1));
            asm.ret_if_eq(k(libc::F_SETLEASE), eperm);
            asm.ret(RET_ALLOW);
        }),
    ));
    // clone: threads and processes, never new namespaces.
    blocks.push((
        "clone",
        Box::new(move |asm: &mut Asm| {
            asm.ld(off_arg(0));
            asm.ret_if_any(CLONE_NAMESPACES, eperm);
            asm.ret(RET_ALLOW);
        }),
    ));
    // prlimit64 and sched_setaffinity: on this process only (pid 0). Other
    // processes of the same user would otherwise be reachable: lowering a
    // parent's limits is an effect outside the sandbox that no scope covers.
    for name in ["prlimit64", "sched_setaffinity"] {
        blocks.push((
            name,
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(0));
                asm.ret_if_eq(0, RET_ALLOW);
                asm.ret(eperm);
            }),
        ));
    }
    // ioctl and prctl: a short list of requests (prctl: more with Exec, for
    // the child's own lock).
    let prctls: Vec<u32> = if needs.exec {
        PRCTLS.iter().chain(&PRCTLS_EXEC).copied().collect()
    } else {
        PRCTLS.to_vec()
    };
    let ioctls: Vec<u32> = if needs.unmodified {
        IOCTLS.iter().chain(&IOCTLS_UNMODIFIED).copied().collect()
    } else {
        IOCTLS.to_vec()
    };
    for (name, arg, values) in [("ioctl", 1, ioctls), ("prctl", 0, prctls)] {
        blocks.push((
            name,
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(arg));
                for v in &values {
                    asm.ret_if_eq(*v, RET_ALLOW);
                }
                asm.ret(eperm);
            }),
        ));
    }
    // seccomp: with Exec, a child installs its own filter (and nothing else:
    // no GET_NOTIF_SIZES, no mode strict).
    if needs.exec {
        blocks.push((
            "seccomp",
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(0));
                asm.ret_if_eq(libc::SECCOMP_SET_MODE_FILTER, RET_ALLOW);
                asm.ret(eperm);
            }),
        ));
    }

    // The dispatch: every number this architecture has for the names above.
    let mut asm = Asm::new();
    // (The same group table can come twice: inet and unix share one.)
    plain.sort_unstable_by_key(|(_, nr)| *nr);
    plain.dedup_by_key(|(_, nr)| *nr);
    let mut allowed: Vec<&'static str> = plain.iter().map(|(name, _)| *name).collect();
    let mut dispatch: Vec<(u32, Leaf)> = plain
        .iter()
        .map(|(_, nr)| (*nr, Leaf::Ret(RET_ALLOW)))
        .collect();
    let mut placed: Vec<(usize, Block)> = Vec::new();
    for (name, block) in blocks {
        if let Some(nr) = CHECKED_NR.of(arch, name) {
            let label = asm.label();
            allowed.push(name);
            dispatch.push((nr, Leaf::Jump(label)));
            placed.push((label, block));
        }
    }
    for (_, nr) in ENOSYS_NR.on(arch) {
        dispatch.push((nr, Leaf::Ret(errno(libc::ENOSYS))));
    }
    dispatch.sort_unstable_by_key(|(nr, _)| *nr);
    if dispatch.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("a syscall number is listed twice");
    }

    // Architecture: anything but ours is killed (a foreign ABI has other numbers).
    asm.ld(OFF_ARCH);
    asm.jeq(arch.audit(), To::Skip1, To::Next);
    asm.ret(RET_KILL_PROCESS);
    asm.ld(OFF_NR);
    if arch == Arch::X86_64 {
        asm.ret_if_any(X32_SYSCALL_BIT, RET_KILL_PROCESS);
    }
    asm.tree(&ranges(&dispatch, eperm));
    asm.pool_here(false);
    for (label, block) in placed {
        asm.place(label);
        block(&mut asm);
        asm.pool_here(false);
    }
    asm.pool_here(true);
    Ok(Filter {
        arch,
        program: asm.finish()?,
        groups,
        allowed,
    })
}

/// The ranges of syscall numbers with one outcome each: `dispatch` (sorted,
/// distinct numbers) with `default` in every gap, neighbours with the same
/// return merged. Jumps to blocks stay single numbers.
fn ranges(dispatch: &[(u32, Leaf)], default: u32) -> Vec<(u32, Leaf)> {
    fn push(out: &mut Vec<(u32, Leaf)>, start: u32, leaf: Leaf) {
        match out.last_mut() {
            Some((s, l)) if *s == start => *l = leaf,
            Some((_, l)) if *l == leaf && matches!(leaf, Leaf::Ret(_)) => {}
            _ => out.push((start, leaf)),
        }
    }
    let mut out: Vec<(u32, Leaf)> = Vec::new();
    push(&mut out, 0, Leaf::Ret(default));
    let mut next = 0u32;
    for &(nr, leaf) in dispatch {
        if nr > next {
            push(&mut out, next, Leaf::Ret(default));
        }
        push(&mut out, nr, leaf);
        next = nr.saturating_add(1);
    }
    push(&mut out, next, Leaf::Ret(default));
    out
}

#[cfg(test)]
mod tests {
    use super::tables::{ALL_TABLES, EXEC_ONLY, NEVER};
    use super::*;

    const EVERYTHING: Needs = Needs {
        fs: true,
        set_meta: true,
        truncate: true,
        inet: true,
        tcp_bind: true,
        udp: true,
        unix: true,
        accept: true,
        exec: true,
        unmodified: true,
    };

    fn fs() -> Needs {
        Needs {
            fs: true,
            ..Needs::default()
        }
    }

    /// The filter for `needs` on every architecture.
    fn filters(needs: Needs) -> Vec<Filter> {
        Arch::ALL
            .into_iter()
            .map(|a| build_for(needs, a).unwrap())
            .collect()
    }

    fn v(f: &Filter, name: &str, args: [u64; 6]) -> u32 {
        f.verdict(name, args)
            .unwrap_or_else(|| panic!("{name} does not exist on {:?}", f.arch))
    }

    fn u(v: libc::c_int) -> u64 {
        u64::try_from(v).unwrap()
    }

    fn eperm() -> u32 {
        errno(libc::EPERM)
    }

    #[test]
    fn only_an_unmodified_program_gets_timers_process_groups_and_terminal_ioctls() {
        let typed = fs();
        let unmodified = Needs {
            unmodified: true,
            ..fs()
        };
        for (without, with) in filters(typed).iter().zip(filters(unmodified)) {
            assert!(!without.groups.contains(&Group::Unmodified));
            assert!(with.groups.contains(&Group::Unmodified));
            for name in UNMODIFIED {
                if with.arch.number(name).is_none() {
                    continue;
                }
                assert_eq!(v(without, name, [0; 6]), errno(libc::EPERM), "{name}");
                assert_eq!(v(&with, name, [0; 6]), RET_ALLOW, "{name}");
            }
            // (`Ioctl` is not u64 on every target.)
            #[allow(clippy::cast_possible_truncation, clippy::unnecessary_cast)]
            for (req, allowed) in [
                (libc::TCSETS as u64, true),
                (libc::TIOCSPGRP as u64, true),
                (libc::TIOCSTI as u64, false),
            ] {
                assert_eq!(
                    v(without, "ioctl", [0, req, 0, 0, 0, 0]),
                    errno(libc::EPERM)
                );
                let want = if allowed {
                    RET_ALLOW
                } else {
                    errno(libc::EPERM)
                };
                assert_eq!(v(&with, "ioctl", [0, req, 0, 0, 0, 0]), want, "{req:#x}");
            }
            // Never widened by it: the NEVER table stays refused.
            for name in NEVER {
                if let Some(verdict) = with.verdict(name, [0; 6]) {
                    assert_ne!(verdict, RET_ALLOW, "{name}");
                }
            }
        }
    }

    #[test]
    fn every_name_is_a_syscall_somewhere() {
        for table in ALL_TABLES {
            for name in table {
                assert!(
                    Arch::ALL.iter().any(|a| a.number(name).is_some()),
                    "{name} is no syscall on any architecture (a typo?)"
                );
            }
        }
    }

    #[test]
    fn compile_time_numbers_agree_with_the_crate() {
        for (table, numbers) in [
            (BASELINE, &tables::BASELINE_NR),
            (FS, &tables::FS_NR),
            (SETMETA, &tables::SETMETA_NR),
            (SOCKETS, &tables::SOCKETS_NR),
            (ACCEPT, &tables::ACCEPT_NR),
            (LISTEN, &tables::LISTEN_NR),
            (EXEC, &tables::EXEC_NR),
            (ENOSYS, &tables::ENOSYS_NR),
            (UNMODIFIED, &tables::UNMODIFIED_NR),
            (tables::CHECKED, &tables::CHECKED_NR),
        ] {
            for arch in Arch::ALL {
                let want: Vec<(&str, u32)> = table
                    .iter()
                    .filter_map(|n| arch.number(n).map(|nr| (*n, nr)))
                    .collect();
                assert_eq!(numbers.on(arch).collect::<Vec<_>>(), want, "{arch:?}");
            }
        }
    }

    #[test]
    fn every_arch_has_the_at_forms_and_the_basics() {
        for arch in Arch::ALL {
            for name in [
                "read",
                "write",
                "close",
                "openat",
                "fstat",
                "statx",
                "getdents64",
                "mkdirat",
                "unlinkat",
                "renameat2",
                "linkat",
                "symlinkat",
                "readlinkat",
                "faccessat",
                "fchmodat",
                "execveat",
                "ppoll",
                "pipe2",
                "epoll_pwait",
                "eventfd2",
                "dup3",
                "clone",
                "exit_group",
                "rt_sigreturn",
                "futex",
                "mmap",
                "accept4",
                "sendmsg",
                "recvmsg",
                "sendfile",
                "fallocate",
                "fcntl",
                "ioctl",
                "prctl",
            ] {
                assert!(arch.number(name).is_some(), "{name} on {arch:?}");
            }
            let f = build_for(EVERYTHING, arch).unwrap();
            let stat = ["newfstatat", "fstatat"];
            assert!(
                stat.iter().any(|n| f.verdict(n, [0; 6]) == Some(RET_ALLOW)),
                "fstatat on {arch:?}"
            );
        }
    }

    /// The crate's numbers for the host agree with libc's `SYS_*` constants.
    #[test]
    fn host_numbers_agree_with_libc() {
        let Some(arch) = Arch::native() else { return };
        macro_rules! same {
            ($($name:ident),*) => {$(
                assert_eq!(
                    arch.number(stringify!($name)).map(i64::from),
                    Some(i64::from(paste_sys!($name))),
                    stringify!($name)
                );
            )*};
        }
        macro_rules! paste_sys {
            (read) => {
                libc::SYS_read
            };
            (openat) => {
                libc::SYS_openat
            };
            (execveat) => {
                libc::SYS_execveat
            };
            (accept4) => {
                libc::SYS_accept4
            };
            (sendmsg) => {
                libc::SYS_sendmsg
            };
            (fallocate) => {
                libc::SYS_fallocate
            };
            (fcntl) => {
                libc::SYS_fcntl
            };
            (clone3) => {
                libc::SYS_clone3
            };
            (landlock_restrict_self) => {
                libc::SYS_landlock_restrict_self
            };
            (io_uring_setup) => {
                libc::SYS_io_uring_setup
            };
            (seccomp) => {
                libc::SYS_seccomp
            };
            (pidfd_open) => {
                libc::SYS_pidfd_open
            };
        }
        same!(
            read,
            openat,
            execveat,
            accept4,
            sendmsg,
            fallocate,
            fcntl,
            clone3,
            landlock_restrict_self,
            io_uring_setup,
            seccomp,
            pidfd_open
        );
        assert_eq!(
            arch.audit(),
            match arch {
                Arch::X86_64 => 0xc000_003e,
                Arch::Aarch64 => 0xc000_00b7,
                Arch::Riscv64 => 0xc000_00f3,
            },
            "AUDIT_ARCH_* of linux/audit.h"
        );
    }

    #[test]
    fn never_list_is_never_allowed() {
        for f in filters(EVERYTHING) {
            for name in NEVER {
                if let Some(got) = f.verdict(name, [0; 6]) {
                    assert_eq!(got, eperm(), "{name} on {:?}", f.arch);
                }
                assert!(!f.allowed.contains(name), "{name} listed as allowed");
            }
        }
    }

    #[test]
    fn a_childs_own_lock_needs_exec() {
        let no_exec = Needs {
            exec: false,
            ..EVERYTHING
        };
        let setfilter = u64::from(libc::SECCOMP_SET_MODE_FILTER);
        let nnp = u(libc::PR_SET_NO_NEW_PRIVS);
        for (without, with) in filters(no_exec).iter().zip(filters(EVERYTHING)) {
            for name in EXEC_ONLY
                .iter()
                .chain(&["execve", "execveat", "pidfd_open"])
            {
                assert_eq!(
                    v(without, name, [setfilter, 0, 0, 0, 0, 0]),
                    eperm(),
                    "{name}"
                );
            }
            assert_eq!(v(without, "prctl", [nnp, 1, 0, 0, 0, 0]), eperm());
            for name in [
                "execve",
                "execveat",
                "pidfd_open",
                "pidfd_send_signal",
                "waitid",
                "wait4",
                "close_range",
                "dup3",
                "landlock_create_ruleset",
                "landlock_add_rule",
                "landlock_restrict_self",
                "capset",
            ] {
                assert_eq!(
                    v(&with, name, [0; 6]),
                    RET_ALLOW,
                    "{name} on {:?}",
                    with.arch
                );
            }
            assert_eq!(v(&with, "seccomp", [setfilter, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(
                v(&with, "seccomp", [0, 0, 0, 0, 0, 0]),
                eperm(),
                "strict mode"
            );
            assert_eq!(
                v(&with, "seccomp", [3, 0, 0, 0, 0, 0]),
                eperm(),
                "notif sizes"
            );
            for option in PRCTLS_EXEC.iter().chain(&[libc::PR_SET_PDEATHSIG as u32]) {
                let option = u64::from(*option);
                assert_eq!(v(&with, "prctl", [option, 0, 0, 0, 0, 0]), RET_ALLOW);
            }
            let newuser = u(libc::CLONE_NEWUSER);
            assert_eq!(v(&with, "clone", [newuser, 0, 0, 0, 0, 0]), eperm());
            let sigchld = u(libc::SIGCHLD);
            assert_eq!(v(&with, "clone", [sigchld, 0, 0, 0, 0, 0]), RET_ALLOW);
        }
    }

    #[test]
    fn dispatch_matches_the_tables_for_every_number() {
        for needs in [Needs::default(), fs(), EVERYTHING] {
            for f in filters(needs) {
                let arch = f.arch;
                let number = |name: &&str| arch.number(name);
                let plain: Vec<u32> = groups(needs)
                    .iter()
                    .flat_map(|g| g.table().iter().filter_map(number))
                    .collect();
                let checked: Vec<u32> = [
                    "socket",
                    "socketpair",
                    "sendto",
                    "sendmsg",
                    "sendmmsg",
                    "clone",
                    "prlimit64",
                    "sched_setaffinity",
                    "ioctl",
                    "prctl",
                    "fcntl",
                    "fallocate",
                    "seccomp",
                ]
                .iter()
                .filter_map(number)
                .collect();
                let enosys: Vec<u32> = ENOSYS.iter().filter_map(number).collect();
                for nr in 0..1100u32 {
                    if checked.contains(&nr) {
                        continue;
                    }
                    let want = if plain.contains(&nr) {
                        RET_ALLOW
                    } else if enosys.contains(&nr) {
                        errno(libc::ENOSYS)
                    } else {
                        eperm()
                    };
                    assert_eq!(
                        f.verdict_raw(arch.audit(), nr, [0; 6]),
                        want,
                        "syscall {nr} on {arch:?} with {needs:?}"
                    );
                }
                assert_eq!(f.verdict_raw(arch.audit(), 0x3fff_ffff, [0; 6]), eperm());
            }
        }
    }

    #[test]
    fn cached_programs_are_the_ones_built() {
        for needs in [Needs::default(), fs(), EVERYTHING] {
            let built = build(needs).unwrap();
            for cached in [build_cached(needs).unwrap(), build_cached(needs).unwrap()] {
                assert_eq!(cached.program, built.program, "{needs:?}");
                assert_eq!(cached.allowed, built.allowed, "{needs:?}");
                assert_eq!(cached.groups, built.groups, "{needs:?}");
            }
        }
    }

    #[test]
    fn programs_are_short() {
        for (needs, most) in [(Needs::default(), 180), (fs(), 200), (EVERYTHING, 230)] {
            for f in filters(needs) {
                assert!(
                    f.len() <= most,
                    "{} instructions on {:?} for {needs:?}",
                    f.len(),
                    f.arch
                );
            }
        }
    }

    #[test]
    fn foreign_architectures_and_x32_are_killed() {
        let i386 = u32::from(libc::EM_386) | 0x4000_0000;
        let arm = u32::from(libc::EM_ARM) | 0x4000_0000;
        for f in filters(EVERYTHING) {
            for other in Arch::ALL.iter().filter(|a| **a != f.arch) {
                let nr = f.arch.number("getpid").unwrap();
                assert_eq!(
                    f.verdict_raw(other.audit(), nr, [0; 6]),
                    RET_KILL_PROCESS,
                    "{other:?} on {:?}",
                    f.arch
                );
            }
            for foreign in [i386, arm, 0] {
                assert_eq!(f.verdict_raw(foreign, 20, [0; 6]), RET_KILL_PROCESS);
            }
            let getpid = f.arch.number("getpid").unwrap();
            let x32 = f.verdict_raw(f.arch.audit(), getpid | X32_SYSCALL_BIT, [0; 6]);
            if f.arch == Arch::X86_64 {
                assert_eq!(x32, RET_KILL_PROCESS, "x32");
            } else {
                assert_eq!(x32, eperm(), "no such syscall on {:?}", f.arch);
            }
        }
    }

    #[test]
    fn groups_follow_needs() {
        let meta = Needs {
            fs: true,
            set_meta: true,
            ..Needs::default()
        };
        for ((base, fs), meta) in filters(Needs::default())
            .iter()
            .zip(filters(fs()))
            .zip(filters(meta))
        {
            assert_eq!(v(base, "getppid", [0; 6]), RET_ALLOW);
            assert_eq!(v(base, "openat", [0; 6]), eperm());
            assert_eq!(v(base, "socket", [2, 1, 0, 0, 0, 0]), eperm());
            assert_eq!(v(base, "execve", [0; 6]), eperm());
            assert_eq!(v(base, "clone3", [0; 6]), errno(libc::ENOSYS));
            assert_eq!(v(base, "rseq", [0; 6]), RET_ALLOW);
            assert_eq!(v(&fs, "openat2", [0; 6]), RET_ALLOW);
            assert_eq!(v(&fs, "fchmodat", [0; 6]), eperm());
            assert_eq!(v(&meta, "fchmodat", [0; 6]), RET_ALLOW);
        }
    }

    #[test]
    fn socket_arguments_are_checked() {
        let tcp = Needs {
            inet: true,
            ..Needs::default()
        };
        let udp = Needs {
            udp: true,
            ..Needs::default()
        };
        let (inet, inet6) = (u(libc::AF_INET), u(libc::AF_INET6));
        let stream = u(libc::SOCK_STREAM | libc::SOCK_CLOEXEC);
        let dgram = u(libc::SOCK_DGRAM);
        let raw = u(libc::SOCK_RAW);
        for (tcp, udp) in filters(tcp).iter().zip(filters(udp)) {
            let s = |f: &Filter, a: u64, b: u64, c: u64| v(f, "socket", [a, b, c, 0, 0, 0]);
            assert_eq!(s(tcp, inet, stream, 0), RET_ALLOW);
            assert_eq!(s(tcp, inet6, stream, 6), RET_ALLOW);
            assert_eq!(s(tcp, inet, stream, 132), eperm(), "sctp");
            assert_eq!(s(tcp, inet, stream, 262), eperm(), "mptcp");
            assert_eq!(s(tcp, inet, dgram, 0), eperm());
            assert_eq!(s(tcp, inet, raw, 1), eperm());
            assert_eq!(s(tcp, 1, stream, 0), eperm(), "unix");
            assert_eq!(s(tcp, 16, 3, 0), eperm(), "netlink");
            assert_eq!(s(tcp, 17, 3, 0), eperm(), "packet");
            assert_eq!(s(&udp, inet, dgram, 0), RET_ALLOW);
            assert_eq!(s(&udp, inet, stream, 0), eperm());
        }
    }

    #[test]
    fn listen_needs_bind_ports_or_unix() {
        use crate::{NetGrant, Policy};
        let mut connect_only = Policy::new();
        connect_only.net(NetGrant {
            label: "connect".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        let mut bind = connect_only.clone();
        bind.net(NetGrant {
            label: "bind".into(),
            tcp_bind_ports: vec![8080],
            ..NetGrant::default()
        });
        let unix = Needs {
            unix: true,
            ..Needs::default()
        };
        let connect_only = filters(super::super::needs(&connect_only));
        let bind = filters(super::super::needs(&bind));
        for ((f, b), unix) in connect_only.iter().zip(&bind).zip(filters(unix)) {
            assert!(!f.allowed.contains(&"listen"), "{:?}", f.allowed);
            assert_eq!(v(f, "listen", [3, 1, 0, 0, 0, 0]), eperm());
            assert_eq!(v(f, "connect", [3, 0, 16, 0, 0, 0]), RET_ALLOW);
            assert!(b.allowed.contains(&"listen"));
            assert_eq!(v(b, "listen", [3, 1, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(v(&unix, "listen", [3, 1, 0, 0, 0, 0]), RET_ALLOW);
        }
    }

    #[test]
    fn held_listeners_accept_only_with_the_accept_right() {
        use crate::{Policy, SocketKind};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let held = |rights| {
            let mut p = Policy::new();
            p.socket(
                std::os::fd::AsFd::as_fd(&listener),
                SocketKind::TcpListener,
                rights,
                "listener",
            );
            p.socket(
                std::os::fd::AsFd::as_fd(&udp),
                SocketKind::Udp,
                crate::Rights::SEND,
                "udp",
            );
            super::super::needs(&p)
        };
        let stat_only = held(crate::Rights::STAT);
        assert!(!stat_only.accept, "a listener without Accept");
        let accept = held(crate::Rights::ACCEPT);
        for (f, g) in filters(accept).iter().zip(filters(stat_only)) {
            assert_eq!(v(f, "accept4", [3, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(v(&g, "accept4", [3, 0, 0, 0, 0, 0]), eperm());
            assert_eq!(v(&g, "accept", [3, 0, 0, 0, 0, 0]), eperm());
            for sys in ["connect", "bind", "listen"] {
                assert_eq!(v(f, sys, [3, 0, 0, 0, 0, 0]), eperm(), "{sys}");
            }
            for family in [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX] {
                for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM] {
                    assert_eq!(v(f, "socket", [u(family), u(ty), 0, 0, 0, 0]), eperm());
                }
            }
            assert_eq!(f.groups, [Group::Baseline, Group::Accept]);
            assert_eq!(g.groups, [Group::Baseline]);
        }
    }

    #[test]
    fn datagram_socketpairs_need_unix() {
        let (unix, inet) = (u(libc::AF_UNIX), u(libc::AF_INET));
        let flags = u(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK);
        let ty = |t: libc::c_int| u(t) | flags;
        let with_unix = Needs {
            unix: true,
            ..Needs::default()
        };
        for (base, with_unix) in filters(Needs::default()).iter().zip(filters(with_unix)) {
            let pair = |f: &Filter, family, t| v(f, "socketpair", [family, t, 0, 0, 0, 0]);
            assert_eq!(pair(base, unix, ty(libc::SOCK_STREAM)), RET_ALLOW);
            assert_eq!(pair(base, unix, ty(libc::SOCK_SEQPACKET)), RET_ALLOW);
            assert_eq!(pair(base, unix, ty(libc::SOCK_DGRAM)), eperm());
            assert_eq!(pair(base, unix, ty(libc::SOCK_RAW)), eperm());
            assert_eq!(pair(base, inet, ty(libc::SOCK_STREAM)), eperm());
            assert_eq!(pair(&with_unix, unix, ty(libc::SOCK_DGRAM)), RET_ALLOW);
            assert_eq!(pair(&with_unix, inet, ty(libc::SOCK_DGRAM)), eperm());
        }
    }

    #[test]
    fn fast_open_is_refused_where_a_socket_can_connect() {
        let fastopen = u(libc::MSG_FASTOPEN);
        let nosignal = u(libc::MSG_NOSIGNAL);
        for needs in [
            Needs {
                inet: true,
                ..Needs::default()
            },
            Needs {
                udp: true,
                ..Needs::default()
            },
            Needs {
                unix: true,
                ..Needs::default()
            },
        ] {
            for f in filters(needs) {
                for (sys, arg) in [("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3)] {
                    let mut args = [0u64; 6];
                    args[arg] = nosignal;
                    assert_eq!(v(&f, sys, args), RET_ALLOW, "{sys} without MSG_FASTOPEN");
                    args[arg] = nosignal | fastopen;
                    assert_eq!(v(&f, sys, args), eperm(), "{sys} with MSG_FASTOPEN");
                }
            }
        }
        // Without connect (held sockets only), the sends are not checked:
        // SCM_RIGHTS over held unix sockets and the per-request sends stay
        // on the constant-action path.
        for f in filters(Needs::default()) {
            for sys in ["sendto", "sendmsg", "sendmmsg", "recvmsg", "recvfrom"] {
                let mut args = [0u64; 6];
                args[2] = fastopen;
                args[3] = fastopen;
                assert_eq!(v(&f, sys, args), RET_ALLOW, "{sys}");
            }
        }
    }

    #[test]
    fn fallocate_shrinks_and_punches_only_with_truncate() {
        let keep = u(libc::FALLOC_FL_KEEP_SIZE);
        let truncate = Needs {
            fs: true,
            truncate: true,
            ..Needs::default()
        };
        for (f, t) in filters(fs()).iter().zip(filters(truncate)) {
            let mode = |f: &Filter, m: u64| v(f, "fallocate", [3, m, 0, 4096, 0, 0]);
            assert_eq!(mode(f, 0), RET_ALLOW, "plain allocation");
            assert_eq!(mode(f, keep), RET_ALLOW, "KEEP_SIZE");
            for bit in 1..32 {
                let m = 1u64 << bit;
                assert_eq!(mode(f, m), eperm(), "mode {m:#x}");
                assert_eq!(mode(f, m | keep), eperm(), "mode {m:#x} | KEEP_SIZE");
                assert_eq!(mode(&t, m | keep), RET_ALLOW, "mode {m:#x} with Truncate");
            }
            for named in [
                libc::FALLOC_FL_PUNCH_HOLE,
                libc::FALLOC_FL_COLLAPSE_RANGE,
                libc::FALLOC_FL_ZERO_RANGE,
                libc::FALLOC_FL_INSERT_RANGE,
                libc::FALLOC_FL_UNSHARE_RANGE,
            ] {
                assert_eq!(mode(f, u(named) | keep), eperm(), "{named:#x}");
            }
        }
        for f in filters(Needs::default()) {
            assert_eq!(v(&f, "fallocate", [3, 0, 0, 1, 0, 0]), eperm(), "no fs");
        }
    }

    #[test]
    fn leases_are_refused() {
        for f in filters(EVERYTHING) {
            let fcntl =
                |cmd: libc::c_int, arg: libc::c_int| v(&f, "fcntl", [3, u(cmd), u(arg), 0, 0, 0]);
            assert_eq!(fcntl(libc::F_SETLEASE, libc::F_RDLCK), eperm());
            assert_eq!(fcntl(libc::F_SETLEASE, libc::F_WRLCK), eperm());
            for cmd in [
                libc::F_GETLEASE,
                libc::F_GETFL,
                libc::F_SETFL,
                libc::F_GETFD,
                libc::F_SETFD,
                libc::F_DUPFD_CLOEXEC,
                libc::F_SETLK,
                libc::F_OFD_SETLK,
                libc::F_GETPIPE_SZ,
                libc::F_ADD_SEALS,
            ] {
                assert_eq!(fcntl(cmd, 0), RET_ALLOW, "fcntl {cmd}");
            }
        }
    }

    #[test]
    fn clone_ioctl_prctl_prlimit() {
        for f in filters(Needs::default()) {
            let thread = u(libc::CLONE_VM | libc::CLONE_THREAD);
            assert_eq!(v(&f, "clone", [thread, 0, 0, 0, 0, 0]), RET_ALLOW);
            let userns = u(libc::CLONE_NEWUSER);
            assert_eq!(v(&f, "clone", [userns, 0, 0, 0, 0, 0]), eperm());
            assert_eq!(
                v(&f, "ioctl", [1, u64::from(IOCTLS[0]), 0, 0, 0, 0]),
                RET_ALLOW
            );
            assert_eq!(v(&f, "ioctl", [1, 0x5412, 0, 0, 0, 0]), eperm(), "TIOCSTI");
            assert_eq!(v(&f, "prctl", [39, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(v(&f, "prlimit64", [0, 7, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(v(&f, "prlimit64", [1, 7, 0, 0, 0, 0]), eperm());
            assert_eq!(v(&f, "sched_setaffinity", [1, 8, 0, 0, 0, 0]), eperm());
            assert_eq!(v(&f, "get_robust_list", [1, 0, 0, 0, 0, 0]), eperm());
            assert_eq!(
                v(&f, "prctl", [38, 0, 0, 0, 0, 0]),
                eperm(),
                "PR_SET_NO_NEW_PRIVS without Exec"
            );
            assert_eq!(
                v(&f, "prctl", [24, 0, 0, 0, 0, 0]),
                eperm(),
                "PR_CAPBSET_DROP"
            );
        }
    }

    /// A server holding a listener with `Accept` and directories: every
    /// per-request syscall is allowed by the kernel's constant-action cache
    /// (no argument is loaded on its path).
    #[test]
    fn per_request_syscalls_skip_the_filter() {
        let server = Needs {
            fs: true,
            accept: true,
            ..Needs::default()
        };
        for f in filters(server) {
            for name in [
                "accept4",
                "read",
                "write",
                "readv",
                "writev",
                "sendmsg",
                "sendto",
                "recvmsg",
                "recvfrom",
                "epoll_wait",
                "epoll_pwait",
                "sendfile",
                "close",
                "openat",
                "openat2",
                "statx",
                "newfstatat",
                "fstat",
                "pread64",
                "futex",
            ] {
                let Some(nr) = f.arch.number(name) else {
                    continue;
                };
                assert!(
                    bpf::is_const_allow(&f.program, f.arch.audit(), nr),
                    "{name} on {:?} is not a constant ALLOW",
                    f.arch
                );
            }
            let ioctl = f.arch.number("ioctl").unwrap();
            assert!(!bpf::is_const_allow(&f.program, f.arch.audit(), ioctl));
        }
    }
}
