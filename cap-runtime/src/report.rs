//! [`Report`]: what entering capability mode did, and what it could not do.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Mode, NetGrant, Rights};

/// What entering capability mode did: mechanisms, per-handle access, ports,
/// scopes, seccomp groups, capabilities dropped, descriptors handled and every
/// gap. Prints as a short table ([`Display`](fmt::Display)) and serialises to
/// JSON ([`Report::to_json`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The OS (`std::env::consts::OS`).
    pub os: String,
    /// The mode the sandbox was entered in.
    pub mode: Mode,
    /// The mechanisms applied, in order (`no_new_privs`, `landlock`, ...).
    pub mechanisms: Vec<String>,
    /// The Landlock ABI used (0: none).
    pub landlock_abi: u32,
    /// The Landlock ABI the running kernel offers (differs from `landlock_abi`
    /// when an older one was assumed).
    pub landlock_abi_kernel: u32,
    /// Filesystem accesses Landlock handles (denied unless a rule grants them).
    pub handled_fs: Vec<String>,
    /// Network accesses Landlock handles.
    pub handled_net: Vec<String>,
    /// Each held handle and the kernel access it keeps.
    pub handles: Vec<HandleReport>,
    /// The network grants, as declared.
    pub net_grants: Vec<NetGrant>,
    /// TCP ports the process may connect to.
    pub tcp_connect_ports: Vec<u16>,
    /// TCP ports the process may bind.
    pub tcp_bind_ports: Vec<u16>,
    /// Landlock scopes (`abstract_unix_socket`, `signal`).
    pub scopes: Vec<String>,
    /// The seccomp filter, if one was installed.
    pub seccomp: Option<SeccompReport>,
    /// Linux capabilities dropped from the bounding set (names), besides
    /// clearing the effective, permitted, inheritable and ambient sets.
    pub capabilities_dropped: Vec<String>,
    /// Descriptors that were neither stdio nor granted, and what became of them.
    pub inherited_fds: Vec<InheritedFd>,
    /// Every right or restriction the kernel does not enforce.
    pub gaps: Vec<Gap>,
    /// OpenBSD: the unveiled paths and the pledge promises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pledge: Option<PledgeReport>,
}

/// The unveil + pledge part of the [`Report`] (OpenBSD).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeReport {
    /// The pledge promises (`stdio`, `rpath`, ...).
    pub promises: Vec<String>,
    /// The execpromises, if children may be executed.
    pub execpromises: Option<Vec<String>>,
    /// Each unveiled path with its permissions (`/srv "rw"`).
    pub unveiled: Vec<String>,
}

/// One held handle in the [`Report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleReport {
    /// Its descriptor.
    pub fd: i32,
    /// `dir`, `file` or the socket kind.
    pub kind: String,
    /// Where it was opened (path) or its label (address).
    pub origin: String,
    /// Its rights.
    pub rights: Rights,
    /// The Landlock accesses its rule grants (empty: no rule).
    pub access: Vec<String>,
}

/// The seccomp part of the [`Report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompReport {
    /// The syscall groups allowed (`baseline`, `fs`, `inet`, ...).
    pub groups: Vec<String>,
    /// How many syscalls the filter allows (some only with checked arguments).
    pub allowed_syscalls: usize,
    /// The filter's length in BPF instructions.
    pub instructions: usize,
}

/// A descriptor that was neither stdio nor part of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritedFd {
    /// The descriptor.
    pub fd: i32,
    /// What it points to (`/proc/self/fd/N`'s link: a path, `socket:[..]`, ...).
    pub target: String,
    /// What was done with it.
    pub action: FdAction,
}

/// What became of an inherited descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FdAction {
    /// Closed before the lock.
    Closed,
    /// Kept open on request.
    Kept,
    /// Found, and entering was refused because of it.
    Refused,
}

/// A right or restriction the kernel does not enforce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// What it concerns: a handle's origin, a grant's label, or `process`.
    pub subject: String,
    /// The right or restriction (`Truncate`, `tcp ports`, `scope signal`, ...).
    pub right: String,
    /// Why, and what enforces it instead (the type system, nothing).
    pub reason: String,
    /// No kernel offers it (listed, never a reason for Strict to refuse).
    pub permanent: bool,
}

impl Report {
    /// An empty report for `mode` on this OS.
    pub fn empty(mode: Mode) -> Self {
        Report {
            os: std::env::consts::OS.to_string(),
            mode,
            ..Report::default()
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

fn ports(items: &[u16]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Report {
    /// A short table: one line per mechanism, handle, gap.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "capability mode ({:?}, {})", self.mode, self.os)?;
        writeln!(f, "  {:<13} {}", "mechanisms", list(&self.mechanisms))?;
        let abi = if self.landlock_abi == self.landlock_abi_kernel {
            self.landlock_abi.to_string()
        } else {
            format!(
                "{} (kernel {})",
                self.landlock_abi, self.landlock_abi_kernel
            )
        };
        writeln!(f, "  {:<13} {abi}", "landlock abi")?;
        for h in &self.handles {
            writeln!(
                f,
                "  {:<13} fd {:<3} {} {} -> {}",
                h.kind,
                h.fd,
                h.origin,
                h.rights,
                list(&h.access)
            )?;
        }
        writeln!(
            f,
            "  {:<13} connect {}; bind {}",
            "tcp ports",
            ports(&self.tcp_connect_ports),
            ports(&self.tcp_bind_ports)
        )?;
        writeln!(f, "  {:<13} {}", "scopes", list(&self.scopes))?;
        match &self.seccomp {
            Some(s) => writeln!(
                f,
                "  {:<13} {} ({} syscalls, {} instructions)",
                "seccomp",
                s.groups.join(", "),
                s.allowed_syscalls,
                s.instructions
            )?,
            None => writeln!(f, "  {:<13} -", "seccomp")?,
        }
        writeln!(
            f,
            "  {:<13} {} dropped from the bounding set; effective, permitted, inheritable, ambient cleared",
            "capabilities",
            self.capabilities_dropped.len()
        )?;
        if let Some(p) = &self.pledge {
            writeln!(f, "  {:<13} {}", "unveil", list(&p.unveiled))?;
            writeln!(f, "  {:<13} {}", "pledge", list(&p.promises))?;
        }
        for fd in &self.inherited_fds {
            writeln!(
                f,
                "  {:<13} fd {} -> {} ({:?})",
                "inherited fd", fd.fd, fd.target, fd.action
            )?;
        }
        if self.gaps.is_empty() {
            writeln!(f, "  {:<13} none", "gaps")?;
        }
        for gap in &self.gaps {
            let tag = if gap.permanent {
                "gap (any kernel)"
            } else {
                "gap"
            };
            writeln!(
                f,
                "  {:<13} {} on {}: {}",
                tag, gap.right, gap.subject, gap.reason
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            mechanisms: vec!["no_new_privs".into(), "landlock".into(), "seccomp".into()],
            landlock_abi: 2,
            landlock_abi_kernel: 7,
            handles: vec![HandleReport {
                fd: 3,
                kind: "dir".into(),
                origin: "/srv/data".into(),
                rights: Rights::LOOKUP | Rights::READ,
                access: vec!["read_file".into(), "read_dir".into()],
            }],
            tcp_connect_ports: vec![443],
            seccomp: Some(SeccompReport {
                groups: vec!["baseline".into(), "fs".into()],
                allowed_syscalls: 168,
                instructions: 391,
            }),
            inherited_fds: vec![InheritedFd {
                fd: 7,
                target: "socket:[1]".into(),
                action: FdAction::Closed,
            }],
            gaps: vec![Gap {
                subject: "process".into(),
                right: "Stat".into(),
                reason: "not restrictable".into(),
                permanent: true,
            }],
            ..Report::empty(Mode::BestEffort)
        }
    }

    #[test]
    fn display_is_a_short_table() {
        let text = sample().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("capability mode (BestEffort, {})", std::env::consts::OS)
        );
        assert!(text.contains("  landlock abi  2 (kernel 7)\n"), "{text}");
        assert!(
            text.contains(
                "  dir           fd 3   /srv/data [Lookup, Read] -> read_file, read_dir\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  tcp ports     connect 443; bind -\n"),
            "{text}"
        );
        assert!(
            text.contains("  seccomp       baseline, fs (168 syscalls, 391 instructions)\n"),
            "{text}"
        );
        assert!(
            text.contains("  inherited fd  fd 7 -> socket:[1] (Closed)\n"),
            "{text}"
        );
        assert!(
            text.contains("gap (any kernel) Stat on process: not restrictable"),
            "{text}"
        );
        assert!(lines.len() < 15);
    }

    #[test]
    fn json_round_trips() {
        let report = sample();
        let json = report.to_json();
        assert!(json.contains("\"mode\": \"best_effort\""));
        assert!(json.contains("\"action\": \"closed\""));
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
