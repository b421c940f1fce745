//! Address translation: pools, proxy ports, header rewrite.
