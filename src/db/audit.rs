//! The audit log: inserted, never updated; read newest first by key, never by OFFSET.

use super::Db;
use sqlx::{FromRow, QueryBuilder, Sqlite};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// A JSON object.
    pub detail: String,
}

/// Equality filters; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
}

/// The position after which a page starts: the `(at, id)` of the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: String,
    pub id: i64,
}

impl Cursor {
    pub fn of(row: &AuditRow) -> Cursor {
        Cursor {
            at: row.at.clone(),
            id: row.id,
        }
    }
}

pub async fn insert(
    db: &Db,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (actor, action, target, detail) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// Up to `limit` rows matching `filter`, newest first, strictly older than `before`. Each page
/// is one index range scan, so page 1,000 costs what page 1 costs.
pub async fn page(
    db: &Db,
    filter: &Filter,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE 1 = 1",
    );
    if let Some(a) = &filter.actor {
        q.push(" AND actor = ").push_bind(a.clone());
    }
    if let Some(a) = &filter.action {
        q.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(t) = &filter.target {
        q.push(" AND target = ").push_bind(t.clone());
    }
    if let Some(c) = before {
        q.push(" AND (at, id) < (")
            .push_bind(c.at.clone())
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_by_key_newest_first_with_filters() {
        let (_dir, db) = crate::db::test_db().await;
        // Same timestamp for all: the id breaks the ties.
        for i in 0..7 {
            let actor = if i % 2 == 0 { "ann" } else { "bob" };
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ('2026-01-01T00:00:00.000Z', ?, 'signin', '', '{}')",
            )
            .bind(actor)
            .execute(&db)
            .await
            .unwrap();
        }
        insert(
            &db,
            "ann",
            "deployment.edit",
            "deployment:1",
            "{\"version\":2}",
        )
        .await
        .unwrap();
        let all = Filter::default();
        let p1 = page(&db, &all, None, 3).await.unwrap();
        assert_eq!(
            p1[0].action, "deployment.edit",
            "the newest row comes first"
        );
        assert_eq!(p1.iter().map(|r| r.id).collect::<Vec<_>>(), [8, 7, 6]);
        let p2 = page(&db, &all, Some(&Cursor::of(&p1[2])), 3).await.unwrap();
        assert_eq!(p2.iter().map(|r| r.id).collect::<Vec<_>>(), [5, 4, 3]);
        let p3 = page(&db, &all, Some(&Cursor::of(&p2[2])), 3).await.unwrap();
        assert_eq!(p3.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 1]);

        let ann = Filter {
            actor: Some("ann".into()),
            ..Filter::default()
        };
        let rows = page(&db, &ann, None, 100).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [8, 7, 5, 3, 1]
        );
        let edits = Filter {
            action: Some("deployment.edit".into()),
            target: Some("deployment:1".into()),
            ..Filter::default()
        };
        let rows = page(&db, &edits, None, 100).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].detail, "{\"version\":2}");
    }

    #[tokio::test]
    async fn paging_uses_an_index() {
        let (_dir, db) = crate::db::test_db().await;
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT id, at, actor, action, target, detail FROM audit_log WHERE actor = 'a' AND (at, id) < ('x', 1) \
             ORDER BY at DESC, id DESC LIMIT 50",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let text: String = plan
            .iter()
            .map(|p| p.3.clone())
            .collect::<Vec<_>>()
            .join("; ");
        assert!(
            text.contains("INDEX audit_log_actor (actor=? AND at<?)"),
            "{text}"
        );
        assert!(!text.contains("TEMP B-TREE"), "no sort step: {text}");
    }
}
