//! The default survivorship rules: whether a supplier's import may set a field.

use std::collections::HashMap;

use uuid::Uuid;

use super::{FieldGroup, FieldSource, SupplierRules};

/// The current owner of a field as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldOwner {
    pub source: FieldSource,
    pub locked: bool,
}

/// Why an import left a field as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// A person locked it.
    Locked,
    /// A person set it and has not released it.
    SetByPerson,
    /// A sales platform or Code2ASIN set it.
    SetByOtherSource,
    /// A supplier that comes before this one set it.
    SupplierFirst(Uuid),
    /// The supplier's own rules say it never changes this field's group.
    SupplierRule,
    /// The import's mapping template changes other groups only.
    TemplateRule,
    /// SEO metadata whose slug another product has in that locale (a slug names one product in a locale).
    SlugTaken(Uuid),
    /// SEO metadata without a slug, and nothing to make one from (no meta title, no title).
    NoSlug,
}

impl Kept {
    /// The rule, as a dry run and the summary name it.
    pub(crate) fn rule(self) -> &'static str {
        match self {
            Kept::Locked => "locked",
            Kept::SetByPerson => "set_by_person",
            Kept::SetByOtherSource => "set_by_other_source",
            Kept::SupplierFirst(_) => "supplier_priority",
            Kept::SupplierRule => "supplier_rule",
            Kept::TemplateRule => "template_rule",
            Kept::SlugTaken(_) => "slug_taken",
            Kept::NoSlug => "no_slug",
        }
    }
}

/// Every supplier's `priority` and per-group rules, read once per import job.
#[derive(Debug, Clone, Default)]
pub(crate) struct SupplierRanks {
    pub priority: HashMap<Uuid, i32>,
    pub rules: HashMap<Uuid, SupplierRules>,
}

impl SupplierRanks {
    /// A supplier's rank for a group: the group's own, else its priority.
    fn rank(&self, supplier: Uuid, group: FieldGroup) -> Option<i32> {
        let priority = self.priority.get(&supplier).copied();
        match self.rules.get(&supplier) {
            Some(rules) => rules.priority_for(group, priority),
            None => priority,
        }
    }

    /// Whether the supplier's rules let it change the fields of `group` on a product that exists.
    pub(crate) fn changes(&self, supplier: Uuid, group: FieldGroup) -> bool {
        self.rules.get(&supplier).is_none_or(|rules| rules.changes(group))
    }
}

/// How unranked suppliers stand among themselves (the `imports.unranked_suppliers` setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Unranked {
    /// The supplier that created the product comes first; another keeps a field it set.
    #[default]
    CreatorFirst,
    /// The latest file that gives a field sets it.
    LatestFile,
}

/// The order of suppliers for one field of one product: the suppliers' ranks for the field's group (1 first), then,
/// among the unranked, the supplier that created the product (or the latest file).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SupplierOrder<'a> {
    pub ranks: &'a SupplierRanks,
    pub group: FieldGroup,
    /// The supplier that created the product, if one did.
    pub origin: Option<Uuid>,
    pub unranked: Unranked,
}

impl SupplierOrder<'_> {
    /// Whether `supplier` comes before `other`.
    pub(crate) fn before(&self, supplier: Uuid, other: Uuid) -> bool {
        match (self.ranks.rank(supplier, self.group), self.ranks.rank(other, self.group)) {
            (Some(rank), Some(other_rank)) => rank < other_rank,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => self.unranked == Unranked::LatestFile || self.origin == Some(supplier),
        }
    }
}

/// Who set a field that has no source of its own: its creator (`origin`) — but a field left empty is open to any
/// supplier, and a stock without a source was set before stock had provenance (by a shop's file as often as by the
/// creator): unknown, open to any source.
pub(crate) fn implicit_source(field: &str, has_value: bool, origin: FieldSource) -> FieldSource {
    if !has_value {
        FieldSource::FollowSuppliers
    } else if field == "stock" || field.starts_with("stock:") {
        FieldSource::Unknown
    } else {
        origin
    }
}

impl FieldOwner {
    /// Whether `supplier` may set the field: a supplier's value gives way only to a supplier that comes before it
    /// in `order`; the one that set the field keeps it otherwise.
    pub(crate) fn admits(&self, supplier: Uuid, order: SupplierOrder<'_>) -> Result<(), Kept> {
        if self.locked {
            return Err(Kept::Locked);
        }
        match self.source {
            FieldSource::User { .. } => Err(Kept::SetByPerson),
            FieldSource::Platform { .. } | FieldSource::Code2Asin { .. } => Err(Kept::SetByOtherSource),
            FieldSource::FollowSuppliers | FieldSource::Unknown => Ok(()),
            FieldSource::Supplier { supplier_id, .. } if supplier_id == supplier => Ok(()),
            FieldSource::Supplier { supplier_id, .. } if order.before(supplier, supplier_id) => Ok(()),
            FieldSource::Supplier { supplier_id, .. } => Err(Kept::SupplierFirst(supplier_id)),
        }
    }
}

/// A stored product as the survivorship rules see it while a batch is planned: its values and who set each,
/// updated as the batch's rows are decided.
#[derive(Debug)]
pub(crate) struct Survivorship {
    /// Who created the product: the implicit setter of every field without a source of its own.
    origin: FieldSource,
    values: HashMap<String, Option<String>>,
    owners: HashMap<String, FieldOwner>,
}

impl Survivorship {
    /// A stored product made by `origin`, with its fields' `values` (named as provenance names them).
    pub(crate) fn new(origin: FieldSource, values: HashMap<String, Option<String>>) -> Self {
        Survivorship { origin, values, owners: HashMap::new() }
    }

    /// The source and lock of a field that has its own.
    pub(crate) fn set_owner(&mut self, field: &str, owner: FieldOwner) {
        self.owners.insert(field.to_string(), owner);
    }

    /// The field's value as it stands in the plan.
    pub(crate) fn value(&self, field: &str) -> Option<&str> {
        self.values.get(field).and_then(Option::as_deref)
    }

    /// The (type, currency) pairs the product has windowed prices of (`price_windows:<type>:<currency>` fields
    /// with a value), as the plan stands.
    pub(crate) fn window_pairs(&self) -> Vec<(crate::catalog::PriceType, &'static str)> {
        let mut pairs = Vec::new();
        for (field, value) in &self.values {
            let Some(rest) = field.strip_prefix("price_windows:") else { continue };
            if value.as_deref().is_none_or(str::is_empty) {
                continue;
            }
            let Some((kind, code)) = rest.split_once(':') else { continue };
            if let (Ok(price_type), Ok(currency)) = (kind.parse(), code.parse::<crate::catalog::CurrencyCode>()) {
                pairs.push((price_type, currency.as_str()));
            }
        }
        pairs
    }

    /// Whether the product has this member of a collection (`category:<id>`, `image:<url>`), as the plan stands.
    pub(crate) fn has(&self, member: &str) -> bool {
        self.values.contains_key(member)
    }

    /// Records a member added by the plan.
    pub(crate) fn add(&mut self, member: String) {
        self.values.insert(member, None);
    }

    /// Whether `supplier` may add members to a collection field (`categories`, `images`): imports add, never
    /// remove, so only a lock or a rule keeps them out — a person's own links stay whatever a supplier adds.
    pub(crate) fn admits_members(&self, field: &str, supplier: Uuid, ranks: &SupplierRanks) -> Result<(), Kept> {
        if self.owners.get(field).is_some_and(|owner| owner.locked) {
            return Err(Kept::Locked);
        }
        if !ranks.changes(supplier, FieldGroup::of(field)) {
            return Err(Kept::SupplierRule);
        }
        Ok(())
    }

    /// Whether `supplier` may set `field` to `value`: `Ok(true)` to write it, `Ok(false)` when it holds that value
    /// already, the rule that keeps it otherwise. A field the supplier sets (or takes over) is pushed on `claims`.
    pub(crate) fn offer(
        &mut self,
        product: Uuid,
        (field, value): (&str, &str),
        (supplier, job, ranks, unranked): (Uuid, Uuid, &SupplierRanks, Unranked),
        claims: &mut Vec<(Uuid, String)>,
    ) -> std::result::Result<bool, Kept> {
        let current = self.values.get(field).cloned().flatten();
        let implicit = implicit_source(field, current.is_some(), self.origin);
        let owner = self.owners.get(field).copied().unwrap_or(FieldOwner { source: implicit, locked: false });
        let differs = current.as_deref() != Some(value);
        if !differs && !matches!(owner.source, FieldSource::FollowSuppliers | FieldSource::Unknown) {
            return Ok(false); // the same value: nothing to write, nothing kept, the setter stays
        }
        let origin = match self.origin {
            FieldSource::Supplier { supplier_id, .. } => Some(supplier_id),
            _ => None,
        };
        let group = FieldGroup::of(field);
        if !ranks.changes(supplier, group) {
            return Err(Kept::SupplierRule);
        }
        owner.admits(supplier, SupplierOrder { ranks, group, origin, unranked })?;
        let own = match owner.source {
            FieldSource::Supplier { supplier_id, .. } => supplier_id == supplier,
            _ => false,
        };
        if differs || !own {
            claims.push((product, field.to_string()));
            let source = FieldSource::Supplier { supplier_id: supplier, job_id: Some(job) };
            self.owners.insert(field.to_string(), FieldOwner { source, locked: owner.locked });
        }
        if differs {
            self.values.insert(field.to_string(), Some(value.to_string()));
        }
        Ok(differs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(source: FieldSource) -> FieldOwner {
        FieldOwner { source, locked: false }
    }

    #[test]
    fn people_and_locks_come_first_then_the_creating_supplier() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let unranked = SupplierRanks::default();
        let created_by_a = SupplierOrder {
            ranks: &unranked,
            group: FieldGroup::Content,
            origin: Some(a),
            unranked: Unranked::CreatorFirst,
        };
        let person = owner(FieldSource::User { user_id: None });
        assert_eq!(person.admits(a, created_by_a), Err(Kept::SetByPerson));
        let locked = FieldOwner { source: FieldSource::Supplier { supplier_id: a, job_id: None }, locked: true };
        assert_eq!(locked.admits(a, created_by_a), Err(Kept::Locked));
        let by_a = owner(FieldSource::Supplier { supplier_id: a, job_id: None });
        assert_eq!(by_a.admits(a, created_by_a), Ok(()), "a supplier updates its own value");
        assert_eq!(by_a.admits(b, created_by_a), Err(Kept::SupplierFirst(a)), "the creator comes first");
        let by_b = owner(FieldSource::Supplier { supplier_id: b, job_id: None });
        assert_eq!(by_b.admits(a, created_by_a), Ok(()), "the creator takes a field back");
        assert_eq!(by_b.admits(c, created_by_a), Err(Kept::SupplierFirst(b)), "among the others, the first keeps it");
        assert_eq!(owner(FieldSource::FollowSuppliers).admits(c, created_by_a), Ok(()));
        assert_eq!(owner(FieldSource::Code2Asin { job_id: None }).admits(a, created_by_a), Err(Kept::SetByOtherSource));
    }

    #[test]
    fn configured_priorities_come_before_the_creator() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let ranks = SupplierRanks { priority: HashMap::from([(a, 1), (b, 2)]), rules: HashMap::new() };
        let created_by_c = SupplierOrder {
            ranks: &ranks,
            group: FieldGroup::Content,
            origin: Some(c),
            unranked: Unranked::CreatorFirst,
        };
        let by_b = owner(FieldSource::Supplier { supplier_id: b, job_id: None });
        let by_c = owner(FieldSource::Supplier { supplier_id: c, job_id: None });
        assert_eq!(by_b.admits(a, created_by_c), Ok(()), "1 before 2");
        assert_eq!(
            owner(FieldSource::Supplier { supplier_id: a, job_id: None }).admits(b, created_by_c),
            Err(Kept::SupplierFirst(a))
        );
        assert_eq!(by_c.admits(b, created_by_c), Ok(()), "ranked before unranked, creator or not");
        assert_eq!(by_b.admits(c, created_by_c), Err(Kept::SupplierFirst(b)));
    }

    #[test]
    fn a_group_rank_and_the_latest_file_rule() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let prices_first = SupplierRules { priority: [(FieldGroup::Prices, 1)].into(), never_changes: vec![] };
        let ranks = SupplierRanks { priority: HashMap::new(), rules: HashMap::from([(b, prices_first)]) };
        let by_a = owner(FieldSource::Supplier { supplier_id: a, job_id: None });
        let order = |group| SupplierOrder { ranks: &ranks, group, origin: Some(a), unranked: Unranked::CreatorFirst };
        assert_eq!(by_a.admits(b, order(FieldGroup::Prices)), Ok(()), "b comes first for prices");
        assert_eq!(by_a.admits(b, order(FieldGroup::Content)), Err(Kept::SupplierFirst(a)), "not for content");
        let latest = SupplierOrder {
            ranks: &SupplierRanks::default(),
            group: FieldGroup::Content,
            origin: Some(a),
            unranked: Unranked::LatestFile,
        };
        assert_eq!(by_a.admits(b, latest), Ok(()), "the latest file sets it");
    }
}
