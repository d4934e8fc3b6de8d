//! One view of a result row over both drivers, so each row type is decoded once.

use portal_core::store::StoreResult;
use portal_core::StoreError;

/// A result row's columns by position.
pub(crate) trait Row {
    fn text(&self, i: usize) -> StoreResult<String>;
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>>;
    fn int(&self, i: usize) -> StoreResult<i64>;
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn flag(&self, i: usize) -> StoreResult<bool>;
    fn real(&self, i: usize) -> StoreResult<f64>;
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>>;
}

/// Decodes one row into a value.
pub(crate) type Decode<T> = fn(&dyn Row) -> StoreResult<T>;

fn sqlite_err(i: usize, e: rusqlite::Error) -> StoreError {
    StoreError::Other(format!("decoding column {i}: {e}"))
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> StoreResult<String> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn int(&self, i: usize) -> StoreResult<i64> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn real(&self, i: usize) -> StoreResult<f64> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.get(i).map_err(|e| sqlite_err(i, e))
    }
}

/// Decoding failures are internal errors, never "unavailable": they say
/// nothing about the connection.
fn pg<'a, T: tokio_postgres::types::FromSql<'a>>(
    r: &'a tokio_postgres::Row,
    i: usize,
) -> StoreResult<T> {
    r.try_get(i)
        .map_err(|e| StoreError::Other(format!("decoding column {i}: {e}")))
}

impl Row for tokio_postgres::Row {
    fn text(&self, i: usize) -> StoreResult<String> {
        pg(self, i)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        pg(self, i)
    }
    fn int(&self, i: usize) -> StoreResult<i64> {
        pg(self, i)
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        pg(self, i)
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        pg(self, i)
    }
    fn real(&self, i: usize) -> StoreResult<f64> {
        pg(self, i)
    }
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        pg(self, i)
    }
}
