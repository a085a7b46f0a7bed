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

/// Drops everything. Returns the bounding-set capabilities dropped.
/// `Err((step, errno))` names the step that failed.
pub fn drop_all(bounding: &[u32], setpcap: bool) -> Result<Vec<u32>, (&'static str, i32)> {
    let mut dropped = Vec::new();
    if setpcap {
        sys::prctl(libc::PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0).map_err(|e| ("securebits", e))?;
        for cap in bounding {
            sys::prctl(libc::PR_CAPBSET_DROP, (*cap).into(), 0, 0, 0)
                .map_err(|e| ("capability bounding set", e))?;
            dropped.push(*cap);
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
    sys::capset_clear().map_err(|e| ("capset", e))?;
    Ok(dropped)
}
