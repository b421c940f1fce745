//! pf tables: entries as pfctl reads them from files and inline lists,
//! and the lookup structure the packet engine matches against.

pub mod file;
pub mod radix;

pub use file::{load_table_file, parse_table_text, TableAddr, TableFileError, TableTextError};
pub use radix::{RadixError, TableRadix};

/// The lookup structure for a table's entries.
pub fn build_radix(addrs: &[TableAddr]) -> Result<TableRadix, RadixError> {
    TableRadix::new(addrs.iter().map(|a| (a.addr, a.prefix, a.negated)))
}
