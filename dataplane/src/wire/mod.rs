//! Wire formats: zero-copy views over received bytes (`Packet<T>` with
//! `new_checked`) and a `Repr` with `parse`/`buffer_len`/`emit` per
//! header, as smoltcp's `wire` module does.

pub mod checksum;
