//! The running engine, replaceable by a reload (`pfctl -f`): the control
//! thread builds the new engine over the same state table and puts it
//! here; the worker picks it up before its next frame.

use dataplane::engine::Engine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct EngineSlot {
    current: Mutex<Arc<Engine>>,
    gen: AtomicU64,
    /// pf enabled (`pfctl -e`, the state at boot) or disabled (`-d`:
    /// packets are routed without pf).
    enabled: AtomicBool,
}

impl EngineSlot {
    pub fn new(engine: Arc<Engine>) -> EngineSlot {
        EngineSlot {
            current: Mutex::new(engine),
            gen: AtomicU64::new(0),
            enabled: AtomicBool::new(true),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Turn pf on or off; false when it already was.
    pub fn set_enabled(&self, on: bool) -> bool {
        self.enabled.swap(on, Ordering::Relaxed) != on
    }

    /// The engine in force.
    pub fn get(&self) -> Arc<Engine> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Bumped by every replacement: one load tells a worker whether to
    /// fetch the engine again.
    pub fn gen(&self) -> u64 {
        self.gen.load(Ordering::Acquire)
    }

    /// Build a replacement from the engine in force and install it; the
    /// engine in force is untouched when `build` fails.
    pub fn replace<E>(&self, build: impl FnOnce(&Engine) -> Result<Engine, E>) -> Result<(), E> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let new = build(&cur)?;
        *cur = Arc::new(new);
        self.gen.fetch_add(1, Ordering::Release);
        Ok(())
    }
}
