//! Every typed `Dir`/`File`/`DirEntry` method does what its `cap_std` twin does
//! when the handle has the right (run-time behaviour, not only compile time),
//! and the `Dynamic` form refuses at run time, naming the missing right.
#![cfg(unix)] // unix paths, symlinks and unix-domain sockets throughout

use std::io::{Read, Seek, SeekFrom, Write};

use cap_core::fs::{Dir, DirBuilder, File, OpenOptions, Permissions, SystemTimeSpec, raw_os_error};
use cap_core::rights::{Dynamic, FullFs, ReadOnly, ReadWrite, Rights};
use cap_core::{ambient_authority, rights};
use std::os::unix::fs::PermissionsExt;

fn tmp() -> (tempfile::TempDir, Dir<FullFs>) {
    let t = tempfile::tempdir().unwrap();
    let d = Dir::<FullFs>::open_ambient_dir(t.path(), ambient_authority()).unwrap();
    (t, d)
}

#[test]
fn open_ambient_dir_records_origin_and_rights() {
    let (t, d) = tmp();
    assert_eq!(d.origin(), t.path());
    assert_eq!(d.rights(), Rights::FS);
    let sub_err = Dir::<ReadOnly>::open_ambient_dir(t.path().join("missing"), ambient_authority())
        .unwrap_err();
    assert_eq!(sub_err.kind(), std::io::ErrorKind::NotFound);
    assert!(sub_err.to_string().contains("missing"), "{sub_err}");
}

#[test]
fn create_write_read_remove_cycle() {
    let (t, d) = tmp();
    d.write("a.txt", "hello").unwrap();
    assert_eq!(
        std::fs::read_to_string(t.path().join("a.txt")).unwrap(),
        "hello"
    );
    assert_eq!(d.read("a.txt").unwrap(), b"hello");
    assert_eq!(d.read_to_string("a.txt").unwrap(), "hello");
    let mut f = d.create("b.txt").unwrap();
    f.write_all(b"xyz").unwrap();
    drop(f);
    let mut f = d.open("b.txt").unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "xyz");
    assert!(d.exists("b.txt") && d.is_file("b.txt") && !d.is_dir("b.txt"));
    assert!(d.try_exists("b.txt").unwrap());
    d.remove_file("b.txt").unwrap();
    assert!(!d.try_exists("b.txt").unwrap());
    assert!(!t.path().join("b.txt").exists());
}

#[test]
fn directories_create_list_remove() {
    let (t, d) = tmp();
    d.create_dir("x").unwrap();
    d.create_dir_all("y/z/w").unwrap();
    let mut b = DirBuilder::new();
    b.recursive(true);
    d.create_dir_with("q/r", &b).unwrap();
    assert!(t.path().join("y/z/w").is_dir() && t.path().join("q/r").is_dir());
    let mut names: Vec<_> = d
        .entries()
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["q", "x", "y"]);
    let sub: Vec<_> = d
        .read_dir("y/z")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(sub, ["w"]);
    let sub = d.open_dir("y").unwrap();
    assert_eq!(sub.origin(), t.path().join("y"));
    assert_eq!(sub.rights(), d.rights());
    assert!(sub.is_dir("z/w"));
    d.remove_dir("x").unwrap();
    d.remove_dir_all("y").unwrap();
    assert!(!t.path().join("y").exists() && !t.path().join("x").exists());
    let q = d.open_dir_nofollow("q").unwrap();
    q.remove_dir("r").unwrap();
    q.remove_open_dir().unwrap();
    assert!(!t.path().join("q").exists());
    d.create_dir_all("all/in/one").unwrap();
    d.open_dir("all").unwrap().remove_open_dir_all().unwrap();
    assert!(!t.path().join("all").exists());
}

#[test]
fn dir_entries_open_with_the_dir_rights() {
    let (_t, d) = tmp();
    d.write("f", "1").unwrap();
    d.create_dir("sub").unwrap();
    let ro: Dir<ReadOnly> = d.try_clone().unwrap().narrow();
    for e in ro.entries().unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            let sub = e.open_dir().unwrap();
            assert_eq!(sub.rights(), <ReadOnly as cap_core::RightSet>::RIGHTS);
            assert!(e.metadata().unwrap().is_dir());
        } else {
            let mut f = e.open().unwrap();
            assert_eq!(f.rights(), Rights::READ | Rights::STAT);
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            assert_eq!(s, "1");
        }
    }
    for e in d.entries().unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            e.remove_dir().unwrap();
        } else {
            e.remove_file().unwrap();
        }
    }
    assert_eq!(d.entries().unwrap().count(), 0);
}

#[test]
fn listed_names_of_every_length_come_back_whole_and_open() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let (t, d) = tmp();
    // Around the length kept in an entry itself (38 bytes), the longest a
    // name may be (255), and bytes that are not UTF-8.
    let mut names: Vec<Vec<u8>> = [1, 37, 38, 39, 100, 255]
        .iter()
        .map(|&n| {
            (0..n)
                .map(|i| b'a' + u8::try_from(i % 26).unwrap())
                .collect()
        })
        .collect();
    names.push(b"caf\xe9-\xff".to_vec());
    for (i, name) in names.iter().enumerate() {
        std::fs::write(t.path().join(OsStr::from_bytes(name)), i.to_string()).unwrap();
    }
    let mut seen = Vec::new();
    for e in d.entries().unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let i = names
            .iter()
            .position(|n| n.as_slice() == name.as_bytes())
            .unwrap_or_else(|| panic!("listed a name that is not there: {name:?}"));
        // The entry acts on its own name: open, metadata, remove.
        let mut text = String::new();
        e.open().unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, i.to_string(), "{name:?}");
        assert!(e.metadata().unwrap().is_file());
        assert!(e.to_string().contains(&*name.to_string_lossy()), "{e}");
        seen.push(i);
        e.remove_file().unwrap();
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..names.len()).collect::<Vec<_>>());
    assert_eq!(d.entries().unwrap().count(), 0);
}

#[test]
fn file_read_to_end_and_to_string_read_the_rest_from_where_the_file_is() {
    let (t, d) = tmp();
    // Under and over the size up to which the whole size is reserved
    // without asking the position (64 KiB).
    for len in [0usize, 1, 4096, 70_000, 300_000] {
        let data: Vec<u8> = (0..len)
            .map(|i| b'a' + u8::try_from(i % 26).unwrap())
            .collect();
        d.write("f", &data).unwrap();
        let mut f = d.open("f").unwrap();
        let mut all = Vec::new();
        assert_eq!(f.read_to_end(&mut all).unwrap(), len);
        assert_eq!(all, data, "{len}");
        // At the end: nothing more.
        assert_eq!(f.read_to_end(&mut all).unwrap(), 0);
        // From the middle, appended to what the buffer had.
        let mut f = d.open("f").unwrap();
        f.seek(SeekFrom::Start(u64::try_from(len / 2).unwrap()))
            .unwrap();
        let mut rest = b"before:".to_vec();
        assert_eq!(f.read_to_end(&mut rest).unwrap(), len - len / 2);
        assert_eq!(&rest[..7], b"before:");
        assert_eq!(&rest[7..], &data[len / 2..], "{len}");
        let mut f = d.open("f").unwrap();
        f.seek(SeekFrom::Start(u64::try_from(len / 3).unwrap()))
            .unwrap();
        let mut text = String::from("before:");
        assert_eq!(f.read_to_string(&mut text).unwrap(), len - len / 3);
        assert_eq!(text.as_bytes()[7..], data[len / 3..], "{len}");
    }
    // Not UTF-8: an error, and the string as it was.
    d.write("bin", b"ok \xff\xfe").unwrap();
    let mut text = String::from("kept");
    let err = d
        .open("bin")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(text, "kept");
    // A file that says it is empty and is not (`/proc`).
    let mut status = String::new();
    cap_core::fs::File::<ReadOnly>::open_ambient("/proc/self/status", ambient_authority())
        .unwrap()
        .read_to_string(&mut status)
        .unwrap();
    assert!(
        status.starts_with("Name:") && status.contains("VmRSS"),
        "{status}"
    );
    // The tail of a large file: its position is asked, and only what is
    // left is reserved, not the file's size.
    let big = vec![b'x'; 1 << 20];
    d.write("big", &big).unwrap();
    let mut f = d.open("big").unwrap();
    f.seek(SeekFrom::End(-10)).unwrap();
    let mut tail = Vec::new();
    assert_eq!(f.read_to_end(&mut tail).unwrap(), 10);
    assert!(
        tail.capacity() < 64 * 1024,
        "reserved {} bytes for 10",
        tail.capacity()
    );
    // A FIFO, whose first read stops short while more is to come: all of it
    // arrives.
    let fifo = t.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            w.write_all(b"first").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
            w.write_all(b", then more").unwrap();
        })
    };
    let mut got = Vec::new();
    cap_core::fs::File::<ReadOnly>::open_ambient(&fifo, ambient_authority())
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    writer.join().unwrap();
    assert_eq!(got, b"first, then more");
}

/// `/proc/sys` files say they are empty and answer only a read at offset
/// 0 (a read after it returns nothing): read whole, as std reads them.
#[cfg(target_os = "linux")]
#[test]
fn proc_sys_files_read_whole_as_std_reads_them() {
    let kernel: Dir<ReadOnly> =
        Dir::open_ambient_dir("/proc/sys/kernel", ambient_authority()).unwrap();
    let fs: Dir<ReadOnly> = Dir::open_ambient_dir("/proc/sys/fs", ambient_authority()).unwrap();
    for (dir, name, path) in [
        (&kernel, "pid_max", "/proc/sys/kernel/pid_max"),
        (&kernel, "ostype", "/proc/sys/kernel/ostype"),
        (&fs, "file-max", "/proc/sys/fs/file-max"),
        (&fs, "nr_open", "/proc/sys/fs/nr_open"),
    ] {
        let want = std::fs::read_to_string(path).unwrap();
        assert!(want.ends_with('\n') && want.len() > 2, "{path}: {want:?}");
        assert_eq!(
            dir.read_to_string(name).unwrap(),
            want,
            "Dir::read_to_string {path}"
        );
        assert_eq!(dir.read(name).unwrap(), want.as_bytes(), "Dir::read {path}");
        let mut text = String::new();
        dir.open(name).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, want, "File::read_to_string {path}");
        let mut bytes = Vec::new();
        dir.open(name).unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, want.as_bytes(), "File::read_to_end {path}");
    }
}

#[test]
fn metadata_links_and_canonicalize() {
    let (t, d) = tmp();
    d.write("f", "12345").unwrap();
    assert_eq!(d.metadata("f").unwrap().len(), 5);
    d.create_dir("sub").unwrap();
    d.symlink("f", "sub/../ln").unwrap();
    assert!(d.symlink_metadata("ln").unwrap().file_type().is_symlink());
    assert_eq!(d.metadata("ln").unwrap().len(), 5);
    assert_eq!(d.read_link("ln").unwrap(), std::path::Path::new("f"));
    assert_eq!(
        d.read_link_contents("ln").unwrap(),
        std::path::Path::new("f")
    );
    d.symlink_contents("/etc/passwd", "abs").unwrap();
    assert_eq!(
        std::fs::read_link(t.path().join("abs")).unwrap(),
        std::path::Path::new("/etc/passwd")
    );
    assert_eq!(
        d.canonicalize("sub/../ln").unwrap(),
        std::path::Path::new("f")
    );
    assert!(d.dir_metadata().unwrap().is_dir());
    d.access("f", cap_core::fs::AccessType::Exists).unwrap();
    assert_eq!(
        d.access("missing", cap_core::fs::AccessType::Exists)
            .unwrap_err()
            .kind(),
        std::io::ErrorKind::NotFound
    );
    d.hard_link("f", &d, "hard").unwrap();
    assert_eq!(
        std::fs::read_to_string(t.path().join("hard")).unwrap(),
        "12345"
    );
    d.rename("hard", &d, "sub/moved").unwrap();
    assert!(t.path().join("sub/moved").exists() && !t.path().join("hard").exists());
    let other = d.open_dir("sub").unwrap();
    // An existing target keeps its mode: copying permissions would be a
    // chmod, which needs `SetMeta`, and copy does not ask for it.
    other.write("copy", "old contents").unwrap();
    std::fs::set_permissions(
        t.path().join("sub/copy"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(t.path().join("f"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(d.copy("f", &other, "copy").unwrap(), 5);
    assert_eq!(other.read_to_string("copy").unwrap(), "12345");
    assert_eq!(
        std::fs::metadata(t.path().join("sub/copy"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // A directory is not copied, and the target is not touched.
    let err = d.copy("sub", &other, "copy").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(other.read_to_string("copy").unwrap(), "12345");
}

#[test]
fn set_meta_methods() {
    let (t, d) = tmp();
    d.write("f", "x").unwrap();
    d.set_permissions(
        "f",
        Permissions::from_std(std::fs::Permissions::from_mode(0o600)),
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(t.path().join("f"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let when = cap_core::fs::SystemTime::from_std(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000),
    );
    d.set_times("f", None, Some(SystemTimeSpec::Absolute(when)))
        .unwrap();
    assert_eq!(
        std::fs::metadata(t.path().join("f"))
            .unwrap()
            .modified()
            .unwrap(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000)
    );
    d.symlink("f", "l").unwrap();
    d.set_symlink_times("l", Some(SystemTimeSpec::Absolute(when)), None)
        .unwrap();
    let f = d.open("f").unwrap();
    f.set_permissions(Permissions::from_std(std::fs::Permissions::from_mode(
        0o640,
    )))
    .unwrap();
    assert_eq!(
        std::fs::metadata(t.path().join("f"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    assert!(f.metadata().unwrap().is_file());
    let later = cap_core::fs::SystemTime::from_std(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000),
    );
    f.set_times(
        Some(SystemTimeSpec::Absolute(later)),
        Some(SystemTimeSpec::Absolute(later)),
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(t.path().join("f"))
            .unwrap()
            .modified()
            .unwrap(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000)
    );
}

#[test]
fn file_methods() {
    let (_t, d) = tmp();
    let mut f: File<rights![Read, Write, Truncate, Stat]> =
        d.open_with("f", OpenOptions::new().create(true)).unwrap();
    f.write_all(b"hello world").unwrap();
    f.sync_all().unwrap();
    f.sync_data().unwrap();
    f.set_len(5).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 5);
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "hello");
    let g = f.try_clone().unwrap();
    assert_eq!(g.rights(), f.rights());
    f.lock().unwrap();
    f.unlock().unwrap();
    f.lock_shared().unwrap();
    // Another open file description cannot take an exclusive lock meanwhile.
    let other = d.open("f").unwrap();
    assert!(!other.try_lock().unwrap());
    assert!(other.try_lock_shared().unwrap());
    other.unlock().unwrap();
    f.unlock().unwrap();
    assert!(other.try_lock().unwrap());
    let std_file = f.into_std(ambient_authority());
    assert_eq!(std_file.metadata().unwrap().len(), 5);
}

#[test]
fn positional_reads_and_writes_leave_the_position_alone() {
    let (_t, d) = tmp();
    let mut f: File<rights![Read, Write]> =
        d.open_with("p", OpenOptions::new().create(true)).unwrap();
    f.write_all(b"0123456789").unwrap();
    assert_eq!(f.stream_position().unwrap(), 10);
    f.write_all_at(b"ab", 2).unwrap();
    assert_eq!(f.write_at(b"Z", 9).unwrap(), 1);
    let mut two = [0; 2];
    f.read_exact_at(&mut two, 2).unwrap();
    assert_eq!(&two, b"ab");
    let mut buf = [0; 16];
    assert_eq!(f.read_at(&mut buf, 7).unwrap(), 3);
    assert_eq!(&buf[..3], b"78Z");
    // The cursor is where the sequential write left it.
    assert_eq!(f.stream_position().unwrap(), 10);
    // Past the end: read_at gives 0 bytes, read_exact_at says so.
    assert_eq!(f.read_at(&mut buf, 10).unwrap(), 0);
    let err = f.read_exact_at(&mut two, 9).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    // A read-only file shared between threads: each reads its own offset.
    let r: File<rights![Read]> = d.open_with("p", &OpenOptions::new()).unwrap();
    std::thread::scope(|s| {
        for at in 0..10u64 {
            let r = &r;
            s.spawn(move || {
                let mut one = [0; 1];
                r.read_exact_at(&mut one, at).unwrap();
                assert_eq!(one[0], b"01ab45678Z"[usize::try_from(at).unwrap()]);
            });
        }
    });
}

#[test]
fn open_with_follows_the_type_for_access_mode() {
    let (t, d) = tmp();
    let mut w: File<rights![Write]> = d
        .open_with("log", OpenOptions::new().create(true).append(true))
        .unwrap();
    w.write_all(b"a").unwrap();
    drop(w);
    let mut w: File<rights![Write]> = d.open_with("log", OpenOptions::new().append(true)).unwrap();
    w.write_all(b"b").unwrap();
    assert_eq!(std::fs::read_to_string(t.path().join("log")).unwrap(), "ab");
    // create_new fails on an existing file.
    let err = d
        .open_with::<rights![Write]>("log", OpenOptions::new().create_new(true))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    // nofollow refuses a symlink in the last component (ELOOP).
    d.symlink("log", "ln").unwrap();
    let err = d
        .open_with::<rights![Read]>("ln", OpenOptions::new().nofollow(true))
        .unwrap_err();
    assert_eq!(raw_os_error(&err), Some(libc_eloop()));
    // mode applies to created files.
    let _m: File<rights![Write]> = d
        .open_with("m", OpenOptions::new().create(true).mode(0o604))
        .unwrap();
    assert_eq!(
        std::fs::metadata(t.path().join("m"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o604
    );
    // a read-only file descriptor really is read-only: the kernel agrees with the type.
    let r: File<rights![Read]> = d.open_with("log", &OpenOptions::new()).unwrap();
    let std_file = r.into_std(ambient_authority());
    assert!((&std_file).write(b"x").is_err());
}

fn libc_eloop() -> i32 {
    40
}

#[test]
fn open_with_refuses_options_beyond_rights() {
    let (_t, full) = tmp();
    let d: Dir<rights![Lookup, Read, Write]> = full.narrow();
    let err = d
        .open_with::<rights![Write]>("new", OpenOptions::new().create(true))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("[Create]"), "{err}");
    let err = d
        .open_with::<rights![Write]>("new", OpenOptions::new().truncate(true))
        .unwrap_err();
    assert!(err.to_string().contains("[Truncate]"), "{err}");
    let err = d
        .open_with::<rights![]>("new", &OpenOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("neither Read nor Write"), "{err}");
}

#[test]
fn narrowing_and_dynamic_rights() {
    let (t, d) = tmp();
    d.write("f", "v").unwrap();
    let rw: Dir<ReadWrite> = d.narrow();
    let ro: Dir<ReadOnly> = rw.narrow();
    assert_eq!(ro.rights(), Rights::LOOKUP | Rights::READ | Rights::STAT);
    let dynamic: Dir<Dynamic> = ro.into_dynamic();
    assert_eq!(dynamic.read_to_string("f").unwrap(), "v");
    let err = dynamic.remove_file("f").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    assert_eq!(
        err.to_string(),
        format!(
            "directory `{}` does not have the right [Remove] (it has [Lookup, Read, Stat])",
            t.path().display()
        )
    );
    assert!(t.path().join("f").exists(), "nothing was removed");
    let err = dynamic
        .try_clone()
        .unwrap()
        .try_narrow::<ReadWrite>()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("[Write, Create, Remove, Rename, Truncate]"),
        "{err}"
    );
    let back: Dir<ReadOnly> = dynamic.try_narrow().unwrap();
    assert_eq!(back.read("f").unwrap(), b"v");
}

#[test]
fn dynamic_from_configuration() {
    let (t, _d) = tmp();
    std::fs::write(t.path().join("f"), "v").unwrap();
    let mask = Rights::from_catalogue_name("Lookup").unwrap()
        | Rights::from_catalogue_name("read").unwrap();
    let d = Dir::open_ambient_dir_with_rights(t.path(), mask, ambient_authority()).unwrap();
    assert_eq!(d.read("f").unwrap(), b"v");
    let f = d.open("f").unwrap();
    assert_eq!(f.rights(), Rights::READ);
    let err = f.metadata().unwrap_err();
    assert!(err.to_string().contains("[Stat]"), "{err}");
    let err = d.write("g", "w").unwrap_err();
    assert!(
        err.to_string().contains("[Write, Create, Truncate]"),
        "{err}"
    );
    assert!(!t.path().join("g").exists());
    let d = d.restrict(Rights::LOOKUP);
    assert!(d.read("f").unwrap_err().to_string().contains("[Read]"));
}

#[test]
fn errors_name_the_handle_and_the_path() {
    let (t, d) = tmp();
    let err = d.open("nope/file.txt").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("open `nope/file.txt` beneath `"), "{msg}");
    assert!(msg.contains(&t.path().display().to_string()), "{msg}");
    assert_eq!(raw_os_error(&err), Some(2));
    let inner = err
        .get_ref()
        .unwrap()
        .downcast_ref::<cap_core::fs::PathError>()
        .unwrap();
    assert_eq!(inner.op(), "open");
    assert_eq!(inner.path(), std::path::Path::new("nope/file.txt"));
    assert_eq!(inner.handle(), t.path());
}
