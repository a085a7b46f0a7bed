//! Every OS without a backend yet: [`Mode::Strict`] refuses with
//! [`Error::Unsupported`]; [`Mode::BestEffort`] enforces nothing and says so.

use crate::{Error, Gap, Mode, Options, Policy, Report};

/// No descriptor listing on this OS yet: an empty snapshot.
#[cfg_attr(target_os = "linux", allow(dead_code))]
#[allow(clippy::unnecessary_wraps)] // the same signature as the Linux backend's
pub(crate) fn open_fds() -> Result<Vec<(i32, u64, u64)>, i32> {
    Ok(Vec::new())
}

pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    crate::policy::validate_portable(policy)?;
    match options.mode {
        Mode::Strict => Err(Error::Unsupported {
            os: std::env::consts::OS,
            reason: "no capability-mode backend for this OS yet (Linux only; FreeBSD and OpenBSD are planned)",
        }),
        Mode::BestEffort => {
            let mut report = Report::empty(options.mode);
            report.gaps.push(Gap {
                subject: "process".into(),
                right: "all".into(),
                reason: format!(
                    "no capability-mode backend on {}: nothing is enforced by the kernel",
                    std::env::consts::OS
                ),
                permanent: false,
            });
            Ok(report)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Error, Mode, Options, Policy};

    #[test]
    fn strict_is_refused_and_best_effort_says_nothing_is_enforced() {
        let policy = Policy::new();
        let err = super::enter(&policy, &Options::default()).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }));
        assert!(err.is_clean());
        assert!(err.to_string().contains("not supported"));
        let options = Options {
            mode: Mode::BestEffort,
            ..Options::default()
        };
        let report = super::enter(&policy, &options).unwrap();
        assert_eq!(report.gaps.len(), 1);
        assert!(!report.gaps[0].permanent);
        assert!(report.mechanisms.is_empty());
    }
}
