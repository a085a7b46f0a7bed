//! Landlock: the catalogue's rights mapped to Landlock access bits, per ABI.

use crate::Rights;

/// Filesystem access bits (`LANDLOCK_ACCESS_FS_*`), with the ABI that added
/// each and its name for the report.
pub const FS_ACCESS: [(u64, u32, &str); 16] = [
    (EXECUTE, 1, "execute"),
    (WRITE_FILE, 1, "write_file"),
    (READ_FILE, 1, "read_file"),
    (READ_DIR, 1, "read_dir"),
    (REMOVE_DIR, 1, "remove_dir"),
    (REMOVE_FILE, 1, "remove_file"),
    (MAKE_CHAR, 1, "make_char"),
    (MAKE_DIR, 1, "make_dir"),
    (MAKE_REG, 1, "make_reg"),
    (MAKE_SOCK, 1, "make_sock"),
    (MAKE_FIFO, 1, "make_fifo"),
    (MAKE_BLOCK, 1, "make_block"),
    (MAKE_SYM, 1, "make_sym"),
    (REFER, 2, "refer"),
    (TRUNCATE, 3, "truncate"),
    (IOCTL_DEV, 5, "ioctl_dev"),
];

/// `LANDLOCK_ACCESS_FS_EXECUTE`.
pub const EXECUTE: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_FS_WRITE_FILE`.
pub const WRITE_FILE: u64 = 1 << 1;
/// `LANDLOCK_ACCESS_FS_READ_FILE`.
pub const READ_FILE: u64 = 1 << 2;
/// `LANDLOCK_ACCESS_FS_READ_DIR`.
pub const READ_DIR: u64 = 1 << 3;
/// `LANDLOCK_ACCESS_FS_REMOVE_DIR`.
pub const REMOVE_DIR: u64 = 1 << 4;
/// `LANDLOCK_ACCESS_FS_REMOVE_FILE`.
pub const REMOVE_FILE: u64 = 1 << 5;
/// `LANDLOCK_ACCESS_FS_MAKE_CHAR`.
pub const MAKE_CHAR: u64 = 1 << 6;
/// `LANDLOCK_ACCESS_FS_MAKE_DIR`.
pub const MAKE_DIR: u64 = 1 << 7;
/// `LANDLOCK_ACCESS_FS_MAKE_REG`.
pub const MAKE_REG: u64 = 1 << 8;
/// `LANDLOCK_ACCESS_FS_MAKE_SOCK`.
pub const MAKE_SOCK: u64 = 1 << 9;
/// `LANDLOCK_ACCESS_FS_MAKE_FIFO`.
pub const MAKE_FIFO: u64 = 1 << 10;
/// `LANDLOCK_ACCESS_FS_MAKE_BLOCK`.
pub const MAKE_BLOCK: u64 = 1 << 11;
/// `LANDLOCK_ACCESS_FS_MAKE_SYM`.
pub const MAKE_SYM: u64 = 1 << 12;
/// `LANDLOCK_ACCESS_FS_REFER` (ABI 2).
pub const REFER: u64 = 1 << 13;
/// `LANDLOCK_ACCESS_FS_TRUNCATE` (ABI 3).
pub const TRUNCATE: u64 = 1 << 14;
/// `LANDLOCK_ACCESS_FS_IOCTL_DEV` (ABI 5).
pub const IOCTL_DEV: u64 = 1 << 15;

/// `LANDLOCK_ACCESS_NET_BIND_TCP` (ABI 4).
pub const NET_BIND_TCP: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_CONNECT_TCP` (ABI 4).
pub const NET_CONNECT_TCP: u64 = 1 << 1;
/// `LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET` (ABI 6).
pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
/// `LANDLOCK_SCOPE_SIGNAL` (ABI 6).
pub const SCOPE_SIGNAL: u64 = 1 << 1;

/// Every filesystem access `abi` knows (what the ruleset handles).
pub fn fs_known(abi: u32) -> u64 {
    FS_ACCESS
        .iter()
        .filter(|(_, since, _)| abi >= *since)
        .fold(0, |acc, (bit, _, _)| acc | bit)
}

/// Every network access `abi` knows.
pub fn net_known(abi: u32) -> u64 {
    if abi >= 4 {
        NET_BIND_TCP | NET_CONNECT_TCP
    } else {
        0
    }
}

/// Every scope `abi` knows.
pub fn scopes_known(abi: u32) -> u64 {
    if abi >= 6 {
        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    } else {
        0
    }
}

/// The Landlock accesses a directory handle with `rights` needs beneath it.
///
/// `Create` maps to `MAKE_REG | MAKE_DIR | MAKE_SOCK`.
///
/// `Exec` maps to `EXECUTE | READ_FILE`: the kernel opens an executable for
/// reading, and Landlock checks that open as a read.
///
/// `Rename` needs `REFER` plus the make and remove accesses on both ends,
/// because Landlock checks a rename as a removal and a creation; the kernel
/// therefore also allows plain creates and removes beneath a `Rename` handle
/// (a gap the report names when the handle lacks `Create` or `Remove`).
pub fn dir_access(rights: Rights) -> u64 {
    let mut access = 0;
    if rights.contains(Rights::READ) {
        access |= READ_FILE | READ_DIR;
    }
    if rights.contains(Rights::WRITE) {
        access |= WRITE_FILE;
    }
    if rights.contains(Rights::CREATE) {
        // Sockets too: `Dir::bind_unix_listener` needs `Create`, and binding a
        // pathname socket is a `MAKE_SOCK`. Making one also needs a unix
        // handle or grant (the seccomp unix group), so without one this adds
        // nothing the process can use.
        access |= MAKE_REG | MAKE_DIR | MAKE_SOCK;
    }
    if rights.contains(Rights::REMOVE) {
        access |= REMOVE_FILE | REMOVE_DIR;
    }
    if rights.contains(Rights::RENAME) {
        access |= REFER | MAKE_REG | MAKE_DIR | REMOVE_FILE | REMOVE_DIR;
        if rights.contains(Rights::SYMLINK) {
            access |= MAKE_SYM;
        }
    }
    if rights.contains(Rights::TRUNCATE) {
        access |= TRUNCATE;
    }
    if rights.contains(Rights::SYMLINK) {
        access |= MAKE_SYM;
    }
    if rights.contains(Rights::EXEC) {
        // The kernel opens an executable for reading: exec needs READ_FILE too.
        access |= EXECUTE | READ_FILE;
    }
    access
}

/// The Landlock accesses a regular-file handle with `rights` needs (only the
/// accesses Landlock accepts on a file).
pub fn file_access(rights: Rights) -> u64 {
    let mut access = 0;
    if rights.contains(Rights::READ) {
        access |= READ_FILE;
    }
    if rights.contains(Rights::WRITE) {
        access |= WRITE_FILE;
    }
    if rights.contains(Rights::TRUNCATE) {
        access |= TRUNCATE;
    }
    if rights.contains(Rights::EXEC) {
        access |= EXECUTE | READ_FILE;
    }
    access
}

/// The rights whose kernel enforcement needs an access `abi` does not know:
/// (right, missing access names).
pub fn unenforceable(rights: Rights, is_dir: bool, abi: u32) -> Vec<(Rights, Vec<&'static str>)> {
    let known = fs_known(abi);
    let mut out = Vec::new();
    for (right, _) in Rights::NAMES {
        if !rights.contains(right) {
            continue;
        }
        let need = if is_dir {
            dir_access(right | (rights & Rights::SYMLINK))
        } else {
            file_access(right)
        };
        let missing = need & !known;
        if missing != 0 {
            out.push((right, fs_names(missing)));
        }
    }
    out
}

/// The names of the filesystem access bits in `access`.
pub fn fs_names(access: u64) -> Vec<&'static str> {
    FS_ACCESS
        .iter()
        .filter(|(bit, _, _)| access & bit != 0)
        .map(|(_, _, n)| *n)
        .collect()
}

/// The names of the network access bits in `access`.
pub fn net_names(access: u64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if access & NET_BIND_TCP != 0 {
        out.push("bind_tcp");
    }
    if access & NET_CONNECT_TCP != 0 {
        out.push("connect_tcp");
    }
    out
}

/// The names of the scopes in `scoped`.
pub fn scope_names(scoped: u64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if scoped & SCOPE_ABSTRACT_UNIX_SOCKET != 0 {
        out.push("abstract_unix_socket");
    }
    if scoped & SCOPE_SIGNAL != 0 {
        out.push("signal");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_adds_accesses() {
        assert_eq!(fs_known(1), 0x1fff);
        assert_eq!(fs_known(2), 0x3fff);
        assert_eq!(fs_known(3), 0x7fff);
        assert_eq!(fs_known(4), 0x7fff);
        assert_eq!(fs_known(5), 0xffff);
        assert_eq!(fs_known(7), 0xffff);
        assert_eq!(net_known(3), 0);
        assert_eq!(scopes_known(5), 0);
        assert_eq!(scopes_known(6), 3);
    }

    #[test]
    fn catalogue_mapping() {
        assert_eq!(dir_access(Rights::LOOKUP), 0);
        assert_eq!(dir_access(Rights::READ), READ_FILE | READ_DIR);
        assert_eq!(dir_access(Rights::RENAME) & REFER, REFER);
        assert_eq!(dir_access(Rights::RENAME) & MAKE_SYM, 0);
        assert_eq!(
            dir_access(Rights::RENAME | Rights::SYMLINK) & MAKE_SYM,
            MAKE_SYM
        );
        assert_eq!(dir_access(Rights::TRUNCATE), TRUNCATE);
        assert_eq!(dir_access(Rights::STAT | Rights::SET_META), 0);
        assert_eq!(
            file_access(Rights::READ | Rights::WRITE | Rights::STAT),
            READ_FILE | WRITE_FILE
        );
        // Never anything Landlock rejects on a file rule.
        let file_ok = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
        assert_eq!(file_access(Rights::FILE) & !file_ok, 0);
    }

    #[test]
    fn old_abi_names_missing_rights() {
        let gaps = unenforceable(Rights::READ | Rights::TRUNCATE | Rights::RENAME, true, 2);
        assert_eq!(gaps, vec![(Rights::TRUNCATE, vec!["truncate"])]);
        let gaps = unenforceable(Rights::RENAME, true, 1);
        assert_eq!(gaps, vec![(Rights::RENAME, vec!["refer"])]);
        assert!(unenforceable(Rights::FS, true, 7).is_empty());
    }
}
