//! One transaction held open for a whole request, so that what a request stores about itself
//! commits together with what it changed, or not at all.
//!
//! `Idempotency-Key` needs this: the answer kept for a retry must be written in the same
//! transaction as the handler's change. A crash, a 503 or an error in between then leaves either
//! both (a retry gets the stored answer) or neither (a retry runs the request again) — never a
//! change without its answer (the retry would do it twice) or a claim without a change.
//!
//! How: `Db::begin_request` takes a connection (and, on SQLite, the one-writer lock) on a
//! blocking thread and opens a transaction there. While the request's handler runs inside
//! `RequestTx::scope`, every `Db::read` and `Db::write` it makes is sent to that thread and runs on
//! that connection, each in a savepoint of its own (an error undoes that call only, as a separate
//! transaction would). `RequestTx::commit` runs a last step (storing the answer) and commits; a
//! `RequestTx` dropped without committing rolls everything back.
//!
//! Rules this relies on: handlers reach the database only through `Db::read`/`Db::write` from the
//! request's own task (a task spawned by the handler would not see the scope, and on SQLite would
//! wait for the writer lock the request holds); a crossed transaction inside the scope is not run
//! again in place (the whole request answers 503 and the client's retry runs it again).

use std::sync::mpsc;

use diesel::Connection;
use tokio::sync::oneshot;

use super::{AnyConnection, Backend, Db, REQUEST_ACQUIRE};
use crate::error::{ApiError, ApiResult};

type Step = Box<dyn FnOnce(&mut AnyConnection) + Send>;
type LastStep = Box<dyn FnOnce(&mut AnyConnection) -> ApiResult<()> + Send>;

enum Message {
    Run(Step),
    Commit(LastStep, oneshot::Sender<ApiResult<()>>),
    Rollback(oneshot::Sender<ApiResult<()>>),
}

tokio::task_local! {
    static CURRENT: Sender;
}

#[derive(Clone)]
struct Sender(mpsc::Sender<Message>);

/// The open transaction of one request; dropping it without `commit` rolls it back.
pub struct RequestTx {
    sender: Sender,
}

impl Db {
    /// Opens the transaction a request will run in (see the module comment); waits at most
    /// `REQUEST_ACQUIRE` for a connection, as any request does.
    pub async fn begin_request(&self) -> ApiResult<RequestTx> {
        let (sender, receiver) = mpsc::channel::<Message>();
        let (opened_tx, opened_rx) = oneshot::channel::<ApiResult<()>>();
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            // As in `write_blocking`: the one-writer lock first, then the connection.
            let _one_writer = match db.backend {
                Backend::Sqlite => Some(db.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
                Backend::Postgres => None,
            };
            let mut conn = match db.pool.get_timeout(REQUEST_ACQUIRE) {
                Ok(conn) => conn,
                Err(err) => {
                    let _ = opened_tx.send(Err(err.into()));
                    return;
                }
            };
            let _ = opened_tx.send(Ok(()));
            hold(&mut conn, receiver);
        });
        opened_rx.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("request transaction did not open")))??;
        Ok(RequestTx { sender: Sender(sender) })
    }
}

/// Runs the request's steps in one transaction until it is committed, rolled back or abandoned.
fn hold(conn: &mut AnyConnection, receiver: mpsc::Receiver<Message>) {
    let mut reply = None;
    let outcome: Result<(), TxEnd> = conn.transaction(|c| {
        loop {
            match receiver.recv() {
                Ok(Message::Run(step)) => step(c),
                Ok(Message::Commit(last, done)) => {
                    reply = Some(done);
                    // The events go last: numbering them is the last statement before COMMIT.
                    return last(c).and_then(|()| crate::events::before_commit(c)).map_err(TxEnd::Failed);
                }
                Ok(Message::Rollback(done)) => {
                    reply = Some(done);
                    return Err(TxEnd::RolledBack);
                }
                // The handler went away without a word: roll back.
                Err(_) => return Err(TxEnd::RolledBack),
            }
        }
    });
    if let Some(done) = reply {
        let _ = done.send(match outcome {
            Ok(()) | Err(TxEnd::RolledBack) => Ok(()),
            Err(TxEnd::Failed(err)) => Err(err),
            Err(TxEnd::Database(err)) => Err(err.into()),
        });
    }
}

enum TxEnd {
    Failed(ApiError),
    Database(diesel::result::Error),
    RolledBack,
}

impl From<diesel::result::Error> for TxEnd {
    fn from(err: diesel::result::Error) -> Self {
        TxEnd::Database(err)
    }
}

impl RequestTx {
    /// Runs `future` (the handler) with every `Db::read`/`Db::write` it makes sent to this
    /// transaction.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        CURRENT.scope(self.sender.clone(), future).await
    }

    /// Runs `last` in the transaction and commits; the answer comes once the commit is durable.
    /// An error from `last` (or from the commit) rolls everything back.
    pub async fn commit<F>(self, last: F) -> ApiResult<()>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<()> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.end(Message::Commit(Box::new(last), done_tx), done_rx).await
    }

    /// Undoes everything the request wrote; returns once it is undone.
    pub async fn rollback(self) -> ApiResult<()> {
        let (done_tx, done_rx) = oneshot::channel();
        self.end(Message::Rollback(done_tx), done_rx).await
    }

    async fn end(self, message: Message, done: oneshot::Receiver<ApiResult<()>>) -> ApiResult<()> {
        let ended = || ApiError::Internal(anyhow::anyhow!("request transaction ended early"));
        self.sender.0.send(message).map_err(|_| ended())?;
        done.await.map_err(|_| ended())?
    }
}

/// Runs `f` in the current request's transaction, if the caller runs inside one, in a savepoint of
/// its own. `None` when there is no request transaction (then `f` is handed back).
pub(super) async fn run_in_current<T, F>(f: F) -> Result<ApiResult<T>, F>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
{
    let Ok(sender) = CURRENT.try_with(Sender::clone) else {
        return Err(f);
    };
    let (answer_tx, answer_rx) = oneshot::channel();
    let step: Step = Box::new(move |conn| {
        let _ = answer_tx.send(conn.transaction(f));
    });
    let ended = || ApiError::Internal(anyhow::anyhow!("request transaction ended early"));
    if sender.0.send(Message::Run(step)).is_err() {
        return Ok(Err(ended()));
    }
    Ok(answer_rx.await.unwrap_or_else(|_| Err(ended())))
}
