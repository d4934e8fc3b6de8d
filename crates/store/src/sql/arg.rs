//! Statement parameters, bound the same way on both drivers.

/// One parameter value.
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    /// A list (`{ANY $N}`): an array on PostgreSQL, a JSON array on SQLite.
    Texts(Vec<&'a str>),
    /// A list of integers (`{ANY $N}`).
    Ints(Vec<i64>),
    /// Raw bytes (`BLOB` / `BYTEA`).
    Bytes(&'a [u8]),
}

/// Values that bind as an [`Arg`] (see [`args!`](crate::args)).
pub(crate) trait IntoArg {
    fn arg(&self) -> Arg<'_>;
}

/// Domain enums bind as their stable text.
macro_rules! text_args {
    ($($t:ty),*) => {
        $(impl IntoArg for $t {
            fn arg(&self) -> Arg<'_> {
                Arg::Text(self.as_str())
            }
        })*
    };
}
text_args!(
    portal_core::model::ApprovalStatus,
    portal_core::model::ExecutionStatus,
    portal_core::model::TurnStatus,
    portal_core::model::Risk
);

/// Ids bind as their text.
macro_rules! id_args {
    ($($t:ty),* $(,)?) => {
        $(impl IntoArg for $t {
            fn arg(&self) -> Arg<'_> {
                Arg::Text(self.as_str())
            }
        }
        impl IntoArg for Option<$t> {
            fn arg(&self) -> Arg<'_> {
                Arg::OptText(self.as_deref())
            }
        })*
    };
}

id_args!(
    portal_core::ids::OrgId,
    portal_core::ids::UserId,
    portal_core::ids::ApprovalId,
    portal_core::ids::SessionId
);

impl IntoArg for str {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl IntoArg for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl IntoArg for Option<String> {
    fn arg(&self) -> Arg<'_> {
        Arg::OptText(self.as_deref())
    }
}
impl IntoArg for Option<&str> {
    fn arg(&self) -> Arg<'_> {
        Arg::OptText(*self)
    }
}
impl IntoArg for i64 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(*self)
    }
}
impl IntoArg for Option<i64> {
    fn arg(&self) -> Arg<'_> {
        Arg::OptInt(*self)
    }
}
impl IntoArg for [u8] {
    fn arg(&self) -> Arg<'_> {
        Arg::Bytes(self)
    }
}
impl IntoArg for Vec<u8> {
    fn arg(&self) -> Arg<'_> {
        Arg::Bytes(self)
    }
}
impl IntoArg for bool {
    fn arg(&self) -> Arg<'_> {
        Arg::Bool(*self)
    }
}
impl<T: IntoArg + ?Sized> IntoArg for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}

/// `args![a, b, …]`: the parameters `$1, $2, …` of a statement.
#[macro_export]
#[doc(hidden)]
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        [$($crate::sql::arg::IntoArg::arg(&$e)),*]
    };
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        match self {
            Arg::Text(s) => s.to_sql(),
            Arg::OptText(s) => s.to_sql(),
            Arg::Int(i) => i.to_sql(),
            Arg::OptInt(i) => i.to_sql(),
            Arg::Bool(b) => b.to_sql(),
            Arg::Texts(v) => serde_json::to_string(v)
                .map(|j| ToSqlOutput::Owned(Value::Text(j)))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into())),
            Arg::Ints(v) => serde_json::to_string(v)
                .map(|j| ToSqlOutput::Owned(Value::Text(j)))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into())),
            Arg::Bytes(b) => b.to_sql(),
        }
    }
}

impl Arg<'_> {
    /// The value as tokio-postgres binds it.
    pub(crate) fn pg(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Arg::Text(s) => s,
            Arg::OptText(s) => s,
            Arg::Int(i) => i,
            Arg::OptInt(i) => i,
            Arg::Bool(b) => b,
            Arg::Texts(v) => v,
            Arg::Ints(v) => v,
            Arg::Bytes(b) => b,
        }
    }
}
