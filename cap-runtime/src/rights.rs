//! The run-time face of ambit's rights catalogue.
//!
//! One catalogue serves files, directories and sockets: `Read` and `Write`
//! mean the same thing on a file and on a stream. `cap-core` carries the same
//! set in its handle types; this mask is what the kernel policy is built from.

use std::fmt;

bitflags::bitflags! {
    /// A set of rights, as a bit mask.
    ///
    /// The bit positions are stable and match the parameter order of
    /// `cap_core::rights::Set`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    pub struct Rights: u32 {
        /// Open paths beneath a directory.
        const LOOKUP = 1 << 0;
        /// Read files, list directories, read from streams.
        const READ = 1 << 1;
        /// Write existing files, write to streams.
        const WRITE = 1 << 2;
        /// Create files and directories.
        const CREATE = 1 << 3;
        /// Unlink files, remove directories.
        const REMOVE = 1 << 4;
        /// Rename and hard-link within the granted tree.
        const RENAME = 1 << 5;
        /// Truncate files (`O_TRUNC`, `set_len`).
        const TRUNCATE = 1 << 6;
        /// Create symbolic links.
        const SYMLINK = 1 << 7;
        /// Execute files beneath a directory.
        const EXEC = 1 << 8;
        /// Read metadata.
        const STAT = 1 << 9;
        /// Change metadata: permissions, owner, times.
        const SET_META = 1 << 10;
        /// Accept connections on a listener.
        const ACCEPT = 1 << 11;
        /// Shut down one or both directions of a stream.
        const SHUTDOWN = 1 << 12;
        /// Set socket options (timeouts, `TCP_NODELAY`, TTL, ...).
        const SET_OPT = 1 << 13;
        /// Send datagrams.
        const SEND = 1 << 14;
        /// Receive datagrams.
        const RECV = 1 << 15;
    }
}

impl Rights {
    /// Every right that concerns files and directories.
    pub const FS: Rights = Rights::LOOKUP
        .union(Rights::READ)
        .union(Rights::WRITE)
        .union(Rights::CREATE)
        .union(Rights::REMOVE)
        .union(Rights::RENAME)
        .union(Rights::TRUNCATE)
        .union(Rights::SYMLINK)
        .union(Rights::EXEC)
        .union(Rights::STAT)
        .union(Rights::SET_META);

    /// The rights that mean something on an open file.
    pub const FILE: Rights = Rights::READ
        .union(Rights::WRITE)
        .union(Rights::TRUNCATE)
        .union(Rights::EXEC)
        .union(Rights::STAT)
        .union(Rights::SET_META);

    /// Every right that concerns sockets.
    pub const NET: Rights = Rights::READ
        .union(Rights::WRITE)
        .union(Rights::ACCEPT)
        .union(Rights::SHUTDOWN)
        .union(Rights::SET_OPT)
        .union(Rights::SEND)
        .union(Rights::RECV)
        .union(Rights::STAT);

    /// The catalogue name of each right, in bit order (`"Lookup"`, `"Read"`, ...).
    pub const NAMES: [(Rights, &'static str); 16] = [
        (Rights::LOOKUP, "Lookup"),
        (Rights::READ, "Read"),
        (Rights::WRITE, "Write"),
        (Rights::CREATE, "Create"),
        (Rights::REMOVE, "Remove"),
        (Rights::RENAME, "Rename"),
        (Rights::TRUNCATE, "Truncate"),
        (Rights::SYMLINK, "Symlink"),
        (Rights::EXEC, "Exec"),
        (Rights::STAT, "Stat"),
        (Rights::SET_META, "SetMeta"),
        (Rights::ACCEPT, "Accept"),
        (Rights::SHUTDOWN, "Shutdown"),
        (Rights::SET_OPT, "SetOpt"),
        (Rights::SEND, "Send"),
        (Rights::RECV, "Recv"),
    ];

    /// The catalogue names of the rights in this set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(r, _)| self.contains(*r))
            .map(|(_, n)| n)
    }

    /// Parses one catalogue name (`"Read"`, `"SetMeta"`, case-insensitive).
    pub fn from_catalogue_name(name: &str) -> Option<Rights> {
        Self::NAMES
            .into_iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(r, _)| r)
    }
}

impl fmt::Display for Rights {
    /// Formats as `[Lookup, Read]`, the spelling of `rights![..]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::Rights;

    #[test]
    fn names_follow_bit_order_and_round_trip() {
        for (i, (right, name)) in Rights::NAMES.into_iter().enumerate() {
            assert_eq!(right.bits(), 1 << i, "{name} is out of order");
            assert_eq!(Rights::from_catalogue_name(name), Some(right));
            assert_eq!(
                Rights::from_catalogue_name(&name.to_lowercase()),
                Some(right)
            );
        }
        assert_eq!(Rights::from_catalogue_name("Fly"), None);
    }

    #[test]
    fn display_lists_names() {
        assert_eq!(
            (Rights::READ | Rights::LOOKUP).to_string(),
            "[Lookup, Read]"
        );
        assert_eq!(Rights::empty().to_string(), "[]");
    }
}
