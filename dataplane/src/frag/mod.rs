//! IPv4 and IPv6 fragment reassembly (pf's `pf_norm.c`).
