//! Users, roles, sign-in, lockout and tokens on both backends, on an injected clock.

use productsmanager_core::auth::{AuthError, ClientInfo, NewApiKey, NewRole, NewUser};
use productsmanager_core::db::Backend;
use productsmanager_core::jobs::Clock;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Error, ErrorKind, both_backends};

use crate::jobs::TestClock;

const PASSWORD: &str = "correct horse battery";

fn new_user(email: &str, roles: &[&str]) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: Some("Test".into()),
        password: PASSWORD.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn from(address: &str) -> ClientInfo {
    ClientInfo { address: Some(address.into()), user_agent: Some("tests".into()) }
}

fn auth_error(error: Error) -> AuthError {
    match error {
        Error::Auth(e) => e,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

async fn sign_in_and_tokens(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "sign_in_and_tokens").await else { return };
    let sdk = env.sdk().await;
    let clock = TestClock::new();
    let auth = sdk.auth_with(clock.clone());

    let ana = auth.create_user(new_user("Ana@Example.com", &["catalog_manager"])).await.unwrap();
    assert_eq!(ana.email, "Ana@Example.com");
    // The e-mail is unique whatever its case; the error does not leak anything but the conflict.
    let taken = auth.create_user(new_user("ana@example.COM", &[])).await.unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict, "{taken}");

    // Sign-in is case-insensitive on the e-mail; the access token names the user and their permissions.
    let tokens = auth.login("ANA@example.com", PASSWORD, &from("10.0.0.1")).await.unwrap();
    assert_eq!((tokens.expires_in, tokens.token_type.as_str()), (900, "Bearer"));
    let who = auth.authenticate(&tokens.access_token).await.unwrap();
    assert_eq!(who.user_id, ana.id);
    assert!(who.can("catalog:write") && who.can("imports:run"));
    assert!(!who.can("admin:users"));
    let denied = who.require("admin:users").unwrap_err();
    assert!(matches!(&denied, AuthError::Forbidden { permission } if permission == "admin:users"));
    assert_eq!(Error::from(denied).kind(), ErrorKind::Forbidden);

    // Wrong password and unknown e-mail: the same answer.
    let wrong = auth_error(auth.login("ana@example.com", "not the password", &from("10.0.0.1")).await.unwrap_err());
    let unknown = auth_error(auth.login("nobody@example.com", PASSWORD, &from("10.0.0.1")).await.unwrap_err());
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert!(matches!(wrong, AuthError::InvalidCredentials));

    // Refresh: a new pair; the old refresh token is spent.
    let second = auth.refresh(&tokens.refresh_token, &from("10.0.0.1")).await.unwrap();
    assert_ne!(second.refresh_token, tokens.refresh_token);
    assert_eq!(auth.authenticate(&second.access_token).await.unwrap().user_id, ana.id);
    let third = auth.refresh(&second.refresh_token, &from("10.0.0.1")).await.unwrap();
    // Reuse of a spent token (a thief replaying it): refused, and the whole family is revoked, the
    // legitimate holder's newest tokens included.
    let reused = auth_error(auth.refresh(&tokens.refresh_token, &from("10.6.6.6")).await.unwrap_err());
    assert!(matches!(reused, AuthError::RefreshReused), "{reused}");
    assert!(auth.refresh(&third.refresh_token, &from("10.0.0.1")).await.is_err());
    let revoked = auth.authenticate(&third.access_token).await.unwrap_err();
    assert_eq!(revoked.kind(), ErrorKind::Unauthorized);

    // A new sign-in is a new family, untouched by the old one's revocation.
    let fresh = auth.login("ana@example.com", PASSWORD, &ClientInfo::default()).await.unwrap();
    assert!(auth.authenticate(&fresh.access_token).await.is_ok());

    // Access tokens expire with the clock; refresh tokens too.
    clock.advance(900);
    let expired = auth_error(auth.authenticate(&fresh.access_token).await.unwrap_err());
    assert!(matches!(expired, AuthError::InvalidToken { reason: "expired" }), "{expired}");
    let renewed = auth.refresh(&fresh.refresh_token, &ClientInfo::default()).await.unwrap();
    clock.advance(30 * 24 * 3600);
    let late = auth_error(auth.refresh(&renewed.refresh_token, &ClientInfo::default()).await.unwrap_err());
    assert!(matches!(late, AuthError::InvalidToken { reason: "expired" }), "{late}");

    // Signing out ends the sign-in: its access token stops working before it expires.
    let session = auth.login("ana@example.com", PASSWORD, &ClientInfo::default()).await.unwrap();
    auth.logout(&session.refresh_token).await.unwrap();
    assert!(auth.authenticate(&session.access_token).await.is_err());
    assert!(auth.refresh(&session.refresh_token, &ClientInfo::default()).await.is_err());

    // Garbage and forged tokens are 401s.
    for bad in ["", "garbage", "a.b.c", "pmr_nonsense"] {
        assert_eq!(auth.authenticate(bad).await.unwrap_err().kind(), ErrorKind::Unauthorized, "{bad:?}");
        assert_eq!(auth.refresh(bad, &ClientInfo::default()).await.unwrap_err().kind(), ErrorKind::Unauthorized);
    }
    sdk.close().await;
}

async fn lockout(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "auth_lockout").await else { return };
    let sdk = env.sdk().await;
    let clock = TestClock::new();
    let auth = sdk.auth_with(clock.clone());
    auth.create_user(new_user("bob@example.com", &["viewer"])).await.unwrap();

    // Five failures in a row lock the account for 60 s, even for the right password and from elsewhere.
    for _ in 0..5 {
        let refused = auth.login("bob@example.com", "guess guess guess", &from("192.0.2.1")).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unauthorized);
    }
    let locked = auth_error(auth.login("bob@example.com", PASSWORD, &from("192.0.2.99")).await.unwrap_err());
    assert!(matches!(locked, AuthError::Locked { retry_after_secs: 60 }), "{locked}");
    assert_eq!(Error::from(locked).kind(), ErrorKind::RateLimited);
    clock.advance(61);
    // One more failure after the lock: twice as long.
    auth.login("bob@example.com", "guess again", &from("192.0.2.99")).await.unwrap_err();
    let longer = auth_error(auth.login("bob@example.com", PASSWORD, &from("192.0.2.99")).await.unwrap_err());
    assert!(matches!(longer, AuthError::Locked { retry_after_secs: 120 }), "{longer}");
    clock.advance(121);
    // Success resets the count.
    auth.login("bob@example.com", PASSWORD, &from("192.0.2.99")).await.unwrap();
    auth.login("bob@example.com", "one slip", &from("192.0.2.99")).await.unwrap_err();
    auth.login("bob@example.com", PASSWORD, &from("192.0.2.99")).await.unwrap();

    // An address guessing over many accounts (unknown ones included) is locked after 4 × 5 failures,
    // for every account; other addresses are not.
    for n in 0..20 {
        auth.login(&format!("user{n}@example.com"), "guess", &from("198.51.100.7")).await.unwrap_err();
    }
    let blocked = auth_error(auth.login("bob@example.com", PASSWORD, &from("198.51.100.7")).await.unwrap_err());
    assert!(matches!(blocked, AuthError::Locked { .. }), "{blocked}");
    auth.login("bob@example.com", PASSWORD, &from("198.51.100.8")).await.unwrap();
    clock.advance(61);
    auth.login("bob@example.com", PASSWORD, &from("198.51.100.7")).await.unwrap();
    sdk.close().await;
}

async fn roles_and_users(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "roles_and_users").await else { return };
    let sdk = env.sdk().await;
    let auth = sdk.auth();

    let roles = auth.roles().await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["admin", "catalog_manager", "importer", "viewer"]);
    let admin = roles.iter().find(|r| r.name == "admin").unwrap();
    assert_eq!(admin.permissions.len(), productsmanager_core::auth::PERMISSIONS.len());
    assert!(roles.iter().all(|r| r.is_builtin));

    // A custom role; unknown permissions and taken names are refused.
    let auditor = auth
        .create_role(NewRole {
            name: "auditor".into(),
            description: "reads analytics".into(),
            permissions: vec!["analytics:read".into(), "catalog:read".into(), "analytics:read".into()],
        })
        .await
        .unwrap();
    assert_eq!(auditor.permissions, ["analytics:read", "catalog:read"]);
    let unknown = NewRole { name: "x".into(), permissions: vec!["catalog:destroy".into()], ..Default::default() };
    assert_eq!(auth.create_role(unknown).await.unwrap_err().kind(), ErrorKind::Invalid);
    let again = NewRole { name: "auditor".into(), permissions: vec![], ..Default::default() };
    assert_eq!(auth.create_role(again).await.unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(auth.delete_role("viewer").await.unwrap_err().kind(), ErrorKind::Conflict);

    // Grants take effect on the next request, without a new token.
    let carol = auth.create_user(new_user("carol@example.com", &[])).await.unwrap();
    let tokens = auth.login("carol@example.com", PASSWORD, &ClientInfo::default()).await.unwrap();
    assert!(auth.authenticate(&tokens.access_token).await.unwrap().permissions.is_empty());
    auth.grant(carol.id, "auditor", None).await.unwrap();
    auth.grant(carol.id, "auditor", None).await.unwrap();
    assert!(auth.authenticate(&tokens.access_token).await.unwrap().can("analytics:read"));
    assert_eq!(auth.roles_of(carol.id).await.unwrap(), ["auditor"]);
    auth.revoke(carol.id, "auditor", None).await.unwrap();
    assert_eq!(auth.revoke(carol.id, "auditor", None).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!auth.authenticate(&tokens.access_token).await.unwrap().can("analytics:read"));
    assert_eq!(auth.grant(carol.id, "no_such_role", None).await.unwrap_err().kind(), ErrorKind::NotFound);
    auth.grant(carol.id, "auditor", None).await.unwrap();
    auth.delete_role("auditor").await.unwrap();
    assert!(auth.roles_of(carol.id).await.unwrap().is_empty());

    // A new password signs the user out everywhere; deactivation too, and refuses sign-in.
    auth.set_password(carol.id, "another long password").await.unwrap();
    assert!(auth.authenticate(&tokens.access_token).await.is_err());
    assert!(auth.login("carol@example.com", PASSWORD, &ClientInfo::default()).await.is_err());
    let tokens = auth.login("carol@example.com", "another long password", &ClientInfo::default()).await.unwrap();
    auth.set_active(carol.id, false).await.unwrap();
    assert!(auth.authenticate(&tokens.access_token).await.is_err());
    let inactive = auth.login("carol@example.com", "another long password", &ClientInfo::default()).await;
    assert!(matches!(auth_error(inactive.unwrap_err()), AuthError::InvalidCredentials));
    assert_eq!(auth.set_password(carol.id, "short").await.unwrap_err().kind(), ErrorKind::Invalid);

    // Strings with SQL metacharacters are data, in every field.
    let tricky = "o'brien\";drop/**/table/**/users;--@example.com";
    let odd = auth
        .create_user(NewUser { display_name: Some("Robert'); drop table users;--".into()), ..new_user(tricky, &[]) })
        .await
        .unwrap();
    assert_eq!(auth.find_user(tricky).await.unwrap(), odd);
    assert_eq!(auth.find_user(&odd.id.to_string()).await.unwrap().display_name, "Robert'); drop table users;--");
    assert!(auth.login(tricky, PASSWORD, &from("' or 1=1 --")).await.is_ok());
    assert_eq!(auth.users().await.unwrap().len(), 2);
    for (input, field) in [
        (new_user("not-an-email", &[]), "email"),
        (NewUser { password: "short".into(), ..new_user("dan@example.com", &[]) }, "password"),
        (new_user("dan@example.com", &["no_such_role"]), "role"),
    ] {
        let refused = auth.create_user(input).await.unwrap_err();
        assert!(refused.to_string().contains(field), "{refused}");
    }
    assert_eq!(auth.users().await.unwrap().len(), 2, "nothing written by refused creations");
    sdk.close().await;
}

async fn first_admin(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "first_admin").await else { return };
    let sdk = env.sdk().await;
    let auth = sdk.auth();
    let first = auth.bootstrap_admin().await.unwrap().unwrap();
    assert_eq!(first.user.email, "admin@localhost");
    let password = first.generated_password.unwrap();
    assert!(password.len() >= 20);
    let tokens = auth.login("admin@localhost", &password, &ClientInfo::default()).await.unwrap();
    let admin = auth.authenticate(&tokens.access_token).await.unwrap();
    assert!(admin.can("admin:users") && admin.can("admin:settings") && admin.can("catalog:write"));
    // Only once.
    assert!(auth.bootstrap_admin().await.unwrap().is_none());
    sdk.close().await;
}

both_backends!(sign_in_and_tokens, lockout, roles_and_users, first_admin);

async fn api_keys(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "api_keys").await else { return };
    let sdk = env.sdk().await;
    let clock = TestClock::new();
    let auth = sdk.auth_with(clock.clone());
    let erin = auth.create_user(new_user("erin@example.com", &["catalog_manager"])).await.unwrap();

    let created = auth
        .create_api_key(
            NewApiKey {
                user_id: erin.id,
                name: "shop sync".into(),
                scopes: vec!["catalog:read".into(), "exports:run".into(), "admin:users".into()],
                expires_at: Some(clock.now() + chrono::Duration::days(30)),
            },
            Some(erin.id),
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with(&format!("{}.", created.key.prefix)), "{}", created.secret);
    assert!(created.key.prefix.starts_with("pmk_"));
    // Listed without the secret; only its hash is stored.
    let listed = auth.api_keys(Some(erin.id)).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&created.key));
    assert!(!serde_json::to_string(&listed).unwrap().contains(&created.secret));

    // The key acts for its user within its scopes: admin:users is named but erin does not hold it.
    let caller = auth.authenticate(&created.secret).await.unwrap();
    assert_eq!((caller.user_id, caller.api_key_id), (erin.id, Some(created.key.id)));
    let held: Vec<&str> = caller.permissions.iter().map(String::as_str).collect();
    assert_eq!(held, ["catalog:read", "exports:run"]);
    assert!(caller.require("catalog:write").is_err());
    assert!(auth.api_keys(None).await.unwrap()[0].last_used_at.is_some());

    // A wrong secret with the right prefix, an expired key and a revoked key are 401s.
    let forged = format!("{}.{}", created.key.prefix, "A".repeat(43));
    assert_eq!(auth.authenticate(&forged).await.unwrap_err().kind(), ErrorKind::Unauthorized);
    clock.advance(31 * 24 * 3600);
    let expired = auth_error(auth.authenticate(&created.secret).await.unwrap_err());
    assert!(matches!(expired, AuthError::InvalidToken { reason: "expired" }), "{expired}");
    let second =
        NewApiKey { user_id: erin.id, name: "feed".into(), scopes: vec!["catalog:read".into()], expires_at: None };
    let second = auth.create_api_key(second, None).await.unwrap();
    assert!(auth.authenticate(&second.secret).await.is_ok());
    auth.revoke_api_key(second.key.id, None).await.unwrap();
    assert_eq!(auth.revoke_api_key(second.key.id, None).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(auth.authenticate(&second.secret).await.is_err());

    // Deactivating the user stops their keys.
    let third =
        NewApiKey { user_id: erin.id, name: "erp".into(), scopes: vec!["catalog:read".into()], expires_at: None };
    let third = auth.create_api_key(third, None).await.unwrap();
    auth.set_active(erin.id, false).await.unwrap();
    assert!(auth.authenticate(&third.secret).await.is_err());

    // Bad input names the field; nothing is stored.
    let before = auth.api_keys(None).await.unwrap().len();
    for (input, field) in [
        (
            NewApiKey { user_id: erin.id, name: " ".into(), scopes: vec!["catalog:read".into()], expires_at: None },
            "name",
        ),
        (NewApiKey { user_id: erin.id, name: "x".into(), scopes: vec![], expires_at: None }, "scopes"),
        (
            NewApiKey { user_id: erin.id, name: "x".into(), scopes: vec!["catalog:nuke".into()], expires_at: None },
            "scopes",
        ),
        (
            NewApiKey {
                user_id: erin.id,
                name: "x".into(),
                scopes: vec!["catalog:read".into()],
                expires_at: Some(clock.now() - chrono::Duration::seconds(1)),
            },
            "expires_at",
        ),
    ] {
        let refused = auth.create_api_key(input, None).await.unwrap_err();
        assert!(refused.to_string().contains(field), "{refused}");
    }
    let nobody = NewApiKey {
        user_id: uuid::Uuid::now_v7(),
        name: "x".into(),
        scopes: vec!["catalog:read".into()],
        expires_at: None,
    };
    assert_eq!(auth.create_api_key(nobody, None).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(auth.api_keys(None).await.unwrap().len(), before);

    // The SDK's secret box: sealed bytes hold no plaintext and open only for their purpose.
    let sealed = sdk.secrets().seal("export_platforms:1", b"ck_live_secret").unwrap();
    assert!(!sealed.windows(14).any(|w| w == b"ck_live_secret"));
    assert_eq!(sdk.secrets().open("export_platforms:1", &sealed).unwrap(), b"ck_live_secret");
    sdk.close().await;
}

both_backends!(api_keys);

/// Callers are remembered for a few seconds (no lookups per request), yet every change made through this process
/// applies at once: a revoked key, a sign-out, a deactivated user, a role granted or revoked.
async fn cached_callers_follow_changes(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "cached_callers").await else { return };
    let sdk = env.sdk().await;
    assert_eq!(sdk.config().auth.caller_cache_secs, 5, "on by default");
    let auth = sdk.auth();
    let ana = auth.create_user(new_user("ana@example.com", &["viewer"])).await.unwrap();
    let scopes = vec!["catalog:read".into(), "catalog:write".into()];
    let key = NewApiKey { user_id: ana.id, name: "shop".into(), scopes, expires_at: None };
    let key = auth.create_api_key(key, None).await.unwrap();

    let first = auth.authenticate(&key.secret).await.unwrap();
    assert!(first.can("catalog:read") && !first.can("catalog:write"), "a viewer's key: reads only");
    auth.grant(ana.id, "catalog_manager", None).await.unwrap();
    assert!(auth.authenticate(&key.secret).await.unwrap().can("catalog:write"), "granted at once");
    auth.revoke(ana.id, "catalog_manager", None).await.unwrap();
    assert!(!auth.authenticate(&key.secret).await.unwrap().can("catalog:write"), "revoked at once");
    auth.revoke_api_key(key.key.id, None).await.unwrap();
    assert_eq!(auth.authenticate(&key.secret).await.unwrap_err().kind(), ErrorKind::Unauthorized);

    let session = auth.login("ana@example.com", PASSWORD, &ClientInfo::default()).await.unwrap();
    assert_eq!(auth.authenticate(&session.access_token).await.unwrap().user_id, ana.id);
    // Another service of the same SDK shares the cache and its forgetting.
    sdk.auth().logout(&session.refresh_token).await.unwrap();
    assert!(auth.authenticate(&session.access_token).await.is_err(), "signed out at once");
    let again = auth.login("ana@example.com", PASSWORD, &ClientInfo::default()).await.unwrap();
    auth.authenticate(&again.access_token).await.unwrap();
    auth.set_active(ana.id, false).await.unwrap();
    assert!(auth.authenticate(&again.access_token).await.is_err(), "deactivated at once");
    sdk.close().await;
}

both_backends!(cached_callers_follow_changes);
