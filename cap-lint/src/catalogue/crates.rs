//! Built-in entries for common crates that carry ambient authority, so a
//! project need not write `[[extra]]` entries for them. Each says what the
//! call reaches by name and the ambit form to use instead.

use super::Category::{Env, Ffi, Fs, Net, Process};
use super::Kind::{Function as F, Method as M, TraitMethod as T};
use super::Row;
use super::Severity::{High, Low, Medium};

const TEMP: &str = "create it beneath a pre-opened `cap_core::fs::Dir` with the Create right (a scratch directory declared in `#[sandboxed]`)";
const TEMP_PERSIST: &str =
    "rename within a pre-opened `cap_core::fs::Dir` with the Rename right (`Dir::rename`)";
const WALK: &str =
    "walk a pre-opened `cap_core::fs::Dir` (`Dir::read_dir`, recursing into `Dir::open_dir`)";
const DIRS: &str = "declare the directory in `#[sandboxed]` (`dir(env = …)`) and take a `cap_core::fs::Dir` handle";
const HTTP: &str = "connect through a `cap_core::net::Net` grant declared in `#[sandboxed]` (`connect(\"HOST:PORT\")`), and speak HTTP over the stream it gives";
const DB: &str = "open the database file from a pre-opened `cap_core::fs::Dir` and hand the file to the driver, or declare it as `file(…)` in `#[sandboxed]`";
const DL: &str = "link the library at build time, or open it by fd from a pre-opened `cap_core::fs::Dir` before the sandbox";
const MMAP: &str = "map only files opened from a pre-opened `cap_core::fs::Dir`; prefer reading through the `cap_core::fs::File` handle";
const NIX_FS: &str = "use an `*at` call on a pre-opened directory fd (`AsFd` of a `cap_core::fs::Dir`), or a `cap_core` handle";
const NIX_PROC: &str =
    "use a pre-opened executable handle with the `Exec` right, or do the work in-process";

pub(super) fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    // tempfile: the system temp directory and paths named by the caller.
    for (path, kind, msg, help) in [
        (
            "tempfile::tempfile",
            F,
            "creates a file in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::tempfile_in",
            F,
            "creates a file in a directory named by path",
            TEMP,
        ),
        (
            "tempfile::tempdir",
            F,
            "creates a directory in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::tempdir_in",
            F,
            "creates a directory beneath a path",
            TEMP,
        ),
        (
            "tempfile::spooled_tempfile",
            F,
            "may spill to a file in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::NamedTempFile::new",
            F,
            "creates a named file in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::NamedTempFile::new_in",
            F,
            "creates a named file beneath a path",
            TEMP,
        ),
        (
            "tempfile::NamedTempFile::with_prefix",
            F,
            "creates a named file in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::NamedTempFile::with_prefix_in",
            F,
            "creates a named file beneath a path",
            TEMP,
        ),
        (
            "tempfile::NamedTempFile::persist",
            M,
            "renames the file to a path",
            TEMP_PERSIST,
        ),
        (
            "tempfile::NamedTempFile::persist_noclobber",
            M,
            "links the file to a path",
            TEMP_PERSIST,
        ),
        (
            "tempfile::TempPath::persist",
            M,
            "renames the file to a path",
            TEMP_PERSIST,
        ),
        (
            "tempfile::TempDir::new",
            F,
            "creates a directory in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::TempDir::new_in",
            F,
            "creates a directory beneath a path",
            TEMP,
        ),
        (
            "tempfile::TempDir::with_prefix",
            F,
            "creates a directory in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::Builder::tempfile",
            M,
            "creates a file in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::Builder::tempfile_in",
            M,
            "creates a file beneath a path",
            TEMP,
        ),
        (
            "tempfile::Builder::tempdir",
            M,
            "creates a directory in the system temp directory",
            TEMP,
        ),
        (
            "tempfile::Builder::tempdir_in",
            M,
            "creates a directory beneath a path",
            TEMP,
        ),
    ] {
        rows.push(Row(path, kind, Fs, High, msg, help));
    }
    for path in [
        "walkdir::WalkDir::new",
        "ignore::WalkBuilder::new",
        "ignore::Walk::new",
    ] {
        rows.push(Row(
            path,
            F,
            Fs,
            High,
            "walks a directory tree by path",
            WALK,
        ));
    }
    for path in ["glob::glob", "glob::glob_with"] {
        rows.push(Row(
            path,
            F,
            Fs,
            High,
            "lists the files a pattern names, from the working directory or the root",
            WALK,
        ));
    }
    for name in [
        "home_dir",
        "cache_dir",
        "config_dir",
        "config_local_dir",
        "data_dir",
        "data_local_dir",
        "executable_dir",
        "preference_dir",
        "runtime_dir",
        "state_dir",
        "audio_dir",
        "desktop_dir",
        "document_dir",
        "download_dir",
        "font_dir",
        "picture_dir",
        "public_dir",
        "template_dir",
        "video_dir",
    ] {
        rows.push(Row(
            super::leak(format!("dirs::{name}")),
            F,
            Env,
            Low,
            "reads a well-known directory from the environment",
            DIRS,
        ));
    }
    for path in [
        "directories::ProjectDirs::from",
        "directories::ProjectDirs::from_path",
        "directories::BaseDirs::new",
        "directories::UserDirs::new",
    ] {
        rows.push(Row(
            path,
            F,
            Env,
            Low,
            "reads the well-known directories from the environment",
            DIRS,
        ));
    }
    for path in [
        "memmap2::Mmap::map",
        "memmap2::MmapMut::map_mut",
        "memmap2::MmapOptions::map",
        "memmap2::MmapOptions::map_mut",
    ] {
        let kind = if path.contains("MmapOptions") { M } else { F };
        rows.push(Row(
            path,
            kind,
            Ffi,
            Medium,
            "maps a file into memory: another process can change what the program reads",
            MMAP,
        ));
    }
    rows.push(Row(
        "notify::recommended_watcher",
        F,
        Fs,
        Medium,
        "creates a watcher on the filesystem namespace",
        WALK,
    ));
    rows.push(Row(
        "notify::Watcher::watch",
        T,
        Fs,
        High,
        "watches a path by name",
        WALK,
    ));
    for path in [
        "reqwest::get",
        "reqwest::blocking::get",
        "reqwest::Client::new",
        "reqwest::Client::builder",
        "reqwest::ClientBuilder::new",
        "reqwest::blocking::Client::new",
        "reqwest::blocking::Client::builder",
        "reqwest::blocking::ClientBuilder::new",
        "ureq::get",
        "ureq::post",
        "ureq::put",
        "ureq::delete",
        "ureq::head",
        "ureq::patch",
        "ureq::request",
        "ureq::agent",
        "ureq::Agent::new",
        "ureq::Agent::new_with_defaults",
        "ureq::AgentBuilder::new",
        "hyper::Client::new",
        "hyper::Client::builder",
        "hyper::client::HttpConnector::new",
        "hyper_util::client::legacy::Client::builder",
        "hyper_util::client::legacy::connect::HttpConnector::new",
    ] {
        rows.push(Row(
            path,
            F,
            Net,
            High,
            "connects to any host named in a URL (DNS and TCP by name)",
            HTTP,
        ));
    }
    for path in [
        "rusqlite::Connection::open",
        "rusqlite::Connection::open_with_flags",
        "rusqlite::Connection::open_with_flags_and_vfs",
    ] {
        rows.push(Row(path, F, Fs, High, "opens a database file by path", DB));
    }
    for path in [
        "libloading::Library::new",
        "libloading::os::unix::Library::new",
        "libloading::os::unix::Library::open",
    ] {
        rows.push(Row(
            path,
            F,
            Ffi,
            High,
            "loads a shared library by path and runs its initialisers",
            DL,
        ));
    }
    for path in [
        "nix::unistd::access",
        "nix::unistd::rmdir",
        "nix::unistd::symlinkat",
        "nix::unistd::linkat",
        "nix::fcntl::readlink",
        "nix::fcntl::renameat",
        "nix::sys::stat::fchmodat",
        "nix::sys::statfs::statfs",
        "nix::sys::statvfs::statvfs",
        "nix::mount::mount",
        "nix::mount::umount",
    ] {
        rows.push(Row(
            path,
            F,
            Ffi,
            High,
            "a system call that takes a path",
            NIX_FS,
        ));
    }
    for path in [
        "nix::unistd::execvpe",
        "nix::unistd::fork",
        "nix::unistd::daemon",
        "nix::sys::signal::kill",
        "nix::sys::ptrace::attach",
        "nix::sys::ptrace::seize",
    ] {
        rows.push(Row(
            path,
            F,
            Process,
            High,
            "starts, signals or attaches to processes by pid or name",
            NIX_PROC,
        ));
    }
    rows.push(Row(
        "nix::sys::socket::sendmsg",
        F,
        Ffi,
        High,
        "a system call that sends by address",
        "use a socket from a pre-opened `cap_core::net` handle",
    ));
    rows
}
