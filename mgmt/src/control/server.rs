//! The daemon's end of the control socket: a listener thread and one
//! thread per connection, bounded in number, each running a [`Session`].
//!
//! Threads rather than an event loop: a handful of CLI connections at a
//! time, each one request and one response, and the engine behind the
//! [`Handler`] serialises them anyway (one mutex), so readiness polling
//! would buy nothing but code.

use super::codec::encode_response;
use super::proto::{ErrorKind, Request, Response};
use super::session::{Flow, Session};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The engine's side: one typed request in, one response out. Calls are
/// serialised (never two at once), in each connection's order.
pub trait Handler: Send + 'static {
    fn handle(&mut self, req: Request) -> Response;
}

/// A closure is a handler (small daemons, tests).
impl<F: FnMut(Request) -> Response + Send + 'static> Handler for F {
    fn handle(&mut self, req: Request) -> Response {
        self(req)
    }
}

/// Limits that keep a misbehaving client from costing more than a
/// bounded amount of memory, threads and time.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Connections served at once; one more is told so and closed.
    pub max_connections: usize,
    /// Longest request line, newline excluded; longer is refused and the
    /// connection closed.
    pub max_request: usize,
    /// How long a request may take to arrive, from the connection or the
    /// previous response to the newline ending it; an idle connection is
    /// closed then, one mid-line is told so first. A deadline for the
    /// whole line, not per read, so a byte at a time buys nothing.
    pub read_timeout: Duration,
    /// How long a response may wait for the client to read it.
    pub write_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_connections: 32,
            max_request: 1 << 20,
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("{}: another pfd is listening on this control socket", path.display())]
    InUse { path: PathBuf },
    #[error("{}: exists and is not a socket; not replacing it", path.display())]
    NotASocket { path: PathBuf },
    #[error("{}: {}", path.display(), ruleset::io_error_text(source))]
    Io { path: PathBuf, source: io::Error },
    /// A limit of zero would refuse or drop every client.
    #[error("control socket: {0} must not be zero")]
    ZeroLimit(&'static str),
}

impl ServerConfig {
    fn check(&self) -> Result<(), ServerError> {
        let zero = [
            ("max_connections", self.max_connections == 0),
            ("max_request", self.max_request == 0),
            ("read_timeout", self.read_timeout.is_zero()),
            ("write_timeout", self.write_timeout.is_zero()),
        ];
        match zero.iter().find(|(_, z)| *z) {
            Some((what, _)) => Err(ServerError::ZeroLimit(what)),
            None => Ok(()),
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

struct Conn {
    stream: UnixStream,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    cfg: ServerConfig,
    shutdown: AtomicBool,
    handler: Mutex<Box<dyn Handler>>,
    conns: Mutex<HashMap<u64, Conn>>,
    /// Connections refused for their peer's uid.
    refused_peers: AtomicU64,
    /// The listening socket again, as a stream only to call shutdown(2)
    /// on it: that wakes accept() even when the socket file is gone or is
    /// now another server's, where a wake-up connection could not reach it.
    listener_fd: Option<UnixStream>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind,
    // still consistent: keep serving rather than die.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn call(&self, req: Request) -> Response {
        let mut h = lock(&self.handler);
        match catch_unwind(AssertUnwindSafe(|| h.handle(req))) {
            Ok(resp) => resp,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Response::error(ErrorKind::Failed, format!("internal error: {what}"))
            }
        }
    }
}

/// Stops a [`Server`] from any thread (the one waiting for SIGTERM, say;
/// not from inside a signal handler: it takes locks).
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
    path: PathBuf,
}

impl ShutdownHandle {
    /// Stops accepting, closes every connection; idempotent.
    pub fn shutdown(&self) {
        if self.shared.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        // The listener blocks in accept(): shutting it down wakes it to see
        // the flag (Linux); a connection of our own does too, elsewhere.
        match &self.shared.listener_fd {
            Some(l) => {
                if l.shutdown(std::net::Shutdown::Both).is_err() {
                    let _ = UnixStream::connect(&self.path);
                }
            }
            None => {
                let _ = UnixStream::connect(&self.path);
            }
        }
        for c in lock(&self.shared.conns).values() {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn is_shut_down(&self) -> bool {
        self.shared.shutdown.load(Ordering::SeqCst)
    }
}

/// A listening control socket. Dropping it stops it and removes the
/// socket file (if it is still the one it bound).
pub struct Server {
    handle: ShutdownHandle,
    ident: (u64, u64),
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `path` (mode 0600) and starts serving. A stale socket file
    /// (nobody listening) is replaced; a live one, or any other file, is
    /// an error.
    pub fn start<H: Handler>(
        path: impl AsRef<Path>,
        cfg: ServerConfig,
        handler: H,
    ) -> Result<Server, ServerError> {
        let path = path.as_ref().to_path_buf();
        cfg.check()?;
        let listener = bind(&path)?;
        let md = fs::symlink_metadata(&path).map_err(io_err(&path))?;
        let shared = Arc::new(Shared {
            cfg,
            shutdown: AtomicBool::new(false),
            handler: Mutex::new(Box::new(handler)),
            conns: Mutex::new(HashMap::new()),
            refused_peers: AtomicU64::new(0),
            listener_fd: listener
                .try_clone()
                .ok()
                .map(|l| UnixStream::from(OwnedFd::from(l))),
        });
        let s2 = Arc::clone(&shared);
        let accept = match thread::Builder::new()
            .name("pfd-control".into())
            .spawn(move || accept_loop(listener, s2))
        {
            Ok(t) => t,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(io_err(&path)(e));
            }
        };
        Ok(Server {
            handle: ShutdownHandle { shared, path },
            ident: (md.dev(), md.ino()),
            accept: Some(accept),
        })
    }

    pub fn path(&self) -> &Path {
        &self.handle.path
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Connections refused because their peer was neither root nor
    /// this daemon's user.
    pub fn refused_peers(&self) -> u64 {
        self.handle.shared.refused_peers.load(Ordering::Relaxed)
    }

    /// Connections being served now.
    pub fn connections(&self) -> usize {
        lock(&self.handle.shared.conns).len()
    }

    /// Blocks until some [`ShutdownHandle`] stops the server, then cleans up.
    pub fn wait(mut self) {
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        self.stop();
    }

    /// Stops now and cleans up (what drop does).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.accept.take() {
            join_within(t, Duration::from_secs(2));
        }
        let conns: Vec<Conn> = lock(&self.handle.shared.conns)
            .drain()
            .map(|(_, c)| c)
            .collect();
        for mut c in conns {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
            if let Some(t) = c.thread.take() {
                join_within(t, Duration::from_secs(2));
            }
        }
        let path = &self.handle.path;
        if let Ok(md) = fs::symlink_metadata(path) {
            if (md.dev(), md.ino()) == self.ident {
                let _ = fs::remove_file(path);
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Joins a thread that should end promptly; one stuck (in a handler that
/// never returns, or in accept() when our wake-up could not reach it
/// because the socket file was removed) is left behind rather than
/// hanging the caller.
fn join_within(t: JoinHandle<()>, limit: Duration) {
    let start = Instant::now();
    while !t.is_finished() {
        if start.elapsed() > limit {
            return;
        }
        thread::sleep(Duration::from_millis(2));
    }
    let _ = t.join();
}

fn bind(path: &Path) -> Result<UnixListener, ServerError> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => {
                return Err(ServerError::InUse {
                    path: path.to_path_buf(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                fs::remove_file(path).map_err(io_err(path))?
            }
            Err(e) => return Err(io_err(path)(e)),
        },
        Ok(_) => {
            return Err(ServerError::NotASocket {
                path: path.to_path_buf(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(path)(e)),
    }
    // Bound under a private name, made 0600, then renamed into place: the
    // socket is never reachable with the umask's mode. The name is short
    // so that it fits sun_path whenever the real one does.
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let tmp = path.with_file_name(format!(
        ".{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_file(&tmp);
    let listener = match UnixListener::bind(&tmp) {
        Ok(l) => l,
        // Still too long for sun_path: bind in place; the mode is then
        // the umask's until set_permissions below.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let l = UnixListener::bind(path).map_err(io_err(path))?;
            if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
                let _ = fs::remove_file(path);
                return Err(io_err(path)(e));
            }
            return Ok(l);
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let placed = fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    Ok(listener)
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    let mut next_id: u64 = 0;
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors, typically: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        // The socket file is mode 0600, so only its owner reaches it; a
        // socket chmod'ed open by mistake (or a descriptor passed on)
        // still serves nobody else, as /dev/pf serves root alone.
        if let Err(uid) = peer_allowed(&stream) {
            shared.refused_peers.fetch_add(1, Ordering::Relaxed);
            refuse_peer(stream, uid);
            continue;
        }
        let mut conns = lock(&shared.conns);
        if conns.len() >= shared.cfg.max_connections {
            drop(conns);
            refuse(stream, shared.cfg.max_connections);
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        next_id = next_id.wrapping_add(1);
        let id = next_id;
        conns.insert(
            id,
            Conn {
                stream: clone,
                thread: None,
            },
        );
        let s2 = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("pfd-control-conn".into())
            .spawn(move || {
                serve(stream, &s2);
                lock(&s2.conns).remove(&id);
            });
        match spawned {
            Ok(t) => {
                if let Some(c) = conns.get_mut(&id) {
                    c.thread = Some(t);
                }
            }
            Err(_) => {
                if let Some(c) = conns.remove(&id) {
                    refuse(c.stream, shared.cfg.max_connections);
                }
            }
        }
    }
}

/// `Err(uid)` unless the peer is root or the user this daemon runs as.
/// A peer whose credentials cannot be read is refused too (uid
/// `u32::MAX` in the message).
fn peer_allowed(stream: &UnixStream) -> Result<(), u32> {
    let me = rustix::process::geteuid().as_raw();
    match rustix::net::sockopt::socket_peercred(stream) {
        Ok(c) if c.uid.is_root() || c.uid.as_raw() == me => Ok(()),
        Ok(c) => Err(c.uid.as_raw()),
        Err(_) => Err(u32::MAX),
    }
}

fn refuse_peer(mut stream: UnixStream, uid: u32) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let resp = Response::error(
        ErrorKind::Failed,
        format!("permission denied: the control socket serves root only (you are uid {uid})"),
    );
    let _ = stream.write_all(&encode_response(&resp));
}

fn refuse(mut stream: UnixStream, max: usize) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let resp = Response::error(
        ErrorKind::Failed,
        format!("too many control connections (at most {max}); try again"),
    );
    let _ = stream.write_all(&encode_response(&resp));
}

fn serve(mut stream: UnixStream, shared: &Shared) {
    let cfg = &shared.cfg;
    let _ = stream.set_write_timeout(Some(cfg.write_timeout));
    let mut session = Session::new(cfg.max_request);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut since = Instant::now();
    loop {
        let left = cfg.read_timeout.saturating_sub(since.elapsed());
        let read = if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            stream
                .set_read_timeout(Some(left))
                .and_then(|()| stream.read(&mut buf))
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if session.pending() > 0 {
                    let resp = Response::error(
                        ErrorKind::BadRequest,
                        format!(
                            "request not finished (no newline) within {:?}; closing the connection",
                            cfg.read_timeout
                        ),
                    );
                    let _ = stream.write_all(&encode_response(&resp));
                }
                break;
            }
            Err(_) => break,
        };
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let flow = session.receive(
            buf.get(..n).unwrap_or(&[]),
            &mut |req| shared.call(req),
            &mut out,
        );
        if !out.is_empty() || session.pending() == 0 {
            since = Instant::now();
        }
        if !out.is_empty() {
            if stream.write_all(&out).is_err() {
                break;
            }
            out.clear();
        }
        if flow == Flow::Close {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
