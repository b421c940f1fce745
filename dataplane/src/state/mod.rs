//! The state table (pf's `pf_state_tree` and `pf_test_state`).
