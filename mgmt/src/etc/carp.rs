//! ifconfig's carp options on a `hostname.carpN` line, e.g. the OpenBSD
//! FAQ's `inet 172.16.0.100 255.255.255.0 172.16.0.255 vhid 1 carpdev
//! em0 pass lanpasswd`. Parsed and checked only: the CARP protocol is not
//! running yet, so nothing here is acted on.

use super::addr::parse_num;
use super::config::CarpState;
use std::net::Ipv4Addr;

/// A carp keyword seen in a hostname.if line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CarpWord {
    Vhid,
    Advbase,
    Advskew,
    Carpdev,
    Pass,
    Carppeer,
    State,
    /// Options of OpenBSD's carp that pfd refuses, by name.
    Unsupported(&'static str),
}

impl CarpWord {
    pub fn from_word(w: &str) -> Option<CarpWord> {
        Some(match w {
            "vhid" => CarpWord::Vhid,
            "advbase" => CarpWord::Advbase,
            "advskew" => CarpWord::Advskew,
            "carpdev" => CarpWord::Carpdev,
            "pass" => CarpWord::Pass,
            "carppeer" => CarpWord::Carppeer,
            "state" => CarpWord::State,
            "-carppeer" => CarpWord::Unsupported("-carppeer"),
            "balancing" => CarpWord::Unsupported("balancing"),
            "carpnodes" => CarpWord::Unsupported("carpnodes"),
            "-carpdev" => CarpWord::Unsupported("-carpdev"),
            _ => return None,
        })
    }

    pub fn takes_arg(self) -> bool {
        !matches!(self, CarpWord::Unsupported(_))
    }

    pub fn arg_name(self) -> &'static str {
        match self {
            CarpWord::Vhid | CarpWord::Advbase | CarpWord::Advskew => "a number",
            CarpWord::Carpdev => "an interface",
            CarpWord::Pass => "a passphrase",
            CarpWord::Carppeer => "an address",
            CarpWord::State => "master, backup or init",
            CarpWord::Unsupported(_) => "nothing",
        }
    }
}

/// The carp options of one file, each with the line that set it last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CarpDraft {
    pub vhid: Option<(u8, usize)>,
    pub advbase: Option<u8>,
    pub advskew: Option<u8>,
    pub carpdev: Option<(String, usize)>,
    pub pass: Option<String>,
    pub carppeer: Option<(Ipv4Addr, usize)>,
    pub state: Option<CarpState>,
}

/// OpenBSD copies the passphrase with strlcpy into a 20-byte key, so it
/// keeps 19 bytes and silently drops the rest; a longer one here would
/// not match an OpenBSD peer's idea of it, so it is refused.
pub const MAX_PASS: usize = 19;

impl CarpDraft {
    pub fn apply(&mut self, w: CarpWord, v: Option<&str>, line: usize) -> Result<(), String> {
        let v = v.unwrap_or("");
        match w {
            CarpWord::Vhid => {
                let n = parse_num(v, 1, 255).ok_or(format!("invalid vhid \"{v}\" (1..255)"))?;
                self.vhid = Some((n as u8, line));
            }
            CarpWord::Advbase => {
                let n = parse_num(v, 0, 255)
                    .ok_or(format!("invalid advbase \"{v}\" (0..255 seconds)"))?;
                self.advbase = Some(n as u8);
            }
            CarpWord::Advskew => {
                let n = parse_num(v, 0, 254).ok_or(format!("invalid advskew \"{v}\" (0..254)"))?;
                self.advskew = Some(n as u8);
            }
            CarpWord::Carpdev => self.carpdev = Some((v.to_string(), line)),
            CarpWord::Pass => {
                if v.len() > MAX_PASS {
                    return Err(format!(
                        "carp passphrase is {} bytes: OpenBSD keeps only the first {MAX_PASS}, so a peer would disagree",
                        v.len()
                    ));
                }
                self.pass = Some(v.to_string());
            }
            CarpWord::Carppeer => {
                // As ifconfig: the peer is an IPv4 address.
                let a: Ipv4Addr = v.parse().map_err(|_| {
                    format!("invalid carppeer \"{v}\": only IPv4 addresses are supported for the carppeer")
                })?;
                if a.is_multicast() || a.is_unspecified() || a.is_broadcast() {
                    return Err(format!("carppeer {a} must be a unicast address"));
                }
                self.carppeer = Some((a, line));
            }
            CarpWord::State => {
                self.state = Some(match v.to_ascii_lowercase().as_str() {
                    "init" => CarpState::Init,
                    "backup" => CarpState::Backup,
                    "master" => CarpState::Master,
                    _ => {
                        return Err(format!(
                            "invalid carp state \"{v}\" (master, backup or init)"
                        ))
                    }
                });
            }
            CarpWord::Unsupported(name) => {
                return Err(format!("carp option {name} is not supported"));
            }
        }
        Ok(())
    }
}
