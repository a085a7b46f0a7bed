//! The logger service in the broker, and the sink the program's [`Logger`]
//! sends records through.

use std::fmt;
use std::io;
use std::sync::Arc;

use super::{LogSink, Logger, Record, SyslogWriter};
use crate::broker::{Builder, Connection, Reply, Service, ServiceError, Ticket};
use crate::sandbox::Policy;

/// The logger service's one operation: body a [`Record::encode`]d record,
/// empty reply once it is sent to the log socket.
pub(crate) const OP_LOG: u8 = 1;

/// The broker side: holds the writer (the one socket connected to the log
/// daemon) and stamps each record (time, facility, identifier, pid).
struct LoggerService {
    writer: SyslogWriter,
}

impl Service for LoggerService {
    #[allow(clippy::unnecessary_literal_bound)] // the trait returns names borrowed from self too
    fn name(&self) -> &str {
        "logger"
    }

    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.writer.grant(policy);
    }

    fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError> {
        if op != OP_LOG {
            return Err(ServiceError::from(format!(
                "logger: unknown operation {op}"
            )));
        }
        let record =
            Record::decode(body).map_err(|e| ServiceError::from(format!("logger: {e}")))?;
        self.writer.write(&record)?;
        Ok(Reply::default())
    }
}

/// The program side: sends records to the broker's logger service.
struct BrokerSink {
    conn: Connection,
    service: u8,
}

impl fmt::Debug for BrokerSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broker logger service (broker pid {})", self.conn.pid())
    }
}

impl LogSink for BrokerSink {
    fn send(&self, record: &Record) -> io::Result<()> {
        self.conn.call(self.service, OP_LOG, &record.encode())?;
        Ok(())
    }
}

impl Builder {
    /// Declares a logger service: the broker holds `writer`'s socket (to
    /// `/dev/log`, journald, or a test's listener) and writes each record
    /// the program's [`Logger`] sends, stamped by the broker.
    pub fn logger(&mut self, writer: SyslogWriter) -> Ticket<Logger> {
        let id = self.register(Box::new(LoggerService { writer }));
        Ticket::new(self, move |conn| {
            Logger::with_sink(Arc::new(BrokerSink { conn, service: id }))
        })
    }
}
