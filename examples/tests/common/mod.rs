//! Running the example binaries as a user would.

#![allow(dead_code)] // each test file uses part of this

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The workspace root: where the README's commands run.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A running `serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) stderr: Option<ChildStderr>,
}

/// A response: status, head (header names lower-cased), body.
pub(crate) type Reply = (u16, String, Vec<u8>);

impl Server {
    /// Starts `serve` with `args` in `dir` and waits for its "serving" line.
    pub(crate) fn start(dir: &Path, args: &[&str]) -> Server {
        Self::start_with_env(dir, args, &[])
    }

    /// Starts `serve` with `args` and extra environment variables.
    pub(crate) fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(Command::new(env!("CARGO_BIN_EXE_serve")), dir, args, env)
    }

    /// Starts `serve` as [`Server::start_with_env`] does, with at most
    /// `nofile` open descriptors (through util-linux's `prlimit`, which
    /// sets the limit and executes the server in its place).
    pub(crate) fn start_with_nofile(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        nofile: u32,
    ) -> Server {
        Self::start_with_nofile_limits(dir, args, env, (nofile, nofile))
    }

    /// As [`Server::start_with_nofile`], with a soft and a hard limit.
    pub(crate) fn start_with_nofile_limits(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        (soft, hard): (u32, u32),
    ) -> Server {
        let mut prlimit = Command::new("prlimit");
        prlimit
            .arg(format!("--nofile={soft}:{hard}"))
            .arg(env!("CARGO_BIN_EXE_serve"));
        Self::spawn(prlimit, dir, args, env)
    }

    fn spawn(mut command: Command, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = command
            .args(args)
            .current_dir(dir)
            .env_remove("AMBIT_REPORT")
            .env_remove("SERVE_ROOT")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let stderr = child.stderr.take();
        let Some(addr) = line
            .trim()
            .strip_prefix("serving ")
            .and_then(|rest| rest.rsplit_once(" on http://"))
        else {
            let _ = child.kill();
            let mut err = String::new();
            stderr.unwrap().read_to_string(&mut err).unwrap();
            panic!("serve did not start: stdout {line:?}, stderr {err:?}");
        };
        let addr = addr.1.trim_end_matches('/').parse().unwrap();
        Server {
            child,
            addr,
            stderr,
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A connection to the server, with a 10 s read timeout so a hung server
    /// fails the test instead of hanging it.
    pub(crate) fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    }

    /// Sends a raw request on a new connection and returns (status, headers,
    /// body as text).
    pub(crate) fn request(&self, raw: &str) -> (u16, String, String) {
        let mut stream = self.connect();
        stream.write_all(raw.as_bytes()).unwrap();
        let head_only = raw.starts_with("HEAD ");
        let (status, head, body) = read_response(&mut stream, head_only);
        (status, head, String::from_utf8_lossy(&body).into_owned())
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> (u16, String, String) {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    }

    /// Sends SIGTERM and waits for the exit; returns the status and stderr.
    pub(crate) fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            stderr.read_to_string(&mut err).unwrap();
        }
        (status, err)
    }

    /// Kills the server and returns what it wrote to stderr.
    pub(crate) fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            stderr.read_to_string(&mut err).unwrap();
        }
        err
    }
}

/// Reads one response from `stream`: the head up to the blank line (header
/// names lower-cased), then `content-length` bytes of body (none for HEAD,
/// 304 or a missing length).
pub(crate) fn read_response(stream: &mut TcpStream, head_only: bool) -> Reply {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => break,
            Err(e) => panic!(
                "reading a response head: {e} (so far {:?})",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let head: String = head
        .lines()
        .map(|l| match l.split_once(':') {
            Some((name, value)) => format!("{}:{value}\n", name.to_ascii_lowercase()),
            None => format!("{l}\n"),
        })
        .collect();
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![
        0;
        if head_only || status == 304 {
            0
        } else {
            length
        }
    ];
    stream.read_exact(&mut body).unwrap();
    (status, head, body)
}

/// The value of header `name` (lower-case) in a head from [`read_response`].
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        (n == name).then(|| v.trim())
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
