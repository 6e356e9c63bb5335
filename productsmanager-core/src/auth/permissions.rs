//! The permission codes and the built-in roles.

/// Every permission: `domain:action` and what it allows. Routes and CLI commands each check one.
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("catalog:read", "read products, brands, categories, suppliers, offers, prices and stock"),
    ("catalog:write", "create, change and delete catalog entries"),
    ("imports:read", "see imports, their errors, templates and import configurations"),
    ("imports:run", "upload and run imports; manage templates and the schedules of import sources"),
    (
        "imports:sources",
        "add and remove import sources (folders, FTP servers, mailboxes): they read files and reach hosts with the \
         server's rights",
    ),
    ("exports:read", "see export platforms, jobs and files"),
    ("exports:run", "run exports; manage export platforms"),
    ("media:read", "see product images and QR codes"),
    ("media:write", "upload, reorder and delete product images"),
    ("code2asin:read", "see Code2ASIN jobs and results"),
    ("code2asin:run", "run Code2ASIN jobs; accept or reject matches"),
    ("analytics:read", "read dashboards, metrics and activity"),
    ("jobs:read", "see background jobs and workers"),
    ("jobs:manage", "retry, cancel and purge background jobs"),
    ("admin:users", "manage users, roles and API keys"),
    ("admin:settings", "change application settings and stored credentials"),
];

/// The built-in roles: name, description, permissions (`*` for all). They are created on start and cannot be
/// changed or deleted; custom roles can be added beside them.
pub const BUILTIN_ROLES: &[(&str, &str, &[&str])] = &[
    ("admin", "everything", &["*"]),
    (
        "catalog_manager",
        "runs the catalog: edits products, imports, exports, media and Code2ASIN",
        &[
            "catalog:read",
            "catalog:write",
            "imports:read",
            "imports:run",
            "exports:read",
            "exports:run",
            "media:read",
            "media:write",
            "code2asin:read",
            "code2asin:run",
            "analytics:read",
            "jobs:read",
        ],
    ),
    ("importer", "uploads and runs supplier imports", &["catalog:read", "imports:read", "imports:run", "jobs:read"]),
    (
        "viewer",
        "reads everything, changes nothing",
        &[
            "catalog:read",
            "imports:read",
            "exports:read",
            "media:read",
            "code2asin:read",
            "analytics:read",
            "jobs:read",
        ],
    ),
];

/// Whether `code` is a known permission.
pub(crate) fn is_permission(code: &str) -> bool {
    PERMISSIONS.iter().any(|(known, _)| *known == code)
}

/// The permissions of a built-in role, `*` expanded.
pub(crate) fn builtin_permissions(granted: &[&str]) -> Vec<&'static str> {
    if granted == ["*"] {
        PERMISSIONS.iter().map(|(code, _)| *code).collect()
    } else {
        PERMISSIONS.iter().map(|(code, _)| *code).filter(|code| granted.contains(code)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_roles_name_only_known_permissions() {
        for (role, _, granted) in BUILTIN_ROLES {
            for code in granted.iter().filter(|c| **c != "*") {
                assert!(is_permission(code), "role {role} names unknown permission {code}");
            }
        }
        assert_eq!(builtin_permissions(&["*"]).len(), PERMISSIONS.len());
        assert_eq!(builtin_permissions(&["catalog:read", "nope:x"]), vec!["catalog:read"]);
    }

    #[test]
    fn codes_are_domain_colon_action() {
        for (code, _) in PERMISSIONS {
            let (domain, action) = code.split_once(':').unwrap();
            assert!(!domain.is_empty() && !action.is_empty() && !action.contains(':'), "{code}");
        }
    }
}
