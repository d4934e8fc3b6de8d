//! Statements for [`portal_core::chat_control::ChatControl`], written once
//! in PostgreSQL text; [`sqlite`] renumbers `$N` as SQLite's `?N`.

use std::borrow::Cow;

/// The SQLite form of a statement: `$N` (which SQLite would number by first
/// appearance, not by N) becomes `?N`.
pub(crate) fn sqlite(sql: &'static str) -> Cow<'static, str> {
    if sql.contains('$') {
        Cow::Owned(sql.replace('$', "?"))
    } else {
        Cow::Borrowed(sql)
    }
}

/// Unfinished statuses (`chat_turns_unfinished` covers the same set).
pub(crate) const ACTIVE: &str = "SELECT t.id, t.status, t.state, t.stop_requested <> 0, \
    (SELECT MIN(e.seq) FROM chat_events e WHERE e.session_id = t.session_id AND e.turn_id = t.id) \
    FROM chat_turns t WHERE t.org_id = $1 AND t.session_id = $2 \
    AND t.status IN ('running', 'awaiting_approval', 'resumable')";

pub(crate) const REQUEST_STOP: &str = "UPDATE chat_turns SET stop_requested = 1, updated_at = $3 \
    WHERE org_id = $1 AND id = $2 AND status IN ('running', 'awaiting_approval', 'resumable')";

pub(crate) const STOP_REQUESTED: &str =
    "SELECT stop_requested <> 0 FROM chat_turns WHERE org_id = $1 AND id = $2";

/// The columns of [`ACTIVE`], in order.
pub(crate) type ActiveRow = (String, String, String, bool, Option<i64>);

pub(crate) fn active(r: ActiveRow) -> portal_core::chat_control::ActiveTurn {
    let (id, status, state, stop_requested, first_event) = r;
    portal_core::chat_control::ActiveTurn {
        id,
        status,
        state,
        first_event,
        stop_requested,
    }
}
