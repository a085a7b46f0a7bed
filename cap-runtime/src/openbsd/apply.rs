//! The unveil + pledge applier: gathers the [`Facts`], runs the planner,
//! and makes the calls in order.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use super::plan::{self, Facts, Plan};
use crate::inherited::Undeclared;
use crate::report::{FdAction, InheritedFd};
use crate::{Error, Options, Policy, Report};

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD touches no memory and fails with EBADF on a closed
    // descriptor (fcntl(2)).
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

fn fstat_id(fd: RawFd) -> Option<(u64, u64)> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat fills the struct on success (fstat(2)); read only then.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat returned 0.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::cast_sign_loss, clippy::useless_conversion)]
    Some((st.st_dev as u64, u64::from(st.st_ino)))
}

fn open_descriptors() -> impl Iterator<Item = RawFd> {
    // SAFETY: sysconf takes a constant and touches no memory.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    let max = RawFd::try_from(max).unwrap_or(RawFd::MAX).max(1024);
    (3..max).filter(|fd| is_open(*fd))
}

#[allow(clippy::unnecessary_wraps)] // the backends share one signature
pub(crate) fn open_fds() -> Result<Vec<(RawFd, u64, u64)>, i32> {
    Ok(open_descriptors()
        .filter_map(|fd| fstat_id(fd).map(|(dev, ino)| (fd, dev, ino)))
        .collect())
}

fn gather(policy: &Policy<'_>) -> Result<Facts, Error> {
    for e in policy.entries() {
        if !is_open(e.fd) {
            return Err(Error::InvalidEntry {
                fd: e.fd,
                origin: e.origin.clone(),
                reason: "the descriptor is not open".into(),
            });
        }
    }
    let undeclared = open_descriptors()
        .filter(|fd| !policy.entries().iter().any(|e| e.fd == *fd))
        .map(|fd| Undeclared {
            fd,
            target: "descriptor".to_string(),
            id: fstat_id(fd),
        })
        .collect();
    Ok(Facts { undeclared })
}

/// Locks the calling process. See [`crate::enter_with`].
pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    let facts = gather(policy)?;
    let plan = plan::plan(policy, options, &facts)?;
    apply(plan)
}

fn c_string(bytes: &[u8]) -> Result<CString, Error> {
    CString::new(bytes).map_err(|_| Error::InvalidGrant {
        label: String::from_utf8_lossy(bytes).into_owned(),
        reason: "contains a NUL byte".into(),
    })
}

fn apply(plan: Plan) -> Result<Report, Error> {
    // Every string is made before the first irreversible call.
    let unveils = plan
        .unveils
        .iter()
        .map(|u| {
            Ok((
                c_string(u.path.as_os_str().as_bytes())?,
                c_string(u.permissions.as_bytes())?,
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let promises = c_string(plan.promise_string().as_bytes())?;
    let execpromises = plan
        .execpromise_string()
        .map(|e| c_string(e.as_bytes()))
        .transpose()?;
    let Plan {
        inherited,
        mut report,
        ..
    } = plan;

    let mut applied: Vec<&'static str> = Vec::new();
    let fail = |step, applied: &Vec<&'static str>| Error::Kernel {
        step,
        errno: errno(),
        applied: applied.clone(),
    };
    for (path, perms) in &unveils {
        // SAFETY: both are NUL-terminated strings alive for the call (unveil(2)).
        if unsafe { libc::unveil(path.as_ptr(), perms.as_ptr()) } != 0 {
            return Err(fail("unveil", &applied));
        }
        if applied.is_empty() {
            applied.push("unveil");
        }
    }
    // SAFETY: two NULLs lock the unveil list (unveil(2)).
    if unsafe { libc::unveil(std::ptr::null(), std::ptr::null()) } != 0 {
        return Err(fail("unveil(NULL, NULL)", &applied));
    }
    if applied.is_empty() {
        applied.push("unveil");
    }
    for (fd, target, action) in inherited {
        // SAFETY: the planner decided this undeclared descriptor is inherited
        // and owned by no live object.
        if action == FdAction::Closed && unsafe { libc::close(fd) } != 0 && errno() == libc::EBADF {
            return Err(fail("close inherited descriptor", &applied));
        }
        report
            .inherited_fds
            .push(InheritedFd { fd, target, action });
    }
    let exec_ptr = execpromises
        .as_ref()
        .map_or(std::ptr::null(), |e| e.as_ptr());
    // SAFETY: NUL-terminated strings (or NULL for execpromises: unchanged)
    // alive for the call (pledge(2)).
    if unsafe { libc::pledge(promises.as_ptr(), exec_ptr) } != 0 {
        return Err(fail("pledge", &applied));
    }
    applied.push("pledge");
    report.mechanisms = applied.iter().map(|s| (*s).to_string()).collect();
    Ok(report)
}
