//! Requests handed over to the daemon's own thread, as firecracker's API
//! thread hands them to its VMM: the engine answers between packet bursts
//! on the thread that owns it, and needs no lock of its own.

use super::proto::{ErrorKind, Request, Response};
use super::server::Handler;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request waiting for the engine's answer.
#[derive(Debug)]
pub struct Pending {
    request: Request,
    reply: SyncSender<Response>,
    /// Set when the client was told the engine did not answer in time;
    /// the inbox then skips it rather than act on a request given up on.
    abandoned: Arc<AtomicBool>,
}

impl Pending {
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Answers it. An answer nobody waits for any more (the client gave up
    /// after the handler's timeout) is dropped.
    pub fn respond(self, resp: Response) {
        let _ = self.reply.send(resp);
    }
}

/// The engine thread's end: poll it in the daemon's loop.
#[derive(Debug)]
pub struct Inbox {
    rx: Receiver<Pending>,
}

impl Inbox {
    /// The next request, if one is waiting.
    pub fn try_next(&self) -> Option<Pending> {
        loop {
            match self.rx.try_recv() {
                Ok(p) if p.abandoned.load(Ordering::SeqCst) => continue,
                Ok(p) => return Some(p),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        }
    }

    /// The next request, waiting at most `d` (a daemon loop with nothing
    /// else to do).
    pub fn next_timeout(&self, d: Duration) -> Option<Pending> {
        let start = Instant::now();
        loop {
            let left = d.saturating_sub(start.elapsed());
            match self.rx.recv_timeout(left) {
                Ok(p) if p.abandoned.load(Ordering::SeqCst) => continue,
                Ok(p) => return Some(p),
                Err(_) => return None,
            }
        }
    }
}

/// The server's end: a [`Handler`] that forwards each request to the
/// [`Inbox`] and waits for the engine's answer.
#[derive(Debug)]
pub struct ChannelHandler {
    tx: SyncSender<Pending>,
    timeout: Duration,
}

/// A handler and inbox pair; the engine must answer each request within
/// `timeout` or the client is told it did not.
pub fn channel(timeout: Duration) -> (ChannelHandler, Inbox) {
    // Calls are serialised by the server, so one slot is all that is used.
    let (tx, rx) = mpsc::sync_channel(1);
    (ChannelHandler { tx, timeout }, Inbox { rx })
}

impl Handler for ChannelHandler {
    fn handle(&mut self, request: Request) -> Response {
        let start = Instant::now();
        let (reply, answer) = mpsc::sync_channel(1);
        let abandoned = Arc::new(AtomicBool::new(false));
        let late = || {
            // The engine may have taken it just before this: say so.
            abandoned.store(true, Ordering::SeqCst);
            Response::error(
                ErrorKind::Failed,
                format!(
                    "pfd's engine did not answer within {:?}; the request may still take effect",
                    self.timeout
                ),
            )
        };
        let mut pending = Pending {
            request,
            reply,
            abandoned: Arc::clone(&abandoned),
        };
        // The slot is full only while the engine has yet to take an
        // earlier request that timed out; that waits against this one's time.
        loop {
            match self.tx.try_send(pending) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => {
                    return Response::error(ErrorKind::Failed, "pfd's engine is not running")
                }
                Err(TrySendError::Full(p)) => {
                    if start.elapsed() >= self.timeout {
                        return late();
                    }
                    pending = p;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        match answer.recv_timeout(self.timeout.saturating_sub(start.elapsed())) {
            Ok(resp) => resp,
            Err(RecvTimeoutError::Timeout) => late(),
            Err(RecvTimeoutError::Disconnected) => Response::error(
                ErrorKind::Failed,
                "pfd's engine dropped the request without an answer",
            ),
        }
    }
}
