//! Group resources of a SCIM client. A SCIM group is an ssoplane group of
//! origin `scim` (its `id` stable across renames: memberships follow the
//! name by ON UPDATE CASCADE); its members are the memberships of source
//! `scim`, which logins never replace, so a user's effective groups are
//! the union of SCIM's and each provider's assertion-synced ones. Members
//! must be users of the same client. Every write takes the group's row lock
//! first (SQLite: the write lock), so concurrent PATCHes adding members
//! apply one after the other and none is lost.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::ctx::{raced, Ctx, IfMatch};
use super::error::{ScimError, ScimType};
use super::filter::indexed_eq;
use super::list::ListQuery;
use super::matcher;
use super::patch::{self, MemberOp};
use super::resource::{self, GroupParts};
use super::schema::GROUPS;
use crate::store::{ScimGroupRow, ScimGroupWrite, ScimMemberRow, Tx};

const SCAN_BATCH: i64 = 500;

pub struct Found {
    pub row: ScimGroupRow,
    /// `None` when the members were not asked for.
    pub members: Option<Vec<ScimMemberRow>>,
}

impl Found {
    pub fn render(&self, base: &str) -> Value {
        resource::render_group(&self.row, self.members.as_deref(), base)
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!(
        "no Group resource {:?} for this client",
        id.chars().take(64).collect::<String>()
    ))
}

fn name_taken(name: &str) -> ScimError {
    ScimError::uniqueness(format!("displayName {name:?} is already taken by a group"))
}

pub async fn get(ctx: &Ctx<'_>, id: &str, members: bool) -> Result<Found, ScimError> {
    let row = ctx
        .store
        .scim_group(&ctx.client.provider, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let members = if members {
        Some(ctx.store.scim_members(&row.name).await?)
    } else {
        None
    };
    Ok(Found { row, members })
}

/// Checks that every id is a user of this client.
async fn check_members(ctx: &Ctx<'_>, tx: &mut Tx, ids: &[String]) -> Result<(), ScimError> {
    for id in ids {
        if tx.scim_user(&ctx.client.provider, id).await?.is_none() {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                format!(
                    "members: {:?} is not a User resource of this client",
                    id.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// Members added and removed by one write, for the audit entry.
#[derive(Default)]
struct Delta {
    added: BTreeSet<String>,
    removed: BTreeSet<String>,
}

impl Delta {
    async fn add(&mut self, tx: &mut Tx, name: &str, id: &str) -> Result<(), ScimError> {
        if tx.add_scim_member(id, name).await? {
            self.removed.remove(id);
            self.added.insert(id.to_owned());
        }
        Ok(())
    }

    async fn remove(&mut self, tx: &mut Tx, name: &str, id: &str) -> Result<(), ScimError> {
        if tx.remove_scim_member(id, name).await? {
            self.added.remove(id);
            self.removed.insert(id.to_owned());
        }
        Ok(())
    }

    fn changes(&self, attributes: Vec<String>) -> Value {
        json!({"attributes": attributes, "members_added": self.added, "members_removed": self.removed})
    }
}

async fn apply_members(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    name: &str,
    ops: &[MemberOp],
    delta: &mut Delta,
) -> Result<(), ScimError> {
    for op in ops {
        match op {
            MemberOp::Add(ids) => {
                check_members(ctx, tx, ids).await?;
                for id in ids {
                    delta.add(tx, name, id).await?;
                }
            }
            MemberOp::Remove(ids) => {
                for id in ids {
                    delta.remove(tx, name, id).await?;
                }
            }
            MemberOp::RemoveMatching(f) => {
                for m in tx.scim_members(name).await? {
                    let element = json!({"value": m.user_id, "$ref": format!("{}/Users/{}", ctx.base, m.user_id), "type": "User"});
                    if matcher::matches(f, &element) {
                        delta.remove(tx, name, &m.user_id).await?;
                    }
                }
            }
            MemberOp::RemoveAll => {
                for m in tx.scim_members(name).await? {
                    delta.remove(tx, name, &m.user_id).await?;
                }
            }
            MemberOp::Set(ids) => {
                check_members(ctx, tx, ids).await?;
                for m in tx.scim_members(name).await? {
                    if !ids.contains(&m.user_id) {
                        delta.remove(tx, name, &m.user_id).await?;
                    }
                }
                for id in ids {
                    delta.add(tx, name, id).await?;
                }
            }
        }
    }
    Ok(())
}

pub async fn create(ctx: &Ctx<'_>, body: &Value) -> Result<Found, ScimError> {
    let doc = resource::from_body(&GROUPS, body)?;
    let parts = resource::group_parts(&doc)?;
    let mut tx = ctx.store.begin_write().await?;
    if tx.group_by_name(&parts.name).await?.is_some() {
        return Err(name_taken(&parts.name));
    }
    check_members(ctx, &mut tx, &parts.members).await?;
    let version = tx.next_group_revision().await?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::settings::now();
    tx.insert_scim_group(&ScimGroupWrite {
        id: &id,
        name: &parts.name,
        external_id: &parts.external_id,
        provider: &ctx.client.provider,
        version,
        at: &now,
        actor: &ctx.client.token,
    })
    .await
    .map_err(raced)?;
    let mut delta = Delta::default();
    for m in &parts.members {
        delta.add(&mut tx, &parts.name, m).await?;
    }
    let attributes: Vec<String> = doc.keys().cloned().collect();
    ctx.audit(
        &mut tx,
        "create",
        "Group",
        &id,
        version,
        delta.changes(attributes),
    )
    .await?;
    tx.commit().await.map_err(raced)?;
    get(ctx, &id, true).await
}

async fn locked(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    id: &str,
    pre: &Option<IfMatch>,
) -> Result<ScimGroupRow, ScimError> {
    let provider = ctx.client.provider.as_str();
    if !tx.lock_scim_group(provider, id).await? {
        return Err(not_found(id));
    }
    let row = tx
        .scim_group(provider, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    IfMatch::check(pre, row.version)?;
    Ok(row)
}

/// Renames (checked for uniqueness) and stores the new version.
async fn write(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    row: &ScimGroupRow,
    name: &str,
    external_id: &str,
) -> Result<i64, ScimError> {
    if name != row.name && tx.group_by_name(name).await?.is_some() {
        return Err(name_taken(name));
    }
    if name != row.name {
        // Every member's X-Auth-Groups changes: cached sessions must hear it.
        tx.all_sessions_changed();
    }
    let version = tx.next_group_revision().await?;
    tx.update_scim_group(&ScimGroupWrite {
        id: &row.id,
        name,
        external_id,
        provider: &ctx.client.provider,
        version,
        at: &crate::settings::now(),
        actor: &ctx.client.token,
    })
    .await
    .map_err(raced)?;
    Ok(version)
}

fn renamed(row: &ScimGroupRow, parts: &GroupParts) -> Vec<String> {
    let mut out = Vec::new();
    if parts.name != row.name {
        out.push("displayName".to_owned());
    }
    if parts.external_id != row.external_id {
        out.push("externalId".to_owned());
    }
    out
}

pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
    pre: &Option<IfMatch>,
) -> Result<Found, ScimError> {
    let doc = resource::from_body(&GROUPS, body)?;
    let parts = resource::group_parts(&doc)?;
    let mut tx = ctx.store.begin_write().await?;
    let row = locked(ctx, &mut tx, id, pre).await?;
    let version = write(ctx, &mut tx, &row, &parts.name, &parts.external_id).await?;
    let mut delta = Delta::default();
    apply_members(
        ctx,
        &mut tx,
        &parts.name,
        &[MemberOp::Set(parts.members.clone())],
        &mut delta,
    )
    .await?;
    let changes = delta.changes(renamed(&row, &parts));
    ctx.audit(&mut tx, "replace", "Group", id, version, changes)
        .await?;
    tx.commit().await.map_err(raced)?;
    get(ctx, id, true).await
}

/// PATCH; returns the group, with its members only when `members` is set
/// (a member PATCH on a large group need not read them all back).
pub async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
    pre: &Option<IfMatch>,
    members: bool,
) -> Result<Found, ScimError> {
    let (rest, member_ops) = patch::split_members(patch::parse(&GROUPS, body)?)?;
    let mut tx = ctx.store.begin_write().await?;
    let row = locked(ctx, &mut tx, id, pre).await?;
    let mut doc = Map::new();
    doc.insert("displayName".into(), json!(row.name));
    if !row.external_id.is_empty() {
        doc.insert("externalId".into(), json!(row.external_id));
    }
    patch::apply(&GROUPS, &mut doc, &rest)?;
    let parts = resource::group_parts(&doc)?;
    let version = write(ctx, &mut tx, &row, &parts.name, &parts.external_id).await?;
    let mut delta = Delta::default();
    apply_members(ctx, &mut tx, &parts.name, &member_ops, &mut delta).await?;
    let changes = delta.changes(renamed(&row, &parts));
    ctx.audit(&mut tx, "patch", "Group", id, version, changes)
        .await?;
    tx.commit().await.map_err(raced)?;
    get(ctx, id, members).await
}

pub async fn delete(ctx: &Ctx<'_>, id: &str, pre: &Option<IfMatch>) -> Result<(), ScimError> {
    let mut tx = ctx.store.begin_write().await?;
    let row = locked(ctx, &mut tx, id, pre).await?;
    tx.delete_scim_group(&ctx.client.provider, id).await?;
    ctx.audit(
        &mut tx,
        "delete",
        "Group",
        id,
        row.version,
        json!({"displayName": row.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(ctx: &Ctx<'_>, q: &ListQuery) -> Result<(i64, Vec<Found>), ScimError> {
    let provider = ctx.client.provider.as_str();
    let offset = q.start_index - 1;
    let with_members = q.projection.wants("members");
    let rows = match &q.filter {
        None => {
            let total = ctx.store.scim_groups_count(provider).await?;
            let rows = ctx
                .store
                .scim_groups_page(provider, q.count, offset)
                .await?;
            return Ok((total, members_of(ctx, rows, with_members).await?));
        }
        Some(filter) => {
            let candidates: Option<Vec<ScimGroupRow>> =
                match indexed_eq(filter, &["displayName", "id"]) {
                    Some(("displayName", v)) => Some(
                        ctx.store
                            .scim_group_by_name(provider, v)
                            .await?
                            .into_iter()
                            .collect(),
                    ),
                    Some((_, v)) => Some(
                        ctx.store
                            .scim_group(provider, v)
                            .await?
                            .into_iter()
                            .collect(),
                    ),
                    None => None,
                };
            let mut matched = Vec::new();
            let mut total = 0i64;
            let mut after = String::new();
            let mut batch = candidates.clone().unwrap_or_default();
            loop {
                if candidates.is_none() {
                    batch = ctx
                        .store
                        .scim_groups_after(provider, &after, SCAN_BATCH)
                        .await?;
                }
                let done = candidates.is_some() || (batch.len() as i64) < SCAN_BATCH;
                if let Some(last) = batch.last() {
                    after = last.id.clone();
                }
                for row in std::mem::take(&mut batch) {
                    // Filters on members read them (value, $ref, type).
                    let members = if filter_mentions_members(filter) {
                        Some(ctx.store.scim_members(&row.name).await?)
                    } else {
                        None
                    };
                    let doc = resource::render_group(&row, members.as_deref(), ctx.base);
                    if matcher::matches(filter, &doc) {
                        if total >= offset && (matched.len() as i64) < q.count {
                            matched.push(row);
                        }
                        total += 1;
                    }
                }
                if done {
                    break;
                }
            }
            (total, matched)
        }
    };
    let (total, matched) = rows;
    Ok((total, members_of(ctx, matched, with_members).await?))
}

fn filter_mentions_members(f: &super::filter::Filter) -> bool {
    use super::filter::Filter;
    match f {
        Filter::Compare(p, ..) | Filter::Present(p) | Filter::ValuePath(p, _) => {
            p.attr.name == "members"
        }
        Filter::And(a, b) | Filter::Or(a, b) => {
            filter_mentions_members(a) || filter_mentions_members(b)
        }
        Filter::Not(a) => filter_mentions_members(a),
    }
}

async fn members_of(
    ctx: &Ctx<'_>,
    rows: Vec<ScimGroupRow>,
    with_members: bool,
) -> Result<Vec<Found>, ScimError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let members = if with_members {
            Some(ctx.store.scim_members(&row.name).await?)
        } else {
            None
        };
        out.push(Found { row, members });
    }
    Ok(out)
}
