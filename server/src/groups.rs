//! Groups: the one service that writes them, for the admin API and the
//! console (and any other writer). The name and description rules are
//! `ssoplane_schema::group`'s, which the Terraform provider checks at plan
//! time too. Every write is versioned; a conditional write is answered as
//! it stands, a blind one retries a lost race.

use ssoplane_schema::FieldError;

use crate::store::{GroupRow, GroupWrite, GroupWritten, Precondition, Store, StoreError};

/// Blind writes racing a concurrent creator on PostgreSQL retry this often.
const MAX_WRITE_ATTEMPTS: u32 = 3;
pub use ssoplane_schema::group::MAX_DESCRIPTION;

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("the group is invalid")]
    Invalid(Vec<FieldError>),
    #[error("group {0:?} does not exist")]
    NotFound(String),
    #[error("the group is at version {current}")]
    Stale { current: i64 },
    #[error("the group already exists (version {current})")]
    Exists { current: i64 },
    #[error("gave up after {MAX_WRITE_ATTEMPTS} concurrent writes to group {0:?}; retry")]
    Contended(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn check_name(name: &str) -> Result<(), GroupError> {
    ssoplane_schema::group::check_name(name).map_err(|e| GroupError::Invalid(vec![e]))
}

/// Who writes, for the audit columns.
pub struct Writer<'a> {
    pub actor: &'a str,
    pub managed_by: &'a str,
}

/// Creates or updates a group; returns whether it was created, and the row.
pub async fn put(
    store: &Store,
    name: &str,
    description: &str,
    pre: Precondition,
    by: &Writer<'_>,
) -> Result<(bool, GroupRow), GroupError> {
    check_name(name)?;
    ssoplane_schema::group::check_description(description)
        .map_err(|e| GroupError::Invalid(vec![e]))?;
    let now = crate::settings::now();
    let write = GroupWrite {
        name,
        description,
        at: &now,
        actor: by.actor,
        managed_by: by.managed_by,
    };
    let mut written = GroupWritten::Refused;
    for _ in 0..MAX_WRITE_ATTEMPTS {
        written = store.put_group(&write, pre).await?;
        // Only a blind write can lose to a concurrent creator and still be
        // owed success; a conditional one is answered as it stands.
        if written != GroupWritten::Refused || pre != Precondition::None {
            break;
        }
    }
    let created = match written {
        GroupWritten::Created => true,
        GroupWritten::Updated => false,
        GroupWritten::Refused if pre == Precondition::None => {
            return Err(GroupError::Contended(name.to_owned()))
        }
        GroupWritten::Refused => {
            let current = store.get_group(name).await?.map_or(0, |g| g.version);
            return Err(if pre == Precondition::Absent {
                GroupError::Exists { current }
            } else {
                GroupError::Stale { current }
            });
        }
    };
    let row = store
        .get_group(name)
        .await?
        .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
    Ok((created, row))
}

/// Deletes a group and its memberships.
pub async fn delete(store: &Store, name: &str, pre: Precondition) -> Result<(), GroupError> {
    check_name(name)?;
    if store.delete_group(name, pre).await? {
        return Ok(());
    }
    Err(match store.get_group(name).await? {
        Some(g) => GroupError::Stale { current: g.version },
        None => GroupError::NotFound(name.to_owned()),
    })
}
