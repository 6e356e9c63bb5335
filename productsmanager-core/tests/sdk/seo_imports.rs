//! SEO metadata through imports (issue 26): our `slug:<locale>`, `meta_title:<locale>` and
//! `meta_description:<locale>` columns set a product's metadata in a locale; a slug names one product in a locale
//! (a row giving another product's is refused, naming it); a person's metadata stays theirs; the same file again
//! changes nothing.

use uuid::Uuid;

use productsmanager_core::catalog::{FieldSource, NewSeo};
use productsmanager_core::db::Backend;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};

use super::imports::supplier;
use super::price_windows::import;

/// A product's metadata, one line per locale: `en mug "Blue mug" None`.
async fn seo(sdk: &Sdk, sku: &str) -> Vec<String> {
    let product = sdk.products().find(sku).await.unwrap();
    let all = sdk.seo().of(product.id).await.unwrap();
    all.iter().map(|s| format!("{} {} {:?} {:?}", s.locale, s.slug, s.meta_title, s.meta_description)).collect()
}

async fn our_seo_columns_set_a_products_metadata(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "seo_imports").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let source = supplier(&sdk, "SRC").await;
    let file = "sku,product_sku,title,slug:en,meta_title:en,meta_description:en,meta_title:fr\n\
        MUG,MUG,Blue mug,blue-mug,Blue mug | Shop,\"A mug, blue\",Tasse bleue\n\
        CUP,CUP,Cup,blue-mug,,,\n\
        BOWL,BOWL,Bowl,Not A Slug,,,\n\
        PLATE,PLATE,Plate,,,Flat,\n";
    let summary = import(&sdk, folder, source, ("seo.csv", file), Preset::Native).await;
    assert_eq!((summary.created, summary.invalid), (2, 2), "{summary:?}");
    assert_eq!(
        seo(&sdk, "MUG").await,
        [r#"en blue-mug Some("Blue mug | Shop") Some("A mug, blue")"#, r#"fr tasse-bleue Some("Tasse bleue") None"#],
        "a slug made from the meta title when the row gives none"
    );
    assert_eq!(seo(&sdk, "PLATE").await, [r#"en plate None Some("Flat")"#], "else from the title");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = errors.lines().collect();
    assert!(lines[1].starts_with("3,") && lines[1].contains("duplicate_slug"), "{errors}");
    assert!(lines[1].contains("\"\"blue-mug\"\" in en"), "{errors}");
    assert!(lines[2].starts_with("4,4,slug:en,Not A Slug,invalid_slug"), "{errors}");

    let again = import(&sdk, folder, source, ("again.csv", file), Preset::Native).await;
    assert_eq!((again.unchanged, again.invalid, again.products_updated), (2, 2, 0), "{again:?}");

    // A person's metadata stays theirs; the file's is kept out, and counted.
    let mug = sdk.products().find("MUG").await.unwrap();
    let person = NewSeo {
        product_id: mug.id,
        locale: "en".into(),
        slug: Some("mug".into()),
        meta_title: Some("The mug".into()),
        meta_description: None,
    };
    sdk.seo().on_behalf_of(Uuid::now_v7()).set(person).await.unwrap();
    let provenance = sdk.products().provenance(mug.id).await.unwrap();
    let en = provenance.iter().find(|f| f.field == "seo:en").expect("the metadata's setter");
    assert!(matches!(en.source, FieldSource::User { .. }), "{en:?}");
    let changed = "sku,title,slug:en,meta_title:en\nMUG,Blue mug,blue-mug-2,Blue mug v2\n";
    let summary = import(&sdk, folder, source, ("changed.csv", changed), Preset::Native).await;
    assert_eq!((summary.updated, summary.fields_kept, summary.products_updated), (1, 1, 0), "{summary:?}");
    assert_eq!(seo(&sdk, "MUG").await[0], r#"en mug Some("The mug") None"#);
    // A supplier's own metadata follows its file.
    let plate = "sku,title,slug:en,meta_description:en\nPLATE,Plate,flat-plate,Flatter\n";
    let summary = import(&sdk, folder, source, ("plate.csv", plate), Preset::Native).await;
    assert_eq!(summary.products_updated, 1, "{summary:?}");
    assert_eq!(seo(&sdk, "PLATE").await, [r#"en flat-plate None Some("Flatter")"#]);
    sdk.close().await;
}

both_backends!(our_seo_columns_set_a_products_metadata);
