//! A step waiting out a rate limit or a transient failure, in words: the log line written when
//! the wait starts, and the note the job page and the API show while it lasts ("waiting: rate
//! limited by Google, retry in 40 s").

use super::Level;
use super::journal::Journal;
use crate::cloud::{RetryObserver, RetryReason, RetryWait};
use async_trait::async_trait;

/// Records a step's retry waits: told by the cloud client before each one.
pub struct StepWaits {
    pub journal: Journal,
    pub idx: i64,
    pub step_id: String,
}

#[async_trait]
impl RetryObserver for StepWaits {
    async fn waiting(&self, wait: &RetryWait) {
        let note = note(wait.reason);
        let secs = wait.delay.as_secs_f64();
        self.journal.log(
            Some(&self.step_id),
            Level::Warn,
            &format!("{} ({})", waiting_words(note, secs), wait.error),
        );
        self.journal.waiting(self.idx, note, wait.delay);
    }
}

/// What is being waited out.
fn note(reason: RetryReason) -> &'static str {
    match reason {
        RetryReason::RateLimited => "rate limited by Google",
        RetryReason::Transient => "temporary Google Cloud failure",
    }
}

/// `waiting: rate limited by Google, retry in 40 s`, for a wait with `seconds_left` to go.
pub fn waiting_words(note: &str, seconds_left: f64) -> String {
    format!("waiting: {note}, retry in {}", seconds(seconds_left))
}

/// Rounded up, so a countdown never says 0 while there is still time to wait: whole seconds
/// from one second on, tenths below.
fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{} s", s.ceil() as u64)
    } else {
        format!("{:.1} s", ((s * 10.0).ceil() / 10.0).max(0.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_a_countdown() {
        assert_eq!(
            waiting_words(note(RetryReason::RateLimited), 39.2),
            "waiting: rate limited by Google, retry in 40 s"
        );
        assert_eq!(
            waiting_words(note(RetryReason::Transient), 1.0),
            "waiting: temporary Google Cloud failure, retry in 1 s"
        );
        assert_eq!(seconds(0.004), "0.1 s");
        assert_eq!(seconds(0.45), "0.5 s");
    }
}
