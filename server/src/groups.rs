//! Groups: the one place their rules live, for the admin API and the
//! console (and any other writer). A name is what IdPs assert (display
//! names, CNs), so spaces and most punctuation are allowed; control
//! characters and '/' are not. Every write is versioned; a conditional
//! write is answered as it stands, a blind one retries a lost race.

use ssoplane_schema::FieldError;

use crate::store::{GroupRow, GroupWrite, GroupWritten, Precondition, Store, StoreError};

/// Blind writes racing a concurrent creator on PostgreSQL retry this often.
const MAX_WRITE_ATTEMPTS: u32 = 3;
pub const MAX_DESCRIPTION: usize = 1024;

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
    let ok = !name.trim().is_empty()
        && name.len() <= 255
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || c == '/');
    if ok {
        Ok(())
    } else {
        Err(GroupError::Invalid(vec![FieldError {
            field: "name".into(),
            message: "must be 1-255 characters without leading/trailing spaces, control characters or '/'".into(),
        }]))
    }
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
    if description.len() > MAX_DESCRIPTION {
        return Err(GroupError::Invalid(vec![FieldError {
            field: "description".into(),
            message: format!("must be at most {MAX_DESCRIPTION} characters"),
        }]));
    }
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
