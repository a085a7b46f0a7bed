//! Entering capability mode with a policy derived from the handles held.
//!
//! Every handle type implements [`Grant`]: it adds its descriptor, rights and
//! origin to a [`cap_runtime::Policy`]. The policy is never written by hand, so
//! what the types promise is what the kernel is asked to enforce.

use std::os::fd::AsFd;

use crate::fs::{Dir, File};
use crate::rights::RightSet;

pub use cap_runtime::{Mode, Policy};

/// A handle whose authority the sandbox keeps.
pub trait Grant {
    /// Adds this handle's descriptors, rights and origin to `policy`.
    fn grant<'a>(&'a self, policy: &mut Policy<'a>);
}

impl<R: RightSet> Grant for Dir<R> {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        policy.dir(self.as_cap_std().as_fd(), self.rights(), self.origin());
    }
}

impl<R: RightSet> Grant for File<R> {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        policy.file(self.as_cap_std().as_fd(), self.rights(), &self.origin());
    }
}

impl<T: Grant + ?Sized> Grant for &T {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        (**self).grant(policy);
    }
}
