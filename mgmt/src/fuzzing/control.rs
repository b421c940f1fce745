//! The control protocol: a client's bytes through one connection's
//! `Session` (line framing, the over-long line, blank lines) and the
//! request decoder behind it, read in pieces as a socket would deliver
//! them.
//!
//! The first byte sets the read size (1..=64 bytes), the rest is the
//! byte stream. Every request that decodes must encode to a line that
//! decodes to the same request, and every line the session writes back
//! must decode as a response equal to the one given (a client can read
//! whatever the daemon answers).

use crate::control::{
    decode_request, decode_response, encode_request, encode_response, Flow, Request, Response,
    Session,
};

/// A small line limit, so that the over-long case is reachable.
const MAX_LINE: usize = 2048;

pub fn control(data: &[u8]) {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 64) + 1;
    let mut session = Session::new(MAX_LINE);
    let mut given: Vec<Response> = Vec::new();
    let mut out = Vec::new();
    for chunk in stream.chunks(piece) {
        let mut handle = |req: Request| {
            let line = encode_request(&req);
            let body = line
                .strip_suffix(b"\n")
                .expect("a request line ends in a newline");
            assert!(!body.contains(&b'\n'), "a request line holds a newline");
            let again = decode_request(body).unwrap_or_else(|e| {
                panic!("{req:?} encodes to a line that does not decode: {e:?}")
            });
            assert_eq!(again, req, "a request changed on its way through the codec");
            let resp = Response::Ok {
                text: Some(format!("{req:?}")),
                json: serde_json::to_value(&req).ok(),
            };
            given.push(resp.clone());
            resp
        };
        let flow = session.receive(chunk, &mut handle, &mut out);
        if flow == Flow::Close {
            break;
        }
    }
    let mut answers = out.split(|&b| b == b'\n');
    let lines: Vec<&[u8]> = answers.by_ref().collect();
    assert_eq!(
        lines.last(),
        Some(&&b""[..]),
        "the last response line is not ended"
    );
    let mut given = given.into_iter();
    for line in &lines[..lines.len() - 1] {
        let resp = decode_response(line)
            .unwrap_or_else(|e| panic!("the session wrote a line no client reads: {e}"));
        match resp {
            // Decoder errors are the session's own answers.
            Response::Error { .. } => {}
            ok => assert_eq!(Some(ok), given.next(), "a response changed on the wire"),
        }
    }
    assert!(given.next().is_none(), "a response was not written");
    // The daemon encodes any response it builds as one line.
    let _ = encode_response(&Response::ok());
}
