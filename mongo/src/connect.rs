//! `Connection`: a MongoDB client on its own single-threaded tokio runtime, reachable from
//! synchronous code, with every wait bounded.
//!
//! netsec is synchronous (the engine runs stages on plain threads), so the async driver gets a
//! current-thread runtime of its own and each call is a `block_on`. Server selection and the
//! TCP/TLS connect are bounded by the configured timeout (default 5 s, at most 10 s); the first
//! round trip (`ping`) is bounded again from outside, so even a server that accepts the
//! connection and never answers fails in time.

use std::future::Future;
use std::time::{Duration, Instant};

use mongodb::bson::doc;
use mongodb::error::{Error as DriverError, ErrorKind as DriverKind};
use mongodb::options::{ClientOptions, ServerAddress};
use mongodb::Client;
use tokio::runtime::Runtime;

use crate::error::{MongoError, Scrub};

/// How long one batch (a getMore or an insert_many) may take once connected. Generous: the
/// connect timeout already proved the server alive, and a slow server is not a dead one.
pub const OP_TIMEOUT: Duration = Duration::from_secs(120);

/// A connected client. Dropping it drops the client inside the runtime, as the driver requires.
pub struct Connection {
    client: Option<Client>,
    rt: Runtime,
    hosts: String,
    timeout: Duration,
    scrub: Scrub,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URI.
        f.debug_struct("Connection")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Parses `uri` (read from the environment variable `uri_env`, named in errors instead of
    /// the URI), connects and pings the server, all within `timeout`.
    pub fn open(uri: &str, uri_env: &str, timeout: Duration) -> Result<Connection, MongoError> {
        let scrub = Scrub::new(uri);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(MongoError::Runtime)?;
        let bad_uri = |detail: String| MongoError::BadUri {
            name: uri_env.to_string(),
            detail,
        };
        if uri.starts_with("mongodb+srv://") && !cfg!(feature = "srv") {
            return Err(bad_uri(
                "`mongodb+srv://` needs DNS SRV lookups, which this build leaves out \
                 (rebuild netsec-mongo with feature `srv`, or list the hosts with mongodb://)"
                    .into(),
            ));
        }
        let parse =
            rt.block_on(async { tokio::time::timeout(timeout, ClientOptions::parse(uri)).await });
        let mut options = match parse {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(bad_uri(scrub.clean(&brief(&e)))),
            Err(_) => return Err(bad_uri("parsing it did not finish in time".into())),
        };
        let hosts = options
            .hosts
            .iter()
            .map(host_of)
            .collect::<Vec<_>>()
            .join(",");
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(timeout);
        // The monitor checks the server every `timeout` (the driver's floor is 500 ms) and gives
        // each check `timeout` to answer: a server that freezes mid-load is noticed, and the
        // operation in flight abandoned, within about twice the timeout (the driver default
        // of a check every 10 s made it ~20 s).
        options.heartbeat_freq = Some(timeout.max(Duration::from_millis(500)));
        options.app_name = Some("netsec".into());
        let client = {
            let _in_rt = rt.enter();
            Client::with_options(options).map_err(|e| bad_uri(scrub.clean(&brief(&e))))?
        };
        let conn = Connection {
            client: Some(client),
            rt,
            hosts,
            timeout,
            scrub,
        };
        // A margin over the driver's own bound, so its clearer error wins when it fires.
        let ping_bound = timeout + Duration::from_millis(500);
        let client = conn.client().clone();
        let started = Instant::now();
        let ping = conn.rt.block_on(async move {
            tokio::time::timeout(
                ping_bound,
                client.database("admin").run_command(doc! { "ping": 1 }),
            )
            .await
        });
        match ping {
            Ok(Ok(_)) => Ok(conn),
            Ok(Err(e)) => Err(conn.error("ping", "admin", e)),
            Err(_) => Err(MongoError::Unreachable {
                hosts: conn.hosts.clone(),
                timeout: started.elapsed(),
                detail: "the server accepted the connection but did not answer".into(),
            }),
        }
    }

    pub fn client(&self) -> &Client {
        // Only `Drop` takes the client out.
        self.client
            .as_ref()
            .unwrap_or_else(|| unreachable!("client taken before drop"))
    }

    /// `host:port[,host:port…]`: what errors and origins may show of the URI.
    pub fn hosts(&self) -> &str {
        &self.hosts
    }

    /// How many documents `database`.`collection` holds (0 when it does not exist).
    pub fn count(&self, database: &str, collection: &str) -> Result<u64, MongoError> {
        let c = self
            .client()
            .database(database)
            .collection::<mongodb::bson::Document>(collection);
        let namespace = format!("{database}.{collection}");
        self.run("count", &namespace, OP_TIMEOUT, async move {
            c.count_documents(doc! {}).await
        })
    }

    /// Runs `fut` on the client's runtime, bounded by `bound`.
    pub fn run<T>(
        &self,
        op: &'static str,
        namespace: &str,
        bound: Duration,
        fut: impl Future<Output = mongodb::error::Result<T>>,
    ) -> Result<T, MongoError> {
        let started = Instant::now();
        // The timer must be made inside the runtime: `timeout` registers it on creation.
        match self
            .rt
            .block_on(async { tokio::time::timeout(bound, fut).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let mut err = self.error(op, namespace, e);
                // The server stopped answering during the operation: say how long was waited,
                // not the connect bound.
                if let MongoError::Unreachable { timeout, .. } = &mut err {
                    *timeout = (*timeout).max(started.elapsed());
                }
                Err(err)
            }
            Err(_) => Err(MongoError::Stalled {
                op,
                namespace: namespace.to_string(),
                hosts: self.hosts.clone(),
                timeout: bound,
            }),
        }
    }

    /// Enters the runtime (for dropping driver objects, which spawn cleanup tasks).
    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.rt.enter()
    }

    /// A driver error as a `MongoError`, its message scrubbed of every credential.
    pub fn error(&self, op: &'static str, namespace: &str, e: DriverError) -> MongoError {
        let detail = self.scrub.clean(&brief(&e));
        match e.kind.as_ref() {
            DriverKind::ServerSelection { .. }
            | DriverKind::Io(_)
            | DriverKind::ConnectionPoolCleared { .. }
            | DriverKind::DnsResolve { .. } => MongoError::Unreachable {
                hosts: self.hosts.clone(),
                timeout: self.timeout,
                detail,
            },
            DriverKind::Authentication { .. } => MongoError::Auth {
                hosts: self.hosts.clone(),
                detail,
            },
            kind => MongoError::Operation {
                op,
                namespace: namespace.to_string(),
                hosts: self.hosts.clone(),
                detail,
                code: code_of(kind),
            },
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _in_rt = self.rt.enter();
        drop(self.client.take());
    }
}

fn host_of(a: &ServerAddress) -> String {
    match a {
        ServerAddress::Tcp { host, port } => format!("{host}:{}", port.unwrap_or(27017)),
        other => other.to_string(),
    }
}

/// The server's error code, for the kinds that carry one.
fn code_of(kind: &DriverKind) -> Option<i32> {
    match kind {
        DriverKind::Command(c) => Some(c.code),
        DriverKind::Write(mongodb::error::WriteFailure::WriteError(w)) => Some(w.code),
        DriverKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|w| w.first())
            .map(|w| w.code),
        _ => None,
    }
}

/// The driver's message without its `labels`/source-chain noise, on one line.
fn brief(e: &DriverError) -> String {
    let text = match e.kind.as_ref() {
        DriverKind::ServerSelection { message, .. } => message.clone(),
        DriverKind::Authentication { message, .. } => message.clone(),
        DriverKind::InvalidArgument { message, .. } => message.clone(),
        DriverKind::Command(c) => format!("{} ({}): {}", c.code_name, c.code, c.message),
        DriverKind::InsertMany(m) => match m.write_errors.as_ref().and_then(|w| w.first()) {
            Some(w) => format!(
                "document {} of the batch: error {}: {}",
                w.index + 1,
                w.code,
                w.message
            ),
            None => format!("{:?}", m.write_concern_error),
        },
        DriverKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            format!("error {}: {}", w.code, w.message)
        }
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
