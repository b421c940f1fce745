//! `pfd run`'s log: tracing events on stderr, filtered by `--log` (a
//! level, or `RUST_LOG`-style directives such as `info,pfd::carp=debug`)
//! and written as text or as JSON lines (`--log-format`).
//!
//! The text form is made for journald as much as for a terminal: no
//! ANSI colours unless stderr is a terminal (and `NO_COLOR` is unset);
//! when stderr is the journal's stream (`JOURNAL_STREAM` names it) no
//! timestamp, as the journal stamps each line itself, and a `<N>`
//! syslog priority first, which the journal takes as the line's level.
//!
//! Targets: `pfd` (start and stop), `pfd::carp` (state transitions and
//! CARP's other notices), `pfd::pfsync` (bulk updates, the syncdev's
//! link), `pfd::control` (what the control socket changed, gated by
//! pf's debug level, `pfctl -x`).

use std::fmt;
use std::io::IsTerminal;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How each event is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `[TIME] LEVEL target: message`, one line per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`,
    /// `message` and the event's other fields.
    Json,
}

/// The text form's choices, from where stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextStyle {
    pub timestamps: bool,
    pub ansi: bool,
    /// `<N>` syslog priority prefixes (sd-daemon(3)).
    pub priorities: bool,
}

impl TextStyle {
    /// As stderr and the environment say.
    pub fn detect() -> TextStyle {
        let journal = stderr_is_journal();
        TextStyle {
            timestamps: !journal,
            ansi: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            priorities: journal,
        }
    }
}

/// Whether stderr is the stream systemd connected to the journal:
/// `JOURNAL_STREAM` is `DEV:INODE` of that stream, and it is inherited,
/// so it counts only when stderr is still that file (not redirected).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(v) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = v.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    match std::fs::metadata("/proc/self/fd/2") {
        Ok(m) => dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino()),
        // no /proc: trust the variable
        Err(_) => true,
    }
}

/// Parse a `--log` value: a level (`error`, `warn`, `info`, `debug`,
/// `trace`, `off`) or comma-separated `target=level` directives.
pub fn filter(spec: &str) -> Result<EnvFilter, String> {
    EnvFilter::builder()
        .parse(spec)
        .map_err(|e| format!("--log {spec}: {e}"))
}

/// Install the process's subscriber (once, before any thread starts).
pub fn init(spec: &str, format: LogFormat) -> Result<(), String> {
    let filter = filter(spec)?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let r = match format {
        LogFormat::Text => b.event_format(Text(TextStyle::detect())).try_init(),
        LogFormat::Json => b
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    r.map_err(|e| format!("log: {e}"))
}

/// The text form: `[TIME ]LEVEL target: message key=value...`.
#[derive(Clone, Copy, Debug)]
pub struct Text(pub TextStyle);

/// syslog's priority for a tracing level.
fn priority(l: Level) -> u8 {
    match l {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

fn colour(l: Level) -> &'static str {
    match l {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        _ => "\x1b[35m",
    }
}

impl<S, N> FormatEvent<S, N> for Text
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let level = *meta.level();
        if self.0.priorities {
            write!(w, "<{}>", priority(level))?;
        }
        if self.0.timestamps {
            SystemTime.format_time(&mut w)?;
            w.write_char(' ')?;
        }
        if self.0.ansi {
            write!(w, "{}{level:>5}\x1b[0m ", colour(level))?;
        } else {
            write!(w, "{level:>5} ")?;
        }
        write!(w, "{}: ", meta.target())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// A syslog priority (CARP's `net.inet.carp.log` lines, pf's debug
/// level) as a tracing level.
pub fn level_of_priority(p: u8) -> Level {
    match p {
        0..=3 => Level::ERROR,
        4 => Level::WARN,
        5 | 6 => Level::INFO,
        _ => Level::DEBUG,
    }
}

/// Emit `msg` at a level known only at run time (tracing's macros take
/// a constant one).
#[macro_export]
macro_rules! log_at {
    ($level:expr, target: $target:literal, $($arg:tt)+) => {
        match $level {
            ::tracing::Level::ERROR => ::tracing::error!(target: $target, $($arg)+),
            ::tracing::Level::WARN => ::tracing::warn!(target: $target, $($arg)+),
            ::tracing::Level::INFO => ::tracing::info!(target: $target, $($arg)+),
            ::tracing::Level::DEBUG => ::tracing::debug!(target: $target, $($arg)+),
            _ => ::tracing::trace!(target: $target, $($arg)+),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer, for one subscriber.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn text_with(style: TextStyle, spec: &str, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let sub = tracing_subscriber::fmt()
            .with_env_filter(filter(spec).unwrap())
            .with_writer(buf.clone())
            .event_format(Text(style))
            .finish();
        tracing::subscriber::with_default(sub, f);
        let out = buf.0.lock().unwrap().clone();
        String::from_utf8(out).unwrap()
    }

    const PLAIN: TextStyle = TextStyle {
        timestamps: false,
        ansi: false,
        priorities: false,
    };

    #[test]
    fn text_keeps_the_message_whole_after_level_and_target() {
        let out = text_with(PLAIN, "info", || {
            tracing::info!(target: "pfd::carp", "carp0: state transition: BACKUP -> MASTER");
            tracing::debug!(target: "pfd::carp", "not shown at info");
            log_at!(level_of_priority(3), target: "pfd::control", "refused: {}", "x");
        });
        assert_eq!(
            out,
            " INFO pfd::carp: carp0: state transition: BACKUP -> MASTER\n\
             ERROR pfd::control: refused: x\n"
        );
    }

    #[test]
    fn journal_gets_priorities_and_no_timestamp_a_file_gets_timestamps() {
        let journal = TextStyle {
            timestamps: false,
            ansi: false,
            priorities: true,
        };
        let out = text_with(journal, "debug", || {
            tracing::warn!(target: "pfd::pfsync", "pfsync0: syncdev em1 link down");
            tracing::debug!(target: "pfd", "d");
        });
        assert_eq!(
            out,
            "<4> WARN pfd::pfsync: pfsync0: syncdev em1 link down\n<7>DEBUG pfd: d\n"
        );
        let file = TextStyle {
            timestamps: true,
            ..PLAIN
        };
        let out = text_with(file, "info", || tracing::info!(target: "pfd", "running"));
        // RFC 3339, UTC: 2026-04-01T10:00:00.123456Z  INFO pfd: running
        let (ts, rest) = out.split_once(' ').unwrap();
        assert!(
            ts.len() >= 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "{out}"
        );
        assert_eq!(rest, " INFO pfd: running\n");
    }

    #[test]
    fn directives_filter_by_target() {
        let out = text_with(PLAIN, "warn,pfd::carp=debug", || {
            tracing::debug!(target: "pfd::carp", "carp debug");
            tracing::info!(target: "pfd::pfsync", "pfsync info");
            tracing::warn!(target: "pfd", "warned");
        });
        assert_eq!(out, "DEBUG pfd::carp: carp debug\n WARN pfd: warned\n");
        assert!(filter("info,=[").is_err());
    }

    #[test]
    fn json_lines_carry_level_target_and_message() {
        let buf = Buf::default();
        let sub = tracing_subscriber::fmt()
            .with_env_filter(filter("info").unwrap())
            .with_writer(buf.clone())
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .finish();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(target: "pfd::pfsync", "pfsync0: bulk update \"done\"");
            tracing::warn!(target: "pfd", interface = "em0", "link down");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["target"], "pfd::pfsync");
        assert_eq!(lines[0]["message"], "pfsync0: bulk update \"done\"");
        assert!(lines[0]["timestamp"].is_string());
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["interface"], "em0");
    }
}
