//! The control protocol on the wire: one JSON object per line each way.
//!
//! A request line is `{"version":1,"request":{"kind":"show",...}}`, a
//! response line `{"version":1,"response":{"status":"ok",...}}`. Requests
//! are decoded in steps (JSON, envelope, version, kind, fields) so that
//! each way of being wrong gets its own clear message instead of serde's
//! generic "data did not match any variant".

use super::proto::{ErrorKind, Request, Response, REQUEST_KINDS, VERSION};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize)]
struct RequestLineOut<'a> {
    version: u32,
    request: &'a Request,
}

#[derive(Serialize)]
struct ResponseLineOut<'a> {
    version: u32,
    response: &'a Response,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseLineIn {
    version: u32,
    response: Response,
}

/// One request as a line, newline included.
pub fn encode_request(req: &Request) -> Vec<u8> {
    encode_line(&RequestLineOut {
        version: VERSION,
        request: req,
    })
}

/// One response as a line, newline included.
pub fn encode_response(resp: &Response) -> Vec<u8> {
    encode_line(&ResponseLineOut {
        version: VERSION,
        response: resp,
    })
}

fn encode_line<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these types cannot fail: every map key is a string and
    // serde_json escapes newlines inside strings, so the line stays one line.
    let mut out = serde_json::to_vec(v).unwrap_or_else(|_| {
        br#"{"version":1,"response":{"status":"error","kind":"failed","message":"unencodable"}}"#
            .to_vec()
    });
    out.push(b'\n');
    out
}

/// Decodes one request line (without its newline). The error is the
/// response to send back.
pub fn decode_request(line: &[u8]) -> Result<Request, Response> {
    let bad = |m: String| Response::error(ErrorKind::BadRequest, m);
    let v: Value = serde_json::from_slice(line).map_err(|e| bad(format!("malformed JSON: {e}")))?;
    let Value::Object(mut obj) = v else {
        return Err(bad("a request must be a JSON object".into()));
    };
    let version = obj
        .remove("version")
        .ok_or_else(|| bad("missing \"version\"".into()))?;
    match version.as_u64() {
        Some(n) if n == u64::from(VERSION) => {}
        Some(n) => {
            return Err(Response::error(
                ErrorKind::NotSupported,
                format!("protocol version {n} not supported (this pfd speaks {VERSION})"),
            ))
        }
        None => return Err(bad(format!("\"version\" must be a number, not {version}"))),
    }
    let req = obj
        .remove("request")
        .ok_or_else(|| bad("missing \"request\"".into()))?;
    if let Some(k) = obj.keys().next() {
        return Err(bad(format!("unknown field \"{k}\" beside \"request\"")));
    }
    let kind = match req.get("kind") {
        Some(Value::String(k)) => k.clone(),
        Some(other) => return Err(bad(format!("\"kind\" must be a string, not {other}"))),
        None => return Err(bad("the request has no \"kind\"".into())),
    };
    if !REQUEST_KINDS.contains(&kind.as_str()) {
        return Err(bad(format!("unknown request kind \"{kind}\"")));
    }
    let parsed: Request = serde_json::from_value(req.clone())
        .map_err(|e| bad(format!("bad \"{kind}\" request: {e}")))?;
    // serde ignores extra fields beside a unit variant's tag (`enable`);
    // comparing with the request's own encoding catches them everywhere.
    let canonical = serde_json::to_value(&parsed).unwrap_or(Value::Null);
    if let Some(field) = first_unknown(&req, &canonical, String::new()) {
        return Err(bad(format!(
            "bad \"{kind}\" request: unknown field \"{field}\""
        )));
    }
    Ok(parsed)
}

/// The first key of `input` (dotted path) that `canonical` lacks.
fn first_unknown(input: &Value, canonical: &Value, at: String) -> Option<String> {
    match (input, canonical) {
        (Value::Object(i), Value::Object(c)) => i.iter().find_map(|(k, v)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            match c.get(k) {
                None => Some(here),
                Some(cv) => first_unknown(v, cv, here),
            }
        }),
        (Value::Array(i), Value::Array(c)) => i
            .iter()
            .zip(c)
            .enumerate()
            .find_map(|(n, (v, cv))| first_unknown(v, cv, format!("{at}[{n}]"))),
        _ => None,
    }
}

/// Decodes one response line (without its newline).
pub fn decode_response(line: &[u8]) -> Result<Response, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("malformed JSON: {e}"))?;
    match v.get("version").and_then(Value::as_u64) {
        Some(n) if n == u64::from(VERSION) => {}
        Some(n) => {
            return Err(format!(
                "pfd speaks protocol version {n}, this CLI {VERSION}"
            ))
        }
        None => return Err("the response has no \"version\"".into()),
    }
    let r: ResponseLineIn = serde_json::from_value(v).map_err(|e| format!("bad response: {e}"))?;
    debug_assert_eq!(r.version, VERSION);
    Ok(r.response)
}

#[cfg(test)]
mod tests {
    use super::super::proto::*;
    use super::*;

    fn kind_of(req: &Request) -> String {
        let v: Value = serde_json::from_slice(&encode_request(req)).unwrap();
        v["request"]["kind"].as_str().unwrap().to_string()
    }

    #[test]
    fn every_kind_is_listed() {
        let all = [
            Request::Enable,
            Request::Disable,
            Request::LoadRules {
                source: RuleSource::Path {
                    path: "/etc/pf.conf".into(),
                },
                anchor: None,
                defines: vec![],
                optimizer: None,
            },
            Request::Show {
                what: ShowWhat::All,
                verbose: 0,
                anchor: None,
                rule: None,
                interface: None,
            },
            Request::Table {
                name: "t".into(),
                anchor: None,
                op: TableOp::Show,
                verbose: 0,
            },
            Request::ZeroCounters,
            Request::KillStates {
                filters: StateFilter {
                    interface: None,
                    by: KillBy::Label { label: "l".into() },
                },
            },
            Request::KillSrcNodes {
                filters: SrcNodeFilter {
                    src: "10.0.0.1".into(),
                    dst: None,
                },
            },
            Request::Flush {
                what: FlushWhat::All,
                anchor: None,
            },
            Request::SetDebug {
                level: DebugLevel::Debug,
            },
            Request::Ifctl {
                op: crate::control::IfctlOp::CarpStats { hide_zero: false },
            },
        ];
        let kinds: Vec<String> = all.iter().map(kind_of).collect();
        assert_eq!(kinds, REQUEST_KINDS);
        let named: Vec<&str> = all.iter().map(Request::kind).collect();
        assert_eq!(named, REQUEST_KINDS);
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let r = decode_request(br#"{"version":1,"request":{"kind":"show","what":"rules"}}"#);
        assert_eq!(
            r,
            Ok(Request::Show {
                what: ShowWhat::Rules,
                verbose: 0,
                anchor: None,
                rule: None,
                interface: None,
            })
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r = decode_request(br#"{"version":1,"request":{"kind":"enable","force":true}}"#);
        assert!(
            matches!(
                r,
                Err(Response::Error {
                    kind: ErrorKind::BadRequest,
                    ..
                })
            ),
            "{r:?}"
        );
        let r = decode_request(
            br#"{"version":1,"request":{"kind":"table","name":"t","op":{"op":"show","x":1}}}"#,
        );
        assert!(
            matches!(
                r,
                Err(Response::Error {
                    kind: ErrorKind::BadRequest,
                    ..
                })
            ),
            "{r:?}"
        );
        let r = decode_request(
            br#"{"version":1,"request":{"kind":"kill_states","filters":{"by":{"by":"label","label":"x","n":1}}}}"#,
        );
        assert!(
            matches!(
                r,
                Err(Response::Error {
                    kind: ErrorKind::BadRequest,
                    ..
                })
            ),
            "{r:?}"
        );
        let r = decode_request(br#"{"version":1,"id":3,"request":{"kind":"enable"}}"#);
        assert!(
            matches!(
                r,
                Err(Response::Error {
                    kind: ErrorKind::BadRequest,
                    ..
                })
            ),
            "{r:?}"
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let msg = |line: &[u8]| match decode_request(line) {
            Err(Response::Error { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(msg(b"{").starts_with("malformed JSON"));
        assert!(msg(b"[1]").contains("JSON object"));
        assert!(msg(br#"{"request":{"kind":"enable"}}"#).contains("missing \"version\""));
        assert!(msg(br#"{"version":"1","request":{"kind":"enable"}}"#).contains("must be a number"));
        assert!(msg(br#"{"version":2,"request":{"kind":"enable"}}"#).contains("version 2"));
        assert!(msg(br#"{"version":1}"#).contains("missing \"request\""));
        assert!(msg(br#"{"version":1,"request":{}}"#).contains("no \"kind\""));
        assert!(msg(br#"{"version":1,"request":{"kind":7}}"#).contains("must be a string"));
        assert!(msg(br#"{"version":1,"request":{"kind":"reboot"}}"#)
            .contains("unknown request kind \"reboot\""));
        assert!(msg(br#"{"version":1,"request":{"kind":"show"}}"#).contains("missing field `what`"));
        assert!(
            msg(br#"{"version":1,"request":{"kind":"show","what":"bogus"}}"#).contains("bogus")
        );
        assert!(msg(b"\xff\xfe").starts_with("malformed JSON"));
    }

    #[test]
    fn response_round_trip_keeps_newlines_inside_one_line() {
        let resp = Response::error(
            ErrorKind::Failed,
            "pf.conf:3: syntax error\npf.conf:9: unknown port http2",
        );
        let line = encode_response(&resp);
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(decode_response(&line[..line.len() - 1]), Ok(resp));
        let ok = Response::Ok {
            text: Some("x".into()),
            json: Some(serde_json::json!({"a": [1, 2]})),
        };
        let line = encode_response(&ok);
        assert_eq!(decode_response(&line[..line.len() - 1]), Ok(ok));
    }

    #[test]
    fn response_of_another_version_is_refused() {
        let e = decode_response(br#"{"version":9,"response":{"status":"ok"}}"#).unwrap_err();
        assert!(e.contains("version 9"), "{e}");
    }
}
