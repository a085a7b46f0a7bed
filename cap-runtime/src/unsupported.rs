//! Every OS without a capability-mode backend (macOS, Windows, ...):
//! [`Mode::Strict`] refuses with [`Error::Unsupported`] naming the OS;
//! [`Mode::BestEffort`] applies nothing and reports every right of every
//! handle and grant as a gap. The handles and their types work as anywhere:
//! only the kernel half is missing.

use crate::report::HandleReport;
use crate::{EntryKind, Error, Gap, Mode, Options, Policy, Report};

/// Why there is no backend, for [`Error::Unsupported`].
pub(crate) const REASON: &str = "ambit has no capability-mode backend for this OS (Linux: Landlock and seccomp; FreeBSD: Capsicum; OpenBSD: unveil and pledge); the handles' types still hold, but the kernel enforces nothing. Use Mode::BestEffort to run with the types alone";

/// No descriptor listing on this OS: an empty snapshot.
#[cfg_attr(
    any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"),
    allow(dead_code)
)]
#[allow(clippy::unnecessary_wraps)] // the same signature as the other backends'
pub(crate) fn open_fds() -> Result<Vec<(i32, u64, u64)>, i32> {
    Ok(Vec::new())
}

/// The plan on an OS without a backend: nothing to apply, every right a gap.
/// `os` names the OS in the error and the report.
pub(crate) fn plan(
    policy: &Policy<'_>,
    options: &Options,
    os: &'static str,
) -> Result<Report, Error> {
    crate::policy::validate_portable(policy)?;
    if options.mode == Mode::Strict {
        return Err(Error::Unsupported { os, reason: REASON });
    }
    let mut report = Report::empty(options.mode);
    report.os = os.to_string();
    let reason = format!("no capability-mode backend on {os}: only the type system enforces it");
    let gap = |subject: &str, right: &str| Gap {
        subject: subject.to_string(),
        right: right.to_string(),
        reason: reason.clone(),
        permanent: false,
    };
    report.gaps.push(gap("process", "all"));
    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        for right in e.rights.names() {
            report.gaps.push(gap(&origin, right));
        }
        report.handles.push(HandleReport {
            fd: e.fd,
            kind: match e.kind {
                EntryKind::Dir => "dir".to_string(),
                EntryKind::File => "file".to_string(),
                EntryKind::Socket(k) => format!("{k:?}"),
            },
            origin,
            rights: e.rights,
            access: Vec::new(),
        });
    }
    for g in policy.net_grants() {
        report.gaps.push(gap(&g.label, "network grant"));
    }
    report.net_grants = policy.net_grants().to_vec();
    Ok(report)
}

#[cfg_attr(
    any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"),
    allow(dead_code)
)]
pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    plan(policy, options, std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::policy::test_fd;
    use crate::{Error, Mode, NetGrant, Options, Policy, Rights};

    #[test]
    fn strict_is_refused_naming_the_os() {
        let policy = Policy::new();
        for os in ["macos", "windows"] {
            let err = super::plan(&policy, &Options::default(), os).unwrap_err();
            assert!(matches!(err, Error::Unsupported { os: o, .. } if o == os));
            assert!(err.is_clean());
            let text = err.to_string();
            assert!(text.contains(&format!("not supported on {os}")), "{text}");
            assert!(text.contains("BestEffort"), "{text}");
        }
    }

    #[test]
    fn best_effort_reports_every_right_as_a_gap() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.dir(
            test_fd::of(&file),
            Rights::LOOKUP | Rights::READ | Rights::CREATE,
            Path::new("/srv"),
        );
        policy.net(NetGrant {
            label: "api".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        let options = Options {
            mode: Mode::BestEffort,
            ..Options::default()
        };
        let report = super::plan(&policy, &options, "macos").unwrap();
        assert!(report.mechanisms.is_empty());
        assert_eq!(report.os, "macos");
        let on_srv: Vec<&str> = report
            .gaps
            .iter()
            .filter(|g| g.subject == "/srv")
            .map(|g| g.right.as_str())
            .collect();
        assert_eq!(on_srv, ["Lookup", "Read", "Create"]);
        assert!(report.gaps.iter().any(|g| g.subject == "api"));
        assert!(report.gaps.iter().all(|g| !g.permanent));
    }

    #[test]
    fn bad_entries_are_refused_in_both_modes() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.file(test_fd::of(&file), Rights::ACCEPT, Path::new("/f"));
        let err = super::plan(&policy, &Options::default(), "macos").unwrap_err();
        assert!(matches!(err, Error::InvalidEntry { .. }), "{err:?}");
    }
}
