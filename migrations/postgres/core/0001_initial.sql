-- core: users, access control, tokens, notifications, settings, Amazon credentials, audit.
-- Ids are UUID v7 set by the application; updated_at is set by the application.

create table users (
    id uuid primary key,
    email text not null check (length(email) between 3 and 320),
    display_name text not null default '',
    password_hash text not null, -- argon2id PHC string
    is_active boolean not null default true,
    failed_login_count integer not null default 0 check (failed_login_count >= 0),
    locked_until timestamptz,
    last_login_at timestamptz,
    password_changed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- queried as lower(email) = lower($1) on both backends
create unique index users_email_lower_key on users (lower(email));

create table roles (
    id uuid primary key,
    name text not null unique,
    description text not null default '',
    is_builtin boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table permissions (
    id uuid primary key,
    code text not null unique check (code like '%_:_%'), -- domain:action
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table user_roles (
    user_id uuid not null references users (id) on delete cascade,
    role_id uuid not null references roles (id) on delete cascade,
    granted_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (user_id, role_id)
);

create index user_roles_role_id_idx on user_roles (role_id);

create table role_permissions (
    role_id uuid not null references roles (id) on delete cascade,
    permission_id uuid not null references permissions (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (role_id, permission_id)
);

create index role_permissions_permission_id_idx on role_permissions (permission_id);

-- Rotating refresh tokens: a reused (already rotated) token revokes its whole family.
create table refresh_tokens (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    family_id uuid not null,
    token_hash bytea not null unique,
    replaced_by uuid references refresh_tokens (id) on delete set null,
    expires_at timestamptz not null,
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_reason text,
    user_agent text,
    ip text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index refresh_tokens_user_id_idx on refresh_tokens (user_id);
create index refresh_tokens_family_id_idx on refresh_tokens (family_id);
create index refresh_tokens_expires_at_idx on refresh_tokens (expires_at);

create table api_keys (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    name text not null,
    prefix text not null unique, -- shown to identify the key; the secret part is only hashed
    key_hash bytea not null unique,
    scopes jsonb not null default '[]', -- array of permission codes
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index api_keys_user_id_idx on api_keys (user_id);

create table notifications (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    kind text not null, -- job_finished, job_failed, import_summary, export_summary, ...
    title text not null,
    body text not null default '',
    data jsonb,
    entity_type text,
    entity_id uuid,
    read_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index notifications_user_id_read_at_idx on notifications (user_id, read_at, created_at);

-- credentials_encrypted: AES-256-GCM nonce || ciphertext of the secret JSON (client secret, refresh token)
create table amazon_api_configs (
    id uuid primary key,
    name text not null unique,
    provider text not null check (provider in ('sp_api', 'creators')),
    marketplace text not null, -- e.g. FR
    marketplace_id text, -- Amazon marketplace id, e.g. A13V1IB3VIYZZH
    region text,
    endpoint text,
    client_id text,
    partner_tag text,
    credentials_encrypted bytea not null,
    rate_limit_per_second double precision check (rate_limit_per_second > 0),
    rate_limit_burst integer check (rate_limit_burst > 0),
    is_active boolean not null default true,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index amazon_api_configs_provider_marketplace_idx on amazon_api_configs (provider, marketplace);

-- Only values changed from the built-in defaults are stored.
create table app_settings (
    id uuid primary key,
    key text not null unique,
    value jsonb not null,
    description text not null default '',
    updated_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Security events (logins, lockouts, tokens, keys, roles, settings); append-only.
-- Ordinary write activity goes to analytics.user_activity.
create table audit_log (
    id uuid primary key,
    actor_user_id uuid references users (id) on delete set null,
    actor_api_key_id uuid references api_keys (id) on delete set null,
    action text not null,
    entity_type text,
    entity_id uuid,
    ip text,
    user_agent text,
    request_id text,
    details jsonb,
    created_at timestamptz not null default now()
);

create index audit_log_created_at_idx on audit_log (created_at);
create index audit_log_actor_user_id_idx on audit_log (actor_user_id, created_at);
create index audit_log_entity_idx on audit_log (entity_type, entity_id);
