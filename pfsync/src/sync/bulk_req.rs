//! The bulk update requester (spec §6.2): on `up`, ask the peer for its
//! whole table and keep CARP demoted by 32 until it has arrived or the
//! attempt is given up.

use super::SEC;

/// Time allowed for the sync link to come up after `up`.
pub const LINK_WAIT_NS: u64 = 30 * SEC;
/// Wait for BUS START after each request.
pub const RETRY_NS: u64 = 2 * SEC;
/// Requests sent before giving up.
pub const MAX_TRIES: u32 = 12;
/// CARP demotion held while the table is being filled.
pub const DEMOTE: i32 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReqState {
    #[default]
    None,
    /// Up, waiting for the sync link.
    Start,
    /// Request sent, waiting for BUS START.
    Sent,
    /// Receiving the peer's table, waiting for BUS END.
    Bulk,
    /// Finished or given up.
    Done,
}

/// What a transition asks of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    pub send_request: bool,
    /// Change to the CARP demotion counter.
    pub demote: i32,
    /// The requester finished: `true` when BUS END arrived.
    pub done: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct BulkReq {
    pub state: ReqState,
    pub tries: u32,
    pub deadline: Option<u64>,
    demoted: bool,
}

impl BulkReq {
    pub fn up(&mut self, now: u64) -> Step {
        if self.state != ReqState::None {
            return Step::default();
        }
        self.state = ReqState::Start;
        self.tries = 0;
        self.deadline = Some(now + LINK_WAIT_NS);
        self.demoted = true;
        Step {
            demote: DEMOTE,
            ..Step::default()
        }
    }

    pub fn link_up(&mut self, now: u64) -> Step {
        if self.state != ReqState::Start {
            return Step::default();
        }
        self.state = ReqState::Sent;
        self.deadline = Some(now + RETRY_NS);
        Step {
            send_request: true,
            ..Step::default()
        }
    }

    pub fn bus_start(&mut self, now: u64, bulk_timeout_ns: u64) -> Step {
        if matches!(self.state, ReqState::Start | ReqState::Sent) {
            self.state = ReqState::Bulk;
            self.deadline = Some(now + bulk_timeout_ns);
        }
        Step::default()
    }

    pub fn bus_end(&mut self) -> Step {
        if self.state != ReqState::Bulk {
            return Step::default();
        }
        self.finish(true)
    }

    pub fn timer(&mut self, now: u64) -> Step {
        if self.deadline.is_none_or(|d| d > now) {
            return Step::default();
        }
        match self.state {
            ReqState::Start => self.finish(false),
            ReqState::Sent => {
                self.tries += 1;
                if self.tries < MAX_TRIES {
                    self.deadline = Some(now + RETRY_NS);
                    Step {
                        send_request: true,
                        ..Step::default()
                    }
                } else {
                    self.finish(false)
                }
            }
            ReqState::Bulk => {
                // OpenBSD sends one more request here and then gives up at
                // once anyway; kept so the peer sees the same packets.
                self.tries += 1;
                let again = self.tries < MAX_TRIES;
                Step {
                    send_request: again,
                    ..self.finish(false)
                }
            }
            ReqState::None | ReqState::Done => {
                self.deadline = None;
                Step::default()
            }
        }
    }

    pub fn down(&mut self) -> Step {
        let demote = if self.demoted { -DEMOTE } else { 0 };
        *self = BulkReq::default();
        Step {
            demote,
            ..Step::default()
        }
    }

    fn finish(&mut self, ok: bool) -> Step {
        self.state = ReqState::Done;
        self.deadline = None;
        let demote = if std::mem::take(&mut self.demoted) {
            -DEMOTE
        } else {
            0
        };
        Step {
            send_request: false,
            demote,
            done: Some(ok),
        }
    }
}
