//! `pfctl -sa`: every section in pfctl's order, each under its title
//! (a blank line between); sections pfctl prints only when not empty
//! (states, source nodes, labels, tables) are left out when empty.

use super::show::View;
use crate::control::{Request, Response, ShowWhat};
use serde_json::{Map, Value};

impl View {
    pub(super) fn show_all(&self, verbose: u8, anchor: Option<String>) -> Response {
        let part = |what: ShowWhat, verbose: u8| -> Result<(String, Value), Response> {
            match self.answer(Request::Show {
                what,
                verbose,
                anchor: anchor.clone(),
                rule: None,
                interface: None,
            }) {
                Response::Ok { text, json } => {
                    Ok((text.unwrap_or_default(), json.unwrap_or(Value::Null)))
                }
                other => Err(other),
            }
        };
        let sections = [
            ("FILTER RULES:", ShowWhat::Rules, verbose, true),
            ("STATES:", ShowWhat::States, verbose, false),
            // -sS -v is refused: pfd keeps no per-node age or counts
            ("SOURCE TRACKING NODES:", ShowWhat::Sources, 0, false),
            ("INFO:", ShowWhat::Info, verbose, true),
            ("LABEL COUNTERS:", ShowWhat::Labels, verbose, false),
            ("TIMEOUTS:", ShowWhat::Timeouts, verbose, true),
            ("LIMITS:", ShowWhat::Memory, verbose, true),
            // -sT -vv is refused: pfd keeps no per-table counters
            ("TABLES:", ShowWhat::Tables, verbose.min(1), false),
        ];
        let mut text = String::new();
        let mut json = Map::new();
        for (title, what, v, always) in sections {
            let (t, j) = match part(what, v) {
                Ok(p) => p,
                Err(r) => return r,
            };
            json.insert(format!("{what:?}").to_lowercase(), j);
            if t.is_empty() && !always {
                continue;
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(title);
            text.push('\n');
            text.push_str(&t);
        }
        Response::Ok {
            text: Some(text),
            json: Some(Value::Object(json)),
        }
    }
}
