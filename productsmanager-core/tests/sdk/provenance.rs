//! Provenance and survivorship (issue 25): every product field knows which source set its value and when; a
//! value a person set survives supplier imports until released; the supplier that created a product comes before
//! the others; a locked field never moves.

use std::path::Path;

use productsmanager_core::catalog::{
    ChangeKind, FieldAction, FieldProvenance, FieldSource, Money, NewPrice, NewStockLevel, PriceType, Product,
    ProductPatch, SupplierPatch,
};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::imports::ImportSummary;
use productsmanager_core::imports::mapping::SourceCatalog;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends, with_pool};
use uuid::Uuid;

use super::imports::supplier;

/// Imports `rows` (native layout: `sku,gtin,title,description,price`) for `supplier`, from a file of its own.
async fn import(sdk: &Sdk, folder: &Path, supplier: Uuid, rows: &str) -> ImportSummary {
    let path = folder.join(format!("{}.csv", Uuid::now_v7()));
    std::fs::write(&path, format!("sku,gtin,title,description,price\n{rows}")).unwrap();
    sdk.imports().import_file(super::imports::native(supplier, &path), |_| {}).await.unwrap()
}

async fn product(sdk: &Sdk, gtin: &str) -> Product {
    sdk.products().find(gtin).await.unwrap()
}

fn retail(product: &Product) -> Option<i64> {
    product.prices.iter().find(|p| p.price_type == PriceType::Retail).map(|p| p.amount.amount_minor)
}

fn field<'a>(provenance: &'a [FieldProvenance], name: &str) -> &'a FieldProvenance {
    provenance.iter().find(|f| f.field == name).unwrap_or_else(|| panic!("no {name} in {provenance:?}"))
}

const GTIN: &str = "4006381333931";

/// A title and retail price set by a person survive three supplier imports (and a second supplier), each import
/// counting the fields it kept; released, they follow the suppliers again.
async fn a_persons_edits_survive_imports_until_released(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "a_persons_edits_survive_imports_until_released").await else {
        return;
    };
    let sdk = env.sdk().await;
    let (acme, beta) = (supplier(&sdk, "ACME").await, supplier(&sdk, "BETA").await);
    let created = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot,Terracotta,31.90\n")).await;
    assert_eq!((created.created, created.fields_kept), (1, 0));
    let id = product(&sdk, GTIN).await.id;
    let provenance = sdk.products().provenance(id).await.unwrap();
    let title = field(&provenance, "title");
    let FieldSource::Supplier { supplier_id, job_id } = title.source else { panic!("{title:?}") };
    assert_eq!((supplier_id, job_id, title.source_name.as_deref()), (acme, Some(created.job_id), Some("ACME")));
    assert!(matches!(field(&provenance, "price:retail:EUR").source, FieldSource::Supplier { .. }));

    // A person edits the title and the retail price.
    let person = Uuid::now_v7();
    let patch = ProductPatch { title: Some("Clay pot, hand-picked".into()), ..Default::default() };
    sdk.products().on_behalf_of(person).patch(id, patch).await.unwrap();
    let price = NewPrice {
        product_id: id,
        price_type: PriceType::Retail,
        amount: Money::new(2_990, "EUR".parse().unwrap()),
        valid_from: None,
        valid_to: None,
    };
    sdk.prices().on_behalf_of(person).set(price).await.unwrap();

    // Three supplier files in a row, and another supplier with the same GTIN: the person's values stay.
    let mut last_job = None;
    for (n, price) in [(2, "12.50"), (3, "99.00"), (4, "15.00")] {
        let summary = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot v{n},Terracotta {n},{price}\n")).await;
        last_job = Some(summary.job_id);
        assert_eq!((summary.updated, summary.fields_kept), (1, 2), "import {n}: {summary:?}");
        let now = product(&sdk, GTIN).await;
        assert_eq!((now.title.as_str(), retail(&now)), ("Clay pot, hand-picked", Some(2_990)), "import {n}");
        assert_eq!(now.description.as_deref(), Some(format!("Terracotta {n}").as_str()), "other fields follow");
    }
    // What the supplier said and the product did not take stays on its offer.
    let offers = sdk.offers().for_product(id).await.unwrap();
    let acme_offer = offers.iter().find(|o| o.supplier_id == acme).unwrap();
    let said: Vec<(&str, &str)> = acme_offer.not_taken.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    assert_eq!(said, [("price:retail:EUR", "15.00 EUR"), ("title", "Pot v4")]);
    let other = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,Beta text,1.00\n")).await;
    assert_eq!(other.fields_kept, 3, "title and price (a person), description (the creating supplier)");
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "title").source, FieldSource::User { user_id: Some(person) });
    assert_eq!(field(&provenance, "price:retail:EUR").source, FieldSource::User { user_id: Some(person) });
    let description = field(&provenance, "description");
    assert_eq!(description.source, FieldSource::Supplier { supplier_id: acme, job_id: last_job }, "set by the last");
    assert!(description.set_at > field(&provenance, "title").set_at, "after the person's edit");

    // A dry run names the rule that keeps each field.
    let path = env.folder().join("dry.csv");
    std::fs::write(&path, format!("sku,gtin,title,description,price\nA-1,{GTIN},Pot v9,Terracotta 4,9.00\n")).unwrap();
    let dry = super::imports::native(acme, &path);
    let dry = productsmanager_core::imports::NewImport { dry_run: true, ..dry };
    let dry = sdk.imports().import_file(dry, |_| {}).await.unwrap();
    assert_eq!(dry.fields_kept, 2);
    let kept = &dry.diffs[0].kept;
    assert_eq!(kept.get("title").map(String::as_str), Some("set_by_person"), "{:?}", dry.diffs);
    assert_eq!(kept.get("price:retail:EUR").map(String::as_str), Some("set_by_person"));

    // Released: at once the word of the supplier that comes first (ACME, which created it, before BETA), from the
    // file the product did not take — no need to wait for ACME's next file.
    let released = sdk.products().set_field_rule(id, "title", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(field(&released, "title").source, FieldSource::Supplier { supplier_id: acme, job_id: last_job });
    let now = product(&sdk, GTIN).await;
    assert_eq!((now.title.as_str(), retail(&now)), ("Pot v4", Some(2_990)), "the price is still the person's");
    let released = sdk.products().set_field_rule(id, "price:retail:EUR", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(
        field(&released, "price:retail:EUR").source,
        FieldSource::Supplier { supplier_id: acme, job_id: last_job }
    );
    assert_eq!(retail(&product(&sdk, GTIN).await), Some(1_500));
    let history = sdk.products().history(id, 5).await.unwrap();
    assert_eq!(
        (history[0].field.as_str(), history[0].value.as_deref(), history[0].previous.as_deref()),
        ("price:retail:EUR", Some("15.00 EUR"), Some("29.90 EUR")),
        "{history:?}"
    );
    // The next supplier import, even of a row it gave before, finds nothing to keep.
    let summary = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot v5,Terracotta 4,15.00\n")).await;
    assert_eq!(summary.fields_kept, 0, "{summary:?}");
    let now = product(&sdk, GTIN).await;
    assert_eq!((now.title.as_str(), retail(&now)), ("Pot v5", Some(1_500)));
    let provenance = sdk.products().provenance(id).await.unwrap();
    let title = field(&provenance, "title");
    assert_eq!(title.source, FieldSource::Supplier { supplier_id: acme, job_id: Some(summary.job_id) });
    let unknown = sdk.products().set_field_rule(id, "colour", FieldAction::Lock).await.unwrap_err();
    assert_eq!((unknown.kind(), unknown.field()), (ErrorKind::Invalid, Some("field")));
    sdk.close().await;
}

both_backends!(a_persons_edits_survive_imports_until_released);

/// The supplier that created a product comes first: another supplier's values do not replace its values,
/// field by field, but fill the fields it left empty; the creator's next import changes its own fields.
async fn the_creating_supplier_comes_first(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "the_creating_supplier_comes_first").await else { return };
    let sdk = env.sdk().await;
    let (acme, beta) = (supplier(&sdk, "ACME").await, supplier(&sdk, "BETA").await);
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Acme pot,,20.00\n")).await;
    let summary = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,Beta text,18.00\n")).await;
    assert_eq!(summary.fields_kept, 2, "title and price stay Acme's: {summary:?}");
    let now = product(&sdk, GTIN).await;
    assert_eq!(
        (now.title.as_str(), now.description.as_deref(), retail(&now)),
        ("Acme pot", Some("Beta text"), Some(2_000))
    );
    let provenance = sdk.products().provenance(now.id).await.unwrap();
    assert!(
        matches!(field(&provenance, "description").source, FieldSource::Supplier { supplier_id, .. } if supplier_id == beta)
    );
    // The creator gives a description later: it comes first, so it takes the field.
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Acme pot 2,Acme text,21.00\n")).await;
    let summary = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot 2,Beta text 2,17.00\n")).await;
    assert_eq!(summary.fields_kept, 3);
    let now = product(&sdk, GTIN).await;
    assert_eq!(
        (now.title.as_str(), now.description.as_deref(), retail(&now)),
        ("Acme pot 2", Some("Acme text"), Some(2_100))
    );
    let mut offers: Vec<(Uuid, Option<i64>)> = sdk
        .offers()
        .for_product(now.id)
        .await
        .unwrap()
        .iter()
        .map(|o| (o.supplier_id, o.cost.map(|c| c.amount_minor)))
        .collect();
    offers.sort();
    let mut expected = vec![(acme, None), (beta, None)];
    expected.sort();
    assert_eq!(offers, expected, "each supplier keeps its offer");
    sdk.close().await;
}

both_backends!(the_creating_supplier_comes_first);

/// A locked field is changed by no import, and a person's edit of it is refused until unlocked.
async fn a_locked_field_never_moves(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "a_locked_field_never_moves").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot,Text,10.00\n")).await;
    let id = product(&sdk, GTIN).await.id;
    let locked = sdk.products().set_field_rule(id, "title", FieldAction::Lock).await.unwrap();
    let title = field(&locked, "title");
    assert!(title.locked && matches!(title.source, FieldSource::Supplier { supplier_id, .. } if supplier_id == acme));
    for n in 0..2 {
        let summary = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot {n},Text {n},10.0{n}\n")).await;
        assert_eq!(summary.fields_kept, 1);
        assert_eq!(product(&sdk, GTIN).await.title, "Pot");
    }
    let patch = ProductPatch { title: Some("Renamed".into()), ..Default::default() };
    let refused = sdk.products().patch(id, patch.clone()).await.unwrap_err();
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some("title")));
    sdk.products().set_field_rule(id, "title", FieldAction::Unlock).await.unwrap();
    sdk.products().patch(id, patch).await.unwrap();
    assert_eq!(product(&sdk, GTIN).await.title, "Renamed");
    sdk.close().await;
}

both_backends!(a_locked_field_never_moves);

/// The history lists each change after creation with its source, the value set and the value before, newest first:
/// a person's edits, a supplier's import (its job), a lock; the values the product was created with are not entries.
async fn the_history_names_each_change_and_its_source(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "the_history_names_each_change_and_its_source").await else {
        return;
    };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot,Terracotta,31.90\n")).await;
    let id = product(&sdk, GTIN).await.id;
    assert!(sdk.products().history(id, 50).await.unwrap().is_empty(), "creation is the origin, not an entry");

    let person = Uuid::now_v7();
    let patch = ProductPatch { title: Some("Clay pot".into()), ..Default::default() };
    sdk.products().on_behalf_of(person).patch(id, patch).await.unwrap();
    let price = NewPrice {
        product_id: id,
        price_type: PriceType::Retail,
        amount: Money::new(2_990, "EUR".parse().unwrap()),
        valid_from: None,
        valid_to: None,
    };
    sdk.prices().on_behalf_of(person).set(price).await.unwrap();
    let second = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot v2,Terracotta v2,12.50\n")).await;
    sdk.products().on_behalf_of(person).set_field_rule(id, "title", FieldAction::Lock).await.unwrap();
    let patch = ProductPatch { description: Some(Some("Hand-made".into())), ..Default::default() };
    sdk.products().on_behalf_of(person).patch(id, patch).await.unwrap();

    let history = sdk.products().history(id, 50).await.unwrap();
    let lines: Vec<(&str, ChangeKind, Option<&str>, Option<&str>)> =
        history.iter().map(|c| (c.field.as_str(), c.change, c.value.as_deref(), c.previous.as_deref())).collect();
    assert_eq!(
        lines,
        [
            ("description", ChangeKind::Set, Some("Hand-made"), Some("Terracotta v2")),
            ("title", ChangeKind::Lock, None, None),
            ("description", ChangeKind::Set, Some("Terracotta v2"), None),
            ("price:retail:EUR", ChangeKind::Set, Some("29.90 EUR"), None),
            ("title", ChangeKind::Set, Some("Clay pot"), None),
        ],
        "newest first; the import kept the person's title and price: {history:?}"
    );
    assert_eq!(history[0].source, FieldSource::User { user_id: Some(person) });
    assert_eq!(history[2].source, FieldSource::Supplier { supplier_id: acme, job_id: Some(second.job_id) });
    assert_eq!(history[2].source_name.as_deref(), Some("ACME"));
    assert_eq!(sdk.products().history(id, 2).await.unwrap().len(), 2);
    let refused = sdk.products().history(id, 0).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    sdk.close().await;
}

both_backends!(the_history_names_each_change_and_its_source);

/// Survivorship rules are data: a supplier's rank for one field group, a group a supplier never changes, a template
/// that changes prices only, and the catalog's choice between the creator and the latest file among unranked
/// suppliers; each kept field is counted and the dry run names the rule.
async fn rules_are_data_per_supplier_template_and_catalog(backend: Backend) {
    use productsmanager_core::catalog::{FieldGroup, SupplierPatch, SupplierRules};
    use productsmanager_core::imports::NewMappingTemplate;
    use productsmanager_core::imports::mapping::Template;
    let Some(env) = TestDatabases::named(backend, "rules_are_data_per_supplier_template_and_catalog").await else {
        return;
    };
    let sdk = env.sdk().await;
    let (acme, beta) = (supplier(&sdk, "ACME").await, supplier(&sdk, "BETA").await);
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot,Terracotta,10.00\n")).await;
    let retail_now = || async { retail(&product(&sdk, GTIN).await) };

    // BETA is ranked for prices only (2: after a supplier ranked 1): its price replaces unranked ACME's, its title
    // does not.
    let prices_first = SupplierRules { priority: [(FieldGroup::Prices, 2)].into(), never_changes: vec![] };
    let patch = SupplierPatch { field_rules: Some(prices_first), ..Default::default() };
    sdk.suppliers().patch(beta, patch).await.unwrap();
    let summary = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,Terracotta,8.00\n")).await;
    assert_eq!(summary.fields_kept, 1, "the title: {summary:?}");
    assert_eq!((product(&sdk, GTIN).await.title.as_str(), retail_now().await), ("Pot", Some(800)));
    let summary = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot 2,Terracotta,11.00\n")).await;
    assert_eq!(summary.fields_kept, 1, "ACME's price gives way to BETA's: {summary:?}");
    assert_eq!((product(&sdk, GTIN).await.title.as_str(), retail_now().await), ("Pot 2", Some(800)));

    // ACME never changes content once a product exists: its next title is kept out, and the dry run says why.
    let content_never = SupplierRules { priority: Default::default(), never_changes: vec![FieldGroup::Content] };
    let patch = SupplierPatch { field_rules: Some(content_never), ..Default::default() };
    assert_eq!(sdk.suppliers().patch(acme, patch).await.unwrap().field_rules.never_changes, [FieldGroup::Content]);
    let path = env.folder().join("acme-3.csv");
    std::fs::write(&path, format!("sku,gtin,title,description,price\nA-1,{GTIN},Pot 3,Terracotta,11.00\n")).unwrap();
    let dry = productsmanager_core::imports::NewImport { dry_run: true, ..super::imports::native(acme, &path) };
    let planned = sdk.imports().import_file(dry, |_| {}).await.unwrap();
    let kept = &planned.diffs[0].kept;
    assert_eq!(kept.get("title").map(String::as_str), Some("supplier_rule"), "{planned:?}");
    sdk.imports().import_file(super::imports::native(acme, &path), |_| {}).await.unwrap();
    assert_eq!(product(&sdk, GTIN).await.title, "Pot 2");
    let refused = SupplierPatch {
        field_rules: Some(SupplierRules { priority: [(FieldGroup::Status, 0)].into(), never_changes: vec![] }),
        ..Default::default()
    };
    let refused = sdk.suppliers().patch(acme, refused).await.unwrap_err();
    assert_eq!(refused.field(), Some("field_rules.priority.status"));

    // A template that changes prices only: a third supplier (ranked 1) with a price list updates no title.
    let gamma = supplier(&sdk, "GAMMA").await;
    let definition: Template = serde_json::from_value(serde_json::json!({
        "columns": [
            {"column": "ref", "to": "supplier_sku"}, {"column": "ean", "to": "gtin"},
            {"column": "name", "to": "title"}, {"column": "price", "to": {"price": {"type": "retail"}}}
        ],
        "currency": "EUR",
        "changes_only": ["prices"]
    }))
    .unwrap();
    let template = NewMappingTemplate {
        name: "gamma-prices".into(),
        description: "price list".into(),
        definition,
        supplier_id: Some(gamma),
    };
    let template = sdk.imports().save_template(template).await.unwrap();
    sdk.suppliers().patch(gamma, SupplierPatch { priority: Some(Some(1)), ..Default::default() }).await.unwrap();
    let path = env.folder().join("gamma.csv");
    std::fs::write(&path, format!("ref,ean,name,price\nG-1,{GTIN},Gamma title,7.00\n")).unwrap();
    let input = productsmanager_core::imports::NewImport {
        template: Some(template.id),
        preset: None,
        ..super::imports::native(gamma, &path)
    };
    let summary = sdk.imports().import_file(input, |_| {}).await.unwrap();
    assert_eq!(summary.fields_kept, 1, "{summary:?}");
    let now = product(&sdk, GTIN).await;
    assert_eq!((now.title.as_str(), retail(&now)), ("Pot 2", Some(700)), "{summary:?} {now:?}");

    // The catalog's rule: among unranked suppliers the latest file sets a field.
    let delta = supplier(&sdk, "DELTA").await;
    let before = import(&sdk, env.folder(), delta, &format!("D-1,{GTIN},Pot,Delta text,\n")).await;
    assert_eq!(product(&sdk, GTIN).await.description.as_deref(), Some("Terracotta"), "{before:?}");
    sdk.settings().set("imports.unranked_suppliers", serde_json::json!("latest_file"), None).await.unwrap();
    import(&sdk, env.folder(), delta, &format!("D-1,{GTIN},Pot,Delta text 2,\n")).await;
    assert_eq!(product(&sdk, GTIN).await.description.as_deref(), Some("Delta text 2"));
    sdk.close().await;
}

both_backends!(rules_are_data_per_supplier_template_and_catalog);

/// Each attribute has provenance of its own: a colour a person set survives the supplier's next file (counted as
/// kept), the supplier's other attributes still change, and a released attribute follows the supplier again.
async fn attributes_have_provenance_of_their_own(backend: Backend) {
    use productsmanager_core::catalog::{Attribute, AttributeValue};
    let Some(env) = TestDatabases::named(backend, "attributes_have_provenance_of_their_own").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let file = |n: u32, colour: &str, size: &str| {
        let path = env.folder().join(format!("acme-attributes-{n}.csv"));
        std::fs::write(
            &path,
            format!("sku,gtin,title,attribute:Colour,attribute:Size\nA-1,{GTIN},Pot,{colour},{size}\n"),
        )
        .unwrap();
        super::imports::native(acme, &path)
    };
    sdk.imports().import_file(file(1, "Blue", "20 cm"), |_| {}).await.unwrap();
    let id = product(&sdk, GTIN).await.id;
    let attributes = |p: &Product| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = p.attributes.iter().map(|a| (a.name.clone(), a.value.shown())).collect();
        pairs.sort();
        pairs
    };
    let person = Uuid::now_v7();
    let red = vec![
        Attribute { name: "Colour".into(), value: AttributeValue::Text { value: "Red".into() } },
        Attribute { name: "Size".into(), value: AttributeValue::Text { value: "20 cm".into() } },
    ];
    let patch = ProductPatch { attributes: Some(red), ..Default::default() };
    sdk.products().on_behalf_of(person).patch(id, patch).await.unwrap();
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "attribute:colour").source, FieldSource::User { user_id: Some(person) });
    assert!(matches!(field(&provenance, "attribute:size").source, FieldSource::Supplier { .. }));

    let summary = sdk.imports().import_file(file(2, "Green", "25 cm"), |_| {}).await.unwrap();
    assert_eq!(summary.fields_kept, 1, "the colour: {summary:?}");
    let now = product(&sdk, GTIN).await;
    assert_eq!(attributes(&now), [("Colour".into(), "Red".into()), ("Size".into(), "25 cm".into())]);
    let history = sdk.products().history(id, 10).await.unwrap();
    assert_eq!((history[0].field.as_str(), history[0].value.as_deref()), ("attribute:size", Some("25 cm")));
    assert_eq!(history[0].previous.as_deref(), None, "the first change after creation");

    sdk.products().set_field_rule(id, "attribute:colour", FieldAction::FollowSuppliers).await.unwrap();
    sdk.imports().import_file(file(3, "Green", "25 cm"), |_| {}).await.unwrap();
    assert_eq!(attributes(&product(&sdk, GTIN).await)[0], ("Colour".into(), "Green".into()));
    let refused = sdk.products().set_field_rule(id, "attribute:", FieldAction::Lock).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    sdk.close().await;
}

both_backends!(attributes_have_provenance_of_their_own);

/// Two rows of one file with the same GTIN and different supplier SKUs: one product when they agree (the second is
/// one more offer, counted as merged), the later row refused `duplicate_gtin` naming the first line when they do
/// not; the rows read add up. The same holds against the supplier's offers from an earlier file.
async fn one_gtin_twice_in_a_supplier_file(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "one_gtin_twice_in_a_supplier_file").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let gtin = "8456120000000";
    let summary = import(
        &sdk,
        env.folder(),
        acme,
        &format!("T8,{gtin},iPod 8GB,,200.00\nT32,{gtin},iPod 32GB,,300.00\nT8B,{gtin},iPod  8gb,,190.00\n"),
    )
    .await;
    assert_eq!((summary.rows, summary.created, summary.merged, summary.invalid), (3, 1, 1, 1), "{summary:?}");
    let ipod = product(&sdk, gtin).await;
    assert_eq!((ipod.title.as_str(), retail(&ipod)), ("iPod 8GB", Some(20_000)), "the first row's values");
    let offers = sdk.offers().for_product(ipod.id).await.unwrap();
    let mut skus: Vec<&str> = offers.iter().map(|o| o.supplier_sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["T8", "T8B"]);
    let errors = sdk.imports().errors_csv(summary.job_id).await.unwrap();
    let errors = String::from_utf8_lossy(&errors);
    let refused: Vec<&str> = errors.lines().skip(1).collect();
    assert_eq!(refused.len(), 1, "{errors}");
    assert!(refused[0].starts_with("3,") && refused[0].contains("duplicate_gtin"), "{errors}");
    assert!(refused[0].contains("T8") && refused[0].contains("line 2"), "{errors}");

    // A later file of the supplier: its new SKU with that GTIN is measured against the offers it has.
    let later = import(&sdk, env.folder(), acme, &format!("T64,{gtin},iPod 64GB,,400.00\n")).await;
    assert_eq!((later.created, later.invalid), (0, 1), "{later:?}");
    assert_eq!(product(&sdk, gtin).await.title, "iPod 8GB");
    sdk.close().await;
}

both_backends!(one_gtin_twice_in_a_supplier_file);

/// Supplier A ranked before supplier B: A's values hold field by field whatever the import order, B fills what A
/// leaves empty, and B's later files change nothing A set.
async fn supplier_priority_holds_whatever_the_import_order(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "supplier_priority_holds_whatever_the_import_order").await else {
        return;
    };
    let sdk = env.sdk().await;
    let (a, b) = (supplier(&sdk, "A").await, supplier(&sdk, "B").await);
    for (id, rank) in [(a, 1), (b, 2)] {
        let patch = productsmanager_core::catalog::SupplierPatch { priority: Some(Some(rank)), ..Default::default() };
        assert_eq!(sdk.suppliers().patch(id, patch).await.unwrap().priority, Some(rank));
    }
    let bad = productsmanager_core::catalog::SupplierPatch { priority: Some(Some(0)), ..Default::default() };
    assert_eq!(sdk.suppliers().patch(a, bad).await.unwrap_err().field(), Some("priority"));
    let (first, second) = ("4006381333931", "036000291452");
    // First product: B creates it, then A. Second: A creates it, then B.
    import(&sdk, env.folder(), b, &format!("B-1,{first},B title,B text,10.00\n")).await;
    let summary =
        import(&sdk, env.folder(), a, &format!("A-1,{first},A title,,12.00\nA-2,{second},A two,,20.00\n")).await;
    assert_eq!(summary.fields_kept, 0, "A comes first: {summary:?}");
    let summary = import(
        &sdk,
        env.folder(),
        b,
        &format!("B-1,{first},B title 2,B text 2,11.00\nB-2,{second},B two,B text two,19.00\n"),
    )
    .await;
    assert_eq!(summary.fields_kept, 4, "titles and prices stay A's: {summary:?}");
    for (gtin, title, description, price) in
        [(first, "A title", "B text 2", 1_200), (second, "A two", "B text two", 2_000)]
    {
        let now = product(&sdk, gtin).await;
        assert_eq!(
            (now.title.as_str(), now.description.as_deref(), retail(&now)),
            (title, Some(description), Some(price))
        );
    }
    let provenance = sdk.products().provenance(product(&sdk, first).await.id).await.unwrap();
    assert!(
        matches!(field(&provenance, "title").source, FieldSource::Supplier { supplier_id, .. } if supplier_id == a)
    );
    sdk.close().await;
}

both_backends!(supplier_priority_holds_whatever_the_import_order);

/// Imports `rows` in a layout with stock, categories and images (`sku,gtin,title,stock,category,image_url`), as
/// `catalog` (a shop's stock is the product's own).
async fn import_with(sdk: &Sdk, folder: &Path, supplier: Uuid, catalog: SourceCatalog, rows: &str) -> ImportSummary {
    let path = folder.join(format!("{}.csv", Uuid::now_v7()));
    std::fs::write(&path, format!("sku,gtin,title,stock,category,image_url\n{rows}")).unwrap();
    let mut input = super::imports::native(supplier, &path);
    input.options.catalog = Some(catalog);
    sdk.imports().import_file(input, |_| {}).await.unwrap()
}

/// Stock, category links and image URLs have provenance too: who put the product in each category and who gave
/// each image (a supplier's import with its job, a person), who set the stock; a person's stock survives a shop's
/// file until released, then takes the file's count at once; a lock on `categories` keeps imports from adding any.
async fn stock_categories_and_images_know_their_source(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "stock_categories_and_images_know_their_source").await else {
        return;
    };
    let sdk = env.sdk().await;
    let shop = supplier(&sdk, "SHOP").await;
    let first = import_with(
        &sdk,
        env.folder(),
        shop,
        SourceCatalog::Shop,
        &format!("S-1,{GTIN},Pot,5,Garden > Pots,https://img.example/pot.jpg\n"),
    )
    .await;
    let id = product(&sdk, GTIN).await.id;
    let by_shop = |job| FieldSource::Supplier { supplier_id: shop, job_id: Some(job) };
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "stock").source, by_shop(first.job_id));
    let link = field(&provenance, "category:Garden > Pots");
    assert_eq!((link.source, link.source_name.as_deref()), (by_shop(first.job_id), Some("SHOP")));
    assert_eq!(field(&provenance, "image:https://img.example/pot.jpg").source, by_shop(first.job_id));

    // A person counts the stock and puts the product in a category of their own.
    let person = Uuid::now_v7();
    let level = NewStockLevel { product_id: id, location: None, quantity: 9, reserved: None };
    sdk.stock().on_behalf_of(person).set(level).await.unwrap();
    let sale = sdk.categories().ensure_path(&["Sale".to_string()]).await.unwrap();
    sdk.categories().on_behalf_of(person).link(id, sale, false).await.unwrap();
    let provenance = sdk.products().provenance(id).await.unwrap();
    let by_person = FieldSource::User { user_id: Some(person) };
    assert_eq!(
        (field(&provenance, "stock").source, field(&provenance, "category:Sale").source),
        (by_person, by_person)
    );

    // The shop's next file: another count (kept: the person's), the category it gave before (no change) and a
    // second image (added).
    let second = import_with(
        &sdk,
        env.folder(),
        shop,
        SourceCatalog::Shop,
        &format!("S-1,{GTIN},Pot,3,Garden > Pots,https://img.example/pot.jpg|https://img.example/pot-2.jpg\n"),
    )
    .await;
    assert_eq!(second.fields_kept, 1, "the stock: {second:?}");
    assert_eq!(product(&sdk, GTIN).await.stock.quantity, 9);
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "category:Garden > Pots").source, by_shop(first.job_id), "added by the first");
    assert_eq!(field(&provenance, "image:https://img.example/pot-2.jpg").source, by_shop(second.job_id));

    // Released, the stock takes the shop's last count at once.
    let released = sdk.products().set_field_rule(id, "stock", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(field(&released, "stock").source, by_shop(second.job_id));
    assert_eq!(product(&sdk, GTIN).await.stock.quantity, 3);

    // Another category from the shop: added, with the job that added it.
    let third = import_with(
        &sdk,
        env.folder(),
        shop,
        SourceCatalog::Shop,
        &format!("S-1,{GTIN},Pot,3,Garden > Outdoor,https://img.example/pot.jpg\n"),
    )
    .await;
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "category:Garden > Outdoor").source, by_shop(third.job_id));
    let history = sdk.products().history(id, 20).await.unwrap();
    let added: Vec<(&str, Option<&str>)> = history
        .iter()
        .filter(|c| c.change == ChangeKind::Add)
        .map(|c| (c.field.as_str(), c.value.as_deref()))
        .collect();
    assert_eq!(
        added,
        [
            ("categories", Some("Garden > Outdoor")),
            ("images", Some("https://img.example/pot-2.jpg")),
            ("categories", Some("Sale")),
        ],
        "newest first; what the product had is no change: {history:?}"
    );

    // Categories locked: an import adds none (counted as kept), a person cannot change them either.
    sdk.products().set_field_rule(id, "categories", FieldAction::Lock).await.unwrap();
    let fourth = import_with(
        &sdk,
        env.folder(),
        shop,
        SourceCatalog::Shop,
        &format!("S-1,{GTIN},Pot,3,Garden > Clay,https://img.example/pot.jpg\n"),
    )
    .await;
    assert_eq!(fourth.fields_kept, 1, "{fourth:?}");
    let categories = sdk.categories().of_product(id).await.unwrap();
    assert!(!categories.iter().any(|c| c.name == "Clay"), "{categories:?}");
    let refused = sdk.categories().unlink(id, sale).await.unwrap_err();
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some("categories")));
    assert!(field(&sdk.products().provenance(id).await.unwrap(), "categories").locked);
    sdk.close().await;
}

both_backends!(stock_categories_and_images_know_their_source);

/// A released field takes at once the word of the supplier that comes first: a ranked supplier's value that the
/// product did not take, else — no file since the person's edit — the value the creating supplier last set.
async fn a_released_field_takes_the_first_suppliers_word_at_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "a_released_field_takes_the_first_suppliers_word_at_once").await
    else {
        return;
    };
    let sdk = env.sdk().await;
    let (acme, beta) = (supplier(&sdk, "ACME").await, supplier(&sdk, "BETA").await);
    let created = import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Pot,Terracotta,10.00\n")).await;
    let id = product(&sdk, GTIN).await.id;
    let rename = |title: &str| ProductPatch { title: Some(title.into()), ..Default::default() };
    sdk.products().patch(id, rename("Mine")).await.unwrap();
    // No supplier file since: the creator's own value comes back.
    let released = sdk.products().set_field_rule(id, "title", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(product(&sdk, GTIN).await.title, "Pot");
    assert_eq!(
        field(&released, "title").source,
        FieldSource::Supplier { supplier_id: acme, job_id: Some(created.job_id) }
    );

    // BETA ranked first: its file's title, kept while the person's value stood, is the one a release takes.
    sdk.products().patch(id, rename("Mine again")).await.unwrap();
    let patch = SupplierPatch { priority: Some(Some(1)), ..Default::default() };
    sdk.suppliers().patch(beta, patch).await.unwrap();
    let from_beta = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,,10.00\n")).await;
    import(&sdk, env.folder(), acme, &format!("A-1,{GTIN},Acme pot,Terracotta,10.00\n")).await;
    assert_eq!(product(&sdk, GTIN).await.title, "Mine again");
    let released = sdk.products().set_field_rule(id, "title", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(product(&sdk, GTIN).await.title, "Beta pot");
    let title = field(&released, "title");
    assert_eq!(
        (title.source, title.source_name.as_deref()),
        (FieldSource::Supplier { supplier_id: beta, job_id: Some(from_beta.job_id) }, Some("BETA"))
    );
    // A field no supplier gave stays released: the next one that gives it sets it.
    let brand = sdk.products().set_field_rule(id, "brand", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(field(&brand, "brand").source, FieldSource::FollowSuppliers);
    sdk.close().await;
}

both_backends!(a_released_field_takes_the_first_suppliers_word_at_once);

/// Stock set before stock had provenance (no source of its own) is nobody's: a shop's file updates it whoever created
/// the product. A dry run sees the categories a lock keeps out as the real run does. An image lock keeps the images'
/// order too. A released field no file gave since takes the value its supplier last set (the history).
async fn stock_from_before_and_what_locks_keep(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "stock_from_before_and_what_locks_keep").await else { return };
    let sdk = env.sdk().await;
    let shop = supplier(&sdk, "SHOP").await;
    let new = productsmanager_core::catalog::NewProduct {
        gtin: Some(GTIN.parse().unwrap()),
        title: "Pot".into(),
        ..Default::default()
    };
    let id = sdk.products().create(new).await.unwrap().id;
    let row = |stock: u32, category: &str| {
        format!("S-1,{GTIN},Pot,{stock},{category},https://img.example/a.jpg|https://img.example/b.jpg\n")
    };
    import_with(&sdk, env.folder(), shop, SourceCatalog::Shop, &row(5, "Garden")).await;
    // As an upgraded catalog has it: the stock without a source.
    let pool = sdk.pool(Database::Catalog);
    let forget = "delete from product_field_sources where field = 'stock'";
    with_pool!(pool, |p| sqlx::query(forget).execute(p).await.map(|done| done.rows_affected())).unwrap();
    let provenance = sdk.products().provenance(id).await.unwrap();
    assert_eq!(field(&provenance, "stock").source, FieldSource::Unknown, "not the person who created the product");
    let next = import_with(&sdk, env.folder(), shop, SourceCatalog::Shop, &row(3, "Garden")).await;
    assert_eq!((next.fields_kept, product(&sdk, GTIN).await.stock.quantity), (0, 3), "{next:?}");
    // A dry run shows the product's own stock it would change, beside the offer's fields.
    let path = env.folder().join("dry-stock.csv");
    std::fs::write(&path, format!("sku,gtin,title,stock,category,image_url\n{}", row(4, "Garden"))).unwrap();
    let mut input = super::imports::native(shop, &path);
    input.options.catalog = Some(SourceCatalog::Shop);
    let dry = productsmanager_core::imports::NewImport { dry_run: true, ..input };
    let dry = sdk.imports().import_file(dry, |_| {}).await.unwrap();
    let diff = dry.diffs[0].fields.get("product_stock");
    assert_eq!(diff, Some(&(Some("3".to_string()), Some("4".to_string()))), "{:?}", dry.diffs);

    // Locked categories: the dry run counts the link it keeps out, as the real run does, for a new category too.
    sdk.products().set_field_rule(id, "categories", FieldAction::Lock).await.unwrap();
    sdk.products().set_field_rule(id, "images", FieldAction::Lock).await.unwrap();
    let path = env.folder().join("locked.csv");
    let rows = format!(
        "sku,gtin,title,stock,category,image_url\nS-1,{GTIN},Pot,3,Patio,https://img.example/b.jpg|https://img.example/a.jpg\n"
    );
    std::fs::write(&path, rows).unwrap();
    let mut input = super::imports::native(shop, &path);
    input.options.catalog = Some(SourceCatalog::Shop);
    let dry = sdk
        .imports()
        .import_file(productsmanager_core::imports::NewImport { dry_run: true, ..input.clone() }, |_| {})
        .await;
    let real = sdk.imports().import_file(input, |_| {}).await.unwrap();
    assert_eq!((dry.unwrap().fields_kept, real.fields_kept), (1, 1), "the category Patio, kept out: {real:?}");
    let offers = sdk.offers().for_product(id).await.unwrap();
    assert_eq!(offers[0].not_taken.get("categories").map(String::as_str), Some("Patio"));
    let images = sdk.products().get(id).await.unwrap();
    let provenance = sdk.products().provenance(images.id).await.unwrap();
    let order: Vec<&str> = provenance.iter().filter_map(|f| f.field.strip_prefix("image:")).collect();
    assert_eq!(order, ["https://img.example/a.jpg", "https://img.example/b.jpg"], "the file's new order is kept out");
    let patio = sdk.categories().ensure_path(&["Patio".into()]).await.unwrap();
    let refused = sdk.categories().link(id, patio, false).await.unwrap_err();
    assert_eq!(refused.field(), Some("categories"), "a person is held by the lock too");

    // The history fallback: a supplier filled the description, a person replaced it, the supplier's next file left
    // it out (its offer says nothing of it now): released, it is the supplier's last value again.
    let beta = supplier(&sdk, "BETA").await;
    let filled = import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,Beta text,10.00\n")).await;
    let patch = ProductPatch { description: Some(Some("Mine".into())), ..Default::default() };
    sdk.products().patch(id, patch).await.unwrap();
    import(&sdk, env.folder(), beta, &format!("B-1,{GTIN},Beta pot,,11.00\n")).await;
    let beta_offer = sdk.offers().for_product(id).await.unwrap().into_iter().find(|o| o.supplier_id == beta).unwrap();
    assert!(!beta_offer.not_taken.contains_key("description"), "{beta_offer:?}");
    let released = sdk.products().set_field_rule(id, "description", FieldAction::FollowSuppliers).await.unwrap();
    assert_eq!(product(&sdk, GTIN).await.description.as_deref(), Some("Beta text"));
    assert_eq!(
        field(&released, "description").source,
        FieldSource::Supplier { supplier_id: beta, job_id: Some(filled.job_id) }
    );
    sdk.close().await;
}

both_backends!(stock_from_before_and_what_locks_keep);
