//! Host locks on an agent host: a `lock` or `unlock` frame, answered by `lock_result` (the
//! agent keeps the table, by its own clock, across restarts).

use std::sync::Arc;
use std::time::Duration;

use super::session::{JobMsg, Session};
use crate::protocol::{ErrorCode, Frame, LockInfo, LockStatus, Message};
use crate::transport::lock::{LockOp, LockReply, LockRequest, RemoteHolder};
use crate::transport::{ErrorKind, TransportError};

/// How long the agent may take to answer (it only updates a small file).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// Sends `req` on `session` and waits for the answer.
pub async fn run(session: Arc<Session>, req: &LockRequest) -> Result<LockReply, TransportError> {
    let host = session.host.clone();
    let (id, mut rx) = session.register().map_err(|why| {
        TransportError::new(
            ErrorKind::Io,
            format!("{host}: connection lost to the agent ({why})"),
        )
    })?;
    let msg = match req.op {
        LockOp::Take { ttl } => Message::Lock {
            id: id.clone(),
            name: req.name.clone(),
            owner: req.owner.clone(),
            run_id: req.run_id.clone(),
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            reason: req.reason.clone(),
        },
        LockOp::Release { force } => Message::Unlock {
            id: id.clone(),
            name: req.name.clone(),
            run_id: req.run_id.clone(),
            force,
        },
    };
    if let Err(why) = session.send(Frame::new(msg)).await {
        session.unregister(&id);
        return Err(TransportError::new(ErrorKind::Io, format!("{host}: {why}")));
    }
    let answer = tokio::time::timeout(ANSWER_WITHIN, rx.recv()).await;
    session.unregister(&id);
    match answer {
        Ok(Some(JobMsg::Lock(status, holder))) => reply(&host, status, holder),
        Ok(Some(JobMsg::Refused(code, message))) => Err(refused(&host, code, &message)),
        Ok(Some(JobMsg::Lost(why))) => Err(TransportError::new(
            ErrorKind::Io,
            format!("{host}: connection lost to the agent ({why}); the lock's state is unknown"),
        )),
        Ok(Some(_)) => Err(TransportError::new(
            ErrorKind::Protocol,
            format!("{host}: the agent answered a lock request with job messages"),
        )),
        Ok(None) => Err(TransportError::new(
            ErrorKind::Io,
            format!("{host}: the agent connection ended before the lock was answered"),
        )),
        Err(_) => Err(TransportError::new(
            ErrorKind::Timeout,
            format!(
                "{host}: the agent did not answer a lock request within {} s",
                ANSWER_WITHIN.as_secs()
            ),
        )),
    }
}

fn holder(info: LockInfo) -> RemoteHolder {
    RemoteHolder {
        owner: info.owner,
        run_id: info.run_id,
        reason: info.reason,
        remaining: Duration::from_millis(info.remaining_ms),
    }
}

fn reply(
    host: &str,
    status: LockStatus,
    info: Option<LockInfo>,
) -> Result<LockReply, TransportError> {
    Ok(match status {
        LockStatus::Taken => LockReply::Taken { reclaimed: None },
        LockStatus::Reclaimed => LockReply::Taken {
            reclaimed: info.map(holder),
        },
        LockStatus::Released => LockReply::Released(info.map(holder)),
        LockStatus::None => LockReply::Released(None),
        LockStatus::Held => match info {
            Some(i) => LockReply::Held(holder(i)),
            None => {
                return Err(TransportError::new(
                    ErrorKind::Protocol,
                    format!("{host}: the agent said the lock is held but not by whom"),
                ));
            }
        },
    })
}

fn refused(host: &str, code: ErrorCode, message: &str) -> TransportError {
    let kind = match code {
        ErrorCode::Forbidden => ErrorKind::Auth,
        ErrorCode::Busy | ErrorCode::Failed | ErrorCode::Policy => ErrorKind::Io,
        ErrorCode::Malformed | ErrorCode::TooLarge | ErrorCode::Version | ErrorCode::BadId => {
            ErrorKind::Protocol
        }
    };
    let hint = if code == ErrorCode::Forbidden {
        "; point token_file at an exec token from `fleetdeck agent init` to take locks"
    } else {
        ""
    };
    TransportError::new(
        kind,
        format!("{host}: the agent refused the lock request: {message}{hint}"),
    )
}
