//! Login resolution: from what a source asserted about a user to one user
//! row, through identity links, in one write transaction. A user is reached
//! only through a link from the same provider; an existing user with no link
//! from it is a collision, unless the provider's `link_existing_users`
//! allows linking by login or email. Every login then replaces that source's
//! grants and group memberships only, and recomputes the effective values.
//!
//! The order, for subjects offered strongest first (external uid, NameID,
//! login):
//! 1. a link for the strongest subject: that user;
//! 2. a link for a weaker subject, if the user has no stronger link from this
//!    provider: that user, given the strongest subject as a new link (this
//!    upgrades the `login` links the migration made, while a recycled login
//!    never reaches the account of a person known by a stable subject);
//! 3. the login handle or email already taken: a collision, or with
//!    `link_existing_users` a link to that user when it has no identity from
//!    this provider yet;
//! 4. otherwise a new user, when sign-up allows, linked by the strongest subject.
//!
//! Two concurrent first logins race on the unique constraints (users.login,
//! the link's key): the loser's transaction fails, rolls back and is
//! resolved once more, now finding the winner's link. On PostgreSQL (read
//! committed) the loser may instead see the winner's user appear between two
//! of its reads and take it for a collision; a collision is therefore
//! resolved once more too, and stands only if the second resolution — which
//! sees the winner's user and link together — finds it again.

use ssoplane_schema::saml::LinkExisting;

use super::grants;
use super::provision::{CollisionReason, ProvisionError, SignUpRefusal};
use super::subject::{LinkKind, Subject};
use crate::store::{GrantRow, LinkRow, Store, Tx, UserRow};

/// What a source asserts about the user logging in.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// The provider slug (or `local`): where links, grants and groups come from.
    pub source: String,
    /// Strongest first; never empty.
    pub subjects: Vec<Subject>,
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    pub link_existing: LinkExisting,
    /// Whether a new user may be created, and if not why.
    pub sign_up: Result<(), SignUpRefusal>,
    /// This source's role, admin flag and organizations after the login.
    pub grant: GrantRow,
    /// This source's group memberships after the login; `None` leaves them.
    pub groups: Option<Vec<String>>,
}

/// Who the request resolves to.
enum Found {
    /// An existing user, and the link this login adds to it, if any.
    Existing(Box<UserRow>, Option<Subject>),
    New,
}

/// Resolves the request to a user and applies the login (grants, groups,
/// profile from the creating source), atomically.
pub async fn resolve(store: &Store, req: &LoginRequest) -> Result<UserRow, ProvisionError> {
    once_more_after_a_race(&req.source, ProvisionError::may_be_a_race, || async move {
        let mut tx = store.begin_write().await?;
        let user = resolve_in(&mut tx, req).await?;
        tx.commit().await?;
        Ok(user)
    })
    .await
}

/// Runs `attempt`, a whole write transaction that resolves a login, and runs
/// it once more when it failed on what `may_be_a_race` (see the module
/// header): the loser's transaction rolled back, and the second attempt
/// finds the winner's rows. The one place that rule lives, for every caller
/// that resolves logins inside a transaction of its own.
///
/// `attempt` returns a fresh future per call rather than being an async
/// closure: the futures of async closures are not yet known to be `Send`,
/// which axum's handlers must be.
pub async fn once_more_after_a_race<T, E, F, Fut>(
    source: &str,
    may_be_a_race: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    match attempt().await {
        Err(e) if may_be_a_race(&e) => {
            tracing::info!(source, reason = %e, "resolving the login again");
            attempt().await
        }
        other => other,
    }
}

/// [`resolve`]'s work inside the caller's write transaction `tx`, for a
/// caller that commits more with it. No retry here: after an error that
/// [`ProvisionError::may_be_a_race`], the caller rolls `tx` back and tries
/// its whole transaction once more.
pub async fn resolve_in(tx: &mut Tx, req: &LoginRequest) -> Result<UserRow, ProvisionError> {
    let now = crate::settings::now();
    match find(tx, req, &now).await? {
        Found::Existing(user, link) => apply(tx, req, *user, link, &now).await,
        Found::New => create(tx, req, &now).await,
    }
}

fn strongest(req: &LoginRequest) -> Result<&Subject, ProvisionError> {
    req.subjects.first().ok_or(ProvisionError::NoSubject)
}

async fn find(tx: &mut Tx, req: &LoginRequest, now: &str) -> Result<Found, ProvisionError> {
    let source = req.source.as_str();
    let strongest = strongest(req)?;
    for (i, subject) in req.subjects.iter().enumerate() {
        let Some(user) = tx
            .user_by_link(source, subject.kind.as_str(), &subject.value)
            .await?
        else {
            continue;
        };
        if i == 0 {
            return Ok(Found::Existing(Box::new(user), None));
        }
        let links = locked_links(tx, &user, now).await?;
        let stronger_known = links
            .iter()
            .filter(|l| l.provider == source)
            .filter_map(|l| LinkKind::parse(&l.kind))
            .any(|k| k > subject.kind);
        if stronger_known {
            // This provider knows that user by a stronger subject than the
            // one matched, and it was not asserted: someone else under a
            // reused weaker value. Left to the collision checks below.
            break;
        }
        return Ok(Found::Existing(Box::new(user), Some(strongest.clone())));
    }
    let by_login = tx.user_by_login(&req.login).await?;
    // Two are enough to know the email is not one user's.
    let by_email = if req.email.is_empty() {
        Vec::new()
    } else {
        tx.users_by_email(&req.email, 2).await?
    };
    let (candidate, what) = match req.link_existing {
        LinkExisting::ByLogin => (by_login.clone(), "login"),
        LinkExisting::ByEmail if by_email.len() == 1 => {
            let u = by_email[0].clone();
            match &by_login {
                // The login is another user's: by_email cannot decide.
                Some(l) if l.id != u.id => (None, "email"),
                _ => (Some(u), "email"),
            }
        }
        _ => (None, ""),
    };
    if let Some(user) = candidate {
        let links = locked_links(tx, &user, now).await?;
        if links.iter().any(|l| l.provider == source) {
            return Err(collision(req, what, &user, CollisionReason::LinkedToOther));
        }
        return Ok(Found::Existing(Box::new(user), Some(strongest.clone())));
    }
    if let Some(user) = by_login {
        let reason = if has_link_from(tx, &user, source).await? {
            CollisionReason::LinkedToOther
        } else {
            CollisionReason::NotLinked
        };
        return Err(collision(req, "login", &user, reason));
    }
    if let Some(user) = by_email.first() {
        let reason = if by_email.len() > 1 {
            CollisionReason::Shared
        } else if has_link_from(tx, user, source).await? {
            CollisionReason::LinkedToOther
        } else {
            CollisionReason::NotLinked
        };
        return Err(collision(req, "email", user, reason));
    }
    Ok(Found::New)
}

/// The user's links, read once the user's row is locked: a concurrent login
/// linking another identity to this user commits first and is seen here,
/// so two people cannot both be linked on the strength of one weak match.
async fn locked_links(
    tx: &mut Tx,
    user: &UserRow,
    now: &str,
) -> Result<Vec<LinkRow>, ProvisionError> {
    tx.touch_login(&user.id, now).await?;
    Ok(tx.links_of(&user.id).await?)
}

async fn has_link_from(tx: &mut Tx, user: &UserRow, source: &str) -> Result<bool, ProvisionError> {
    Ok(tx
        .links_of(&user.id)
        .await?
        .iter()
        .any(|l| l.provider == source))
}

fn collision(
    req: &LoginRequest,
    what: &'static str,
    user: &UserRow,
    reason: CollisionReason,
) -> ProvisionError {
    ProvisionError::Collision {
        provider: req.source.clone(),
        what,
        value: if what == "login" {
            req.login.clone()
        } else {
            req.email.clone()
        },
        user_id: user.id.clone(),
        reason,
    }
}

fn link(source: &str, subject: &Subject, user_id: &str, now: &str) -> LinkRow {
    LinkRow {
        provider: source.to_owned(),
        kind: subject.kind.as_str().to_owned(),
        subject: subject.value.clone(),
        user_id: user_id.to_owned(),
        created_at: now.to_owned(),
    }
}

/// This source's grant and groups replaced, the effective values
/// recomputed: only what differs from the stored values is written, so a
/// returning user asserting what it asserted last time costs one row update
/// (the login time) and no cache invalidation.
async fn apply(
    tx: &mut Tx,
    req: &LoginRequest,
    user: UserRow,
    new_link: Option<Subject>,
    now: &str,
) -> Result<UserRow, ProvisionError> {
    // First write on the row: concurrent logins of this user queue here,
    // and what follows compares against the row as locked, not as first read.
    let mut user = tx
        .touch_login(&user.id, now)
        .await?
        .ok_or_else(|| ProvisionError::Vanished(user.id.clone()))?;
    if user.disabled {
        return Err(ProvisionError::Disabled(user.login));
    }
    if let Some(subject) = &new_link {
        tx.insert_link(&link(&req.source, subject, &user.id, now))
            .await?;
        tracing::info!(
            user = user.id,
            provider = req.source,
            kind = subject.kind.as_str(),
            "identity linked to an existing user"
        );
    }
    let mut changed = false;
    // The profile is the creating source's: another provider linked to the
    // user must not rewrite the email or external uid others match on.
    if user.provider == req.source
        && (user.email != req.email
            || user.name != req.name
            || user.external_uid != req.external_uid)
    {
        tx.update_profile(&user.id, &req.email, &req.name, &req.external_uid)
            .await?;
        user.email = req.email.clone();
        user.name = req.name.clone();
        user.external_uid = req.external_uid.clone();
        changed = true;
    }
    let mut grants = tx.grants_of(&user.id).await?;
    let held = grants.iter_mut().find(|g| g.source == req.grant.source);
    if held.as_deref() != Some(&req.grant) {
        tx.put_grant(&user.id, &req.grant, now).await?;
        match held {
            Some(g) => *g = req.grant.clone(),
            None => grants.push(req.grant.clone()),
        }
        changed = true;
    }
    if let Some(groups) = &req.groups {
        let mut wanted = groups.clone();
        wanted.sort();
        wanted.dedup();
        if tx.groups_from(&user.id, &req.source).await? != wanted {
            tx.set_groups(&user.id, &req.source, &wanted).await?;
            changed = true;
        }
    }
    let effective = grants::effective(&grants);
    if (
        &effective.role,
        effective.is_admin,
        &effective.organizations,
    ) != (&user.role, user.is_admin, &user.organizations)
    {
        tx.set_effective(&user.id, &effective).await?;
        user.role = effective.role;
        user.is_admin = effective.is_admin;
        user.organizations = effective.organizations;
        changed = true;
    }
    if changed {
        // Forward auth on every replica answers with the new values.
        tx.user_changed(&user.id);
    }
    Ok(user)
}

async fn create(tx: &mut Tx, req: &LoginRequest, now: &str) -> Result<UserRow, ProvisionError> {
    if let Err(refusal) = &req.sign_up {
        return Err(refusal.to_error(&req.login));
    }
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        login: req.login.clone(),
        email: req.email.clone(),
        name: req.name.clone(),
        external_uid: req.external_uid.clone(),
        provider: req.source.clone(),
        role: req.grant.role.clone(),
        is_admin: req.grant.is_admin,
        disabled: false,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        last_login_at: Some(now.to_owned()),
        organizations: req.grant.organizations.clone(),
        created_by: String::new(),
    };
    tx.insert_user(&user).await?;
    tx.insert_link(&link(&req.source, strongest(req)?, &user.id, now))
        .await?;
    tx.put_grant(&user.id, &req.grant, now).await?;
    if let Some(groups) = &req.groups {
        tx.set_groups(&user.id, &req.source, groups).await?;
    }
    Ok(user)
}
