//! `cap_core::tokio`: the async handles keep the rights of the sync handles
//! they come from, refuse what those refuse, and stream.
#![cfg(unix)]

use std::io;

use cap_core::rights::{Dynamic, ReadOnly, ReadWrite, RightSet};
use cap_core::tokio::{fs, net};
use cap_core::{ambient_authority, fs as sync_fs, net::Net, rights};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap()
}

#[test]
fn dir_reads_writes_and_lists_beneath_itself_only() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("root")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "TOP SECRET").unwrap();
    std::os::unix::fs::symlink("../secret.txt", tmp.path().join("root/leak")).unwrap();
    let root = tmp.path().join("root");
    let rw = sync_fs::Dir::<ReadWrite>::open_ambient_dir(&root, ambient_authority()).unwrap();
    rt().block_on(async {
        let dir = fs::Dir::from(rw);
        dir.write("a.txt", "alpha").await.unwrap();
        dir.create_dir_all("sub/deeper").await.unwrap();
        dir.write("sub/b.txt", "beta").await.unwrap();
        assert_eq!(dir.read_to_string("a.txt").await.unwrap(), "alpha");
        assert_eq!(dir.metadata("sub/b.txt").await.unwrap().len(), 4);
        assert!(dir.try_exists("sub/deeper").await.unwrap());
        dir.rename("a.txt", &dir, "sub/a.txt").await.unwrap();
        assert!(!dir.try_exists("a.txt").await.unwrap());

        // The twins of the escapes: `..`, absolute, a symlink out.
        for path in [
            "../secret.txt",
            "/etc/passwd",
            "leak",
            "sub/../../secret.txt",
        ] {
            let err = dir.read(path).await.unwrap_err();
            assert_ne!(err.kind(), io::ErrorKind::NotFound, "{path}: {err}");
        }
        assert!(dir.write("../planted.txt", "x").await.is_err());
        assert!(!tmp.path().join("planted.txt").exists());

        let mut names = Vec::new();
        let mut entries = dir.read_dir("sub").await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            names.push(entry.file_name().into_string().unwrap());
        }
        names.sort();
        assert_eq!(names, ["a.txt", "b.txt", "deeper"]);

        // A narrowed clone keeps working; the original still has its rights.
        let ro: fs::Dir<ReadOnly> = dir.clone().narrow().unwrap();
        assert_eq!(ro.rights(), <ReadOnly as RightSet>::RIGHTS);
        assert_eq!(ro.read_to_string("sub/b.txt").await.unwrap(), "beta");
        dir.remove_file("sub/b.txt").await.unwrap();
    });
}

#[test]
fn listing_streams_past_one_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..100 {
        std::fs::write(tmp.path().join(format!("f{i:03}")), "").unwrap();
    }
    let ro = sync_fs::Dir::<ReadOnly>::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    rt().block_on(async {
        let mut entries = fs::Dir::from(ro).entries().await.unwrap();
        let mut n = 0;
        while let Some(entry) = entries.next_entry().await.unwrap() {
            assert!(entry.file_type().await.unwrap().is_file());
            assert_eq!(entry.metadata().await.unwrap().len(), 0);
            n += 1;
        }
        assert_eq!(n, 100);
        assert!(entries.next_entry().await.unwrap().is_none());
    });
}

#[test]
fn files_stream_read_write_and_seek() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sync_fs::Dir::<ReadWrite>::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    rt().block_on(async {
        let dir = fs::Dir::from(dir);
        let mut out = dir.create("big.bin").await.unwrap();
        let block: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        for _ in 0..16 {
            out.write_all(&block).await.unwrap();
        }
        out.flush().await.unwrap();
        out.sync_all().await.unwrap();
        assert_eq!(out.metadata().await.unwrap().len(), 16 * 64 * 1024);
        drop(out);

        let mut file = dir.open("big.bin").await.unwrap();
        file.seek(io::SeekFrom::Start(1000)).await.unwrap();
        let mut buf = [0u8; 4];
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [232, 233, 234, 235]);
        let mut total = 1004u64;
        let mut chunk = vec![0; 8192];
        loop {
            let n = file.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(total, 16 * 64 * 1024);
    });
}

#[test]
fn sync_files_convert_with_their_rights_and_dynamic_ones_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.txt"), "content").unwrap();
    let dir = sync_fs::Dir::<Dynamic>::open_ambient_dir_with_rights(
        tmp.path(),
        cap_core::Rights::LOOKUP | cap_core::Rights::READ,
        ambient_authority(),
    )
    .unwrap();
    let sync_file = dir.open("f.txt").unwrap();
    rt().block_on(async {
        let mut file = fs::File::from(sync_file);
        assert_eq!(file.rights(), cap_core::Rights::READ);
        let mut s = String::new();
        file.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "content");
        // Write on a dynamic handle without `Write`: refused, naming the right.
        let err = file.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("Write"), "{err}");
        // And the twin: stat needs `Stat`, which this mask lacks.
        assert!(file.metadata().await.is_err());
    });
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("f.txt")).unwrap(),
        "content"
    );
}

#[test]
fn tcp_listener_and_stream_keep_their_rights() {
    let net = Net::builder(ambient_authority())
        .bind("127.0.0.1:0")
        .unwrap()
        .build();
    let sync = net.bind_tcp("127.0.0.1:0").unwrap();
    rt().block_on(async {
        let listener = net::TcpListener::try_from(sync).unwrap();
        assert_eq!(
            listener.rights(),
            <cap_core::rights::Listener as RightSet>::RIGHTS
        );
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"ping").await.unwrap();
            let mut back = [0; 4];
            s.read_exact(&mut back).await.unwrap();
            back
        });
        let (stream, peer) = listener.accept().await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), peer);
        // A read-only narrowing has no AsyncWrite; its dynamic twin refuses at run time.
        let mut stream = stream.into_dynamic();
        let mut buf = [0; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        stream.write_all(b"pong").await.unwrap();
        assert_eq!(&client.await.unwrap(), b"pong");

        // Back to sync: same rights.
        let back = listener.into_sync().unwrap();
        assert_eq!(
            back.rights(),
            <cap_core::rights::Listener as RightSet>::RIGHTS
        );
        assert_eq!(back.local_addr().unwrap(), addr);
    });
}

#[test]
fn a_stream_without_write_refuses_to_write() {
    let (a, b) = cap_core::net::UnixStream::pair().unwrap();
    let a = a.into_dynamic().try_narrow::<Dynamic>().unwrap();
    rt().block_on(async {
        let read_only: cap_core::net::UnixStream<rights![Read, Stat]> = b.narrow();
        let mut read_only = net::UnixStream::try_from(read_only).unwrap().into_dynamic();
        let err = read_only.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
        let mut a = net::UnixStream::try_from(a).unwrap();
        a.write_all(b"hello").await.unwrap();
        let mut buf = [0; 5];
        read_only.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    });
}

#[test]
fn udp_sockets_send_and_receive_by_right() {
    let net = Net::builder(ambient_authority())
        .allow(
            cap_core::net::Op::UdpBind,
            "127.0.0.1/32".parse().unwrap(),
            0..=0,
        )
        .allow(
            cap_core::net::Op::UdpConnect,
            "127.0.0.1/32".parse().unwrap(),
            1..=65535,
        )
        .build();
    let a = net.bind_udp("127.0.0.1:0").unwrap();
    let b = net.bind_udp("127.0.0.1:0").unwrap();
    let b_addr = b.local_addr().unwrap();
    net.connect_udp(&a, b_addr).unwrap();
    rt().block_on(async {
        let a = net::UdpSocket::try_from(a).unwrap();
        let b = net::UdpSocket::try_from(b).unwrap();
        a.send(b"dgram").await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dgram");
        assert_eq!(from, a.local_addr().unwrap());
    });
}

#[test]
fn converting_a_socket_outside_a_runtime_is_an_error_not_a_panic() {
    let (a, _b) = cap_core::net::UnixStream::pair().unwrap();
    let err = net::UnixStream::try_from(a).unwrap_err();
    assert!(err.to_string().contains("no tokio runtime"), "{err}");
}
