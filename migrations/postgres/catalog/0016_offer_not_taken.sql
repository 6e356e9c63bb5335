-- What a supplier's last file gave that its product did not take (issue 25): field → the file's value, for the
-- fields the survivorship rules kept (a person's value, a lock, a supplier first, a rule). Null when it took all.
-- The supplier's word is never lost: a later change of rules can use it.
alter table supplier_products add column not_taken jsonb;
