//! Telling whoever waits on a call that the client is waiting to retry it.
//!
//! A job step may sit for minutes behind a rate limit, and its page should say so. The client
//! learns of the wait deep inside one call, while the step is several calls up the stack; rather
//! than thread an observer through every client method, the caller runs its calls inside
//! [`observed`] and the client tells the observer of that task before each wait. Calls made
//! outside (the planner's reads, drift checks) are simply not observed.

use super::retry::RetryWait;
use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;

/// Told before the client sleeps between two attempts of a call.
#[async_trait]
pub trait RetryObserver: Send + Sync {
    async fn waiting(&self, wait: &RetryWait);
}

tokio::task_local! {
    static OBSERVER: Arc<dyn RetryObserver>;
}

/// Runs `f` with `observer` told of every retry wait of the client calls `f` makes (on this
/// task: a call spawned onto another task is not observed).
pub async fn observed<F: Future>(observer: Arc<dyn RetryObserver>, f: F) -> F::Output {
    OBSERVER.scope(observer, f).await
}

/// Tells the current task's observer, if there is one.
pub(crate) async fn notify(wait: &RetryWait) {
    if let Ok(observer) = OBSERVER.try_with(Arc::clone) {
        observer.waiting(wait).await;
    }
}
