//! Notification SQL on the core database, written once for both backends. Ids are UUID v7, so ordering by id is
//! ordering by creation, and an id is a stable cursor.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{Notification, NotificationRow};
use crate::db::DbPool;
use crate::with_pool;

macro_rules! columns {
    () => {
        "id, user_id, kind, title, body, data, entity_type, entity_id, read_at, created_at"
    };
}

const INSERT: &str = concat!(
    "insert into notifications (id, user_id, kind, title, body, data, entity_type, entity_id, created_at, \
     updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning ",
    columns!()
);

const FIRST_PAGE: &str = concat!(
    "select ",
    columns!(),
    " from notifications where user_id = $1 and (not $2 or read_at is null) order by id desc limit $3"
);

const NEXT_PAGE: &str = concat!(
    "select ",
    columns!(),
    " from notifications where user_id = $1 and (not $2 or read_at is null) and id < $4 order by id desc limit $3"
);

const SINCE: &str =
    concat!("select ", columns!(), " from notifications where user_id = $1 and id > $2 order by id limit $3");

const BY_ID: &str = concat!("select ", columns!(), " from notifications where id = $1 and user_id = $2");

const MARK_READ: &str = "update notifications set read_at = coalesce(read_at, $3), updated_at = $3 \
     where id = $1 and user_id = $2";

const MARK_ALL_READ: &str =
    "update notifications set read_at = $2, updated_at = $2 where user_id = $1 and read_at is null";

const PURGE_READ: &str = "delete from notifications where read_at is not null and read_at < $1";

const UNREAD: &str = "select count(*) from notifications where user_id = $1 and read_at is null";

pub(super) struct Insert<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub data: Option<&'a serde_json::Value>,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<Uuid>,
    pub now: DateTime<Utc>,
}

pub(super) async fn insert(pool: &DbPool, row: &Insert<'_>) -> Result<Notification, sqlx::Error> {
    let stored: NotificationRow = with_pool!(pool, |p| sqlx::query_as(INSERT)
        .bind(row.id)
        .bind(row.user_id)
        .bind(row.kind)
        .bind(row.title)
        .bind(row.body)
        .bind(row.data.map(Json))
        .bind(row.entity_type)
        .bind(row.entity_id)
        .bind(row.now)
        .fetch_one(p)
        .await)?;
    Ok(stored.into())
}

/// Newest first; after `before` (an id) when given.
pub(super) async fn page(
    pool: &DbPool,
    user: Uuid,
    unread: bool,
    limit: i64,
    before: Option<Uuid>,
) -> Result<Vec<Notification>, sqlx::Error> {
    let rows: Vec<NotificationRow> = match before {
        None => {
            with_pool!(pool, |p| sqlx::query_as(FIRST_PAGE).bind(user).bind(unread).bind(limit).fetch_all(p).await)?
        }
        Some(before) => with_pool!(pool, |p| sqlx::query_as(NEXT_PAGE)
            .bind(user)
            .bind(unread)
            .bind(limit)
            .bind(before)
            .fetch_all(p)
            .await)?,
    };
    Ok(rows.into_iter().map(Notification::from).collect())
}

/// Oldest first: the ones created after `after`.
pub(super) async fn since(
    pool: &DbPool,
    user: Uuid,
    after: Uuid,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let rows: Vec<NotificationRow> =
        with_pool!(pool, |p| sqlx::query_as(SINCE).bind(user).bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(Notification::from).collect())
}

pub(super) async fn by_id(pool: &DbPool, id: Uuid, user: Uuid) -> Result<Option<Notification>, sqlx::Error> {
    let row: Option<NotificationRow> =
        with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).bind(user).fetch_optional(p).await)?;
    Ok(row.map(Notification::from))
}

/// False when the user has no such notification.
pub(super) async fn mark_read(pool: &DbPool, id: Uuid, user: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(MARK_READ)
        .bind(id)
        .bind(user)
        .bind(now)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

pub(super) async fn mark_all_read(pool: &DbPool, user: Uuid, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(MARK_ALL_READ)
        .bind(user)
        .bind(now)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))
}

pub(super) async fn unread(pool: &DbPool, user: Uuid) -> Result<i64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(UNREAD).bind(user).fetch_one(p).await)
}

pub(super) async fn purge_read(pool: &DbPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(PURGE_READ).bind(before).execute(p).await.map(|done| done.rows_affected()))
}
