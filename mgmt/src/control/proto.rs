//! The control protocol's messages, as the engine sees them; their JSON
//! lines are `codec`'s.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// The protocol version this build speaks; a line with another is refused.
pub const VERSION: u32 = 1;

/// What a CLI asks the daemon to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Request {
    /// pfctl -e
    Enable,
    /// pfctl -d
    Disable,
    /// pfctl -f FILE [-a ANCHOR] [-D MACRO=VALUE]... [-o LEVEL]
    LoadRules {
        source: RuleSource,
        #[serde(default)]
        anchor: Option<String>,
        /// `-D` definitions, in order; they override the file's own.
        #[serde(default)]
        defines: Vec<Define>,
        /// `-o`, overriding the file's `set optimization`.
        #[serde(default)]
        optimizer: Option<OptimizerLevel>,
    },
    /// `pfctl -s WHAT [-v[v]] [-a ANCHOR] [-R ID] [-i IF]`
    Show {
        what: ShowWhat,
        #[serde(default)]
        verbose: u8,
        #[serde(default)]
        anchor: Option<String>,
        /// `-R`: only this rule (rules, labels) or its states.
        #[serde(default)]
        rule: Option<u32>,
        /// `-i`: only this interface or group (interfaces).
        #[serde(default)]
        interface: Option<String>,
    },
    /// `pfctl -t NAME -T OP [-v[v]] [-a ANCHOR]`
    Table {
        name: String,
        #[serde(default)]
        anchor: Option<String>,
        op: TableOp,
        /// With `-v`, the result per address (pfctl's A/C/D/M/X/Y/Z lines).
        #[serde(default)]
        verbose: u8,
    },
    /// pfctl -z: clear the per-rule statistics.
    ZeroCounters,
    /// pfctl -k ... [-i IF]
    KillStates { filters: StateFilter },
    /// pfctl -K SRC [-K DST]
    KillSrcNodes { filters: SrcNodeFilter },
    /// pfctl -F WHAT [-a ANCHOR]
    Flush {
        what: FlushWhat,
        #[serde(default)]
        anchor: Option<String>,
    },
    /// pfctl -x LEVEL
    SetDebug { level: DebugLevel },
    /// ifctl: interface status, carp parameters, group demotion, carp
    /// statistics (see `control::ifctl`).
    Ifctl { op: super::ifctl::IfctlOp },
}

/// Every `kind` a request line may carry, so an unknown one is named as
/// such rather than reported as a field mismatch.
pub const REQUEST_KINDS: &[&str] = &[
    "enable",
    "disable",
    "load_rules",
    "show",
    "table",
    "zero_counters",
    "kill_states",
    "kill_src_nodes",
    "flush",
    "set_debug",
    "ifctl",
];

/// One `-D NAME=VALUE` (pfctl splits at the first `=`, on its side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Define {
    pub name: String,
    pub value: String,
}

impl Request {
    /// The request's `kind` on the wire (for logs). The match is
    /// exhaustive, so a new kind cannot be added without naming it here,
    /// next to [`REQUEST_KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Enable => "enable",
            Request::Disable => "disable",
            Request::LoadRules { .. } => "load_rules",
            Request::Show { .. } => "show",
            Request::Table { .. } => "table",
            Request::ZeroCounters => "zero_counters",
            Request::KillStates { .. } => "kill_states",
            Request::KillSrcNodes { .. } => "kill_src_nodes",
            Request::Flush { .. } => "flush",
            Request::SetDebug { .. } => "set_debug",
            Request::Ifctl { .. } => "ifctl",
        }
    }
}

/// Where the rules of a load come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum RuleSource {
    /// The CLI read the file (or stdin) itself; `name` is what the
    /// diagnostics call it, as pfctl says `stdin` for `-f -`.
    Text { name: String, text: String },
    /// The daemon reads the file; diagnostics name this path.
    Path { path: PathBuf },
}

/// pfctl -s modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShowWhat {
    Rules,
    Anchors,
    States,
    Sources,
    Info,
    Labels,
    Tables,
    Timeouts,
    Memory,
    Interfaces,
    Osfp,
    Queue,
    All,
}

/// pfctl -o levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OptimizerLevel {
    None,
    Basic,
    Profile,
}

/// pfctl -T commands. Addresses are pfctl's table entries as written
/// (`10.0.0.0/8`, `!192.0.2.1`); the daemon parses them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum TableOp {
    Add {
        addrs: Vec<String>,
    },
    Delete {
        addrs: Vec<String>,
    },
    Replace {
        addrs: Vec<String>,
    },
    Show,
    Flush,
    Test {
        addrs: Vec<String>,
    },
    /// Clear the table's statistics, or only those of `addrs`.
    Zero {
        #[serde(default)]
        addrs: Vec<String>,
    },
    /// Remove the table itself.
    Kill,
    /// Remove entries whose statistics were last cleared more than
    /// `secs` seconds ago.
    Expire {
        secs: u64,
    },
}

/// Which states pfctl -k kills, optionally only on one interface (-i).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFilter {
    #[serde(default)]
    pub interface: Option<String>,
    pub by: KillBy,
}

/// pfctl -k's forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum KillBy {
    /// `-k SRC [-k DST]`: host or network, as written.
    Hosts {
        src: String,
        #[serde(default)]
        dst: Option<String>,
    },
    /// `-k label -k NAME`
    Label { label: String },
    /// `-k id -k ID[/CREATOR]`
    Id {
        id: u64,
        #[serde(default)]
        creator: Option<u32>,
    },
    /// `-k key -k KEY`: a state key as pfctl -ss prints it.
    Key { key: String },
    /// `-k gateway -k ADDR`: states whose route-to target is ADDR.
    Gateway { addr: String },
}

/// pfctl -K SRC [-K DST].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrcNodeFilter {
    pub src: String,
    #[serde(default)]
    pub dst: Option<String>,
}

/// pfctl -F modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FlushWhat {
    Rules,
    States,
    Sources,
    Info,
    Tables,
    Osfp,
    Reset,
    All,
}

/// pfctl -x levels (syslog's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DebugLevel {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

/// The daemon's answer to one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Response {
    /// Done. `text` is what the CLI prints (pfctl's own output format);
    /// `json` is the same data for programs.
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<Value>,
    },
    /// Not done. For a rule load that fails, `message` is pfctl's
    /// diagnostics verbatim: every `FILE:LINE: message`, one per line.
    Error { kind: ErrorKind, message: String },
}

impl Response {
    /// A bare success.
    pub fn ok() -> Response {
        Response::Ok {
            text: None,
            json: None,
        }
    }

    /// Success with text for the CLI to print.
    pub fn text(text: impl Into<String>) -> Response {
        Response::Ok {
            text: Some(text.into()),
            json: None,
        }
    }

    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
        Response::Error {
            kind,
            message: message.into(),
        }
    }
}

/// Who is at fault when a request is not done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request itself is wrong: not JSON, unknown kind, bad fields,
    /// too long, other version. Resending it will not help.
    BadRequest,
    /// Well formed, but this daemon does not do it (yet).
    NotSupported,
    /// Tried and failed (a ruleset with errors, an unknown table...).
    Failed,
}
