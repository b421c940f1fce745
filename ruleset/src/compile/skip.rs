//! Skip steps, as OpenBSD's `pf_calc_skip_steps` computes them: for each
//! field, rule i skips to the first later rule whose field differs. When
//! a packet fails field f of rule i, every rule up to `skip[f]` has the
//! same field and would fail the same way, so the scan jumps there.

use super::crule::{
    CRule, SKIP_AF, SKIP_COUNT, SKIP_DIR, SKIP_DST_ADDR, SKIP_DST_PORT, SKIP_IFP, SKIP_PROTO,
    SKIP_RDOM, SKIP_SRC_ADDR, SKIP_SRC_PORT,
};

/// pf's equality for skip-step field `f`. Interface and rdomain both
/// include `ifnot` because pf's `on !` negates both; addresses include
/// their negation; ports compare operator and both operands.
pub fn field_eq(a: &CRule, b: &CRule, f: usize) -> bool {
    match f {
        SKIP_IFP => a.if_id == b.if_id && a.ifnot == b.ifnot,
        SKIP_DIR => a.direction == b.direction,
        SKIP_RDOM => a.onrdomain == b.onrdomain && a.ifnot == b.ifnot,
        SKIP_AF => a.af == b.af,
        SKIP_PROTO => a.proto == b.proto,
        SKIP_SRC_ADDR => a.src.neg == b.src.neg && a.src.addr == b.src.addr,
        SKIP_DST_ADDR => a.dst.neg == b.dst.neg && a.dst.addr == b.dst.addr,
        SKIP_SRC_PORT => a.src.port == b.src.port,
        SKIP_DST_PORT => a.dst.port == b.dst.port,
        _ => true,
    }
}

/// Fill `skip` of every rule. Each field's equality is an equivalence,
/// so "first later rule differing from rule i" is the end of the run of
/// equal neighbours i is in: one backward pass per field finds it.
pub fn calc_skip_steps(rules: &mut [CRule]) {
    let n = rules.len();
    for f in 0..SKIP_COUNT {
        let mut next = n;
        for i in (0..n).rev() {
            if i + 1 < n && !field_eq(&rules[i], &rules[i + 1], f) {
                next = i + 1;
            }
            // Rulesets beyond u32::MAX rules cannot be built: pf's limit
            // and memory stop far earlier.
            rules[i].skip[f] = u32::try_from(next).unwrap_or(u32::MAX);
        }
    }
}
