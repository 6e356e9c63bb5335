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

impl FieldOwner {
    /// Whether `supplier` may set the field. `origin` is the supplier that created the product, if one did: it
    /// comes before every other supplier; among the others, the one that set the field keeps it.
    pub(crate) fn admits(&self, supplier: Uuid, origin: Option<Uuid>) -> Result<(), Kept> {
        if self.locked {
            return Err(Kept::Locked);
        }
        match self.source {
            FieldSource::User { .. } => Err(Kept::SetByPerson),
            FieldSource::Platform { .. } | FieldSource::Code2Asin { .. } => Err(Kept::SetByOtherSource),
            FieldSource::FollowSuppliers | FieldSource::Unknown => Ok(()),
            FieldSource::Supplier { supplier_id, .. } if supplier_id == supplier || origin == Some(supplier) => Ok(()),
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
        let person = owner(FieldSource::User { user_id: None });
        assert_eq!(person.admits(a, Some(a)), Err(Kept::SetByPerson));
        let locked = FieldOwner { source: FieldSource::Supplier { supplier_id: a, job_id: None }, locked: true };
        assert_eq!(locked.admits(a, Some(a)), Err(Kept::Locked));
        let by_a = owner(FieldSource::Supplier { supplier_id: a, job_id: None });
        assert_eq!(by_a.admits(a, Some(a)), Ok(()), "a supplier updates its own value");
        assert_eq!(by_a.admits(b, Some(a)), Err(Kept::SupplierFirst(a)), "the creator comes first");
        let by_b = owner(FieldSource::Supplier { supplier_id: b, job_id: None });
        assert_eq!(by_b.admits(a, Some(a)), Ok(()), "the creator takes a field back");
        assert_eq!(by_b.admits(c, Some(a)), Err(Kept::SupplierFirst(b)), "among the others, the first keeps it");
        assert_eq!(owner(FieldSource::FollowSuppliers).admits(c, Some(a)), Ok(()));
        assert_eq!(owner(FieldSource::Code2Asin { job_id: None }).admits(a, Some(a)), Err(Kept::SetByOtherSource));
    }
}
