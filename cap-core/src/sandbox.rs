//! Entering capability mode with a policy derived from the handles held.
//!
//! Every handle type implements [`Grant`]: it adds its descriptor, rights and
//! origin to a [`cap_runtime::Policy`]. The policy is never written by hand, so
//! what the types promise is what the kernel is asked to enforce.

#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(windows)]
use std::os::windows::io::AsHandle as AsFd;

use crate::fs::{Dir, File};
use crate::rights::RightSet;

pub use cap_runtime::{Mode, Policy};

/// A handle whose authority the sandbox keeps.
pub trait Grant {
    /// Adds this handle's descriptors, rights and origin to `policy`.
    fn grant<'a>(&'a self, policy: &mut Policy<'a>);
}

/// The descriptor the policy keeps (on Windows, the handle).
fn descriptor(handle: &impl AsFd) -> cap_runtime::policy::BorrowedFd<'_> {
    #[cfg(unix)]
    return handle.as_fd();
    #[cfg(windows)]
    return handle.as_handle().into();
}

impl<R: RightSet> Grant for Dir<R> {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        policy.dir(descriptor(self.as_cap_std()), self.rights(), self.origin());
    }
}

impl<R: RightSet> Grant for File<R> {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        policy.file(descriptor(self.as_cap_std()), self.rights(), &self.origin());
    }
}

/// A list of handles (`files(..)`, `dirs(..)` declarations): each one.
impl<T: Grant> Grant for Vec<T> {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        for handle in self {
            handle.grant(policy);
        }
    }
}

impl<T: Grant + ?Sized> Grant for &T {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        (**self).grant(policy);
    }
}

pub use cap_runtime::{Error, InheritedFds, Report};

/// Enters capability mode with a policy derived from the handles granted:
/// the builder in front of [`cap_runtime::enter_with`].
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use cap_core::fs::Dir;
/// use cap_core::rights::ReadOnly;
/// use cap_core::sandbox::{InheritedFds, Mode, Sandbox};
///
/// let data: Dir<ReadOnly> = Dir::open_ambient_dir("/srv/data", cap_core::ambient_authority())?;
/// let report = Sandbox::new()
///     .mode(Mode::Strict)
///     .grant(&data)
///     .inherited_fds(InheritedFds::Refuse)
///     .enter()?;
/// println!("{report}");
/// # Ok(()) }
/// ```
///
/// Entering is all-or-nothing: on error the process is unchanged (see
/// [`Error::is_clean`]). There is no std counterpart; the closest are
/// FreeBSD's `cap_enter(2)` and OpenBSD's `pledge(2)`.
#[derive(Debug, Default)]
pub struct Sandbox<'a> {
    policy: Policy<'a>,
    options: cap_runtime::Options,
}

impl<'a> Sandbox<'a> {
    /// A sandbox that keeps nothing yet: [`Mode::Strict`],
    /// [`InheritedFds::Refuse`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Strict (the default) or best-effort.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.options.mode = mode;
        self
    }

    /// Keeps `handle`'s authority: its descriptor, with the kernel access its
    /// rights map to (see the book's enforcement matrix).
    pub fn grant<G: Grant + ?Sized>(mut self, handle: &'a G) -> Self {
        handle.grant(&mut self.policy);
        self
    }

    /// What to do with open descriptors that are neither stdio nor granted
    /// (default [`InheritedFds::Refuse`]; the `#[sandboxed]` prologue uses
    /// [`InheritedFds::CloseInherited`] with a snapshot taken before any
    /// pre-open code ran, so it closes only what the process inherited).
    pub fn inherited_fds(mut self, choice: InheritedFds) -> Self {
        self.options.inherited_fds = choice;
        self
    }

    /// Behaves as if the kernel offered at most Landlock ABI `abi`: simulates
    /// an older kernel, for tests.
    #[doc(hidden)]
    pub fn assume_landlock_abi(mut self, abi: u32) -> Self {
        self.options.assume_landlock_abi = Some(abi);
        self
    }

    /// The policy derived so far.
    pub fn policy(&self) -> &Policy<'a> {
        &self.policy
    }

    /// Locks the process: from now on the kernel refuses everything the
    /// granted handles do not allow, with no way back. Returns the report,
    /// also available later from [`report()`].
    pub fn enter(self) -> Result<Report, Error> {
        cap_runtime::enter_with(&self.policy, &self.options)
    }
}

/// The report of the sandbox this process entered, if it entered one.
pub fn report() -> Option<&'static Report> {
    cap_runtime::report()
}
