//! cargo-fuzz target `carp`: the body is `mgmt::fuzzing::carp`, which the
//! stable regression suite (mgmt/tests/fuzz_regress.rs) also runs over
//! the committed corpus and the saved crashes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mgmt::fuzzing::carp(data));
