//! Tables by anchor, with pf's lookup: a rule in anchor `a` naming `<t>`
//! gets `a`'s `<t>` if `a` defines one, else the main ruleset's.

use super::crule::TableId;
use super::unsupported::CompileError;
use crate::ruleset::TableDef;
use crate::table::{build_radix, TableRadix};
use std::collections::BTreeMap;

/// Name of a table: the anchor that holds it and its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableKey {
    /// "" for the main ruleset.
    pub anchor: String,
    pub name: String,
}

#[derive(Default)]
pub(super) struct Tables {
    pub(super) radix: Vec<TableRadix>,
    pub(super) keys: Vec<TableKey>,
    pub(super) index: BTreeMap<TableKey, TableId>,
}

impl Tables {
    pub(super) fn from_defs(defs: &[TableDef], errors: &mut Vec<CompileError>) -> Tables {
        let mut t = Tables::default();
        for d in defs {
            let key = TableKey {
                anchor: d.anchor.clone(),
                name: d.name.clone(),
            };
            let radix = match build_radix(&d.entries) {
                Ok(r) => r,
                Err(source) => {
                    errors.push(CompileError::Table {
                        anchor: d.anchor.clone(),
                        name: d.name.clone(),
                        source,
                    });
                    TableRadix::default()
                }
            };
            // pfctl refuses a second definition; if one got here, the
            // first wins, as in the table's own entries.
            if !t.index.contains_key(&key) {
                t.push(key, radix);
            }
        }
        t
    }

    fn push(&mut self, key: TableKey, radix: TableRadix) -> TableId {
        let id = TableId(u32::try_from(self.radix.len()).unwrap_or(u32::MAX));
        self.radix.push(radix);
        self.keys.push(key.clone());
        self.index.insert(key, id);
        id
    }

    /// The table a rule in `anchor` means by `<name>`. A table nobody
    /// defined is created empty in the main ruleset, where `pfctl -t`
    /// fills it at run time; pf would also create an inactive one in the
    /// anchor, which pfd does not model.
    pub(super) fn resolve(&mut self, anchor: &str, name: &str) -> TableId {
        let local = TableKey {
            anchor: anchor.to_string(),
            name: name.to_string(),
        };
        if let Some(&id) = self.index.get(&local) {
            return id;
        }
        let main = TableKey {
            anchor: String::new(),
            name: name.to_string(),
        };
        if let Some(&id) = self.index.get(&main) {
            return id;
        }
        self.push(main, TableRadix::default())
    }
}
