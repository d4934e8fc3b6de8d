//! Full-text search over chat messages: the statements and repository.
//!
//! The engines differ where they must (FTS5's `MATCH` and `bm25`;
//! PostgreSQL's `@@` and `ts_rank_cd`); the columns, the filter (tenancy,
//! session, role, time) and the order are written once. Tenancy is checked
//! against the sessions table itself, so a row of the index alone can never
//! show another owner's message. Snippets are cut from the stored text by
//! [`snippet`], the same on both backends.

use async_trait::async_trait;
use portal_core::search::embed::{from_bytes, to_bytes};
use portal_core::search::{snippet, IndexSource, SearchHit, SearchQuery, StoredVector};
use portal_core::store::{SearchRepo, StoreResult};
use portal_core::StoreError;

use super::{Arg, Db, Dialect, Exec, Row, Sql, SqlStore};
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

/// Vector hits made whole: `$1` the message ids, the rest as above.
static BY_ID: Sql = Sql::new(concat!(
    select!("0.0::FLOAT8"),
    "message_search f JOIN chat_messages m ON m.id = f.message_id",
    filter!(),
    " AND f.message_id {ANY $1}",
    order!()
));

/// The columns of an [`IndexSource`].
macro_rules! source {
    () => {
        "SELECT f.id, f.message_id, f.org_id, f.principal_id, f.session_id, f.role, m.content, \
         f.created_at FROM message_search f JOIN chat_messages m ON m.id = f.message_id "
    };
}

static SOURCES: Sql = Sql::new(concat!(
    source!(),
    "JOIN chat_sessions s ON s.id = f.session_id \
     WHERE s.org_id = $1 AND f.org_id = $1 AND f.message_id {ANY $2} ORDER BY f.id"
));

/// Not yet embedded with model `$1`.
macro_rules! unembedded {
    () => {
        "NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.message_id = f.message_id AND e.model = $1)"
    };
}

static UNEMBEDDED: Sql = Sql::new(concat!(
    source!(),
    "WHERE f.id > $2 AND ",
    unembedded!(),
    " ORDER BY f.id LIMIT $3"
));

static COUNT_UNEMBEDDED: Sql = Sql::new(concat!(
    "SELECT COUNT(*) FROM message_search f WHERE ",
    unembedded!()
));

static DELETE_VECTORS: Sql = Sql::new("DELETE FROM embeddings WHERE message_id = $1");

/// Takes `$2` sequence numbers of the organisation; the last one taken. The
/// row lock it holds until commit serialises the org's writers.
static BUMP_SEQ: Sql = Sql::new(
    "INSERT INTO embedding_seqs (org_id, seq) VALUES ($1, $2) \
     ON CONFLICT (org_id) DO UPDATE SET seq = embedding_seqs.seq + $2 RETURNING seq",
);

static INSERT_VECTOR: Sql = Sql::new(
    "INSERT INTO embeddings (org_id, seq, principal_id, session_id, message_id, chunk, model, \
     role, created_at, vector) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
);

static SINCE: Sql = Sql::new(
    "SELECT seq, principal_id, session_id, message_id, chunk, role, created_at, vector \
     FROM embeddings WHERE org_id = $1 AND model = $2 AND seq > $3 ORDER BY seq LIMIT $4",
);

fn source(r: &dyn Row) -> StoreResult<IndexSource> {
    Ok(IndexSource {
        index_id: r.int(0)?,
        message_id: r.text(1)?,
        org_id: r.text(2)?.into(),
        principal_id: r.text(3)?,
        session_id: r.text(4)?,
        role: r.text(5)?,
        content: r.text(6)?,
        created_at: r.int(7)?,
    })
}

fn stored(r: &dyn Row) -> StoreResult<StoredVector> {
    let bytes = r.bytes(7)?;
    Ok(StoredVector {
        seq: r.int(0)?,
        principal_id: r.text(1)?,
        session_id: r.text(2)?,
        message_id: r.text(3)?,
        chunk: r.int(4)?,
        role: r.text(5)?,
        created_at: r.int(6)?,
        vector: from_bytes(&bytes)
            .ok_or_else(|| StoreError::Other("a stored vector is not whole f32s".into()))?,
    })
}

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
        org_id: &portal_core::ids::OrgId,
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
        Ok(with_snippets(rows, q))
    }

    async fn search_hits_by_id(
        &self,
        org_id: &portal_core::ids::OrgId,
        principal_id: &str,
        q: &SearchQuery,
        message_ids: &[String],
    ) -> StoreResult<Vec<SearchHit>> {
        let kind = q.kind.map(|k| k.as_str());
        let ids = Ids(message_ids.iter().map(String::as_str).collect());
        let session = q.session_id.as_deref();
        let limit = message_ids.len() as i64;
        let a = args![
            ids,
            org_id,
            principal_id,
            session,
            kind,
            q.from,
            q.to,
            limit
        ];
        let mut c = self.0.reader().await?;
        let rows = c.rows(&BY_ID, &a, row).await?;
        Ok(with_snippets(rows, q))
    }

    async fn index_sources(
        &self,
        org_id: &portal_core::ids::OrgId,
        message_ids: &[String],
    ) -> StoreResult<Vec<IndexSource>> {
        let ids: Vec<&str> = message_ids.iter().map(String::as_str).collect();
        let mut c = self.0.reader().await?;
        c.rows(&SOURCES, &[Arg::Text(org_id), Arg::Texts(ids)], source)
            .await
    }

    async fn unembedded(
        &self,
        model: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<IndexSource>> {
        let mut c = self.0.reader().await?;
        c.rows(&UNEMBEDDED, &args![model, after, limit], source)
            .await
    }

    async fn count_unembedded(&self, model: &str) -> StoreResult<i64> {
        let mut c = self.0.reader().await?;
        c.one(&COUNT_UNEMBEDDED, &args![model], |r| r.int(0)).await
    }

    async fn put_embeddings(
        &self,
        src: &IndexSource,
        model: &str,
        vectors: &[Vec<f32>],
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        tx.execute(&DELETE_VECTORS, &args![src.message_id]).await?;
        if !vectors.is_empty() {
            let n = vectors.len() as i64;
            let last = tx
                .one(&BUMP_SEQ, &args![src.org_id, n], |r| r.int(0))
                .await?;
            for (chunk, (v, seq)) in (0i64..).zip(vectors.iter().zip(last - n + 1..)) {
                let bytes = to_bytes(v);
                let a = args![
                    src.org_id,
                    seq,
                    src.principal_id,
                    src.session_id,
                    src.message_id,
                    chunk,
                    model,
                    src.role,
                    src.created_at,
                    bytes
                ];
                tx.execute(&INSERT_VECTOR, &a).await?;
            }
        }
        tx.commit().await
    }

    async fn embeddings_since(
        &self,
        org_id: &portal_core::ids::OrgId,
        model: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredVector>> {
        let mut c = self.0.reader().await?;
        c.rows(&SINCE, &args![org_id, model, after, limit], stored)
            .await
    }
}

/// A list of message ids as one `{ANY}` parameter.
struct Ids<'a>(Vec<&'a str>);

impl crate::sql::arg::IntoArg for Ids<'_> {
    fn arg(&self) -> Arg<'_> {
        Arg::Texts(self.0.clone())
    }
}

fn with_snippets(rows: Vec<(SearchHit, String)>, q: &SearchQuery) -> Vec<SearchHit> {
    rows.into_iter()
        .map(|(hit, content)| SearchHit {
            snippet: snippet(&content, &q.terms),
            ..hit
        })
        .collect()
}
