//! Full-text search over chat messages: the statements and repository.
//!
//! The engines differ where they must (FTS5's `MATCH` and `bm25`;
//! PostgreSQL's `@@` and `ts_rank_cd`); the columns, the filter (tenancy,
//! session, role, time) and the order are written once. Tenancy is checked
//! against the sessions table itself, so a row of the index alone can never
//! show another owner's message. Snippets are cut from the stored text by
//! [`snippet`], the same on both backends.

use async_trait::async_trait;
use portal_core::search::{snippet, SearchHit, SearchQuery};
use portal_core::store::{SearchRepo, StoreResult};

use super::{Db, Dialect, Exec, Row, Sql, SqlStore};
use crate::args;

/// `$2` org, `$3` principal, then the optional session, role, from and until.
macro_rules! filter {
    () => {
        " JOIN chat_sessions s ON s.id = f.session_id \
         WHERE s.org_id = $2 AND s.principal_id = $3 AND f.org_id = $2 AND f.principal_id = $3 \
         AND ($4::TEXT IS NULL OR f.session_id = $4) AND ($5::TEXT IS NULL OR f.role = $5) \
         AND ($6::BIGINT IS NULL OR f.created_at >= $6) AND ($7::BIGINT IS NULL OR f.created_at < $7)"
    };
}

/// The columns, then `FROM` the engine's table joined to `message_search f`.
macro_rules! select {
    ($score:literal) => {
        concat!(
            "SELECT f.session_id, f.message_id, f.role, m.content, ",
            $score,
            " AS score, f.created_at FROM "
        )
    };
}

/// Best first, ties newest first; `$8` rows.
macro_rules! order {
    () => {
        " ORDER BY score DESC, f.created_at DESC, f.message_id{C} LIMIT $8"
    };
}

/// bm25 is lower-is-better; the score is its negation.
static SEARCH_SQLITE: Sql = Sql::new(concat!(
    select!("-bm25(message_search_fts)"),
    "message_search_fts JOIN message_search f ON f.id = message_search_fts.rowid \
     JOIN chat_messages m ON m.id = f.message_id",
    filter!(),
    " AND message_search_fts MATCH $1",
    order!()
));

/// Cover density normalised by length (close to bm25's shape).
static SEARCH_POSTGRES: Sql = Sql::new(concat!(
    select!("ts_rank_cd(f.doc, to_tsquery('simple', $1), 1)::FLOAT8"),
    "message_search f JOIN chat_messages m ON m.id = f.message_id",
    filter!(),
    " AND f.doc @@ to_tsquery('simple', $1)",
    order!()
));

fn row(r: &dyn Row) -> StoreResult<(SearchHit, String)> {
    Ok((
        SearchHit {
            session_id: r.text(0)?,
            message_id: r.text(1)?,
            role: r.text(2)?,
            snippet: Vec::new(),
            score: r.real(4)?,
            created_at: r.int(5)?,
        },
        r.text(3)?,
    ))
}

#[async_trait]
impl<B: Db> SearchRepo for SqlStore<B> {
    async fn search_messages(
        &self,
        org_id: &str,
        principal_id: &str,
        q: &SearchQuery,
    ) -> StoreResult<Vec<SearchHit>> {
        let matching = B::DIALECT.fulltext_query(&q.terms);
        let kind = q.kind.map(|k| k.as_str());
        let session = q.session_id.as_deref();
        let sql = match B::DIALECT {
            Dialect::Sqlite => &SEARCH_SQLITE,
            Dialect::Postgres => &SEARCH_POSTGRES,
        };
        let a = args![
            matching,
            org_id,
            principal_id,
            session,
            kind,
            q.from,
            q.to,
            q.limit
        ];
        let mut c = self.0.reader().await?;
        let rows = c.rows(sql, &a, row).await?;
        Ok(rows
            .into_iter()
            .map(|(hit, content)| SearchHit {
                snippet: snippet(&content, &q.terms),
                ..hit
            })
            .collect())
    }
}
