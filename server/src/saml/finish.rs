//! What an accepted response writes, in one transaction: the login request
//! consumed, the assertion ID remembered, the user provisioned, the session
//! and the success event stored. All of it commits or none of it does: one
//! commit instead of five, on either store. A login that fails after
//! the response was verified still spends the request and the assertion
//! ([`consume`]), so a refused response cannot be played again later when
//! the settings or the users have changed.

use ssoplane_schema::SamlSettings;

use super::acs::AcsError;
use crate::identity::attributes::{Claims, Identity};
use crate::identity::authorize::Decision;
use crate::identity::sessions::Sessions;
use crate::identity::{provision, resolve};
use crate::store::{LoginEventRow, Store, Tx, UserRow};

/// What a verified response spends: the request it answers (none for an
/// IdP-initiated login) and its assertion ID, remembered until `horizon`
/// (when the assertion could no longer be accepted anyway).
pub struct Spent<'a> {
    pub provider: &'a str,
    pub request: Option<&'a str>,
    pub assertion: &'a str,
    pub horizon: i64,
}

/// A login that committed: its user and the new session's cookie value.
pub struct LoggedIn {
    pub user: UserRow,
    pub token: String,
}

/// Spends the request and the assertion ID on their own, for a response
/// that ends without a session (a test sign-in, a refused identity).
pub async fn consume(store: &Store, spent: &Spent<'_>) -> Result<(), AcsError> {
    let mut tx = store.begin_write().await?;
    spend(&mut tx, spent).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes a verified, authorized login: see the module header. `cid` is
/// the correlation id its login event carries.
pub async fn login(
    store: &Store,
    sessions: &Sessions,
    settings: &SamlSettings,
    spent: &Spent<'_>,
    login: (&Identity, &Decision, &Claims),
    cid: &str,
) -> Result<LoggedIn, AcsError> {
    let (identity, decision, claims) = login;
    let provider = spent.provider;
    // Two concurrent first logins of one person race on the unique keys:
    // the loser rolls back everything, spending included, and resolves
    // once more, now finding the winner's user.
    let done = resolve::once_more_after_a_race(provider, AcsError::may_be_a_race, || async move {
        let mut tx = store.begin_write().await?;
        spend(&mut tx, spent).await?;
        let user = provision::provision(&mut tx, settings, provider, identity, decision).await?;
        let (token, row) =
            sessions.new_session(&user, provider, &claims.name_id, &claims.session_index);
        tx.insert_session(&row).await?;
        let reason = format!("role {}", decision.role);
        let event = LoginEventRow::new(provider, "success", reason, &identity.login, cid);
        tx.insert_login_event(&event).await?;
        tx.commit().await?;
        Ok(LoggedIn { user, token })
    })
    .await;
    if let Err(AcsError::Provision(_)) = &done {
        consume(store, spent).await?;
    }
    done
}

/// One response per request, even with two ACS calls racing; one use per
/// assertion ID across replicas.
async fn spend(tx: &mut Tx, spent: &Spent<'_>) -> Result<(), AcsError> {
    if let Some(irt) = spent.request {
        if !tx.take_saml_request(irt).await? {
            return Err(AcsError::RequestReplayed(irt.to_owned()));
        }
    }
    if !tx
        .remember_assertion(spent.assertion, spent.provider, spent.horizon)
        .await?
    {
        return Err(AcsError::AssertionReplayed(spent.assertion.to_owned()));
    }
    Ok(())
}
