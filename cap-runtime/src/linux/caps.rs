//! Dropping every Linux capability: bounding, ambient, effective, permitted,
//! inheritable; and locking the securebits so uid 0 regains nothing.

use super::sys;

/// Capability names by number (`CAP_CHOWN` = 0 ...), lower-case without the prefix.
pub const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The name of capability `cap`.
pub fn name(cap: u32) -> String {
    usize::try_from(cap)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("cap_{cap}"), |n| (*n).to_string())
}

/// The highest capability number in [`NAMES`].
pub fn last_cap_known() -> u32 {
    u32::try_from(NAMES.len() - 1).expect("41 names")
}

/// The highest capability number this kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// The capabilities in the bounding set.
pub fn bounding_set(last: u32) -> Vec<u32> {
    (0..=last)
        .filter(|cap| sys::prctl(libc::PR_CAPBSET_READ, (*cap).into(), 0, 0, 0) == Ok(1))
        .collect()
}

/// Whether the calling thread has `CAP_SETPCAP` in its effective set (needed
/// to drop from the bounding set and to lock securebits).
pub fn has_setpcap() -> bool {
    sys::capget().is_ok_and(|data| data[0].effective & (1 << 8) != 0)
}

/// `SECBIT_NOROOT | _LOCKED | SECBIT_NO_SETUID_FIXUP | _LOCKED |
/// SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | _LOCKED`.
const SECUREBITS: libc::c_ulong = 0xef;

/// The securebits to set, given the current ones: [`SECUREBITS`] for the
/// four pairs (flag, lock) in the low byte, except that a pair whose lock a
/// parent already set keeps its value (changing it would fail with `EPERM`
/// after Landlock is applied); bits above the low byte (such as
/// `SECBIT_EXEC_RESTRICT_FILE`) are kept as they are. Returns the target and
/// the names of the flags a parent locked to another value than ours.
pub fn securebits_plan(current: libc::c_ulong) -> (libc::c_ulong, Vec<&'static str>) {
    const PAIRS: [(u32, &str); 4] = [
        (0, "noroot"),
        (2, "no_setuid_fixup"),
        (4, "keep_caps"),
        (6, "no_cap_ambient_raise"),
    ];
    let mut target = current & !0xff;
    let mut differ = Vec::new();
    for (shift, name) in PAIRS {
        let pair: libc::c_ulong = 0b11 << shift;
        if current & (0b10 << shift) != 0 {
            // Locked by a parent: keep flag and lock as they are.
            target |= current & pair;
            if current & pair != SECUREBITS & pair {
                differ.push(name);
            }
        } else {
            target |= SECUREBITS & pair;
        }
    }
    (target, differ)
}

/// The calling thread's securebits (`PR_GET_SECUREBITS`).
pub fn securebits() -> Result<libc::c_ulong, i32> {
    sys::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0)
        .map(|bits| libc::c_ulong::try_from(bits).unwrap_or(0))
}

/// Drops everything. `securebits`: the bits to set (from
/// [`securebits_plan`]), `None` to leave them. Returns the bounding-set
/// capabilities dropped. `Err((step, errno))` names the step that failed.
pub fn drop_all(
    bounding: &[u32],
    setpcap: bool,
    securebits: Option<libc::c_ulong>,
) -> Result<Vec<u32>, (&'static str, i32)> {
    let mut dropped = Vec::new();
    drop_each(bounding, setpcap, securebits, |cap| dropped.push(cap))?;
    Ok(dropped)
}

/// [`drop_all`] without allocating: `dropped` is called with each
/// bounding-set capability as it is dropped (safe between `fork` and `exec`
/// when `dropped` allocates nothing).
pub fn drop_each(
    bounding: &[u32],
    setpcap: bool,
    securebits: Option<libc::c_ulong>,
    mut dropped: impl FnMut(u32),
) -> Result<(), (&'static str, i32)> {
    if setpcap {
        if let Some(bits) = securebits {
            sys::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0).map_err(|e| ("securebits", e))?;
        }
        for cap in bounding {
            sys::prctl(libc::PR_CAPBSET_DROP, (*cap).into(), 0, 0, 0)
                .map_err(|e| ("capability bounding set", e))?;
            dropped(*cap);
        }
    }
    // Clearing ambient needs no privilege; EINVAL means a kernel without ambient sets.
    #[allow(clippy::cast_sign_loss)]
    match sys::prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
        0,
        0,
    ) {
        Ok(_) | Err(libc::EINVAL) => {}
        Err(e) => return Err(("ambient capabilities", e)),
    }
    sys::capset_clear().map_err(|e| ("capset", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn securebits_keep_what_a_parent_locked() {
        assert_eq!(securebits_plan(0), (SECUREBITS, Vec::new()));
        assert_eq!(securebits_plan(SECUREBITS), (SECUREBITS, Vec::new()));
        // KEEP_CAPS set and locked by a parent: kept, and named.
        assert_eq!(securebits_plan(0x30), (0xff, vec!["keep_caps"]));
        // NOROOT locked off: kept off.
        assert_eq!(securebits_plan(0x02), (0xee, vec!["noroot"]));
        // Bits above the low byte (SECBIT_EXEC_RESTRICT_FILE and its lock) stay.
        assert_eq!(securebits_plan(0x300), (0x300 | SECUREBITS, Vec::new()));
    }
}
