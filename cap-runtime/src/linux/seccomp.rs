//! The seccomp allowlist: pledge-style syscall groups chosen from the handles
//! held, assembled into a classic BPF program.
//!
//! Layout of the program: kill on a foreign architecture; kill on the x32 bit;
//! a binary search over the sorted syscall numbers that returns ALLOW for the
//! plainly allowed ones (argument-free, so the kernel's constant-action cache
//! skips the filter for them entirely), jumps to small argument-checking
//! blocks for `socket`, `socketpair`, `sendto`, `sendmsg`, `sendmmsg`, `clone`, `prlimit64`,
//! `sched_setaffinity`, `ioctl` and `prctl`, returns `ENOSYS` for `clone3`,
//! and `EPERM` for everything else.

use super::sys::SockFilter;

/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_ERRNO`.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// `AUDIT_ARCH_*` of the architecture this is compiled for.
#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xc000_003e;
/// `AUDIT_ARCH_*` of the architecture this is compiled for.
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xc000_00b7;

/// `__X32_SYSCALL_BIT`: syscalls of the x32 ABI carry it.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const LD_W_ABS: u16 = 0x20;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JSET_K: u16 = 0x45;
const JMP_JGE_K: u16 = 0x35;
const JMP_JA: u16 = 0x05;
const ALU_AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;

const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Offset of the low 32 bits of argument `i` in `struct seccomp_data`
/// (little-endian).
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
    /// `accept`, `accept4`: a held listener, or a grant that makes them.
    Accept,
    /// execve, execveat: only when a handle has `Exec`.
    Exec,
}

impl Group {
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
        }
    }
}

macro_rules! sys {
    ($($name:ident),* $(,)?) => { &[$((stringify!($name), libc::$name)),*] };
}

type Table = &'static [(&'static str, libc::c_long)];

#[cfg(target_arch = "x86_64")]
const BASELINE: Table = sys![
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_pread64,
    SYS_pwrite64,
    SYS_preadv,
    SYS_pwritev,
    SYS_preadv2,
    SYS_pwritev2,
    SYS_close,
    SYS_close_range,
    SYS_lseek,
    SYS_fstat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_fcntl,
    SYS_pipe,
    SYS_pipe2,
    SYS_poll,
    SYS_ppoll,
    SYS_select,
    SYS_pselect6,
    SYS_epoll_create,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_wait,
    SYS_epoll_pwait,
    SYS_epoll_pwait2,
    SYS_eventfd,
    SYS_eventfd2,
    SYS_timerfd_create,
    SYS_timerfd_settime,
    SYS_timerfd_gettime,
    SYS_signalfd,
    SYS_signalfd4,
    SYS_mmap,
    SYS_munmap,
    SYS_mprotect,
    SYS_mremap,
    SYS_madvise,
    SYS_brk,
    SYS_msync,
    SYS_mincore,
    SYS_rt_sigaction,
    SYS_rt_sigprocmask,
    SYS_rt_sigreturn,
    SYS_rt_sigpending,
    SYS_rt_sigtimedwait,
    SYS_rt_sigsuspend,
    SYS_sigaltstack,
    SYS_kill,
    SYS_tgkill,
    SYS_tkill,
    SYS_clock_gettime,
    SYS_clock_getres,
    SYS_clock_nanosleep,
    SYS_nanosleep,
    SYS_gettimeofday,
    SYS_time,
    SYS_getpid,
    SYS_getppid,
    SYS_gettid,
    SYS_getuid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getegid,
    SYS_getresuid,
    SYS_getresgid,
    SYS_getgroups,
    SYS_getpgrp,
    SYS_getpgid,
    SYS_getsid,
    SYS_capget,
    SYS_exit,
    SYS_exit_group,
    SYS_futex,
    SYS_futex_waitv,
    SYS_set_robust_list,
    SYS_set_tid_address,
    SYS_sched_yield,
    SYS_sched_getaffinity,
    SYS_sched_getparam,
    SYS_sched_getscheduler,
    SYS_sched_get_priority_max,
    SYS_sched_get_priority_min,
    SYS_getrandom,
    SYS_uname,
    SYS_getrlimit,
    SYS_getrusage,
    SYS_sysinfo,
    SYS_getcpu,
    SYS_restart_syscall,
    SYS_membarrier,
    SYS_fork,
    SYS_vfork,
    SYS_wait4,
    SYS_waitid,
    SYS_recvfrom,
    SYS_recvmsg,
    SYS_recvmmsg,
    SYS_shutdown,
    SYS_getsockopt,
    SYS_setsockopt,
    SYS_getsockname,
    SYS_getpeername,
    SYS_getcwd,
    SYS_fstatfs,
    SYS_arch_prctl,
    SYS_rseq,
];

#[cfg(target_arch = "x86_64")]
const FS: Table = sys![
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_stat,
    SYS_lstat,
    SYS_newfstatat,
    SYS_statx,
    SYS_statfs,
    SYS_access,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_readlink,
    SYS_readlinkat,
    SYS_getdents64,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_rmdir,
    SYS_unlink,
    SYS_unlinkat,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_link,
    SYS_linkat,
    SYS_symlink,
    SYS_symlinkat,
    SYS_truncate,
    SYS_ftruncate,
    SYS_fsync,
    SYS_fdatasync,
    SYS_sync_file_range,
    SYS_fallocate,
    SYS_flock,
    SYS_fadvise64,
    SYS_copy_file_range,
    SYS_sendfile,
    SYS_splice,
    SYS_tee,
    SYS_chdir,
    SYS_fchdir,
    SYS_getxattr,
    SYS_lgetxattr,
    SYS_fgetxattr,
    SYS_listxattr,
    SYS_llistxattr,
    SYS_flistxattr,
    SYS_umask,
];

#[cfg(target_arch = "x86_64")]
const SETMETA: Table = sys![
    SYS_chmod,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchmodat2,
    SYS_chown,
    SYS_fchown,
    SYS_fchownat,
    SYS_lchown,
    SYS_utime,
    SYS_utimes,
    SYS_utimensat,
    SYS_futimesat,
    SYS_setxattr,
    SYS_lsetxattr,
    SYS_fsetxattr,
    SYS_removexattr,
    SYS_lremovexattr,
    SYS_fremovexattr,
];

const SOCKETS: Table = sys![SYS_connect, SYS_bind];

/// Accepting on a listener: held ones, or those a grant can make.
const ACCEPT: Table = sys![SYS_accept, SYS_accept4];

/// `listen` on an unbound TCP socket binds an ephemeral port without
/// Landlock's bind check: only with TCP bind ports or unix needs.
const LISTEN: Table = sys![SYS_listen];

const EXEC: Table = sys![SYS_execve, SYS_execveat];

/// Syscalls libraries probe and fall back from: `ENOSYS`, not `EPERM`.
/// `clone3` carries its flags in memory, out of a filter's reach, so it is
/// refused and glibc falls back to `clone`, whose flags are checked. (`rseq`
/// is allowed instead, in the baseline: once the main thread registered it,
/// glibc aborts any new thread whose registration fails.)
const ENOSYS: Table = sys![SYS_clone3];

/// Never allowed, whatever the handles: the kernel attack surface and the
/// ways around the sandbox the issue names (checked by a unit test).
#[cfg(target_arch = "x86_64")]
pub const NEVER: Table = sys![
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_bpf,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_chroot,
    SYS_fsopen,
    SYS_fsmount,
    SYS_fsconfig,
    SYS_move_mount,
    SYS_open_tree,
    SYS_unshare,
    SYS_setns,
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    SYS_kexec_load,
    SYS_kexec_file_load,
    SYS_init_module,
    SYS_finit_module,
    SYS_delete_module,
    SYS_pidfd_getfd,
    SYS_capset,
    SYS_setuid,
    SYS_setgid,
    SYS_setreuid,
    SYS_setresuid,
    SYS_seccomp,
    SYS_landlock_create_ruleset,
    SYS_landlock_add_rule,
    SYS_landlock_restrict_self,
    SYS_mknod,
    SYS_mknodat,
    SYS_process_madvise,
    SYS_kcmp,
    SYS_swapon,
    SYS_reboot,
    SYS_iopl,
    SYS_ioperm,
    SYS_quotactl,
    SYS_acct,
    SYS_inotify_add_watch,
    SYS_fanotify_init,
];

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
    groups
}

/// A seccomp program and what it allows.
#[derive(Clone, Debug)]
pub struct Filter {
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
}

/// A jump target: the next instruction or a label resolved later.
#[derive(Clone, Copy)]
enum To {
    Next,
    Skip1,
    Label(usize),
}

/// A tiny assembler with forward labels for conditional jumps.
struct Asm {
    code: Vec<(u16, To, To, u32)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn new() -> Self {
        Asm {
            code: Vec::new(),
            labels: Vec::new(),
        }
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn place(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }
    fn ld(&mut self, offset: u32) {
        self.code.push((LD_W_ABS, To::Next, To::Next, offset));
    }
    fn and(&mut self, k: u32) {
        self.code.push((ALU_AND_K, To::Next, To::Next, k));
    }
    fn jeq(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JEQ_K, jt, jf, k));
    }
    fn jge(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JGE_K, jt, jf, k));
    }
    /// Unconditional jump (32-bit offset, resolved in `finish`).
    fn ja(&mut self, label: usize) {
        self.code.push((JMP_JA, To::Label(label), To::Next, 0));
    }
    fn jset(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JSET_K, jt, jf, k));
    }
    fn ret(&mut self, k: u32) {
        self.code.push((RET_K, To::Next, To::Next, k));
    }
    /// `if A == k { return action }`.
    fn ret_if_eq(&mut self, k: u32, action: u32) {
        let skip = self.label();
        self.jeq(k, To::Next, To::Label(skip));
        self.ret(action);
        self.place(skip);
    }
    /// Returns `action` if the loaded word has any bit of `mask` set.
    fn ret_if_any(&mut self, mask: u32, action: u32) {
        let skip = self.label();
        self.jset(mask, To::Next, To::Label(skip));
        self.ret(action);
        self.place(skip);
    }
    fn finish(self) -> Result<Vec<SockFilter>, &'static str> {
        let mut out = Vec::with_capacity(self.code.len());
        for (i, (code, jt, jf, k)) in self.code.iter().enumerate() {
            let offset = |to: &To| -> Result<usize, &'static str> {
                match to {
                    To::Next => Ok(0),
                    To::Skip1 => Ok(1),
                    To::Label(l) => {
                        let target = self.labels[*l].ok_or("unplaced label")?;
                        target.checked_sub(i + 1).ok_or("backward jump")
                    }
                }
            };
            if *code == JMP_JA {
                let k = u32::try_from(offset(jt)?).map_err(|_| "jump too far")?;
                out.push(SockFilter {
                    code: *code,
                    jt: 0,
                    jf: 0,
                    k,
                });
                continue;
            }
            let short =
                |to: &To| offset(to).and_then(|o| u8::try_from(o).map_err(|_| "jump too far"));
            out.push(SockFilter {
                code: *code,
                jt: short(jt)?,
                jf: short(jf)?,
                k: *k,
            });
        }
        Ok(out)
    }
}

fn nr(n: libc::c_long) -> u32 {
    u32::try_from(n).expect("syscall numbers are small and positive")
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
/// (terminal queries, non-blocking and close-on-exec flags).
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

/// `clone` flags that make namespaces: never allowed.
#[allow(clippy::cast_sign_loss)]
const CLONE_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// Builds the filter for `needs`.
pub fn build(needs: Needs) -> Result<Filter, &'static str> {
    let groups = groups(needs);
    let mut plain: Vec<(&'static str, libc::c_long)> = Vec::new();
    for group in &groups {
        let table: Table = match group {
            Group::Baseline => BASELINE,
            Group::Fs => FS,
            Group::SetMeta => SETMETA,
            Group::Inet | Group::Unix => SOCKETS,
            Group::Listen => LISTEN,
            Group::Accept => ACCEPT,
            Group::Exec => EXEC,
        };
        for entry in table {
            if !plain.contains(entry) {
                plain.push(*entry);
            }
        }
    }
    let eperm = errno(libc::EPERM);
    let mut allowed: Vec<&'static str> = plain.iter().map(|(name, _)| *name).collect();

    // Syscalls whose arguments are checked: each gets a block of its own,
    // reached from the dispatch tree. Every block ends in a return.
    let mut blocks: Vec<(libc::c_long, &'static str, Block)> = Vec::new();
    if needs.inet || needs.udp || needs.unix {
        // socket(domain, type, protocol): by family, type and protocol.
        blocks.push((
            libc::SYS_socket,
            "SYS_socket",
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
        libc::SYS_socketpair,
        "SYS_socketpair",
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
    // sendto, sendmsg, sendmmsg: never with MSG_FASTOPEN, which connects a
    // fresh TCP socket without passing Landlock's connect check.
    for (sys, name, arg) in [
        (libc::SYS_sendto, "SYS_sendto", 3),
        (libc::SYS_sendmsg, "SYS_sendmsg", 2),
        (libc::SYS_sendmmsg, "SYS_sendmmsg", 3),
    ] {
        blocks.push((
            sys,
            name,
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(arg));
                asm.ret_if_any(k(libc::MSG_FASTOPEN), eperm);
                asm.ret(RET_ALLOW);
            }),
        ));
    }
    // clone: threads and processes, never new namespaces.
    blocks.push((
        libc::SYS_clone,
        "SYS_clone",
        Box::new(move |asm: &mut Asm| {
            asm.ld(off_arg(0));
            asm.ret_if_any(CLONE_NAMESPACES, eperm);
            asm.ret(RET_ALLOW);
        }),
    ));
    // prlimit64 and sched_setaffinity: on this process only (pid 0). Other
    // processes of the same user would otherwise be reachable: lowering a
    // parent's limits is an effect outside the sandbox that no scope covers.
    for (sys, name) in [
        (libc::SYS_prlimit64, "SYS_prlimit64"),
        (libc::SYS_sched_setaffinity, "SYS_sched_setaffinity"),
    ] {
        blocks.push((
            sys,
            name,
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(0));
                asm.ret_if_eq(0, RET_ALLOW);
                asm.ret(eperm);
            }),
        ));
    }
    // ioctl and prctl: a short list of requests.
    for (sys, name, arg, values) in [
        (libc::SYS_ioctl, "SYS_ioctl", 1, &IOCTLS[..]),
        (libc::SYS_prctl, "SYS_prctl", 0, &PRCTLS[..]),
    ] {
        blocks.push((
            sys,
            name,
            Box::new(move |asm: &mut Asm| {
                asm.ld(off_arg(arg));
                for v in values {
                    asm.ret_if_eq(*v, RET_ALLOW);
                }
                asm.ret(eperm);
            }),
        ));
    }

    let mut asm = Asm::new();
    // Architecture: anything but ours is killed (a foreign ABI has other numbers).
    asm.ld(OFF_ARCH);
    let arch_ok = asm.label();
    asm.jeq(AUDIT_ARCH, To::Label(arch_ok), To::Next);
    asm.ret(RET_KILL_PROCESS);
    asm.place(arch_ok);
    asm.ld(OFF_NR);
    if cfg!(target_arch = "x86_64") {
        asm.ret_if_any(X32_SYSCALL_BIT, RET_KILL_PROCESS);
    }

    // The dispatch: a binary search over the sorted syscall numbers, so a
    // syscall costs a handful of comparisons (and the kernel's per-syscall
    // constant-action emulation at install time stays short).
    let mut dispatch: Vec<(u32, Action)> = plain
        .iter()
        .map(|(_, n)| (nr(*n), Action::Ret(RET_ALLOW)))
        .collect();
    let block_labels: Vec<usize> = blocks.iter().map(|_| asm.label()).collect();
    for ((sys, name, _), label) in blocks.iter().zip(&block_labels) {
        allowed.push(name);
        dispatch.push((nr(*sys), Action::Jump(*label)));
    }
    for (_, n) in ENOSYS {
        dispatch.push((nr(*n), Action::Ret(errno(libc::ENOSYS))));
    }
    dispatch.sort_by_key(|(n, _)| *n);
    dispatch.dedup_by_key(|(n, _)| *n);
    emit_tree(&mut asm, &dispatch, eperm);
    for ((_, _, block), label) in blocks.into_iter().zip(block_labels) {
        asm.place(label);
        block(&mut asm);
    }
    Ok(Filter {
        program: asm.finish()?,
        groups,
        allowed,
    })
}

/// What the dispatch does for one syscall number.
#[derive(Clone, Copy)]
enum Action {
    /// Return this action.
    Ret(u32),
    /// Jump to an argument-checking block.
    Jump(usize),
}

type Block = Box<dyn Fn(&mut Asm)>;

/// Emits a binary search over `entries` (sorted by number; A holds the
/// syscall number). Conditional jumps only ever skip one instruction; longer
/// distances go through `ja`, whose offset is 32 bits.
fn emit_tree(asm: &mut Asm, entries: &[(u32, Action)], default: u32) {
    if entries.len() <= 4 {
        for (n, action) in entries {
            match action {
                Action::Ret(ret) => asm.ret_if_eq(*n, *ret),
                Action::Jump(label) => {
                    asm.jeq(*n, To::Next, To::Skip1);
                    asm.ja(*label);
                }
            }
        }
        asm.ret(default);
        return;
    }
    let mid = entries.len() / 2;
    let right = asm.label();
    asm.jge(entries[mid].0, To::Next, To::Skip1);
    asm.ja(right);
    emit_tree(asm, &entries[..mid], default);
    asm.place(right);
    emit_tree(asm, &entries[mid..], default);
}

/// The program's verdict for one syscall, computed by a small classic-BPF
/// interpreter (the instructions this module emits only): used by the unit
/// tests and by the report's self-check.
#[cfg(test)]
pub(crate) fn verdict(program: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_le_bytes());
    data[4..8].copy_from_slice(&arch.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let mut acc: u32 = 0;
    let mut pc = 0usize;
    while let Some(ins) = program.get(pc) {
        pc += 1;
        match ins.code {
            LD_W_ABS => {
                let o = ins.k as usize;
                acc = u32::from_le_bytes(data[o..o + 4].try_into().expect("4 bytes"));
            }
            ALU_AND_K => acc &= ins.k,
            JMP_JEQ_K => pc += usize::from(if acc == ins.k { ins.jt } else { ins.jf }),
            JMP_JSET_K => pc += usize::from(if acc & ins.k != 0 { ins.jt } else { ins.jf }),
            JMP_JGE_K => pc += usize::from(if acc >= ins.k { ins.jt } else { ins.jf }),
            JMP_JA => pc += ins.k as usize,
            RET_K => return ins.k,
            _ => return RET_KILL_PROCESS,
        }
    }
    RET_KILL_PROCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(f: &Filter, n: libc::c_long, args: [u64; 6]) -> u32 {
        verdict(&f.program, AUDIT_ARCH, nr(n), args)
    }

    #[test]
    fn never_list_is_never_allowed() {
        let all = build(Needs {
            fs: true,
            set_meta: true,
            inet: true,
            tcp_bind: true,
            udp: true,
            unix: true,
            accept: true,
            exec: true,
        })
        .unwrap();
        for (name, n) in NEVER {
            assert_eq!(
                v(&all, *n, [0; 6]),
                errno(libc::EPERM),
                "{name} must be denied"
            );
            assert!(!all.allowed.contains(name), "{name} listed as allowed");
        }
    }

    #[test]
    fn dispatch_matches_the_tables_for_every_number() {
        for needs in [
            Needs::default(),
            Needs {
                fs: true,
                ..Needs::default()
            },
            Needs {
                fs: true,
                set_meta: true,
                inet: true,
                tcp_bind: true,
                udp: true,
                unix: true,
                accept: true,
                exec: true,
            },
        ] {
            let f = build(needs).unwrap();
            let mut plain: Vec<u32> = Vec::new();
            for g in groups(needs) {
                let table = match g {
                    Group::Baseline => BASELINE,
                    Group::Fs => FS,
                    Group::SetMeta => SETMETA,
                    Group::Inet | Group::Unix => SOCKETS,
                    Group::Listen => LISTEN,
                    Group::Accept => ACCEPT,
                    Group::Exec => EXEC,
                };
                plain.extend(table.iter().map(|(_, n)| nr(*n)));
            }
            let checked = [
                libc::SYS_socket,
                libc::SYS_socketpair,
                libc::SYS_sendto,
                libc::SYS_sendmsg,
                libc::SYS_sendmmsg,
                libc::SYS_clone,
                libc::SYS_prlimit64,
                libc::SYS_sched_setaffinity,
                libc::SYS_ioctl,
                libc::SYS_prctl,
            ]
            .map(nr);
            for n in 0..600u32 {
                if checked.contains(&n) {
                    continue;
                }
                let want = if plain.contains(&n) {
                    RET_ALLOW
                } else if ENOSYS.iter().any(|(_, e)| nr(*e) == n) {
                    errno(libc::ENOSYS)
                } else {
                    errno(libc::EPERM)
                };
                assert_eq!(
                    verdict(&f.program, AUDIT_ARCH, n, [0; 6]),
                    want,
                    "syscall {n} with {needs:?}"
                );
            }
            assert!(f.len() < 1000, "{} instructions", f.len());
        }
    }

    #[test]
    fn groups_follow_needs() {
        let base = build(Needs::default()).unwrap();
        assert_eq!(v(&base, libc::SYS_getppid, [0; 6]), RET_ALLOW);
        assert_eq!(v(&base, libc::SYS_openat, [0; 6]), errno(libc::EPERM));
        assert_eq!(
            v(&base, libc::SYS_socket, [2, 1, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(v(&base, libc::SYS_execve, [0; 6]), errno(libc::EPERM));
        assert_eq!(v(&base, libc::SYS_clone3, [0; 6]), errno(libc::ENOSYS));
        assert_eq!(v(&base, libc::SYS_rseq, [0; 6]), RET_ALLOW);
        let fs = build(Needs {
            fs: true,
            ..Needs::default()
        })
        .unwrap();
        assert_eq!(v(&fs, libc::SYS_openat2, [0; 6]), RET_ALLOW);
        assert_eq!(v(&fs, libc::SYS_fchmodat, [0; 6]), errno(libc::EPERM));
        let meta = build(Needs {
            fs: true,
            set_meta: true,
            ..Needs::default()
        })
        .unwrap();
        assert_eq!(v(&meta, libc::SYS_fchmodat, [0; 6]), RET_ALLOW);
    }

    #[test]
    fn socket_arguments_are_checked() {
        let tcp = build(Needs {
            inet: true,
            ..Needs::default()
        })
        .unwrap();
        let inet = u64::try_from(libc::AF_INET).unwrap();
        let inet6 = u64::try_from(libc::AF_INET6).unwrap();
        let stream = u64::try_from(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).unwrap();
        let dgram = u64::try_from(libc::SOCK_DGRAM).unwrap();
        let raw = u64::try_from(libc::SOCK_RAW).unwrap();
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet, stream, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet6, stream, 6, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet, stream, 132, 0, 0, 0]),
            errno(libc::EPERM),
            "sctp"
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet, stream, 262, 0, 0, 0]),
            errno(libc::EPERM),
            "mptcp"
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet, dgram, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [inet, raw, 1, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [1, stream, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "unix"
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [16, 3, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "netlink"
        );
        assert_eq!(
            v(&tcp, libc::SYS_socket, [17, 3, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "packet"
        );
        let udp = build(Needs {
            udp: true,
            ..Needs::default()
        })
        .unwrap();
        assert_eq!(
            v(&udp, libc::SYS_socket, [inet, dgram, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            v(&udp, libc::SYS_socket, [inet, stream, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
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
        let f = build(super::super::needs(&connect_only)).unwrap();
        assert!(!f.allowed.contains(&"SYS_listen"), "{:?}", f.allowed);
        assert_eq!(
            v(&f, libc::SYS_listen, [3, 1, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(v(&f, libc::SYS_connect, [3, 0, 16, 0, 0, 0]), RET_ALLOW);
        let mut bind = connect_only.clone();
        bind.net(NetGrant {
            label: "bind".into(),
            tcp_bind_ports: vec![8080],
            ..NetGrant::default()
        });
        let f = build(super::super::needs(&bind)).unwrap();
        assert!(f.allowed.contains(&"SYS_listen"));
        assert_eq!(v(&f, libc::SYS_listen, [3, 1, 0, 0, 0, 0]), RET_ALLOW);
        let unix = build(Needs {
            unix: true,
            ..Needs::default()
        })
        .unwrap();
        assert_eq!(v(&unix, libc::SYS_listen, [3, 1, 0, 0, 0, 0]), RET_ALLOW);
    }

    #[test]
    fn held_inet_sockets_only_accept() {
        use crate::{Policy, SocketKind};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut held = Policy::new();
        held.socket(
            std::os::fd::AsFd::as_fd(&listener),
            SocketKind::TcpListener,
            crate::Rights::ACCEPT,
            "listener",
        );
        held.socket(
            std::os::fd::AsFd::as_fd(&udp),
            SocketKind::Udp,
            crate::Rights::SEND,
            "udp",
        );
        let f = build(super::super::needs(&held)).unwrap();
        assert_eq!(v(&f, libc::SYS_accept4, [3, 0, 0, 0, 0, 0]), RET_ALLOW);
        for sys in [libc::SYS_connect, libc::SYS_bind, libc::SYS_listen] {
            assert_eq!(v(&f, sys, [3, 0, 0, 0, 0, 0]), errno(libc::EPERM), "{sys}");
        }
        for family in [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX] {
            let family = u64::try_from(family).unwrap();
            for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM] {
                let ty = u64::try_from(ty).unwrap();
                assert_eq!(
                    v(&f, libc::SYS_socket, [family, ty, 0, 0, 0, 0]),
                    errno(libc::EPERM)
                );
            }
        }
        assert_eq!(f.groups, [Group::Baseline, Group::Accept]);
    }

    #[test]
    fn datagram_socketpairs_need_unix() {
        let unix = u64::try_from(libc::AF_UNIX).unwrap();
        let inet = u64::try_from(libc::AF_INET).unwrap();
        let flags = u64::try_from(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK).unwrap();
        let ty = |t: libc::c_int| u64::try_from(t).unwrap() | flags;
        let base = build(Needs::default()).unwrap();
        let pair = |f: &Filter, family, t| v(f, libc::SYS_socketpair, [family, t, 0, 0, 0, 0]);
        assert_eq!(pair(&base, unix, ty(libc::SOCK_STREAM)), RET_ALLOW);
        assert_eq!(pair(&base, unix, ty(libc::SOCK_SEQPACKET)), RET_ALLOW);
        assert_eq!(pair(&base, unix, ty(libc::SOCK_DGRAM)), errno(libc::EPERM));
        assert_eq!(pair(&base, unix, ty(libc::SOCK_RAW)), errno(libc::EPERM));
        assert_eq!(pair(&base, inet, ty(libc::SOCK_STREAM)), errno(libc::EPERM));
        let with_unix = build(Needs {
            unix: true,
            ..Needs::default()
        })
        .unwrap();
        assert_eq!(pair(&with_unix, unix, ty(libc::SOCK_DGRAM)), RET_ALLOW);
        assert_eq!(
            pair(&with_unix, inet, ty(libc::SOCK_DGRAM)),
            errno(libc::EPERM)
        );
    }

    #[test]
    fn fast_open_is_refused_on_every_send() {
        let f = build(Needs::default()).unwrap();
        let fastopen = u64::try_from(libc::MSG_FASTOPEN).unwrap();
        let nosignal = u64::try_from(libc::MSG_NOSIGNAL).unwrap();
        for (sys, arg) in [
            (libc::SYS_sendto, 3),
            (libc::SYS_sendmsg, 2),
            (libc::SYS_sendmmsg, 3),
        ] {
            let mut args = [0u64; 6];
            args[arg] = nosignal;
            assert_eq!(v(&f, sys, args), RET_ALLOW, "{sys} without MSG_FASTOPEN");
            args[arg] = nosignal | fastopen;
            assert_eq!(
                v(&f, sys, args),
                errno(libc::EPERM),
                "{sys} with MSG_FASTOPEN"
            );
        }
    }

    #[test]
    fn arch_x32_clone_ioctl_prctl() {
        let f = build(Needs::default()).unwrap();
        assert_eq!(
            verdict(&f.program, 0x4000_0003, 20, [0; 6]),
            RET_KILL_PROCESS,
            "i386"
        );
        assert_eq!(
            verdict(
                &f.program,
                AUDIT_ARCH,
                nr(libc::SYS_getpid) | X32_SYSCALL_BIT,
                [0; 6]
            ),
            RET_KILL_PROCESS
        );
        let thread = u64::try_from(libc::CLONE_VM | libc::CLONE_THREAD).unwrap();
        assert_eq!(v(&f, libc::SYS_clone, [thread, 0, 0, 0, 0, 0]), RET_ALLOW);
        let userns = u64::try_from(libc::CLONE_NEWUSER).unwrap();
        assert_eq!(
            v(&f, libc::SYS_clone, [userns, 0, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            v(&f, libc::SYS_ioctl, [1, u64::from(IOCTLS[0]), 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            v(&f, libc::SYS_ioctl, [1, 0x5412, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "TIOCSTI"
        );
        assert_eq!(v(&f, libc::SYS_prctl, [39, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(v(&f, libc::SYS_prlimit64, [0, 7, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            v(&f, libc::SYS_prlimit64, [1, 7, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "another process"
        );
        assert_eq!(
            v(&f, libc::SYS_sched_setaffinity, [1, 8, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            v(&f, libc::SYS_get_robust_list, [1, 0, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            v(&f, libc::SYS_prctl, [38, 0, 0, 0, 0, 0]),
            errno(libc::EPERM),
            "PR_SET_NO_NEW_PRIVS"
        );
    }
}
