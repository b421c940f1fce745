//! The metrics endpoint: HTTP/1.1 on a std `TcpListener`, one request
//! per connection. `GET /metrics` (or `HEAD`) is answered with the
//! text the render function makes at that moment; any other path is
//! 404, another method 405, anything that is not an HTTP/1.x request
//! 400. The request head is bounded (8 KiB, else 431) and so is the
//! time a client has to send it and read the answer (5 s each, else
//! 408 or the connection is dropped); at most 8 connections are served
//! at once, the next ones get 503. Nothing a client sends can make it
//! panic: the bytes are only split and compared.

use super::text::CONTENT_TYPE;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest request head taken.
pub const MAX_HEAD: usize = 8192;
/// Time to send the request head, and to take the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 8;

/// What makes the page, called once per scrape on the connection's
/// thread.
pub type Render = dyn Fn() -> String + Send + Sync;

/// The listening server; [`MetricsServer::shutdown`] stops it.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listen on `addr` and serve from a thread of its own.
    pub fn start(
        addr: SocketAddr,
        render: impl Fn() -> String + Send + Sync + 'static,
    ) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let render: Arc<Render> = Arc::new(render);
        let s = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pfd-metrics".into())
            .spawn(move || accept_loop(listener, render, &s))?;
        Ok(MetricsServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Where it listens (the port chosen, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting and wait for the accept thread (connections
    /// being served finish on their own, within their timeouts).
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // accept(2) returns on a connection: make one.
        let wake = match self.addr.ip() {
            IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            a => a,
        };
        let _ = TcpStream::connect_timeout(&SocketAddr::new(wake, self.addr.port()), IO_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_thread();
        }
    }
}

fn accept_loop(listener: TcpListener, render: Arc<Render>, stop: &AtomicBool) {
    let busy = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else {
            // out of descriptors, a reset before accept: try again soon
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
        let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
        if busy.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            busy.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(
                &mut conn,
                &Answer::status(503, "Service Unavailable"),
                false,
            );
            continue;
        }
        let (r, b) = (Arc::clone(&render), Arc::clone(&busy));
        let spawned = std::thread::Builder::new()
            .name("pfd-metrics-conn".into())
            .spawn(move || {
                serve(conn, &*r);
                b.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            busy.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One connection: read the head, answer, close.
fn serve(mut conn: TcpStream, render: &Render) {
    let (answer, head) = match read_head(&mut conn) {
        Ok(head) => (route(&head, render), true),
        Err(HeadError::TooLarge) => (Answer::status(431, "Request Header Fields Too Large"), true),
        Err(HeadError::Timeout) => (Answer::status(408, "Request Timeout"), true),
        // closed early or broken: nobody to answer
        Err(HeadError::Closed) => return,
    };
    let _ = respond(&mut conn, &answer, head);
    let _ = conn.shutdown(Shutdown::Write);
    // Let the client read the answer before the close resets it (what
    // it sent past the head, unread, would make the kernel send RST).
    let mut sink = [0u8; 1024];
    let until = Instant::now() + Duration::from_millis(200);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
    while Instant::now() < until {
        match conn.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    TooLarge,
    Timeout,
    Closed,
}

/// The bytes up to the blank line that ends the head.
fn read_head(conn: &mut impl Read) -> Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        if let Some(end) = head_end(&buf) {
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        if Instant::now() >= deadline {
            return Err(HeadError::Timeout);
        }
        match conn.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Err(HeadError::Closed),
            // half a head and the client is done sending: answer what
            // it sent (a bare request line is garbage, as any)
            Ok(0) => return Ok(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(if buf.is_empty() {
                    HeadError::Closed
                } else {
                    HeadError::Timeout
                })
            }
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

/// Where the head ends: `\r\n\r\n` (or bare `\n\n`, which RFC 9112
/// lets a server accept).
fn head_end(b: &[u8]) -> Option<usize> {
    let crlf = b.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = b.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// An answer: status, extra headers and body.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    code: u16,
    reason: &'static str,
    content_type: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

impl Answer {
    fn status(code: u16, reason: &'static str) -> Answer {
        Answer {
            code,
            reason,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: format!("{code} {reason}\n"),
        }
    }
}

/// The answer to a request head.
fn route(head: &[u8], render: &Render) -> Answer {
    let Ok(head) = std::str::from_utf8(head) else {
        return Answer::status(400, "Bad Request");
    };
    let line = head.split('\n').next().unwrap_or("").trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Answer::status(400, "Bad Request");
    };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic());
    if !token(method)
        || !(target.starts_with('/') || target == "*")
        || !matches!(version, "HTTP/1.0" | "HTTP/1.1")
    {
        return Answer::status(400, "Bad Request");
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    match method {
        "GET" | "HEAD" if path == "/metrics" => Answer {
            code: 200,
            reason: "OK",
            content_type: CONTENT_TYPE,
            headers: Vec::new(),
            body: render(),
        },
        "GET" | "HEAD" => Answer::status(404, "Not Found"),
        _ => Answer {
            headers: vec![("Allow", "GET, HEAD")],
            ..Answer::status(405, "Method Not Allowed")
        },
    }
}

/// Write the answer; `HEAD` gets the headers only. A body is sent
/// whole, with its length: no keep-alive, the connection closes.
fn respond(conn: &mut impl Write, a: &Answer, with_body: bool) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        a.code,
        a.reason,
        a.content_type,
        a.body.len()
    );
    for (k, v) in &a.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    conn.write_all(out.as_bytes())?;
    if with_body {
        conn.write_all(a.body.as_bytes())?;
    }
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> String {
        "pfd_states 1\n".to_string()
    }

    fn answer(req: &[u8]) -> Answer {
        let mut r = req;
        match read_head(&mut r) {
            Ok(h) => route(&h, &page),
            Err(HeadError::TooLarge) => Answer::status(431, "x"),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn metrics_path_others_and_garbage() {
        let a = answer(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((a.code, a.body.as_str()), (200, "pfd_states 1\n"));
        assert_eq!(a.content_type, CONTENT_TYPE);
        assert_eq!(answer(b"GET /metrics?x=1 HTTP/1.0\n\n").code, 200);
        assert_eq!(answer(b"HEAD /metrics HTTP/1.1\r\n\r\n").code, 200);
        assert_eq!(answer(b"GET / HTTP/1.1\r\n\r\n").code, 404);
        assert_eq!(answer(b"GET /metricsx HTTP/1.1\r\n\r\n").code, 404);
        let post = answer(b"POST /metrics HTTP/1.1\r\n\r\n");
        assert_eq!(post.code, 405);
        assert_eq!(post.headers, vec![("Allow", "GET, HEAD")]);
        for junk in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
            b"GET /metrics\r\n\r\n",
            b"GET /metrics HTTP/2.0\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"G\x00T /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
            b"hello",
        ] {
            assert_eq!(
                answer(junk).code,
                400,
                "{:?}",
                String::from_utf8_lossy(junk)
            );
        }
    }

    #[test]
    fn a_head_past_the_bound_is_refused() {
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD * 3, b'a');
        let mut r = &big[..];
        assert_eq!(read_head(&mut r), Err(HeadError::TooLarge));
        // a head just under the bound is read
        let mut ok = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        ok.resize(MAX_HEAD - 4, b'a');
        ok.extend_from_slice(b"\r\n\r\n");
        let mut r = &ok[..];
        assert_eq!(read_head(&mut r).map(|h| h.len()), Ok(MAX_HEAD - 4));
    }

    #[test]
    fn responses_carry_length_and_close() {
        let mut out = Vec::new();
        respond(&mut out, &answer(b"GET /metrics HTTP/1.1\r\n\r\n"), true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: 13\r\nConnection: close\r\n\r\npfd_states 1\n"
        );
        let mut out = Vec::new();
        respond(&mut out, &answer(b"HEAD /metrics HTTP/1.1\r\n\r\n"), false).unwrap();
        assert!(String::from_utf8(out).unwrap().ends_with("\r\n\r\n"));
    }

    /// The server itself on loopback: garbage, then a scrape, then a
    /// stop that returns.
    #[test]
    fn serves_on_loopback_and_stops() {
        let s = MetricsServer::start("127.0.0.1:0".parse().unwrap(), page).unwrap();
        let get = |req: &[u8]| {
            let mut c = TcpStream::connect(s.local_addr()).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c.write_all(req).unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).unwrap();
            out
        };
        assert!(get(b"\x00\x01garbage\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
        let ok = get(b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\npfd_states 1\n"), "{ok}");
        // a client that sends nothing and closes gets nothing
        drop(TcpStream::connect(s.local_addr()).unwrap());
        assert!(get(b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
        let addr = s.local_addr();
        s.shutdown();
        assert!(TcpStream::connect(addr).is_err(), "no longer listening");
    }
}
