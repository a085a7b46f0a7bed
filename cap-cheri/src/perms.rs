//! Capability permissions.

use std::fmt;

bitflags::bitflags! {
    /// The permission set of a capability.
    ///
    /// The names follow the CHERI ISA (UCAM-CL-TR-987, §3.3 "Capability
    /// permissions") and Morello's permission field. A capability's permissions
    /// only shrink: [`Cap::restrict_perms`](crate::Cap::restrict_perms) is an
    /// AND, as CHERI's `CAndPerm`/Morello's `CLRPERM` are, so asking for a
    /// permission the capability lacks never adds it.
    ///
    /// There is no `std` counterpart: a Rust reference carries one bit of this
    /// (`&T` may load, `&mut T` may also store).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Perms: u32 {
        /// Load data through the capability.
        const LOAD = 1 << 0;
        /// Store data through the capability.
        const STORE = 1 << 1;
        /// Load a tagged capability through the capability (without it a
        /// loaded capability is refused).
        const LOAD_CAP = 1 << 2;
        /// Store a tagged capability through the capability.
        const STORE_CAP = 1 << 3;
        /// Fetch instructions (the model never grants it to data it wraps).
        const EXECUTE = 1 << 4;
        /// The capability may be stored anywhere; without it, only through a
        /// capability that has store-local (CHERI's local/global flow control).
        /// Unsealing with a non-global sealing capability clears it.
        const GLOBAL = 1 << 5;
        /// Seal other capabilities with this (sealing) capability's object type.
        const SEAL = 1 << 6;
        /// Unseal capabilities sealed with this (sealing) capability's object type.
        const UNSEAL = 1 << 7;
    }
}

impl Perms {
    /// What [`Cap::from_ref`](crate::Cap::from_ref) grants: a shared reference
    /// may be read, including any capabilities it holds.
    pub const SHARED_REF: Perms = Perms::LOAD.union(Perms::LOAD_CAP).union(Perms::GLOBAL);
    /// What [`Cap::from_mut`](crate::Cap::from_mut) grants: read and write.
    pub const MUT_REF: Perms = Perms::SHARED_REF
        .union(Perms::STORE)
        .union(Perms::STORE_CAP);
    /// Load-only data: what a parser of untrusted input should receive.
    pub const LOAD_ONLY: Perms = Perms::LOAD;
    /// What a fresh sealing capability from
    /// [`SealingCap::allocate`](crate::SealingCap::allocate) carries.
    pub const SEALING: Perms = Perms::SEAL.union(Perms::UNSEAL).union(Perms::GLOBAL);
}

impl fmt::Debug for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Perms {
    /// Prints the set as CHERI tools do, one letter per permission
    /// (`r`ead, `w`rite, `R` load-cap, `W` store-cap, `x`ecute, `G`lobal,
    /// `s`eal, `u`nseal), `-` where absent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(Perms, char); 8] = [
            (Perms::LOAD, 'r'),
            (Perms::STORE, 'w'),
            (Perms::LOAD_CAP, 'R'),
            (Perms::STORE_CAP, 'W'),
            (Perms::EXECUTE, 'x'),
            (Perms::GLOBAL, 'G'),
            (Perms::SEAL, 's'),
            (Perms::UNSEAL, 'u'),
        ];
        for (perm, letter) in LETTERS {
            let c = if self.contains(perm) { letter } else { '-' };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Perms;

    #[test]
    fn display_names_each_permission() {
        assert_eq!(Perms::MUT_REF.to_string(), "rwRW-G--");
        assert_eq!(Perms::LOAD_ONLY.to_string(), "r-------");
        assert_eq!(Perms::SEALING.to_string(), "-----Gsu");
        assert_eq!(Perms::all().to_string(), "rwRWxGsu");
    }
}
