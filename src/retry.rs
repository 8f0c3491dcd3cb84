//! When a failed message is tried again: exponential backoff with jitter, capped.

use std::time::Duration;

use serde::Serialize;

use crate::sink::DeliveryError;

#[derive(Debug, Clone, Serialize)]
pub struct RetryPolicy {
    /// Attempts before a message is dead.
    pub max_attempts: u32,
    /// Delay after the first failure; doubled after each further one.
    #[serde(with = "humantime_serde_compat")]
    pub base: Duration,
    /// The delay never grows past this.
    #[serde(with = "humantime_serde_compat")]
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    Dead,
}

impl RetryPolicy {
    /// `attempt` is the number of the attempt that just failed (1 for the first), `error` why.
    /// `unit` is a random number in [0, 1): "equal jitter" keeps half the delay fixed, so delays
    /// never shrink from one attempt to the next while relays that failed together still spread out.
    pub fn next(&self, attempt: i64, unit: f64, error: &DeliveryError) -> Next {
        let retry_after = match error {
            DeliveryError::Permanent(_) => return Next::Dead,
            DeliveryError::RetryAfter { after, .. } => Some(*after),
            DeliveryError::Retryable(_) => None,
        };
        if attempt >= i64::from(self.max_attempts) {
            return Next::Dead;
        }
        let exp = attempt.clamp(1, 63) as u32 - 1;
        let full = self
            .base
            .checked_mul(2u32.saturating_pow(exp))
            .unwrap_or(self.cap)
            .min(self.cap);
        let delay = full / 2 + full.mul_f64(unit.clamp(0.0, 1.0) / 2.0);
        // A destination that says when to come back is believed, within the cap.
        Next::RetryAfter(retry_after.map_or(delay, |r| r.min(self.cap).max(delay)))
    }
}

mod humantime_serde_compat {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> DeliveryError {
        DeliveryError::Retryable("503".into())
    }

    fn asked(secs: u64) -> DeliveryError {
        DeliveryError::RetryAfter {
            message: "429".into(),
            after: Duration::from_secs(secs),
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(10),
            cap: Duration::from_secs(60),
        }
    }

    #[test]
    fn delays_grow_then_cap_then_dead() {
        let p = policy();
        let at = |n, u| match p.next(n, u, &failed()) {
            Next::RetryAfter(d) => d,
            Next::Dead => panic!("dead too early"),
        };
        assert_eq!(at(1, 0.0), Duration::from_secs(5));
        assert_eq!(at(1, 0.999_999).as_secs(), 9);
        // The smallest delay of an attempt is never below the largest of the one before.
        assert!(at(2, 0.0) >= at(1, 0.999));
        assert!(at(3, 0.0) >= at(2, 0.999));
        assert_eq!(at(4, 1.0), Duration::from_secs(60));
        assert_eq!(p.next(5, 0.5, &failed()), Next::Dead);
        assert_eq!(p.next(5, 0.5, &asked(1)), Next::Dead);
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let p = policy();
        assert_eq!(
            p.next(1, 0.0, &asked(30)),
            Next::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            p.next(1, 0.0, &asked(999)),
            Next::RetryAfter(Duration::from_secs(60))
        );
        assert_eq!(
            p.next(1, 0.0, &asked(1)),
            Next::RetryAfter(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_permanent_failure_is_dead_at_the_first_attempt() {
        assert_eq!(
            policy().next(1, 0.5, &DeliveryError::Permanent("400".into())),
            Next::Dead
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: u32::MAX,
            ..policy()
        };
        // Capped at 60s, then equal jitter: half fixed, half scaled by the random unit.
        assert_eq!(
            p.next(1_000, 0.5, &failed()),
            Next::RetryAfter(Duration::from_secs(45))
        );
        assert_eq!(
            p.next(1_000, 1.0, &failed()),
            Next::RetryAfter(Duration::from_secs(60))
        );
    }
}
