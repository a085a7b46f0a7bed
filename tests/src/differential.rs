//! The model of the differential tester: what the types allow, for each
//! operation of a fixed list, under a policy; a generator of random
//! policies; and which gap of the report explains a disagreement. The runner
//! is `src/bin/diff_probe.rs`, the comparison `tests/differential.rs`.

use cap_runtime::Rights;

/// The directories of the scratch tree: `d0`–`d2` may be handles, `out`
/// never is.
pub const TARGETS: [&str; 4] = ["d0", "d1", "d2", "out"];

/// The filesystem operations, each tried in every target.
pub const FS_OPS: &[&str] = &[
    "read",
    "write",
    "truncate",
    "create",
    "mkdir",
    "remove",
    "rename",
    "link",
    "symlink",
    "chmod",
    "readdir",
    "stat",
    "exec",
    "opath",
    "create_setuid",
];

/// The network and process operations, tried once.
pub const NET_OPS: &[&str] = &[
    "connect_granted",
    "connect_other",
    "bind_granted",
    "bind_other",
    "signal_parent",
    "unix_connect_held",
];

/// One random policy: rights per held directory, and the TCP grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// `(index into TARGETS, rights)` for each held directory.
    pub dirs: Vec<(usize, Rights)>,
    /// A TCP connect grant for the connect port.
    pub tcp_connect: bool,
    /// A TCP bind grant for the bind port.
    pub tcp_bind: bool,
    /// A held unix datagram socket, not bound or connected.
    pub held_unix: bool,
}

/// A small deterministic generator (xorshift64*), so a seed names a policy.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// The filesystem rights a generated handle draws from.
const FS_RIGHTS: [Rights; 11] = [
    Rights::LOOKUP,
    Rights::READ,
    Rights::WRITE,
    Rights::CREATE,
    Rights::REMOVE,
    Rights::RENAME,
    Rights::TRUNCATE,
    Rights::SYMLINK,
    Rights::EXEC,
    Rights::STAT,
    Rights::SET_META,
];

/// The policy of `seed`: each of `d0`–`d2` held with probability 2/3, each
/// right with probability 1/2 (`Lookup` 4/5), each TCP grant and the held
/// unix socket 1/2.
pub fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let mut dirs = Vec::new();
    for i in 0..3 {
        if rng.chance(67) {
            let mut rights = Rights::empty();
            for r in FS_RIGHTS {
                if rng.chance(if r == Rights::LOOKUP { 80 } else { 50 }) {
                    rights |= r;
                }
            }
            dirs.push((i, rights));
        }
    }
    Case {
        dirs,
        tcp_connect: rng.chance(50),
        tcp_bind: rng.chance(50),
        held_unix: rng.chance(50),
    }
}

/// The right each filesystem operation needs besides `Lookup`, as the
/// cap-core method that performs it asks for it.
pub fn fs_needs(op: &str) -> Rights {
    match op {
        "read" | "readdir" => Rights::READ,
        "write" => Rights::WRITE,
        "truncate" => Rights::WRITE | Rights::TRUNCATE,
        "create" => Rights::CREATE | Rights::WRITE,
        "mkdir" => Rights::CREATE,
        "remove" => Rights::REMOVE,
        "rename" | "link" => Rights::RENAME,
        "symlink" => Rights::SYMLINK,
        "chmod" => Rights::SET_META,
        "stat" => Rights::STAT,
        "exec" => Rights::EXEC,
        // The types have no O_PATH open: metadata goes through `Stat`.
        "opath" => Rights::all(),
        "create_setuid" => Rights::CREATE | Rights::WRITE | Rights::SET_META,
        other => panic!("unknown operation {other}"),
    }
}

/// Whether the types allow operation `op` (`"<fs-op>:<target>"` or a
/// network operation) under `case`.
pub fn allowed(case: &Case, op: &str) -> bool {
    if let Some((fs_op, target)) = op.split_once(':') {
        let Some(index) = TARGETS.iter().position(|t| *t == target) else {
            return false;
        };
        return case
            .dirs
            .iter()
            .find(|(i, _)| *i == index)
            .is_some_and(|(_, rights)| rights.contains(Rights::LOOKUP | fs_needs(fs_op)));
    }
    match op {
        "connect_granted" => case.tcp_connect,
        "bind_granted" => case.tcp_bind,
        _ => false,
    }
}

/// The gap (the report's `right`, or its start) that explains the kernel
/// allowing `op` where the types do not, under `case`; `None` when nothing
/// should: then a disagreement is a bug, or a gap the report does not name.
pub fn explanation(case: &Case, op: &str) -> Option<&'static str> {
    if op == "unix_connect_held" {
        // A held socket connects only to where a unix grant allows.
        return Some("unix path");
    }
    let (fs_op, target) = op.split_once(':')?;
    match fs_op {
        "stat" => return Some("Stat"),
        "chmod" => return Some("SetMeta"),
        "opath" => return Some("O_PATH"),
        _ => {}
    }
    let index = TARGETS.iter().position(|t| *t == target)?;
    let (_, rights) = case.dirs.iter().find(|(i, _)| *i == index)?;
    let needs = fs_needs(fs_op);
    if !rights.contains(Rights::LOOKUP) && rights.contains(needs) {
        return Some("Lookup");
    }
    let rename = rights.contains(Rights::RENAME);
    let create = rights.contains(Rights::CREATE);
    match fs_op {
        "read" if rights.contains(Rights::EXEC) => Some("Exec without Read"),
        "create_setuid" if !rights.contains(Rights::SET_META) && (create || rename) => {
            Some("mode at creation")
        }
        "create" | "mkdir" | "remove" | "create_setuid" if rename => Some("Rename without"),
        "rename" | "link" if create => Some("Rename by Create"),
        _ => None,
    }
}
