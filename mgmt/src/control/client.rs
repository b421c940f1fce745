//! The CLI's end of the control socket.

use super::codec::{decode_response, encode_request};
use super::proto::{Request, Response};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest response accepted: `pfctl -vvss` of a million states is a few
/// hundred megabytes; past this the daemon is taken to be broken.
const MAX_RESPONSE: usize = 1 << 30;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No daemon there, or not allowed to reach it.
    #[error("{}: {} (is pfd running? --control PATH or PFD_CONTROL say where)", path.display(), ruleset::io_error_text(source))]
    Connect { path: PathBuf, source: io::Error },
    #[error("control socket: {}", ruleset::io_error_text(.0))]
    Io(#[from] io::Error),
    #[error("control socket: no response from pfd within {0:?}")]
    Timeout(Duration),
    #[error("control socket: pfd closed the connection without a response")]
    Closed,
    /// The daemon's line is not a response this CLI understands.
    #[error("control socket: {0}")]
    Protocol(String),
}

/// One connection to the daemon; any number of calls in sequence.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    timeout: Duration,
    /// Bytes read past the last response's newline.
    buf: Vec<u8>,
}

impl Client {
    /// Connects with a 60 s limit on each read and write (a large ruleset
    /// load takes a while).
    pub fn connect(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        Client::connect_with_timeout(path, Duration::from_secs(60))
    }

    pub fn connect_with_timeout(
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Client {
            stream,
            timeout,
            buf: Vec::new(),
        })
    }

    /// Sends one request and waits for its response.
    pub fn call(&mut self, req: &Request) -> Result<Response, ClientError> {
        let line = encode_request(req);
        if let Err(e) = self.stream.write_all(&line) {
            // The daemon may have refused the request and hung up before
            // reading all of it (too long, too many connections): its
            // answer is then waiting to be read and says why.
            return match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    self.read_response().map_err(|_| ClientError::Io(e))
                }
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    Err(ClientError::Timeout(self.timeout))
                }
                _ => Err(ClientError::Io(e)),
            };
        }
        self.read_response()
    }

    fn read_response(&mut self) -> Result<Response, ClientError> {
        let mut searched = 0;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(i) = self
                .buf
                .get(searched..)
                .and_then(|b| b.iter().position(|&c| c == b'\n'))
            {
                let end = searched + i;
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                let line = line.get(..end).unwrap_or(&[]);
                return decode_response(line).map_err(ClientError::Protocol);
            }
            searched = self.buf.len();
            if self.buf.len() > MAX_RESPONSE {
                return Err(ClientError::Protocol(format!(
                    "response longer than {MAX_RESPONSE} bytes"
                )));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(n) => self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ClientError::Timeout(self.timeout))
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset && self.buf.is_empty() => {
                    return Err(ClientError::Closed)
                }
                Err(e) => return Err(ClientError::Io(e)),
            }
        }
    }
}
