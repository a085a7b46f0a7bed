//! The syscall groups, by name, and each architecture's numbers for them.
//!
//! Numbers come from the `syscalls` crate (generated from the kernel's
//! syscall tables for every architecture at once, so the aarch64 and riscv64
//! filters are built and checked on any host); nothing here is a hand-typed
//! number. A name the architecture does not have (`open`, `stat`, `fork`...
//! on aarch64 and riscv64, which only have the `*at` forms) is skipped. The
//! crate's names are the kernel's: aarch64 calls `newfstatat` `fstatat`, so
//! both are listed.

use std::str::FromStr;

/// An architecture the filter has a syscall table for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86_64 (the x32 ABI, which shares its audit arch, is killed by the
    /// syscall number's x32 bit).
    X86_64,
    /// aarch64 (arm64).
    Aarch64,
    /// riscv64.
    Riscv64,
}

/// `__AUDIT_ARCH_64BIT` and `__AUDIT_ARCH_LE` (`linux/audit.h`).
const AUDIT_ARCH_64BIT_LE: u32 = 0x8000_0000 | 0x4000_0000;

impl Arch {
    /// Every architecture with a table.
    pub const ALL: [Arch; 3] = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64];

    /// The architecture this is compiled for, if it has a table.
    pub fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else if cfg!(target_arch = "riscv64") {
            Some(Arch::Riscv64)
        } else {
            None
        }
    }

    /// Its `AUDIT_ARCH_*` value (`seccomp_data.arch`): the ELF machine with
    /// the 64-bit and little-endian bits.
    pub fn audit(self) -> u32 {
        let machine = match self {
            Arch::X86_64 => libc::EM_X86_64,
            Arch::Aarch64 => libc::EM_AARCH64,
            Arch::Riscv64 => libc::EM_RISCV,
        };
        u32::from(machine) | AUDIT_ARCH_64BIT_LE
    }

    /// The number of syscall `name` on this architecture, if it has one.
    pub fn number(self, name: &str) -> Option<u32> {
        let id = match self {
            Arch::X86_64 => syscalls::x86_64::Sysno::from_str(name).map(|s| s.id()),
            Arch::Aarch64 => syscalls::aarch64::Sysno::from_str(name).map(|s| s.id()),
            Arch::Riscv64 => syscalls::riscv64::Sysno::from_str(name).map(|s| s.id()),
        };
        id.ok().and_then(|id| u32::try_from(id).ok())
    }

    /// Its name, as in the report.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        }
    }
}

/// A list of syscall names.
pub type Table = &'static [&'static str];

/// A table's numbers on each architecture, resolved at compile time (entering
/// a sandbox looks nothing up); `ABSENT` where the architecture lacks one.
#[derive(Debug)]
pub struct Numbers {
    names: Table,
    x86_64: &'static [u32],
    aarch64: &'static [u32],
    riscv64: &'static [u32],
}

/// No such syscall on this architecture.
pub const ABSENT: u32 = u32::MAX;

impl Numbers {
    /// `(name, number)` of each syscall of the table `arch` has.
    pub fn on(&self, arch: Arch) -> impl Iterator<Item = (&'static str, u32)> + use<> {
        let numbers = match arch {
            Arch::X86_64 => self.x86_64,
            Arch::Aarch64 => self.aarch64,
            Arch::Riscv64 => self.riscv64,
        };
        self.names
            .iter()
            .copied()
            .zip(numbers.iter().copied())
            .filter(|(_, nr)| *nr != ABSENT)
    }

    /// The number of `name` (which must be in the table) on `arch`.
    pub fn of(&self, arch: Arch, name: &str) -> Option<u32> {
        self.on(arch).find(|(n, _)| *n == name).map(|(_, nr)| nr)
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Walks one architecture's syscall list (the crate's `Sysno`) for `$name`.
macro_rules! lookup {
    ($sysno:ty, $name:expr) => {{
        let mut found = ABSENT;
        let mut next = Some(<$sysno>::first());
        while let Some(sysno) = next {
            if same(sysno.name(), $name) {
                #[allow(clippy::cast_sign_loss)]
                {
                    found = sysno.id() as u32;
                }
                break;
            }
            next = sysno.next();
        }
        found
    }};
}

const fn resolve<const N: usize>(arch: Arch, names: Table) -> [u32; N] {
    let mut out = [ABSENT; N];
    let mut i = 0;
    while i < N {
        out[i] = match arch {
            Arch::X86_64 => lookup!(syscalls::x86_64::Sysno, names[i]),
            Arch::Aarch64 => lookup!(syscalls::aarch64::Sysno, names[i]),
            Arch::Riscv64 => lookup!(syscalls::riscv64::Sysno, names[i]),
        };
        i += 1;
    }
    out
}

/// `numbers!(TABLE)`: the table's `Numbers`, computed by the compiler.
macro_rules! numbers {
    ($table:ident) => {{
        const N: usize = $table.len();
        const X86_64: [u32; N] = resolve(Arch::X86_64, $table);
        const AARCH64: [u32; N] = resolve(Arch::Aarch64, $table);
        const RISCV64: [u32; N] = resolve(Arch::Riscv64, $table);
        Numbers {
            names: $table,
            x86_64: &X86_64,
            aarch64: &AARCH64,
            riscv64: &RISCV64,
        }
    }};
}

/// Memory, time, signals, threads, I/O on held descriptors. (`fcntl`,
/// `fallocate`, `sendto`, `sendmsg`, `sendmmsg`, `clone`, `ioctl`, `prctl`,
/// `prlimit64`, `sched_setaffinity`, `socketpair` are allowed by
/// argument-checking blocks instead, or plainly when the policy needs no
/// check: see `build`.)
pub const BASELINE: Table = &[
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "close",
    "close_range",
    "lseek",
    "fstat",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd",
    "signalfd4",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mincore",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigsuspend",
    "sigaltstack",
    "kill",
    "tgkill",
    "tkill",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "getpgrp",
    "getpgid",
    "getsid",
    "capget",
    "exit",
    "exit_group",
    "futex",
    "futex_waitv",
    "set_robust_list",
    "set_tid_address",
    "sched_yield",
    "sched_getaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getrandom",
    "uname",
    "getrlimit",
    "getrusage",
    "sysinfo",
    "getcpu",
    "restart_syscall",
    "membarrier",
    "fork",
    "vfork",
    "wait4",
    "waitid",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "shutdown",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "getcwd",
    "fstatfs",
    "rseq",
    // Architecture-specific: thread pointer (x86_64), instruction-cache
    // flush for code generated at run time and the CPU feature query glibc
    // makes (riscv64).
    "arch_prctl",
    "riscv_flush_icache",
    "riscv_hwprobe",
];

/// Path operations (Landlock decides which paths). `fallocate` is here when
/// a handle has `Truncate`; otherwise its mode is checked.
pub const FS: Table = &[
    "open",
    "creat",
    "openat",
    "openat2",
    "stat",
    "lstat",
    "newfstatat",
    "fstatat",
    "statx",
    "statfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents64",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "truncate",
    "ftruncate",
    "fsync",
    "fdatasync",
    "sync_file_range",
    "flock",
    "fadvise64",
    "copy_file_range",
    "sendfile",
    "splice",
    "tee",
    "chdir",
    "fchdir",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "umask",
];

/// chmod, chown, utimes, xattr writes: only when a handle has `SetMeta`.
pub const SETMETA: Table = &[
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
];

/// What programs that were not written against ambit use and the typed
/// path does not (`ambit run`, [`crate::Policy::unmodified_program`]): POSIX
/// timers and interval timers (`timeout`, `sleep` in some shells), `pause`,
/// reading the nice value, and process groups and sessions (shells with job
/// control). Each acts on the calling process, its own timers or its own
/// children only; `setpriority`, which reaches other processes of the same
/// user, is not here.
pub const UNMODIFIED: Table = &[
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "alarm",
    "getitimer",
    "setitimer",
    "pause",
    "getpriority",
    "setpgid",
    "setsid",
];

/// Connecting and binding (Landlock checks TCP ports).
pub const SOCKETS: Table = &["connect", "bind"];

/// Accepting on a listener: held ones with `Accept`, or those a grant can make.
pub const ACCEPT: Table = &["accept", "accept4"];

/// `listen` on an unbound TCP socket binds an ephemeral port without
/// Landlock's bind check: only with TCP bind ports or unix needs.
pub const LISTEN: Table = &["listen"];

/// Running a program and what spawning a sandboxed child needs beyond the
/// baseline (which has `clone` without namespace flags, `wait4`, `waitid`,
/// `close_range`, `dup2`, `dup3`, `prctl(PR_SET_PDEATHSIG)`). The child's own
/// lock (`seccomp(SET_MODE_FILTER)`, `prctl(PR_SET_NO_NEW_PRIVS)`, the
/// capability-drop prctls) is allowed by the argument-checking blocks under
/// the same need.
pub const EXEC: Table = &[
    "execve",
    "execveat",
    "pidfd_open",
    "pidfd_send_signal",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "capset",
];

/// Syscalls libraries probe and fall back from: `ENOSYS`, not `EPERM`.
/// `clone3` carries its flags in memory, out of a filter's reach, so it is
/// refused and glibc falls back to `clone`, whose flags are checked. (`rseq`
/// is allowed instead, in the baseline: once the main thread registered it,
/// glibc aborts any new thread whose registration fails.)
pub const ENOSYS: Table = &["clone3"];

/// Never allowed, whatever the handles: the kernel attack surface and the
/// ways around the sandbox the issue names (checked by a unit test).
pub const NEVER: Table = &[
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsmount",
    "fsconfig",
    "move_mount",
    "open_tree",
    "unshare",
    "setns",
    "open_by_handle_at",
    "name_to_handle_at",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "pidfd_getfd",
    "setuid",
    "setgid",
    "setreuid",
    "setresuid",
    "mknod",
    "mknodat",
    "process_madvise",
    "kcmp",
    "swapon",
    "reboot",
    "iopl",
    "ioperm",
    "quotactl",
    "acct",
    "inotify_add_watch",
    "fanotify_init",
];

/// Allowed only when a handle has `Exec` (a locked parent builds a child's
/// Landlock ruleset, and the child installs its own lock); refused
/// otherwise. `seccomp` only as `SECCOMP_SET_MODE_FILTER`. Each only narrows:
/// a ruleset restricts nothing until `landlock_restrict_self`, and then only
/// the caller.
pub const EXEC_ONLY: Table = &[
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "capset",
];

/// Every group table, for the tests.
#[cfg(test)]
pub const ALL_TABLES: [Table; 12] = [
    BASELINE, FS, SETMETA, SOCKETS, ACCEPT, LISTEN, EXEC, ENOSYS, NEVER, EXEC_ONLY, CHECKED,
    UNMODIFIED,
];

/// The syscalls `build` checks the arguments of, or allows plainly only
/// under a condition of its own.
pub const CHECKED: Table = &[
    "socket",
    "socketpair",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "fallocate",
    "fcntl",
    "clone",
    "prlimit64",
    "sched_setaffinity",
    "ioctl",
    "prctl",
    "seccomp",
];

/// Each table's numbers.
pub const BASELINE_NR: Numbers = numbers!(BASELINE);
/// See [`FS`].
pub const FS_NR: Numbers = numbers!(FS);
/// See [`SETMETA`].
pub const SETMETA_NR: Numbers = numbers!(SETMETA);
/// See [`SOCKETS`].
pub const SOCKETS_NR: Numbers = numbers!(SOCKETS);
/// See [`ACCEPT`].
pub const ACCEPT_NR: Numbers = numbers!(ACCEPT);
/// See [`LISTEN`].
pub const LISTEN_NR: Numbers = numbers!(LISTEN);
/// See [`EXEC`].
pub const EXEC_NR: Numbers = numbers!(EXEC);
/// See [`ENOSYS`].
pub const ENOSYS_NR: Numbers = numbers!(ENOSYS);
/// See [`UNMODIFIED`].
pub const UNMODIFIED_NR: Numbers = numbers!(UNMODIFIED);
/// See [`CHECKED`].
pub const CHECKED_NR: Numbers = numbers!(CHECKED);
