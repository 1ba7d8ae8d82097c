//! User resources: create, read, replace, PATCH, delete and list a SCIM
//! client's users. Each write is one transaction — the user's row locked,
//! `If-Match` checked against its version, uniqueness of userName and of
//! the externalId link checked, the audit entry written — and a user left
//! disabled has every session ended once it commits. A user SCIM creates
//! is created by source `scim` with the token's name as `created_by`, no
//! role (logins grant roles) and, with an externalId, the identity link
//! `(provider, external_uid, externalId)`: that provider's first login
//! asserting it signs this user in.

use serde_json::{json, Map, Value};

use super::ctx::{raced, Ctx, IfMatch};
use super::error::ScimError;
use super::filter::{indexed_eq, Filter};
use super::list::ListQuery;
use super::matcher;
use super::patch;
use super::resource::{self, UserColumns};
use super::schema::USERS;
use crate::identity::sessions;
use crate::identity::subject::LinkKind;
use crate::store::{LinkRow, ScimUserRow, ScimUserWrite, Tx, UserRow};

/// Users scanned per query when a filter has no index to use.
const SCAN_BATCH: i64 = 500;

/// A user and its `scim` groups, ready to render.
pub struct Found {
    pub row: ScimUserRow,
    pub groups: Vec<(String, String)>,
}

impl Found {
    pub fn render(&self, base: &str) -> Result<Value, ScimError> {
        resource::render_user(&self.row, &self.groups, base)
    }
}

fn taken(login: &str) -> ScimError {
    ScimError::uniqueness(format!("userName {login:?} is already taken"))
}

fn link_taken(provider: &str) -> ScimError {
    ScimError::uniqueness(format!(
        "externalId is already linked to a user of provider {provider:?}"
    ))
}

async fn read(ctx: &Ctx<'_>, id: &str) -> Result<Found, ScimError> {
    let row = ctx
        .store
        .scim_user(&ctx.client.provider, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let groups = ctx.store.scim_groups_of(id).await?;
    Ok(Found { row, groups })
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!(
        "no User resource {:?} for this client",
        id.chars().take(64).collect::<String>()
    ))
}

pub async fn get(ctx: &Ctx<'_>, id: &str) -> Result<Found, ScimError> {
    read(ctx, id).await
}

pub async fn create(ctx: &Ctx<'_>, body: &Value) -> Result<Found, ScimError> {
    let doc = resource::from_body(&USERS, body)?;
    let cols = resource::user_columns(&doc)?;
    let provider = ctx.client.provider.as_str();
    let mut tx = ctx.store.begin_write().await?;
    if tx.user_by_login(&cols.login).await?.is_some() {
        return Err(taken(&cols.login));
    }
    let kind = LinkKind::ExternalUid.as_str();
    if !cols.external_uid.is_empty()
        && tx
            .user_by_link(provider, kind, &cols.external_uid)
            .await?
            .is_some()
    {
        return Err(link_taken(provider));
    }
    let now = crate::settings::now();
    let id = uuid::Uuid::new_v4().to_string();
    let user = UserRow {
        id: id.clone(),
        login: cols.login.clone(),
        email: cols.email.clone(),
        name: cols.name.clone(),
        external_uid: cols.external_uid.clone(),
        provider: "scim".into(),
        // No grant until a login grants one: SCIM grants group memberships only.
        role: "none".into(),
        is_admin: false,
        disabled: !cols.active,
        created_at: now.clone(),
        updated_at: now.clone(),
        last_login_at: None,
        organizations: Vec::new(),
        created_by: ctx.client.token.clone(),
    };
    let write = async {
        tx.insert_user(&user).await?;
        tx.claim_scim_user(
            &id,
            provider,
            &Value::Object(cols.rest.clone()).to_string(),
            1,
        )
        .await?;
        if !cols.external_uid.is_empty() {
            tx.insert_link(&LinkRow {
                provider: provider.to_owned(),
                kind: kind.to_owned(),
                subject: cols.external_uid.clone(),
                user_id: id.clone(),
                created_at: now.clone(),
            })
            .await?;
        }
        Ok::<_, crate::store::StoreError>(())
    };
    write.await.map_err(raced)?;
    let changes = json!({"attributes": attribute_names(&doc)});
    ctx.audit(&mut tx, "create", "User", &id, 1, changes)
        .await?;
    tx.commit().await.map_err(raced)?;
    read(ctx, &id).await
}

/// Top-level attribute names of a document (extension attributes as `urn:attr`).
fn attribute_names(doc: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in doc {
        match v {
            Value::Object(o) if k.starts_with("urn:") => {
                out.extend(o.keys().map(|a| format!("{k}:{a}")));
            }
            _ => out.push(k.clone()),
        }
    }
    out
}

/// The attributes whose values differ between two documents.
fn changed(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<String> {
    let flat = |d: &Map<String, Value>| -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in d {
            match v {
                Value::Object(o) if k.starts_with("urn:") => {
                    for (a, x) in o {
                        out.insert(format!("{k}:{a}"), x.clone());
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    };
    let (old, new) = (flat(old), flat(new));
    let mut names: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Locks the user's row and checks the precondition: the row as it stands.
async fn locked(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    id: &str,
    pre: &Option<IfMatch>,
) -> Result<ScimUserRow, ScimError> {
    let provider = ctx.client.provider.as_str();
    if !tx.lock_scim_user(provider, id).await? {
        return Err(not_found(id));
    }
    let row = tx
        .scim_user(provider, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    IfMatch::check(pre, row.version)?;
    Ok(row)
}

/// Writes new columns over a locked row: userName and externalId moves
/// checked, the externalId link moved with it.
async fn write(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    row: &ScimUserRow,
    cols: &UserColumns,
) -> Result<i64, ScimError> {
    let provider = ctx.client.provider.as_str();
    if cols.login != row.user.login && tx.user_by_login(&cols.login).await?.is_some() {
        return Err(taken(&cols.login));
    }
    let kind = LinkKind::ExternalUid.as_str();
    let now = crate::settings::now();
    if cols.external_uid != row.user.external_uid {
        if !cols.external_uid.is_empty() {
            if let Some(other) = tx.user_by_link(provider, kind, &cols.external_uid).await? {
                if other.id != row.user.id {
                    return Err(link_taken(provider));
                }
            }
        }
        if !row.user.external_uid.is_empty() {
            tx.delete_link(provider, kind, &row.user.external_uid)
                .await?;
        }
        if !cols.external_uid.is_empty() {
            tx.insert_link(&LinkRow {
                provider: provider.to_owned(),
                kind: kind.to_owned(),
                subject: cols.external_uid.clone(),
                user_id: row.user.id.clone(),
                created_at: now.clone(),
            })
            .await
            .map_err(raced)?;
        }
    }
    let version = row.version + 1;
    let json = Value::Object(cols.rest.clone()).to_string();
    tx.update_scim_user(&ScimUserWrite {
        id: &row.user.id,
        login: &cols.login,
        email: &cols.email,
        name: &cols.name,
        external_uid: &cols.external_uid,
        disabled: !cols.active,
        scim_json: &json,
        version,
        at: &now,
    })
    .await
    .map_err(raced)?;
    Ok(version)
}

/// Commits, then ends every session of a user the write left disabled
/// (lookups already refuse a disabled user; this removes the sessions).
async fn commit(ctx: &Ctx<'_>, tx: Tx, id: &str, disabled: bool) -> Result<(), ScimError> {
    tx.commit().await.map_err(raced)?;
    if disabled {
        let ended = sessions::end_all_for_user(ctx.store, id).await?;
        tracing::info!(user = id, ended, "user deprovisioned: sessions ended");
    }
    Ok(())
}

async fn update(
    ctx: &Ctx<'_>,
    id: &str,
    pre: &Option<IfMatch>,
    action: &str,
    next: impl FnOnce(Map<String, Value>) -> Result<Map<String, Value>, ScimError>,
) -> Result<Found, ScimError> {
    let mut tx = ctx.store.begin_write().await?;
    let row = locked(ctx, &mut tx, id, pre).await?;
    let old = resource::user_doc(&row)?;
    let new = next(old.clone())?;
    let cols = resource::user_columns(&new)?;
    let version = write(ctx, &mut tx, &row, &cols).await?;
    let changes = json!({"attributes": changed(&old, &new)});
    ctx.audit(&mut tx, action, "User", id, version, changes)
        .await?;
    commit(ctx, tx, id, !cols.active).await?;
    read(ctx, id).await
}

pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
    pre: &Option<IfMatch>,
) -> Result<Found, ScimError> {
    let mut doc = resource::from_body(&USERS, body)?;
    update(ctx, id, pre, "replace", move |old| {
        // The externalId is the identity link to the provider: a PUT that
        // leaves it out keeps it rather than unlinking the user's logins.
        if let (None, Some(ext)) = (doc.get("externalId"), old.get("externalId")) {
            doc.insert("externalId".into(), ext.clone());
        }
        Ok(doc)
    })
    .await
}

pub async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
    pre: &Option<IfMatch>,
) -> Result<Found, ScimError> {
    let ops = patch::parse(&USERS, body)?;
    update(ctx, id, pre, "patch", move |mut doc| {
        patch::apply(&USERS, &mut doc, &ops)?;
        Ok(doc)
    })
    .await
}

/// SCIM DELETE: the user is disabled, every session ends, and the user
/// leaves the client's view (404 from then on). The row stays, with its
/// links: a login asserting its externalId finds a disabled user.
pub async fn delete(ctx: &Ctx<'_>, id: &str, pre: &Option<IfMatch>) -> Result<(), ScimError> {
    let mut tx = ctx.store.begin_write().await?;
    let row = locked(ctx, &mut tx, id, pre).await?;
    let version = row.version + 1;
    tx.release_scim_user(id, version, &crate::settings::now())
        .await?;
    ctx.audit(&mut tx, "delete", "User", id, version, json!({}))
        .await?;
    commit(ctx, tx, id, true).await
}

fn mentions_groups(f: &Filter) -> bool {
    match f {
        Filter::Compare(p, ..) | Filter::Present(p) | Filter::ValuePath(p, _) => {
            p.attr.name == "groups"
        }
        Filter::And(a, b) | Filter::Or(a, b) => mentions_groups(a) || mentions_groups(b),
        Filter::Not(a) => mentions_groups(a),
    }
}

/// A page of the client's users matching the query, and how many match.
pub async fn list(ctx: &Ctx<'_>, q: &ListQuery) -> Result<(i64, Vec<Found>), ScimError> {
    let provider = ctx.client.provider.as_str();
    let offset = q.start_index - 1;
    let Some(filter) = &q.filter else {
        let total = ctx.store.scim_users_count(provider).await?;
        let rows = ctx.store.scim_users_page(provider, q.count, offset).await?;
        return Ok((total, with_groups(ctx, rows, q).await?));
    };
    let with = mentions_groups(filter);
    let mut matched: Vec<ScimUserRow> = Vec::new();
    let mut total = 0i64;
    let mut consider = |row: ScimUserRow, groups: Vec<(String, String)>| -> Result<(), ScimError> {
        let doc = resource::render_user(&row, &groups, ctx.base)?;
        if matcher::matches(filter, &doc) {
            if total >= offset && (matched.len() as i64) < q.count {
                matched.push(row);
            }
            total += 1;
        }
        Ok(())
    };
    match indexed_eq(filter, &["userName", "externalId", "id"]) {
        Some((attr, value)) => {
            let rows = match attr {
                "userName" => ctx
                    .store
                    .scim_user_by_login(provider, value)
                    .await?
                    .into_iter()
                    .collect(),
                "externalId" => ctx.store.scim_users_by_external_id(provider, value).await?,
                _ => ctx
                    .store
                    .scim_user(provider, value)
                    .await?
                    .into_iter()
                    .collect::<Vec<_>>(),
            };
            for row in rows {
                let groups = if with {
                    ctx.store.scim_groups_of(&row.user.id).await?
                } else {
                    Vec::new()
                };
                consider(row, groups)?;
            }
        }
        None => {
            let mut after = String::new();
            loop {
                let batch = ctx
                    .store
                    .scim_users_after(provider, &after, SCAN_BATCH)
                    .await?;
                let Some(last) = batch.last() else { break };
                after = last.user.id.clone();
                let done = (batch.len() as i64) < SCAN_BATCH;
                for row in batch {
                    let groups = if with {
                        ctx.store.scim_groups_of(&row.user.id).await?
                    } else {
                        Vec::new()
                    };
                    consider(row, groups)?;
                }
                if done {
                    break;
                }
            }
        }
    }
    Ok((total, with_groups(ctx, matched, q).await?))
}

async fn with_groups(
    ctx: &Ctx<'_>,
    rows: Vec<ScimUserRow>,
    q: &ListQuery,
) -> Result<Vec<Found>, ScimError> {
    let wanted = q.projection.wants("groups");
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let groups = if wanted {
            ctx.store.scim_groups_of(&row.user.id).await?
        } else {
            Vec::new()
        };
        out.push(Found { row, groups });
    }
    Ok(out)
}
