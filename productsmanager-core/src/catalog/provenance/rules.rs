//! The default survivorship rules: whether a supplier's import may set a field.

use uuid::Uuid;

use super::FieldSource;

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
}

impl Kept {
    /// The rule, as a dry run and the summary name it.
    pub(crate) fn rule(self) -> &'static str {
        match self {
            Kept::Locked => "locked",
            Kept::SetByPerson => "set_by_person",
            Kept::SetByOtherSource => "set_by_other_source",
            Kept::SupplierFirst(_) => "supplier_priority",
        }
    }
}

/// The order of suppliers for one product: the suppliers' configured priorities (1 first), then, among the
/// unranked, the supplier that created the product.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SupplierOrder<'a> {
    pub priorities: &'a std::collections::HashMap<Uuid, i32>,
    /// The supplier that created the product, if one did.
    pub origin: Option<Uuid>,
}

impl SupplierOrder<'_> {
    /// Whether `supplier` comes before `other`.
    fn before(&self, supplier: Uuid, other: Uuid) -> bool {
        match (self.priorities.get(&supplier), self.priorities.get(&other)) {
            (Some(rank), Some(other_rank)) => rank < other_rank,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => self.origin == Some(supplier),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(source: FieldSource) -> FieldOwner {
        FieldOwner { source, locked: false }
    }

    #[test]
    fn people_and_locks_come_first_then_the_creating_supplier() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let unranked = std::collections::HashMap::new();
        let created_by_a = SupplierOrder { priorities: &unranked, origin: Some(a) };
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
        let ranks = std::collections::HashMap::from([(a, 1), (b, 2)]);
        let created_by_c = SupplierOrder { priorities: &ranks, origin: Some(c) };
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
}
