//! Rule evaluation over the compiled ruleset (pf's `pf_match_rule`).
