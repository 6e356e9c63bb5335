-- core: users, access control, tokens, notifications, settings, Amazon credentials, audit.
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.

create table users (
    id blob primary key,
    email text not null check (length(email) between 3 and 320),
    display_name text not null default '',
    password_hash text not null, -- argon2id PHC string
    is_active integer not null default 1 check (is_active in (0, 1)),
    failed_login_count integer not null default 0 check (failed_login_count >= 0),
    locked_until text,
    last_login_at text,
    password_changed_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

-- queried as lower(email) = lower($1) on both backends
create unique index users_email_lower_key on users (lower(email));

create table roles (
    id blob primary key,
    name text not null unique,
    description text not null default '',
    is_builtin integer not null default 0 check (is_builtin in (0, 1)),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create table permissions (
    id blob primary key,
    code text not null unique check (code like '%_:_%'), -- domain:action
    description text not null default '',
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create table user_roles (
    user_id blob not null references users (id) on delete cascade,
    role_id blob not null references roles (id) on delete cascade,
    granted_by blob references users (id) on delete set null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    primary key (user_id, role_id)
) strict;

create index user_roles_role_id_idx on user_roles (role_id);

create table role_permissions (
    role_id blob not null references roles (id) on delete cascade,
    permission_id blob not null references permissions (id) on delete cascade,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    primary key (role_id, permission_id)
) strict;

create index role_permissions_permission_id_idx on role_permissions (permission_id);

-- Rotating refresh tokens: a reused (already rotated) token revokes its whole family.
create table refresh_tokens (
    id blob primary key,
    user_id blob not null references users (id) on delete cascade,
    family_id blob not null,
    token_hash blob not null unique,
    replaced_by blob references refresh_tokens (id) on delete set null,
    expires_at text not null,
    last_used_at text,
    revoked_at text,
    revoked_reason text,
    user_agent text,
    ip text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index refresh_tokens_user_id_idx on refresh_tokens (user_id);
create index refresh_tokens_family_id_idx on refresh_tokens (family_id);
create index refresh_tokens_expires_at_idx on refresh_tokens (expires_at);

create table api_keys (
    id blob primary key,
    user_id blob not null references users (id) on delete cascade,
    name text not null,
    prefix text not null unique, -- shown to identify the key; the secret part is only hashed
    key_hash blob not null unique,
    scopes text not null default '[]', -- array of permission codes
    expires_at text,
    last_used_at text,
    revoked_at text,
    created_by blob references users (id) on delete set null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index api_keys_user_id_idx on api_keys (user_id);

create table notifications (
    id blob primary key,
    user_id blob not null references users (id) on delete cascade,
    kind text not null, -- job_finished, job_failed, import_summary, export_summary, ...
    title text not null,
    body text not null default '',
    data text,
    entity_type text,
    entity_id blob,
    read_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index notifications_user_id_read_at_idx on notifications (user_id, read_at, created_at);

-- credentials_encrypted: AES-256-GCM nonce || ciphertext of the secret JSON (client secret, refresh token)
create table amazon_api_configs (
    id blob primary key,
    name text not null unique,
    provider text not null check (provider in ('sp_api', 'creators')),
    marketplace text not null, -- e.g. FR
    marketplace_id text, -- Amazon marketplace id, e.g. A13V1IB3VIYZZH
    region text,
    endpoint text,
    client_id text,
    partner_tag text,
    credentials_encrypted blob not null,
    rate_limit_per_second real check (rate_limit_per_second > 0),
    rate_limit_burst integer check (rate_limit_burst > 0),
    is_active integer not null default 1 check (is_active in (0, 1)),
    created_by blob references users (id) on delete set null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index amazon_api_configs_provider_marketplace_idx on amazon_api_configs (provider, marketplace);

-- Only values changed from the built-in defaults are stored.
create table app_settings (
    id blob primary key,
    key text not null unique,
    value text not null,
    description text not null default '',
    updated_by blob references users (id) on delete set null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

-- Security events (logins, lockouts, tokens, keys, roles, settings); append-only.
-- Ordinary write activity goes to analytics.user_activity.
create table audit_log (
    id blob primary key,
    actor_user_id blob references users (id) on delete set null,
    actor_api_key_id blob references api_keys (id) on delete set null,
    action text not null,
    entity_type text,
    entity_id blob,
    ip text,
    user_agent text,
    request_id text,
    details text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index audit_log_created_at_idx on audit_log (created_at);
create index audit_log_actor_user_id_idx on audit_log (actor_user_id, created_at);
create index audit_log_entity_idx on audit_log (entity_type, entity_id);
