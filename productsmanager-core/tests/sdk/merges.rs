//! Duplicates and merges (issue 25): the report finds a product two suppliers made twice (one without a GTIN);
//! the merge moves everything to the survivor, the old id and keys answer with the survivor, the next import of
//! either supplier lands on it, and the merge is undone row by row.

use productsmanager_core::catalog::{
    Attribute, AttributeValue, ChangeKind, DuplicateQuery, FieldSource, Money, NewBrand, NewCategory, NewPrice,
    NewStockLevel, PriceType, ProductPatch, ProductQuery,
};
use productsmanager_core::db::Backend;
use productsmanager_core::media::NewImage;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};
use uuid::Uuid;

use super::imports::supplier;

const GTIN: &str = "4006381333931";

async fn the_merge_of_two_products_moves_everything_and_can_be_undone(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "the_merge_of_two_products_moves_everything").await else { return };
    let sdk = env.sdk().await;
    let (acme, beta) = (supplier(&sdk, "ACME").await, supplier(&sdk, "BETA").await);
    let write = |name: &str, rows: &str| {
        let path = env.folder().join(name);
        std::fs::write(&path, format!("sku,gtin,title,description,price\n{rows}")).unwrap();
        path
    };
    // ACME knows the GTIN; BETA made the same iPod without one, and a 32 GB one that is another product.
    let acme_file = write("acme.csv", &format!("A-1,{GTIN},iPod 8 GB silver,From Acme,200.00\n"));
    let beta_file = write("beta.csv", "B-7,,Apple iPod silver 8GB,,190.00\nB-9,,Apple iPod silver 32GB,,290.00\n");
    for (supplier, file) in [(acme, &acme_file), (beta, &beta_file)] {
        sdk.imports().import_file(super::imports::native(supplier, file), |_| {}).await.unwrap();
    }
    let survivor = sdk.products().find(GTIN).await.unwrap();
    let duplicate = sdk.products().find("B-7").await.unwrap();
    let other_model = sdk.products().find("B-9").await.unwrap().id;

    // A person gives the duplicate a brand, a colour, a category, a purchase price, stock on a shelf and a photo.
    let person = Uuid::now_v7();
    let apple = sdk.brands().create(NewBrand { name: "Apple".into(), ..Default::default() }).await.unwrap().id;
    let colour = Attribute { name: "Color".into(), value: AttributeValue::Text { value: "Silver".into() } };
    let patch = ProductPatch { brand_id: Some(Some(apple)), attributes: Some(vec![colour]), ..Default::default() };
    sdk.products().on_behalf_of(person).patch(duplicate.id, patch).await.unwrap();
    let players =
        sdk.categories().create(NewCategory { name: "Players".into(), ..Default::default() }).await.unwrap().id;
    sdk.categories().link(duplicate.id, players, true).await.unwrap();
    let purchase = NewPrice {
        product_id: duplicate.id,
        price_type: PriceType::Purchase,
        amount: Money::new(15_000, "EUR".parse().unwrap()),
        valid_from: None,
        valid_to: None,
    };
    sdk.prices().set(purchase).await.unwrap();
    let shelf = NewStockLevel { product_id: duplicate.id, location: Some("shelf".into()), quantity: 4, reserved: None };
    sdk.stock().set(shelf).await.unwrap();
    let photo =
        sdk.media().upload(NewImage::new(duplicate.id.to_string(), super::media::logo(40, 30))).await.unwrap().file.id;

    // The report pairs the two (the brand taken out of both titles, the one with a GTIN to survive) and not the
    // 32 GB model.
    let report = sdk.merges().duplicates(DuplicateQuery::default()).await.unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!((report[0].survivor.id, report[0].duplicate.id, report[0].score), (survivor.id, duplicate.id, 1.0));
    assert_eq!(report[0].duplicate.brand.as_deref(), Some("Apple"));

    let merge = sdk.merges().on_behalf_of(person).merge(GTIN, "B-7").await.unwrap();
    assert_eq!((merge.survivor_id, merge.merged_id, merge.merged_by), (survivor.id, duplicate.id, Some(person)));
    let moved = merge.moved;
    assert_eq!(
        (moved.offers, moved.prices, moved.attributes, moved.categories, moved.stock_levels, moved.images),
        (1, 1, 1, 1, 1, 1),
        "{merge:?}"
    );
    assert_eq!(merge.filled, ["brand"]);
    assert_eq!(merge.kept_by_survivor, ["title", "price:retail:EUR"], "the survivor's own title and retail price win");

    // The survivor has everything; the old id and the old supplier SKU answer with it.
    let merged = sdk.products().get(survivor.id).await.unwrap();
    assert_eq!(merged.brand_id, Some(apple));
    assert_eq!(merged.attributes.len(), 1);
    assert_eq!(merged.stock.quantity, 4);
    let retail = merged.prices.iter().find(|p| p.price_type == PriceType::Retail).unwrap();
    assert_eq!(retail.amount.amount_minor, 20_000);
    assert!(merged.prices.iter().any(|p| p.price_type == PriceType::Purchase));
    assert_eq!(sdk.offers().for_product(survivor.id).await.unwrap().len(), 2);
    assert_eq!(sdk.categories().of_product(survivor.id).await.unwrap()[0].id, players);
    let images = sdk.media().list(&survivor.id.to_string()).await.unwrap();
    assert_eq!(images.iter().map(|i| i.id).collect::<Vec<_>>(), [photo]);
    assert_eq!(sdk.products().get(duplicate.id).await.unwrap().id, survivor.id, "the old id answers");
    assert_eq!(sdk.products().find("B-7").await.unwrap().id, survivor.id, "the old supplier SKU answers");
    let provenance = sdk.products().provenance(duplicate.id).await.unwrap();
    let brand = provenance.iter().find(|f| f.field == "brand").unwrap();
    assert_eq!(brand.source, FieldSource::User { user_id: Some(person) }, "the brand keeps who set it");
    assert!(sdk.merges().duplicates(DuplicateQuery::default()).await.unwrap().is_empty());
    // The survivor's history has the merge, the brand it took, and the duplicate's own history (the person's brand
    // and colour edit).
    let history = sdk.products().history(survivor.id, 50).await.unwrap();
    assert_eq!((history[0].field.as_str(), history[0].change), ("brand", ChangeKind::Set), "{history:?}");
    assert_eq!(history[0].value.as_deref(), Some("Apple"));
    assert_eq!(history[1].change, ChangeKind::Merge);
    assert!(history[1].value.as_deref().unwrap().contains("Apple iPod silver 8GB"), "{history:?}");
    assert!(history.iter().any(|c| c.product_id == duplicate.id && c.field == "brand"), "{history:?}");
    let listed = sdk.products().list(&ProductQuery::default()).await.unwrap().items;
    assert_eq!(listed.len(), 2, "the survivor and the 32 GB model");

    // Both suppliers' next files land on the survivor: no product is made again.
    let beta_again = write("beta2.csv", "B-7,,Apple iPod silver 8GB,,185.00\n");
    let summary = sdk.imports().import_file(super::imports::native(beta, &beta_again), |_| {}).await.unwrap();
    assert_eq!((summary.created, summary.products_created), (0, 0), "{summary:?}");
    let acme_again = write("acme2.csv", &format!("A-1,{GTIN},iPod 8 GB silver,From Acme,210.00\n"));
    let summary = sdk.imports().import_file(super::imports::native(acme, &acme_again), |_| {}).await.unwrap();
    assert_eq!(summary.products_created, 0);
    assert_eq!(sdk.products().list(&ProductQuery::default()).await.unwrap().items.len(), 2);

    // Undone: the duplicate is back with what it had; the survivor keeps its own, and loses what it took.
    let undone = sdk.merges().undo(merge.id).await.unwrap();
    assert!(undone.undone_at.is_some());
    let history = sdk.products().history(survivor.id, 50).await.unwrap();
    assert_eq!(history[0].change, ChangeKind::Unmerge, "{history:?}");
    assert!(history.iter().all(|c| c.product_id == survivor.id), "the duplicate's history left with it");
    let back = sdk.products().get(duplicate.id).await.unwrap();
    assert_eq!((back.id, back.brand_id, back.attributes.len(), back.stock.quantity), (duplicate.id, Some(apple), 1, 4));
    assert!(back.prices.iter().any(|p| p.price_type == PriceType::Purchase));
    assert_eq!(sdk.offers().for_product(duplicate.id).await.unwrap().len(), 1);
    assert_eq!(sdk.categories().of_product(duplicate.id).await.unwrap()[0].id, players);
    let images = sdk.media().list(&duplicate.id.to_string()).await.unwrap();
    assert_eq!(images.iter().map(|i| (i.id, i.is_main)).collect::<Vec<_>>(), [(photo, true)]);
    let survivor_now = sdk.products().get(survivor.id).await.unwrap();
    assert_eq!((survivor_now.brand_id, survivor_now.attributes.len()), (None, 0));
    assert_eq!(sdk.offers().for_product(survivor.id).await.unwrap().len(), 1);
    assert_eq!(sdk.products().find("B-7").await.unwrap().id, duplicate.id);
    let again = sdk.merges().undo(merge.id).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict, "{again}");
    let history = sdk.merges().list(Some(GTIN), 10).await.unwrap();
    assert_eq!(history.iter().map(|m| (m.id, m.undone_at.is_some())).collect::<Vec<_>>(), [(merge.id, true)]);

    // One product named twice, a variant, an unknown key: refused, nothing written.
    let same = sdk.merges().merge(GTIN, &survivor.id.to_string()).await.unwrap_err();
    assert_eq!(same.kind(), ErrorKind::Invalid);
    let unknown = sdk.merges().merge(GTIN, "NO-SUCH-THING").await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert!(sdk.products().get(other_model).await.is_ok());
}
both_backends!(the_merge_of_two_products_moves_everything_and_can_be_undone);

/// A merge of a merge: the first merged product's id leads through both to the last survivor; undoing the first
/// merge is refused until the second is undone.
async fn merges_chain_and_undo_in_reverse_order(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "merges_chain_and_undo_in_reverse_order").await else { return };
    let sdk = env.sdk().await;
    let mut ids = Vec::new();
    for sku in ["P-1", "P-2", "P-3"] {
        let input = productsmanager_core::catalog::NewProduct {
            sku: Some(sku.parse().unwrap()),
            title: format!("Pot {sku}"),
            ..Default::default()
        };
        ids.push(sdk.products().create(input).await.unwrap().id);
    }
    let first = sdk.merges().merge("P-2", "P-1").await.unwrap();
    let second = sdk.merges().merge("P-3", "P-2").await.unwrap();
    assert_eq!(sdk.products().get(ids[0]).await.unwrap().id, ids[2]);
    assert_eq!(sdk.products().find("P-1").await.unwrap().id, ids[2]);
    let refused = sdk.merges().undo(first.id).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    assert!(refused.to_string().contains("undo that merge first"), "{refused}");
    sdk.merges().undo(second.id).await.unwrap();
    sdk.merges().undo(first.id).await.unwrap();
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(sdk.products().get(*id).await.unwrap().id, *id, "product {n} is itself again");
    }
}
both_backends!(merges_chain_and_undo_in_reverse_order);
