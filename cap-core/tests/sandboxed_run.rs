//! `#[sandboxed]` at run time. Each scenario is a `#[sandboxed]` function run
//! as `main` of a fresh child process (this binary again, with
//! `AMBIT_SCENARIO` set), because entering capability mode is irreversible
//! and refused once threads exist; the parent checks what each child printed
//! and how it exited. (`harness = false`: the parent is single-threaded.)
// Unix-domain sockets throughout: compiled on unix only. On Windows the
// crate is empty and has no `main` (`cargo check` is what runs there).
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode, Output, Termination};

use cap_core::fs::Dir;
use cap_core::net::{Net, TcpListener, UdpSocket, UnixListener, UnixStream};
use cap_core::rights::ReadOnly;
use cap_core::{Preopen, sandboxed};

/// Reads a file through the handle (allowed) and the same directory's
/// neighbour by name (denied by the kernel): the escape and its twin.
fn probe(data: &Dir<ReadOnly>, who: &str) {
    match data.read_to_string("inside.txt") {
        Ok(text) => println!("{who} handle read: {text}"),
        Err(e) => println!("{who} handle error: {e}"),
    }
    let outside = std::env::var("AMBIT_TEST_OUTSIDE").unwrap();
    match fs::read_to_string(&outside) {
        Ok(text) => println!("{who} ambient read: {text}"),
        Err(e) => println!("{who} ambient denied: {:?}", e.kind()),
    }
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"))]
fn escape(data: Dir<ReadOnly>) -> io::Result<()> {
    probe(&data, "main");
    Ok(())
}

/// The soft and hard limits on open descriptors, as the body sees them.
fn print_open_files() {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    println!(
        "open files {} {}",
        limit.current.unwrap_or(u64::MAX),
        limit.maximum.unwrap_or(u64::MAX)
    );
}

// Run under `prlimit --nofile=256:4096` by the parent.
#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), open_files = max)]
fn open_files_max(data: Dir<ReadOnly>) -> io::Result<()> {
    print_open_files();
    probe(&data, "main");
    Ok(())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), open_files = 1000)]
fn open_files_some(data: Dir<ReadOnly>) -> io::Result<()> {
    print_open_files();
    probe(&data, "main");
    Ok(())
}

// Run under a soft limit of 4 (stdio and one more): the two directories
// open only if the limit is raised before them.
#[sandboxed(
    data = dir(env = "AMBIT_TEST_DATA"),
    run = dir(env = "AMBIT_TEST_RUNDIR"),
    open_files = 64
)]
fn open_files_first(data: Dir<ReadOnly>, run: Dir<ReadOnly>) -> io::Result<()> {
    print_open_files();
    probe(&data, "main");
    drop(run);
    Ok(())
}

// Asks for less than the soft limit (256): it stays.
#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), open_files = 100)]
fn open_files_lower(data: Dir<ReadOnly>) -> io::Result<()> {
    print_open_files();
    probe(&data, "main");
    Ok(())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), open_files = 100000)]
fn open_files_too_many(data: Dir<ReadOnly>) -> io::Result<()> {
    print_open_files();
    probe(&data, "main");
    Ok(())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), report)]
#[tokio::main(flavor = "current_thread")]
async fn tokio_current(data: Dir<ReadOnly>) -> io::Result<()> {
    let data = std::sync::Arc::new(data);
    let task = tokio::task::spawn_blocking({
        let data = data.clone();
        move || probe(&data, "blocking")
    });
    task.await.map_err(io::Error::other)?;
    probe(&data, "main");
    Ok(())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), mode = strict)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_multi(data: Dir<ReadOnly>) -> io::Result<()> {
    let data = std::sync::Arc::new(data);
    let worker = tokio::spawn({
        let data = data.clone();
        async move { probe(&data, "worker") }
    });
    worker.await.map_err(io::Error::other)?;
    Ok(())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_MISSING"))]
fn missing(data: Dir<ReadOnly>) {
    let _ = data;
    println!("body ran");
}

#[sandboxed(data = dir(arg = "--data"))]
fn no_value(data: Dir<ReadOnly>) {
    let _ = data;
    println!("body ran");
}

/// A socket bound before a later resource fails: removed on the way out.
#[sandboxed(control = unix_listen(env = "AMBIT_TEST_SOCKET"), data = dir(env = "AMBIT_TEST_MISSING"))]
fn half_open(control: UnixListener, data: Dir<ReadOnly>) {
    let _ = (control, data);
    println!("body ran");
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"))]
fn fails(data: Dir<ReadOnly>) -> Result<(), String> {
    let _ = data;
    Err("the body failed".into())
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"))]
fn exit_code(data: Dir<ReadOnly>) -> ExitCode {
    let _ = data;
    ExitCode::from(7)
}

/// Every network kind: the handles work, and a connection the `connect`
/// grant does not cover is refused by the kernel.
#[sandboxed(
    http = listen("127.0.0.1:0"),
    dgram = udp("127.0.0.1:0"),
    api = connect(env = "AMBIT_TEST_CONNECT"),
    control = unix_listen(env = "AMBIT_TEST_SOCKET"),
    peer = unix_connect(env = "AMBIT_TEST_PEER"),
)]
fn network(
    http: TcpListener,
    dgram: UdpSocket,
    api: Net,
    control: UnixListener,
    mut peer: UnixStream,
) -> io::Result<()> {
    use std::io::Write as _;
    println!("listen {}", http.local_addr()?.ip());
    println!("udp {}", dgram.local_addr()?.ip());
    let allowed = std::env::var("AMBIT_TEST_CONNECT").unwrap();
    match api.connect_tcp(allowed.as_str()) {
        Ok(_) => println!("grant connect ok"),
        Err(e) => println!("grant connect error: {e}"),
    }
    let other = std::env::var("AMBIT_TEST_OTHER").unwrap();
    match std::net::TcpStream::connect(other.as_str()) {
        Ok(_) => println!("ambient connect ok"),
        Err(e) => println!("ambient connect denied: {:?}", e.kind()),
    }
    println!("unix listen {}", control.local_addr().is_ok());
    peer.write_all(b"hello over unix")?;
    Ok(())
}

/// The authority to make unix sockets after the lock: a `Net` grant with
/// `.unix()`, made before the lock like every other handle.
struct UnixGrant(Net);

impl cap_core::Preopen for UnixGrant {
    const READS_COMMAND_LINE: bool = false;

    fn preopen(ambient: cap_core::AmbientAuthority) -> Result<Self, cap_core::PreopenError> {
        Ok(Self(Net::builder(ambient).unix().build()))
    }
}

impl cap_core::sandbox::Grant for UnixGrant {
    fn grant<'a>(&'a self, policy: &mut cap_core::sandbox::Policy<'a>) {
        self.0.grant(policy);
    }
}

/// Binding a new unix socket inside the sandbox: allowed beneath a dir with
/// `Create` (Landlock `MAKE_SOCK`) when a grant allows unix sockets, denied
/// anywhere else.
#[sandboxed(run = dir(env = "AMBIT_TEST_RUNDIR"))]
fn unix_bind(run: Dir<cap_core::rights![Lookup, Create, Remove]>, unix: UnixGrant) {
    let _ = unix;
    match run.bind_unix_listener("late.sock") {
        Ok(_) => println!("bind beneath run ok"),
        Err(e) => println!("bind beneath run error: {e}"),
    }
    let outside = Path::new(&std::env::var("AMBIT_TEST_OUTSIDE").unwrap()).with_extension("sock");
    match std::os::unix::net::UnixListener::bind(&outside) {
        Ok(_) => println!("ambient bind ok"),
        Err(e) => println!("ambient bind denied: {:?}", e.kind()),
    }
}

/// Without a unix grant, holding a unix socket does not let the process make
/// new ones: the held listener accepts, a new bind is refused by seccomp.
#[sandboxed(
    run = dir(env = "AMBIT_TEST_RUNDIR"),
    control = unix_listen(env = "AMBIT_TEST_SOCKET"),
)]
fn unix_held_only(run: Dir<cap_core::rights![Lookup, Create, Remove]>, control: UnixListener) {
    println!("held listener {}", control.local_addr().is_ok());
    match run.bind_unix_listener("late2.sock") {
        Ok(_) => println!("bind without grant ok"),
        Err(e) => println!("bind without grant denied: {:?}", e.kind()),
    }
}

#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"), report)]
fn report_json(data: Dir<ReadOnly>) {
    let _ = data;
}

#[derive(Preopen)]
struct Caps {
    #[preopen(dir(env = "AMBIT_TEST_DATA"))]
    data: Dir<ReadOnly>,
}

/// What a `clap::Parser` would be: plain data parsed first.
struct Cli {
    data: std::path::PathBuf,
}

impl Cli {
    fn parse() -> Cli {
        Cli {
            data: std::env::var_os("AMBIT_TEST_DATA").unwrap().into(),
        }
    }
}

#[derive(Preopen)]
struct App {
    #[preopen(with = Cli::parse())]
    cli: Cli,
    #[preopen(dir(from = &cli.data))]
    data: Dir<ReadOnly>,
}

#[sandboxed(extra = dir(from = std::env::var_os("AMBIT_TEST_DATA").unwrap()))]
fn with_from(app: App, extra: Dir<ReadOnly>) {
    println!(
        "cli {}",
        app.cli.data.file_name().unwrap().to_string_lossy()
    );
    probe(&app.data, "app");
    probe(&extra, "extra");
}

#[sandboxed]
fn preopen_set(caps: Caps) {
    probe(&caps.data, "caps");
}

/// A derived set whose positional argument must be counted by the same
/// parser as the attribute's flag: `--root DATA OUT` binds `out` to OUT.
#[derive(Preopen)]
struct Output1 {
    #[preopen(dir(arg = 1))]
    out: Dir<cap_core::rights![Lookup, Read, Stat]>,
}

#[sandboxed(root = dir(arg = "--root"), flags = ["-v"])]
fn shared_cli(root: Dir<cap_core::rights![Lookup, Read, Stat]>, output: Output1) {
    let root_has = root.exists("inside.txt");
    let out_has = output.out.exists("marker.txt");
    println!("root has inside {root_has}; out has marker {out_has}");
}

#[sandboxed(inputs = files(arg = 1))]
fn file_list(inputs: Vec<cap_core::fs::File<ReadOnly>>) {
    for mut file in inputs {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        println!("input: {text}");
    }
    let outside = std::env::var("AMBIT_TEST_OUTSIDE").unwrap();
    match fs::read_to_string(&outside) {
        Ok(text) => println!("ambient read: {text}"),
        Err(e) => println!("ambient denied: {:?}", e.kind()),
    }
}

/// Typed temporary files and directories work inside the lock, beneath
/// the handle only.
#[sandboxed(work = dir(env = "AMBIT_TEST_RUNDIR"))]
fn temp_in_sandbox(work: Dir<cap_core::rights::ReadWrite>) -> io::Result<()> {
    let mut file = work.temp_file()?;
    io::Write::write_all(&mut file, b"saved atomically")?;
    file.replace("saved.txt")?;
    let scratch = work.temp_dir()?;
    scratch.create_dir("nested")?;
    println!("scratch ok {}", scratch.is_dir("nested"));
    scratch.close()?;
    println!("temp done");
    Ok(())
}

/// Files named on the command line, rewritten in place through their
/// directories; a file elsewhere stays out of reach.
#[sandboxed(targets = files(arg = 1))]
fn rewrite(targets: Vec<cap_core::fs::InPlace<cap_core::fs::Rewrite>>) -> io::Result<()> {
    for target in &targets {
        let text = target.read_to_string()?;
        target.replace(text.to_uppercase())?;
        println!("rewrote {}", target.name().to_string_lossy());
    }
    let outside = std::env::var("AMBIT_TEST_OUTSIDE").unwrap();
    match fs::write(&outside, "OVERWRITTEN") {
        Ok(()) => println!("ambient write: ok"),
        Err(e) => println!("ambient write denied: {:?}", e.kind()),
    }
    Ok(())
}

/// A program that parses its command line with clap: the derived set's
/// `with = ..` field hands the flags clap knows to clap, and the handle is
/// opened from the parsed value.
#[derive(clap::Parser)]
struct ClapCli {
    /// The data directory.
    #[arg(long)]
    data: std::path::PathBuf,
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Preopen)]
struct ClapApp {
    #[preopen(with = <ClapCli as clap::Parser>::parse())]
    cli: ClapCli,
    #[preopen(dir(from = &cli.data))]
    data: Dir<ReadOnly>,
}

#[sandboxed]
fn with_clap(app: ClapApp) {
    println!("verbose {}", app.cli.verbose);
    probe(&app.data, "clap");
}

/// An `async fn` with no runtime attribute: cap-core starts a multi-threaded
/// runtime after the lock.
#[sandboxed(data = dir(env = "AMBIT_TEST_DATA"))]
async fn async_direct(data: Dir<ReadOnly>) -> io::Result<()> {
    let data = std::sync::Arc::new(data);
    let worker = tokio::spawn({
        let data = data.clone();
        async move { probe(&data, "worker") }
    });
    worker.await.map_err(io::Error::other)?;
    probe(&data, "main");
    Ok(())
}

fn main() -> ExitCode {
    if let Ok(scenario) = std::env::var("AMBIT_SCENARIO") {
        return child(&scenario);
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("inside.txt"), "inside").unwrap();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, "SECRET").unwrap();
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let run_dir = tmp.path().join("run");
    fs::create_dir(&run_dir).unwrap();
    let peer_path = tmp.path().join("peer.sock");
    let peer = std::os::unix::net::UnixListener::bind(&peer_path).unwrap();
    peer.set_nonblocking(true).unwrap();
    let out_dir = tmp.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    fs::write(out_dir.join("marker.txt"), "marker").unwrap();
    let second = tmp.path().join("second.txt");
    fs::write(&second, "second").unwrap();
    let mut failures = 0;
    let mut passed = 0;
    for (name, check) in CHECKS {
        let mut command = if name.starts_with("open_files") {
            // A low soft limit under a known hard one, for `open_files`.
            let mut c = Command::new("prlimit");
            let soft = if *name == "open_files_first" { 4 } else { 256 };
            c.arg(format!("--nofile={soft}:4096"))
                .arg(std::env::current_exe().unwrap());
            c
        } else {
            Command::new(std::env::current_exe().unwrap())
        };
        match *name {
            "shared_cli" => command.arg("-v").arg("--root").arg(&data).arg(&out_dir),
            "unknown_flag" => command.arg("--root").arg(&data).arg("--bogus"),
            "help" | "clap_help" => command.arg("--help"),
            "with_clap" => command.arg("--verbose").arg("--data").arg(&data),
            "file_list" => command.arg(data.join("inside.txt")).arg(&second),
            "rewrite" => {
                fs::write(out_dir.join("a.txt"), "alpha").unwrap();
                fs::write(run_dir.join("b.txt"), "beta").unwrap();
                command
                    .arg(out_dir.join("a.txt"))
                    .arg(run_dir.join("b.txt"))
            }
            _ => &mut command,
        };
        match *name {
            "report_json" => command.env("AMBIT_REPORT", "json"),
            "report_off" => command.env("AMBIT_REPORT", "0"),
            _ => command.env_remove("AMBIT_REPORT"),
        };
        let output = command
            .env("AMBIT_SCENARIO", name)
            .env("AMBIT_TEST_DATA", &data)
            .env("AMBIT_TEST_OUTSIDE", &outside)
            .env("AMBIT_TEST_MISSING", tmp.path().join("no-such-dir"))
            .env(
                "AMBIT_TEST_CONNECT",
                allowed.local_addr().unwrap().to_string(),
            )
            .env("AMBIT_TEST_OTHER", other.local_addr().unwrap().to_string())
            .env("AMBIT_TEST_SOCKET", tmp.path().join(format!("{name}.sock")))
            .env("AMBIT_TEST_PEER", &peer_path)
            .env("AMBIT_TEST_RUNDIR", &run_dir)
            .output()
            .unwrap();
        let mut result = check(&output, tmp.path());
        if *name == "network" && result.is_ok() {
            // What the child wrote through its pre-opened unix stream.
            let (mut stream, _) = peer.accept().unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
            result = expect(
                text == "hello over unix",
                "the unix stream must carry the message",
            );
        }
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(why) => {
                failures += 1;
                println!(
                    "test {name} ... FAILED: {why}\n--- status: {}\n--- stdout:\n{}--- stderr:\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
    println!("\n{passed} passed, {failures} failed");
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs a scenario as the process's `main` would: its return value is
/// reported like `main`'s (`Termination`), `()` included.
#[allow(clippy::unit_arg)]
fn child(scenario: &str) -> ExitCode {
    match scenario {
        "escape" => escape().report(),
        "open_files_max" => open_files_max().report(),
        "open_files_some" => open_files_some().report(),
        "open_files_first" => open_files_first().report(),
        "open_files_lower" => open_files_lower().report(),
        "open_files_too_many" => open_files_too_many().report(),
        "tokio_current" => tokio_current().report(),
        "tokio_multi" => tokio_multi().report(),
        "missing" => missing().report(),
        "no_value" => no_value().report(),
        "half_open" => half_open().report(),
        "fails" => fails().report(),
        "exit_code" => exit_code().report(),
        "preopen_set" => preopen_set().report(),
        "network" => network().report(),
        "unix_bind" => unix_bind().report(),
        "unix_held_only" => unix_held_only().report(),
        "with_from" => with_from().report(),
        "shared_cli" | "unknown_flag" | "help" => shared_cli().report(),
        "file_list" => file_list().report(),
        "async_direct" => async_direct().report(),
        "temp_in_sandbox" => temp_in_sandbox().report(),
        "rewrite" => rewrite().report(),
        "with_clap" | "clap_help" => with_clap().report(),
        "report_json" | "report_off" => report_json().report(),
        other => panic!("unknown scenario {other}"),
    }
}

type Check = fn(&Output, &Path) -> Result<(), String>;

const CHECKS: &[(&str, Check)] = &[
    ("escape", |o, _| locked(o, &["main"])),
    ("open_files_max", |o, _| {
        open_files(
            o,
            "4096 4096",
            "`open_files = max` raises the soft limit to the hard one",
        )
    }),
    ("open_files_some", |o, _| {
        open_files(
            o,
            "1000 4096",
            "`open_files = 1000` raises the soft limit to 1000",
        )
    }),
    ("open_files_first", |o, _| {
        open_files(
            o,
            "64 4096",
            "the limit is raised before the resources are opened",
        )
    }),
    ("open_files_lower", |o, _| {
        open_files(
            o,
            "256 4096",
            "a lower `open_files` leaves the soft limit as it was",
        )
    }),
    ("open_files_too_many", |o, _| {
        let err = String::from_utf8_lossy(&o.stderr);
        expect(o.status.code() == Some(2), "must exit 2")?;
        expect(
            err.starts_with(
                "error: `open_files`: cannot allow 100000 open files: this process's hard limit (RLIMIT_NOFILE) is 4096",
            ),
            "the error names the option, what was asked and the hard limit",
        )?;
        expect(o.stdout.is_empty(), "the body must not run")
    }),
    ("tokio_current", |o, _| {
        locked(o, &["blocking", "main"])?;
        expect(!o.stderr.is_empty(), "the `report` option printed nothing")
    }),
    ("tokio_multi", |o, _| locked(o, &["worker"])),
    ("missing", |o, tmp| {
        let err = String::from_utf8_lossy(&o.stderr);
        let want = format!(
            "error: resource `data` (dir \"{}\"): ",
            tmp.join("no-such-dir").display()
        );
        expect(o.status.code() == Some(2), "pre-open failure must exit 2")?;
        expect(
            err.starts_with(&want),
            &format!("stderr must start with {want:?}"),
        )?;
        expect(o.stdout.is_empty(), "the body must not run")
    }),
    ("no_value", |o, _| {
        let err = String::from_utf8_lossy(&o.stderr);
        expect(o.status.code() == Some(2), "must exit 2")?;
        expect(
            err.contains("resource `data`") && err.contains("no value given: pass --data VALUE"),
            "stderr names the resource and the flag",
        )
    }),
    ("half_open", |o, tmp| {
        let err = String::from_utf8_lossy(&o.stderr);
        expect(o.status.code() == Some(2), "must exit 2")?;
        expect(
            err.starts_with("error: resource `data` (dir "),
            "the failing resource is named",
        )?;
        expect(o.stdout.is_empty(), "the body must not run")?;
        expect(
            !tmp.join("half_open.sock").exists(),
            "the socket bound before the failure is removed",
        )
    }),
    ("fails", |o, _| {
        let err = String::from_utf8_lossy(&o.stderr);
        expect(
            o.status.code() == Some(1),
            "Err(_) exits 1, like Termination",
        )?;
        expect(
            err.contains("Error: \"the body failed\""),
            "Err(e) is printed with Debug",
        )
    }),
    ("exit_code", |o, _| {
        expect(o.status.code() == Some(7), "ExitCode is returned as is")
    }),
    ("preopen_set", |o, _| locked(o, &["caps"])),
    ("shared_cli", |o, _| {
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            String::from_utf8_lossy(&o.stdout)
                .contains("root has inside true; out has marker true"),
            "`--root DATA OUT`: the derived positional 1 is OUT, not the flag's value",
        )
    }),
    ("unknown_flag", |o, _| {
        let err = String::from_utf8_lossy(&o.stderr);
        expect(o.status.code() == Some(2), "an unknown flag exits 2")?;
        expect(
            err.contains("error: unknown flag `--bogus`"),
            "the flag is named",
        )?;
        expect(
            err.contains("Usage: sandboxed_run")
                && err.contains("[--root ROOT]")
                && err.contains(" OUT"),
            "the usage follows, from the attribute's and the derived set's declarations",
        )?;
        expect(o.stdout.is_empty(), "the body must not run")
    }),
    ("help", |o, _| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "--help exits 0")?;
        expect(
            out.contains("root           dir: --root")
                && out.contains("out            dir: argument 1")
                && out.contains("The program's own flags: -v"),
            "every resource is listed with its kind and source",
        )?;
        expect(!out.contains("root has inside"), "the body must not run")
    }),
    ("file_list", |o, _| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            out.contains("input: inside\ninput: second\n"),
            "each file of the list is read through its handle",
        )?;
        expect(
            out.contains("ambient denied: PermissionDenied") && !out.contains("SECRET"),
            "a file not on the command line is denied",
        )
    }),
    ("async_direct", |o, _| locked(o, &["worker", "main"])),
    ("with_clap", |o, _| {
        locked(o, &["clap"])?;
        expect(
            String::from_utf8_lossy(&o.stdout).contains("verbose true"),
            "clap parsed the program's own flag",
        )
    }),
    ("clap_help", |o, _| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "clap's --help exits 0")?;
        expect(
            out.contains("--data <DATA>") && out.contains("The data directory"),
            "a program that parses its own command line keeps its own --help",
        )
    }),
    ("rewrite", |o, tmp| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            fs::read_to_string(tmp.join("out/a.txt")).is_ok_and(|t| t == "ALPHA")
                && fs::read_to_string(tmp.join("run/b.txt")).is_ok_and(|t| t == "BETA"),
            "both files are rewritten in place",
        )?;
        expect(
            out.contains("ambient write denied: PermissionDenied"),
            "a file not named stays out of reach",
        )?;
        expect(
            fs::read_to_string(tmp.join("outside.txt")).is_ok_and(|t| t == "SECRET"),
            "the outside file is unchanged",
        )
    }),
    ("temp_in_sandbox", |o, tmp| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            out.contains("scratch ok true") && out.contains("temp done"),
            "temp dir made and closed",
        )?;
        expect(
            fs::read_to_string(tmp.join("run/saved.txt")).is_ok_and(|t| t == "saved atomically"),
            "the temp file replaced saved.txt",
        )?;
        let left: Vec<_> = fs::read_dir(tmp.join("run"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        expect(left.is_empty(), "no temporary name is left behind")
    }),
    ("with_from", |o, _| {
        locked(o, &["app", "extra"])?;
        expect(
            String::from_utf8_lossy(&o.stdout).contains("cli data"),
            "the parsed data reaches the body",
        )
    }),
    ("network", |o, _| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        for line in [
            "listen 127.0.0.1",
            "udp 127.0.0.1",
            "grant connect ok",
            "unix listen true",
        ] {
            expect(out.lines().any(|l| l == line), &format!("missing {line:?}"))?;
        }
        expect(
            out.contains("ambient connect denied: PermissionDenied"),
            "a connection outside the grant must be denied",
        )
    }),
    ("unix_bind", |o, tmp| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            out.contains("bind beneath run ok"),
            "binding beneath the granted dir works",
        )?;
        expect(
            out.contains("ambient bind denied: PermissionDenied"),
            "binding a socket outside the granted dir is denied",
        )?;
        expect(tmp.join("run/late.sock").exists(), "the socket file exists")?;
        expect(
            !tmp.join("outside.sock").exists(),
            "nothing was bound outside",
        )
    }),
    ("unix_held_only", |o, tmp| {
        let out = String::from_utf8_lossy(&o.stdout);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            out.contains("held listener true"),
            "the held listener still works",
        )?;
        expect(
            out.contains("bind without grant denied: PermissionDenied"),
            "a new unix socket needs a unix grant",
        )?;
        expect(!tmp.join("run/late2.sock").exists(), "no socket was made")
    }),
    ("report_json", |o, _| {
        let err = String::from_utf8_lossy(&o.stderr);
        let first = err.lines().next().unwrap_or("");
        let json: Result<serde_json::Value, _> = serde_json::from_str(first);
        expect(o.status.success(), "the child must exit 0")?;
        expect(
            json.is_ok_and(|v| v.is_object()),
            "AMBIT_REPORT=json prints the report as one JSON object",
        )
    }),
    ("report_off", |o, _| {
        expect(
            o.status.success() && o.stderr.is_empty(),
            "AMBIT_REPORT=0 silences the `report` option",
        )
    }),
];

/// The child read through its handle, was denied the same read by name, and
/// exited 0.
fn locked(o: &Output, who: &[&str]) -> Result<(), String> {
    let out = String::from_utf8_lossy(&o.stdout);
    expect(o.status.success(), "the child must exit 0")?;
    for who in who {
        expect(
            out.contains(&format!("{who} handle read: inside")),
            &format!("{who}: the handle must still read"),
        )?;
        expect(
            out.contains(&format!("{who} ambient denied: PermissionDenied")),
            &format!("{who}: a read by name must be denied"),
        )?;
        expect(!out.contains("SECRET"), "the outside file must not be read")?;
    }
    Ok(())
}

/// Locked as `escape` is, and the body saw these open-file limits (soft,
/// hard).
fn open_files(o: &Output, limits: &str, why: &str) -> Result<(), String> {
    locked(o, &["main"])?;
    expect(
        String::from_utf8_lossy(&o.stdout).contains(&format!("open files {limits}")),
        why,
    )
}

fn expect(ok: bool, why: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why.to_owned()) }
}
