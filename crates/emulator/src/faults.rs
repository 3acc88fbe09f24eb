//! Faults injected on request, so that a client's retries are tested against the
//! failures real tenants produce: added latency, a share of 429, 500 and 503 answers,
//! and connections dropped mid-answer. A faulty request is never applied, so retrying it
//! is always safe. Set at start (`idferry emulate --fault-...`) or at run time with
//! `PUT /__emulator/faults`.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The faults a tenant injects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Milliseconds added before every API answer.
    pub latency_ms: u64,
    /// Share (0..1) of requests answered 429.
    pub rate_429: f64,
    /// Share answered 500.
    pub rate_500: f64,
    /// Share answered 503.
    pub rate_503: f64,
    /// Share whose connection is dropped before the body is sent.
    pub rate_drop: f64,
}

/// The fault picked for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429.
    TooManyRequests,
    /// Answer this 5xx status.
    ServerError(u16),
    /// Drop the connection.
    Drop,
}

impl Faults {
    /// Draws the fault (if any) for one request.
    pub fn draw(&self, rng: &mut impl Rng) -> Option<Fault> {
        let x: f64 = rng.random();
        let mut edge = self.rate_429;
        if x < edge {
            return Some(Fault::TooManyRequests);
        }
        edge += self.rate_500;
        if x < edge {
            return Some(Fault::ServerError(500));
        }
        edge += self.rate_503;
        if x < edge {
            return Some(Fault::ServerError(503));
        }
        edge += self.rate_drop;
        (x < edge).then_some(Fault::Drop)
    }

    /// Checks that the shares are probabilities that add up to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [self.rate_429, self.rate_500, self.rate_503, self.rate_drop];
        if shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return Err("each fault rate must be between 0 and 1".into());
        }
        if shares.iter().sum::<f64>() > 1.0 {
            return Err("fault rates add up to more than 1".into());
        }
        Ok(())
    }
}
