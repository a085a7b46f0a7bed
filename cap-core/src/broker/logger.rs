//! [`Logger`]: the authority to send log records to syslog or journald —
//! ambit's `cap_syslog`.
//!
//! A locked program cannot connect to `/dev/log` or to journald's socket: it
//! holds a [`Logger`], which sends each [`Record`] through a [`LogSink`]. The
//! broker's logger service is the sink after the lock: it holds the one
//! datagram socket connected to the log daemon, and stamps each record with
//! what the program cannot forge (its own clock, the facility, the
//! identifier and process id it was configured with). [`SyslogWriter`] is that
//! writer, usable on its own before the lock.
//!
//! With the `log` feature, [`Logger::install_log`] makes it the backend of
//! the `log` crate's macros; with the `tracing` feature, [`TracingLayer`] is a
//! `tracing_subscriber::Layer` that writes events through it.

use std::fmt::{self, Write as _};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

mod service;

use crate::AmbientAuthority;
use crate::sandbox::{Grant, Policy};

/// How important a record is, from the most to the least; the syslog
/// severity of each is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Severity 3 (`err`).
    Error = 1,
    /// Severity 4 (`warning`).
    Warn,
    /// Severity 6 (`info`).
    Info,
    /// Severity 7 (`debug`).
    Debug,
    /// Severity 7 (`debug`) too: syslog has nothing finer.
    Trace,
}

impl Level {
    /// The syslog severity (RFC 5424 section 6.2.1).
    pub fn severity(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug | Level::Trace => 7,
        }
    }

    fn from_u8(n: u8) -> Option<Level> {
        [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ]
        .into_iter()
        .find(|l| *l as u8 == n)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        })
    }
}

/// One log record as the program sends it: level, target (the module or
/// component), message and key-value fields. Time, host, identifier and
/// process id are added by the writer, not taken from the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its level.
    pub level: Level,
    /// The component it comes from (`log`'s and `tracing`'s target).
    pub target: String,
    /// The message.
    pub message: String,
    /// Extra fields, in order.
    pub fields: Vec<(String, String)>,
}

/// The most a record may carry over the broker (message and fields
/// together); the rest is cut, on a character boundary, and marked.
pub const MAX_RECORD: usize = 32 * 1024;

impl Record {
    /// A record without fields.
    pub fn new(level: Level, target: impl Into<String>, message: impl Into<String>) -> Record {
        Record {
            level,
            target: target.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The record as the broker request body: the level, then each string
    /// as a 4-byte little-endian length and its bytes (target, message, the
    /// number of fields, each key and value).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.message.len());
        out.push(self.level as u8);
        let mut budget = MAX_RECORD;
        let mut put = |out: &mut Vec<u8>, s: &str| {
            let s = cut(s, budget);
            budget -= s.len();
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        put(&mut out, &self.target);
        put(&mut out, &self.message);
        let fields = self.fields.len().min(64);
        out.extend_from_slice(&u32::try_from(fields).unwrap_or(0).to_le_bytes());
        for (k, v) in self.fields.iter().take(fields) {
            put(&mut out, k);
            put(&mut out, v);
        }
        out
    }

    /// Reads a body made by [`Record::encode`]; anything else is an error
    /// saying what is wrong, never a panic.
    pub fn decode(body: &[u8]) -> Result<Record, String> {
        let (&level, mut rest) = body.split_first().ok_or("empty log record")?;
        let level = Level::from_u8(level).ok_or_else(|| format!("unknown log level {level}"))?;
        let mut take = |what: &str| -> Result<String, String> {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| format!("log record ends before the length of its {what}"))?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > MAX_RECORD || len > tail.len() {
                return Err(format!("the {what} of the log record runs past its end"));
            }
            let (s, tail) = tail.split_at(len);
            rest = tail;
            String::from_utf8(s.to_vec())
                .map_err(|_| format!("the {what} of the log record is not UTF-8"))
        };
        let target = take("target")?;
        let message = take("message")?;
        let count = {
            let (n, tail) = rest
                .split_first_chunk::<4>()
                .ok_or("log record ends before its field count")?;
            rest = tail;
            u32::from_le_bytes(*n)
        };
        if count > 64 {
            return Err(format!("log record has {count} fields (at most 64)"));
        }
        let mut take = |what: &str| -> Result<String, String> {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| format!("log record ends before the length of a {what}"))?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > MAX_RECORD || len > tail.len() {
                return Err(format!("a {what} of the log record runs past its end"));
            }
            let (s, tail) = tail.split_at(len);
            rest = tail;
            String::from_utf8(s.to_vec())
                .map_err(|_| format!("a {what} of the log record is not UTF-8"))
        };
        let mut fields = Vec::new();
        for _ in 0..count {
            let k = take("field name")?;
            let v = take("field value")?;
            fields.push((k, v));
        }
        if !rest.is_empty() {
            return Err("trailing bytes after the log record".into());
        }
        Ok(Record {
            level,
            target,
            message,
            fields,
        })
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Where a [`Logger`] sends records: the broker's logger service, or a
/// [`SyslogWriter`] held directly.
pub trait LogSink: Send + Sync + fmt::Debug {
    /// Sends one record.
    fn send(&self, record: &Record) -> io::Result<()>;

    /// What the sandbox must keep for sending to work after the lock.
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        let _ = policy;
    }
}

/// The authority to log: sends [`Record`]s at or above its level to its
/// sink. Cloning copies it; [`Logger::with_level`] narrows what it sends.
#[derive(Clone)]
pub struct Logger {
    sink: Arc<dyn LogSink>,
    level: Level,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("sink", &self.sink)
            .field("level", &self.level)
            .finish()
    }
}

impl Logger {
    /// A logger over `sink`, sending every level.
    ///
    /// # Ambient Authority
    ///
    /// `sink` may write anywhere; the broker's logger service writes only
    /// to the log socket it was given.
    pub fn from_sink(sink: impl LogSink + 'static, ambient: AmbientAuthority) -> Logger {
        let _ = ambient;
        Logger::with_sink(Arc::new(sink))
    }

    pub(crate) fn with_sink(sink: Arc<dyn LogSink>) -> Logger {
        Logger {
            sink,
            level: Level::Trace,
        }
    }

    /// The same logger sending only records at `level` or more important.
    pub fn with_level(mut self, level: Level) -> Logger {
        self.level = self.level.min(level);
        self
    }

    /// The least important level sent.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether a record at `level` would be sent.
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.level
    }

    /// Sends `record` if its level is enabled.
    pub fn log(&self, record: &Record) -> io::Result<()> {
        if self.enabled(record.level) {
            self.sink.send(record)
        } else {
            Ok(())
        }
    }

    /// Sends a message at `level` from `target`.
    pub fn message(&self, level: Level, target: &str, message: &str) -> io::Result<()> {
        self.log(&Record::new(level, target, message))
    }

    /// Makes this logger the backend of the `log` crate's macros, at most
    /// `level` (the process may set only one). Errors sending are dropped:
    /// a `log::info!` has nowhere to report them.
    #[cfg(feature = "log")]
    pub fn install_log(self, level: Level) -> Result<(), log::SetLoggerError> {
        let logger = self.with_level(level);
        log::set_max_level(match logger.level {
            Level::Error => log::LevelFilter::Error,
            Level::Warn => log::LevelFilter::Warn,
            Level::Info => log::LevelFilter::Info,
            Level::Debug => log::LevelFilter::Debug,
            Level::Trace => log::LevelFilter::Trace,
        });
        log::set_boxed_logger(Box::new(LogBackend { logger }))
    }

    /// A `tracing_subscriber` layer writing events through this logger.
    #[cfg(feature = "tracing")]
    pub fn tracing_layer(self) -> TracingLayer {
        TracingLayer { logger: self }
    }
}

impl Grant for Logger {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.sink.grant(policy);
    }
}

/// The `log` crate's backend over a [`Logger`] (see [`Logger::install_log`]).
#[cfg(feature = "log")]
#[derive(Debug)]
pub struct LogBackend {
    logger: Logger,
}

#[cfg(feature = "log")]
fn from_log_level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

#[cfg(feature = "log")]
impl log::Log for LogBackend {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger.enabled(from_log_level(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let record = Record::new(
            from_log_level(record.level()),
            record.target(),
            record.args().to_string(),
        );
        let _ = self.logger.log(&record);
    }

    fn flush(&self) {}
}

/// A `tracing_subscriber::Layer` writing each event through a [`Logger`]:
/// the `message` field is the message, the other fields become the
/// record's fields (see [`Logger::tracing_layer`]).
#[cfg(feature = "tracing")]
#[derive(Debug)]
pub struct TracingLayer {
    logger: Logger,
}

#[cfg(feature = "tracing")]
struct Fields<'r>(&'r mut Record);

#[cfg(feature = "tracing")]
impl tracing_core::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0.message);
        } else {
            self.0
                .fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0.message = format!("{value:?}");
        } else {
            self.0
                .fields
                .push((field.name().to_owned(), format!("{value:?}")));
        }
    }
}

#[cfg(feature = "tracing")]
impl<S: tracing_core::Subscriber> tracing_subscriber::Layer<S> for TracingLayer {
    fn on_event(
        &self,
        event: &tracing_core::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        let level = match *meta.level() {
            tracing_core::Level::ERROR => Level::Error,
            tracing_core::Level::WARN => Level::Warn,
            tracing_core::Level::INFO => Level::Info,
            tracing_core::Level::DEBUG => Level::Debug,
            tracing_core::Level::TRACE => Level::Trace,
        };
        if !self.logger.enabled(level) {
            return;
        }
        let mut record = Record::new(level, meta.target(), String::new());
        event.record(&mut Fields(&mut record));
        let _ = self.logger.log(&record);
    }
}

/// The wire format of the log daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `<PRI>Mmm dd hh:mm:ss ident[pid]: message`, what the C library's
    /// `syslog(3)` sends to `/dev/log` (RFC 3164 without the host name).
    /// The time is UTC: the broker reads no time-zone file.
    Rfc3164,
    /// `<PRI>1 2026-12-02T01:02:03.000004Z host ident pid - [ambit@32473 ..] message`
    /// (RFC 5424, with the target and fields as structured data).
    Rfc5424,
    /// journald's native protocol (`KEY=value` lines; `MESSAGE`,
    /// `PRIORITY`, `SYSLOG_IDENTIFIER`, `SYSLOG_FACILITY`, `SYSLOG_PID`,
    /// `TARGET`, and each field in upper case).
    Journald,
}

/// What the writer adds to each record; fixed when the writer is made, so
/// the program cannot forge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The syslog facility (1 `user` by default, 3 `daemon`, 16 to 23 `local0` to `local7`).
    pub facility: u8,
    /// The identifier (the program's name).
    pub ident: String,
    /// The process id reported.
    pub pid: u32,
    /// The host name (RFC 5424 only; `-` if empty).
    pub hostname: String,
}

impl Stamp {
    /// This program: its name (the file name of `argv[0]`) as the
    /// identifier, its pid, `facility` (1 is `user`), no host name (the
    /// daemon adds its own).
    pub fn this_program(facility: u8) -> Stamp {
        let ident = std::env::args_os()
            .next()
            .map(PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "ambit".to_owned());
        Stamp {
            facility,
            ident,
            pid: std::process::id(),
            hostname: String::new(),
        }
    }

    /// The priority value `facility * 8 + severity`.
    fn pri(&self, level: Level) -> u16 {
        u16::from(self.facility.min(23)) * 8 + u16::from(level.severity())
    }
}

/// Days since 1970-01-01 as (year, month 1-12, day 1-31), proleptic
/// Gregorian (the civil-from-days algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// UTC fields of `time`: (year, month, day, hour, minute, second, microsecond).
fn utc(time: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(0);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let rem = u32::try_from(secs.rem_euclid(86_400)).unwrap_or(0);
    (
        y,
        mo,
        d,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_micros(),
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The text of a record for syslog: the message, then ` key=value` for
/// each field; NUL bytes (which end a syslog message) become spaces.
fn syslog_text(record: &Record) -> String {
    let mut text = record.message.replace('\0', " ");
    for (k, v) in &record.fields {
        text.push_str(&format!(" {k}={v}").replace('\0', " "));
    }
    cut(&text, MAX_RECORD).to_owned()
}

/// An RFC 5424 header field: printable ASCII without spaces, at most `max`
/// bytes, `-` when empty.
fn header_field(s: &str, max: usize) -> String {
    let s: String = s.chars().filter(char::is_ascii_graphic).take(max).collect();
    if s.is_empty() { "-".into() } else { s }
}

/// An RFC 5424 structured-data parameter name: printable ASCII without `=`,
/// space, `]` or `"`, at most 32 bytes.
fn sd_name(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(32)
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

/// An RFC 5424 structured-data parameter value: `"`, `\` and `]` escaped.
fn sd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A journald field name: upper case letters, digits and `_`, not starting
/// with `_` or a digit, at most 64 bytes; `None` when nothing usable is left.
fn journald_name(s: &str) -> Option<String> {
    let name: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .skip_while(|c| *c == '_' || c.is_ascii_digit())
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

fn journald_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    if value.contains('\n') {
        // The binary form: name, newline, 64-bit little-endian length, value.
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// Formats `record` in `format`, stamped with `stamp` at `time`.
pub fn format_record(record: &Record, format: Format, stamp: &Stamp, time: SystemTime) -> Vec<u8> {
    let (y, mo, d, h, mi, s, us) = utc(time);
    let pri = stamp.pri(record.level);
    match format {
        Format::Rfc3164 => {
            let month = MONTHS[(mo as usize).clamp(1, 12) - 1];
            let ident = header_field(&stamp.ident, 48);
            format!(
                "<{pri}>{month} {d:>2} {h:02}:{mi:02}:{s:02} {ident}[{}]: {}",
                stamp.pid,
                syslog_text(record)
            )
            .into_bytes()
        }
        Format::Rfc5424 => {
            let mut sd = format!("[ambit@32473 target=\"{}\"", sd_value(&record.target));
            for (k, v) in &record.fields {
                let _ = write!(sd, " {}=\"{}\"", sd_name(k), sd_value(v));
            }
            sd.push(']');
            format!(
                "<{pri}>1 {y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z {} {} {} - {sd} {}",
                header_field(&stamp.hostname, 255),
                header_field(&stamp.ident, 48),
                stamp.pid,
                cut(&record.message.replace('\0', " "), MAX_RECORD),
            )
            .into_bytes()
        }
        Format::Journald => {
            let mut out = Vec::new();
            journald_field(&mut out, "MESSAGE", cut(&record.message, MAX_RECORD));
            journald_field(&mut out, "PRIORITY", &record.level.severity().to_string());
            journald_field(&mut out, "SYSLOG_FACILITY", &stamp.facility.to_string());
            journald_field(&mut out, "SYSLOG_IDENTIFIER", &stamp.ident);
            journald_field(&mut out, "SYSLOG_PID", &stamp.pid.to_string());
            journald_field(&mut out, "TARGET", &record.target);
            for (k, v) in &record.fields {
                if let Some(name) = journald_name(k)
                    && !matches!(
                        name.as_str(),
                        "MESSAGE"
                            | "PRIORITY"
                            | "SYSLOG_FACILITY"
                            | "SYSLOG_IDENTIFIER"
                            | "SYSLOG_PID"
                            | "TARGET"
                    )
                {
                    journald_field(&mut out, &name, v);
                }
            }
            out
        }
    }
}

/// The usual socket of each format: `/dev/log` for syslog,
/// `/run/systemd/journal/socket` for journald.
pub fn default_path(format: Format) -> &'static Path {
    match format {
        Format::Rfc3164 | Format::Rfc5424 => Path::new("/dev/log"),
        Format::Journald => Path::new("/run/systemd/journal/socket"),
    }
}

/// Writes records to a log daemon through a unix datagram socket connected
/// to it: what the broker's logger service holds. Usable directly (as a
/// [`LogSink`]) before the lock.
#[derive(Debug)]
pub struct SyslogWriter {
    socket: UnixDatagram,
    path: PathBuf,
    format: Format,
    stamp: Stamp,
}

impl SyslogWriter {
    /// Connects to the daemon's socket at `path`.
    ///
    /// # Ambient Authority
    ///
    /// `path` may be any socket.
    pub fn connect_ambient(
        path: impl AsRef<Path>,
        format: Format,
        stamp: Stamp,
        ambient: AmbientAuthority,
    ) -> io::Result<SyslogWriter> {
        let _ = ambient;
        let path = path.as_ref();
        let socket = UnixDatagram::unbound()
            .and_then(|s| s.connect(path).map(|()| s))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("connect to the log socket {}: {e}", path.display()),
                )
            })?;
        Ok(SyslogWriter {
            socket,
            path: path.to_path_buf(),
            format,
            stamp,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Formats and sends one record.
    pub fn write(&self, record: &Record) -> io::Result<()> {
        let datagram = format_record(record, self.format, &self.stamp, SystemTime::now());
        self.socket.send(&datagram).map(drop).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("send to the log socket {}: {e}", self.path.display()),
            )
        })
    }
}

impl LogSink for SyslogWriter {
    fn send(&self, record: &Record) -> io::Result<()> {
        self.write(record)
    }

    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        policy.socket(
            std::os::fd::AsFd::as_fd(&self.socket),
            cap_runtime::SocketKind::UnixDatagram,
            crate::Rights::SEND,
            &self.path.display().to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stamp() -> Stamp {
        Stamp {
            facility: 1,
            ident: "app".into(),
            pid: 42,
            hostname: "host".into(),
        }
    }

    fn at() -> SystemTime {
        // 2026-12-02T01:02:03.000004Z
        UNIX_EPOCH + Duration::from_secs(1_796_173_323) + Duration::from_micros(4)
    }

    fn record() -> Record {
        Record {
            level: Level::Warn,
            target: "app::net".into(),
            message: "disk \"full\"]".into(),
            fields: vec![
                ("path".into(), "/srv".into()),
                ("2bad key".into(), "a\nb".into()),
            ],
        }
    }

    /// A sink that keeps what it is sent.
    #[derive(Debug, Default)]
    struct Keep(std::sync::Mutex<Vec<Record>>);
    impl LogSink for Arc<Keep> {
        fn send(&self, record: &Record) -> io::Result<()> {
            self.0.lock().unwrap().push(record.clone());
            Ok(())
        }
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn tracing_events_become_records() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let keep = Arc::new(Keep::default());
        let layer = Logger::from_sink(Arc::clone(&keep), crate::ambient_authority())
            .with_level(Level::Info)
            .tracing_layer();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "svc", user = "ann", n = 3, "hello {}", "world");
            tracing::debug!("filtered out");
        });
        let got = keep.0.lock().unwrap();
        assert_eq!(
            *got,
            vec![Record {
                level: Level::Info,
                target: "svc".into(),
                message: "hello world".into(),
                fields: vec![("user".into(), "ann".into()), ("n".into(), "3".into())],
            }]
        );
    }

    #[test]
    fn dates_are_utc_civil() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(utc(at()), (2026, 12, 2, 1, 2, 3, 4));
    }

    #[test]
    fn formats() {
        let r = record();
        assert_eq!(
            String::from_utf8(format_record(&r, Format::Rfc3164, &stamp(), at())).unwrap(),
            "<12>Dec  2 01:02:03 app[42]: disk \"full\"] path=/srv 2bad key=a\nb"
        );
        assert_eq!(
            String::from_utf8(format_record(&r, Format::Rfc5424, &stamp(), at())).unwrap(),
            "<12>1 2026-12-02T01:02:03.000004Z host app 42 - [ambit@32473 target=\"app::net\" path=\"/srv\" 2badkey=\"a\nb\"] disk \"full\"]"
        );
        let j = format_record(&r, Format::Journald, &stamp(), at());
        let text = String::from_utf8_lossy(&j);
        assert!(text.starts_with("MESSAGE=disk \"full\"]\nPRIORITY=4\nSYSLOG_FACILITY=1\nSYSLOG_IDENTIFIER=app\nSYSLOG_PID=42\nTARGET=app::net\nPATH=/srv\nBAD_KEY\n"), "{text}");
        assert!(j.ends_with(&[3, 0, 0, 0, 0, 0, 0, 0, b'a', b'\n', b'b', b'\n']));
    }

    #[test]
    fn records_round_trip_and_bad_bodies_are_errors() {
        let r = record();
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        let body = r.encode();
        for n in 0..body.len() {
            assert!(Record::decode(&body[..n]).is_err(), "{n}");
        }
        assert_eq!(Record::decode(&[9]).unwrap_err(), "unknown log level 9");
        // Random bodies (a small xorshift stream): errors, never a panic.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5_000 {
            let len = usize::try_from(next() % 64).unwrap();
            let mut body: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
            if let Some(first) = body.first_mut() {
                *first %= 6;
            }
            let _ = Record::decode(&body);
        }
        let mut long = r.clone();
        long.message = "é".repeat(MAX_RECORD);
        let back = Record::decode(&long.encode()).unwrap();
        assert!(back.message.len() <= MAX_RECORD);
    }

    #[test]
    fn writer_sends_to_a_datagram_listener_and_levels_filter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let listener = UnixDatagram::bind(&path).unwrap();
        let writer = SyslogWriter::connect_ambient(
            &path,
            Format::Rfc3164,
            stamp(),
            crate::ambient_authority(),
        )
        .unwrap();
        let logger = Logger::from_sink(writer, crate::ambient_authority()).with_level(Level::Info);
        logger.message(Level::Debug, "t", "dropped").unwrap();
        logger.message(Level::Error, "t", "kept").unwrap();
        let mut buf = [0; 256];
        let n = listener.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(
            text.starts_with("<11>") && text.ends_with("app[42]: kept"),
            "{text}"
        );
        let err = SyslogWriter::connect_ambient(
            dir.path().join("none"),
            Format::Journald,
            stamp(),
            crate::ambient_authority(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("none"), "{err}");
    }
}
