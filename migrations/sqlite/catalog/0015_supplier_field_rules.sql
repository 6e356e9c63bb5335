-- A supplier's survivorship rules per field group (issue 25): its rank for a group instead of its priority, and the
-- groups it never changes on a product that exists. JSON: {"priority": {"prices": 1}, "never_changes": ["content"]}.
alter table suppliers add column field_rules text not null default '{}';
