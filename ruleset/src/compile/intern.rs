//! Name interning: each distinct name gets the next small integer, so the
//! packet engine compares integers where pf.conf wrote names.

use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub(super) struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        // More than 2^32 distinct names cannot come out of a pf.conf
        // that fits in memory.
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    pub(super) fn into_names(self) -> Vec<String> {
        self.names
    }
}
