//! One control connection without the I/O: bytes in, response bytes out.
//!
//! The server's thread reads from the socket into `Session::receive` and
//! writes back what it returns; everything a client can get wrong is
//! decided here, where a unit test can feed it any bytes.

use super::codec::{decode_request, encode_response};
use super::proto::{ErrorKind, Request, Response};

/// Whether the connection goes on after a `receive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop reading; write what was returned, then close. The byte stream
    /// cannot be resynchronised (an over-long line).
    Close,
}

/// The per-connection state: the bytes of a line not yet complete.
#[derive(Debug)]
pub struct Session {
    buf: Vec<u8>,
    max_line: usize,
    closed: bool,
}

impl Session {
    /// `max_line` bounds one request line (without its newline), and so
    /// the memory a connection can hold.
    pub fn new(max_line: usize) -> Session {
        Session {
            buf: Vec::new(),
            max_line,
            closed: false,
        }
    }

    /// Bytes of a request not yet complete (a client that stops
    /// mid-line leaves some).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Feeds bytes read from the client. Each complete line is decoded
    /// and given to `handle`; the encoded responses, in order, are
    /// appended to `out`. Blank lines are skipped (`nc` users type them).
    pub fn receive(
        &mut self,
        data: &[u8],
        handle: &mut dyn FnMut(Request) -> Response,
        out: &mut Vec<u8>,
    ) -> Flow {
        if self.closed {
            return Flow::Close;
        }
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = tail.get(1..).unwrap_or(&[]);
            if self.buf.len().saturating_add(head.len()) > self.max_line {
                return self.too_long(out);
            }
            self.buf.extend_from_slice(head);
            let line = std::mem::take(&mut self.buf);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let resp = match decode_request(line) {
                Ok(req) => handle(req),
                Err(resp) => resp,
            };
            out.extend_from_slice(&encode_response(&resp));
        }
        if self.buf.len().saturating_add(rest.len()) > self.max_line {
            return self.too_long(out);
        }
        self.buf.extend_from_slice(rest);
        Flow::Continue
    }

    fn too_long(&mut self, out: &mut Vec<u8>) -> Flow {
        self.closed = true;
        self.buf = Vec::new();
        let resp = Response::error(
            ErrorKind::BadRequest,
            format!(
                "request longer than {} bytes; closing the connection",
                self.max_line
            ),
        );
        out.extend_from_slice(&encode_response(&resp));
        Flow::Close
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::{decode_response, encode_request};
    use super::*;

    fn run(s: &mut Session, data: &[u8]) -> (Flow, Vec<Response>, usize) {
        let mut calls = 0;
        let mut out = Vec::new();
        let flow = s.receive(
            data,
            &mut |_req| {
                calls += 1;
                Response::ok()
            },
            &mut out,
        );
        let resps = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| decode_response(l).unwrap())
            .collect();
        (flow, resps, calls)
    }

    #[test]
    fn a_request_split_across_reads_is_joined() {
        let line = encode_request(&Request::Enable);
        let mut s = Session::new(1024);
        let (a, b) = line.split_at(5);
        assert_eq!(run(&mut s, a), (Flow::Continue, vec![], 0));
        assert_eq!(s.pending(), 5);
        assert_eq!(run(&mut s, b), (Flow::Continue, vec![Response::ok()], 1));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn pipelined_requests_are_answered_in_order() {
        let mut data = encode_request(&Request::Enable);
        data.extend_from_slice(b"garbage\r\n\n  \n");
        data.extend(encode_request(&Request::Disable));
        let mut s = Session::new(1024);
        let (flow, resps, calls) = run(&mut s, &data);
        assert_eq!(flow, Flow::Continue);
        assert_eq!(calls, 2);
        assert_eq!(resps.len(), 3);
        assert!(matches!(
            resps[1],
            Response::Error {
                kind: ErrorKind::BadRequest,
                ..
            }
        ));
    }

    #[test]
    fn crlf_is_accepted() {
        let mut line = encode_request(&Request::Enable);
        line.pop();
        line.extend_from_slice(b"\r\n");
        let mut s = Session::new(1024);
        assert_eq!(run(&mut s, &line).1, vec![Response::ok()]);
    }

    #[test]
    fn an_over_long_line_closes_without_waiting_for_its_end() {
        let mut s = Session::new(16);
        let (flow, resps, calls) = run(&mut s, &[b'x'; 10]);
        assert_eq!((flow, resps.len(), calls), (Flow::Continue, 0, 0));
        let (flow, resps, calls) = run(&mut s, &[b'x'; 10]);
        assert_eq!((flow, calls), (Flow::Close, 0));
        assert!(matches!(
            &resps[..],
            [Response::Error {
                kind: ErrorKind::BadRequest,
                ..
            }]
        ));
        // Nothing more is read once closed.
        assert_eq!(run(&mut s, b"{}\n"), (Flow::Close, vec![], 0));
    }

    /// Untrusted bytes: mangled requests in random chunks. Nothing may
    /// panic, every answer must be a well-formed response line, and the
    /// held bytes stay under the limit.
    #[test]
    fn mangled_input_never_panics() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid = [
            encode_request(&Request::Show {
                what: super::super::proto::ShowWhat::States,
                verbose: 2,
                anchor: Some("a".into()),
                rule: Some(3),
                interface: None,
            }),
            encode_request(&Request::Table {
                name: "t".into(),
                anchor: None,
                op: super::super::proto::TableOp::Add {
                    addrs: vec!["10.0.0.0/8".into()],
                },
                verbose: 1,
            }),
        ];
        for round in 0..2000 {
            let mut data = valid[round % 2].clone();
            for _ in 0..(rand() % 4) {
                let i = (rand() as usize) % data.len();
                data[i] = rand() as u8;
            }
            if round % 7 == 0 {
                data = (0..(rand() % 300)).map(|_| rand() as u8).collect();
            }
            let mut s = Session::new(256);
            let mut out = Vec::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = 1 + (rand() as usize) % rest.len();
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                let flow = s.receive(chunk, &mut |_| Response::ok(), &mut out);
                assert!(s.pending() <= 256);
                if flow == Flow::Close {
                    break;
                }
            }
            assert!(out.is_empty() || out.ends_with(b"\n"));
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                decode_response(line).unwrap();
            }
        }
    }

    #[test]
    fn the_limit_is_inclusive() {
        let line = encode_request(&Request::Enable);
        let mut s = Session::new(line.len() - 1);
        assert_eq!(run(&mut s, &line).1, vec![Response::ok()]);
        let mut s = Session::new(line.len() - 2);
        assert_eq!(run(&mut s, &line).0, Flow::Close);
    }
}
