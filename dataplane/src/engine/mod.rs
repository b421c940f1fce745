//! The per-packet pipeline in pf's order (pf's `pf_test`).
