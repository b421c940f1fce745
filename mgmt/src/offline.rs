//! `pfctl -n`: parse and print a ruleset without a daemon, as OpenBSD's
//! `pfctl -nvf FILE` does.

use ruleset::compile::compile;
use ruleset::hostenv::HostEnv;
use ruleset::lexer::{FileSource, FsSource};
use ruleset::parse::{parse, ParseConfig, Parsed};
use ruleset::print;

/// What an offline run produced. stderr is kept apart from stdout because
/// pfctl's stderr is unbuffered and its stdout is not: a caller comparing
/// with OpenBSD's output sees stderr first.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

pub struct Request<'a> {
    /// `-f FILE`; `-` is standard input, named `stdin` in messages.
    pub file: &'a str,
    /// File contents when `file` is `-` (or to avoid reading the file).
    pub text: Option<Vec<u8>>,
    pub verbose: u8,
    /// `-D name=value`
    pub macros: Vec<(String, String)>,
    /// `-a anchor`
    pub anchor: String,
}

fn push_lines(out: &mut String, lines: &[String]) {
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
}

/// Parse one file into an anchor; appends to `out`. Returns false on errors.
fn load(
    req_file: &str,
    text: Vec<u8>,
    anchor: &str,
    queues: &[ruleset::ruleset::QueueSpec],
    req: &Request<'_>,
    env: &dyn HostEnv,
    out: &mut Output,
) -> Option<Parsed> {
    let cfg = ParseConfig {
        env,
        files: &FsSource,
        anchor: anchor.to_string(),
        macros: req.macros.clone(),
        queues: queues.to_vec(),
    };
    let name = if req_file == "-" { "stdin" } else { req_file };
    let p = parse(name, text, &cfg);
    push_lines(&mut out.stderr, &p.stderr);
    if req.verbose > 0 {
        out.stdout.push_str(&p.echo);
    }
    if p.errors > 0 {
        return None;
    }
    if req.verbose > 0 {
        out.stdout.push_str(&print::loaded(&p, env));
    }
    // pf.conf is valid as OpenBSD reads it; say what pfd itself would
    // refuse to load, without changing what OpenBSD's pfctl -n reports.
    if let Err(e) = compile(&p) {
        out.stderr
            .push_str("pfctl: warning: pfd will refuse to load this ruleset:\n");
        out.stderr.push_str(&e.render(name));
    }
    Some(p)
}

pub fn run(req: &Request<'_>, env: &dyn HostEnv) -> Output {
    let mut out = Output::default();
    let text = match &req.text {
        Some(t) => t.clone(),
        None => match FsSource.read(req.file) {
            Ok(t) => t,
            Err(e) => {
                out.stderr = format!("pfctl: {}: {}\n", req.file, ruleset::io_error_text(&e));
                out.code = 1;
                return out;
            }
        },
    };
    let Some(main) = load(req.file, text, &req.anchor, &[], req, env, &mut out) else {
        out.code = 1;
        return out;
    };
    // `load anchor NAME from FILE`, after the main ruleset, as pfctl.
    for la in &main.ruleset.load_anchors {
        if req.verbose > 0 {
            out.stderr.push_str(&format!(
                "\nLoading anchor {} from {}\n",
                la.anchor, la.file
            ));
        }
        let text = match FsSource.read(&la.file) {
            Ok(t) => t,
            Err(e) => {
                out.stderr.push_str(&format!(
                    "pfctl: {}: {}\npfctl: load anchors\n",
                    la.file,
                    ruleset::io_error_text(&e)
                ));
                out.code = 1;
                return out;
            }
        };
        if load(
            &la.file,
            text,
            &la.anchor,
            &main.ruleset.queues,
            req,
            env,
            &mut out,
        )
        .is_none()
        {
            out.stderr.push_str("pfctl: load anchors\n");
            out.code = 1;
            return out;
        }
    }
    out
}
