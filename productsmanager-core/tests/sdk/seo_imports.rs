//! SEO metadata through imports (issue 26): our `slug:<locale>`, `meta_title:<locale>` and
//! `meta_description:<locale>` columns set a product's metadata in a locale; a slug names one product in a locale
//! (metadata giving another product's slug is kept out, counted, the rest of its row imported); a person's metadata
//! stays theirs; the same file again changes nothing.

use uuid::Uuid;

use productsmanager_core::catalog::{FieldSource, NewSeo};
use productsmanager_core::db::Backend;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, NewImport};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};

use super::import_presets::dry_then_real;
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
    assert_eq!((summary.created, summary.invalid, summary.fields_kept), (3, 1, 1), "{summary:?}");
    assert_eq!(
        seo(&sdk, "MUG").await,
        [r#"en blue-mug Some("Blue mug | Shop") Some("A mug, blue")"#, r#"fr tasse-bleue Some("Tasse bleue") None"#],
        "a slug made from the meta title when the row gives none"
    );
    assert_eq!(seo(&sdk, "PLATE").await, [r#"en plate None Some("Flat")"#], "else from the title");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = errors.lines().collect();
    assert!(lines[1].starts_with("4,4,slug:en,Not A Slug,invalid_slug"), "{errors}");
    assert_eq!(lines.len(), 2, "{errors}");
    assert!(seo(&sdk, "CUP").await.is_empty(), "another product's slug: the cup's metadata kept out");
    let cup = sdk.offers().for_product(sdk.products().find("CUP").await.unwrap().id).await.unwrap();
    assert!(cup[0].not_taken.contains_key("seo:en"), "the supplier's word is on its offer: {cup:?}");

    let again = import(&sdk, folder, source, ("again.csv", file), Preset::Native).await;
    // The cup's row is looked at again (its metadata waits for its slug), and changes nothing.
    let counts = (again.unchanged, again.updated, again.invalid, again.fields_kept, again.products_updated);
    assert_eq!(counts, (2, 1, 1, 1, 0), "{again:?}");

    // A row without a slug or a title: the slug is made from the product's stored title.
    let no_title = "sku,meta_description:en\nPLATE,Flattest\n";
    let summary = import(&sdk, folder, source, ("no-title.csv", no_title), Preset::Native).await;
    assert_eq!((summary.updated, summary.invalid, summary.products_updated), (1, 0, 1), "{summary:?}");
    assert_eq!(seo(&sdk, "PLATE").await, [r#"en plate None Some("Flattest")"#]);

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

/// A slug one product leaves is free for another from the next batch on, in a dry run as in the real run (the dry
/// run, which writes nothing, carries what its earlier batches gave and freed); within one batch it stays taken.
async fn a_slug_left_is_free_from_the_next_batch(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "seo_slug_moves").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let source = supplier(&sdk, "SRC").await;
    let first = "sku,title,slug:en\nA,Alpha,x\n";
    import(&sdk, folder, source, ("first.csv", first), Preset::Native).await;
    let moves = "sku,title,slug:en\nA,Alpha,y\nB,Beta,x\n";
    let path = folder.join("moves.csv");
    std::fs::write(&path, moves).unwrap();
    let input = |batch_rows| NewImport {
        supplier_id: source,
        name: "moves.csv".into(),
        path: path.clone(),
        template: None,
        preset: Some(Preset::Native),
        dry_run: false,
        force: true,
        options: ImportOptions { batch_rows, ..Default::default() },
        requested_by: None,
    };
    // One batch: `x` is still A's when B asks for it.
    let summary = dry_then_real(&sdk, input(5000)).await;
    assert_eq!((summary.created, summary.fields_kept), (1, 1), "{summary:?}");
    assert!(seo(&sdk, "B").await.is_empty());
    // Back to `x`, then a row per batch: B takes `x` once A has left it.
    import(&sdk, folder, source, ("back.csv", first), Preset::Native).await;
    let summary = dry_then_real(&sdk, input(1)).await;
    assert_eq!((summary.updated, summary.fields_kept), (2, 0), "{summary:?}");
    assert_eq!(seo(&sdk, "A").await, ["en y None None"]);
    assert_eq!(seo(&sdk, "B").await, ["en x None None"]);
    sdk.close().await;
}

/// A shop's SEO columns (Magento's `url_key`, `meta_title`, `meta_description`) are the product's metadata in the
/// import's SEO locale: its `seo_locale` option, else the `imports.seo_locale` setting (`en` by default); a URL key
/// written in words becomes a slug; a locale that is not one is refused before the file is read.
async fn a_shops_seo_columns_land_in_the_imports_locale(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "seo_shop_locale").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let shop = supplier(&sdk, "SHOP").await;
    let file = |sku: &str| {
        format!(
            "sku,product_type,name,price,url_key,meta_title,meta_description\n{sku},simple,Mug {sku},9.90,Blue Mug {sku},Mug | Shop,A mug\n"
        )
    };
    let input = |name: &str, content: String, seo_locale: Option<&str>| {
        let path = folder.join(name);
        std::fs::write(&path, content).unwrap();
        NewImport {
            supplier_id: shop,
            name: name.into(),
            path,
            template: None,
            preset: Some(Preset::Magento),
            dry_run: false,
            force: false,
            options: ImportOptions { seo_locale: seo_locale.map(String::from), ..Default::default() },
            requested_by: None,
        }
    };
    let summary = dry_then_real(&sdk, input("fr.csv", file("M1"), Some("fr"))).await;
    assert_eq!((summary.created, summary.invalid), (1, 0), "{summary:?}");
    assert_eq!(seo(&sdk, "M1").await, [r#"fr blue-mug-m1 Some("Mug | Shop") Some("A mug")"#]);
    assert!(summary.format.ends_with("SEO metadata in `fr`"), "{}", summary.format);
    // The same product's file without a URL key: its slug stays (a new meta title does not move its URL).
    let no_slug = "sku,product_type,name,price,url_key,meta_title\nM1,simple,Mug M1,9.90,,New title\n";
    // A dry run shows the slug it keeps, not a slug removed.
    let dry = NewImport { dry_run: true, ..input("fr-2.csv", no_slug.into(), Some("fr")) };
    let dry = sdk.imports().import_file(dry, |_| {}).await.unwrap();
    let (before, after) = &dry.diffs[0].fields["seo:fr"];
    assert_eq!(before.as_deref(), Some(r#"["blue-mug-m1","Mug | Shop","A mug"]"#), "{:?}", dry.diffs);
    assert_eq!(after.as_deref(), Some(r#"["blue-mug-m1","New title",null]"#), "{:?}", dry.diffs);
    let summary = dry_then_real(&sdk, input("fr-2.csv", no_slug.into(), Some("fr"))).await;
    assert_eq!((summary.updated, summary.invalid), (1, 0), "{summary:?}");
    assert_eq!(seo(&sdk, "M1").await, [r#"fr blue-mug-m1 Some("New title") None"#]);
    // A URL key longer than a slug may be: cut at a hyphen, the row imported.
    let long = format!("sku,product_type,name,price,url_key\nM9,simple,Mug M9,9.90,{}\n", "word ".repeat(60));
    let summary = dry_then_real(&sdk, input("long.csv", long, Some("fr"))).await;
    assert_eq!((summary.created, summary.invalid), (1, 0), "{summary:?}");
    let slug = seo(&sdk, "M9").await[0].split(' ').nth(1).unwrap().to_string();
    assert!(slug.len() <= 200 && slug.ends_with("word") && slug.starts_with("word-word"), "{slug}");
    dry_then_real(&sdk, input("en.csv", file("M2"), None)).await;
    assert_eq!(seo(&sdk, "M2").await, [r#"en blue-mug-m2 Some("Mug | Shop") Some("A mug")"#], "the setting's default");
    sdk.settings().set("imports.seo_locale", serde_json::json!("de"), None).await.unwrap();
    dry_then_real(&sdk, input("de.csv", file("M3"), None)).await;
    assert_eq!(seo(&sdk, "M3").await[0].split(' ').next(), Some("de"));
    let refused = sdk.imports().import_file(input("bad.csv", file("M4"), Some("not a locale")), |_| {}).await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains("options.seo_locale"), "{error}");
    sdk.close().await;
}

both_backends!(
    our_seo_columns_set_a_products_metadata,
    a_slug_left_is_free_from_the_next_batch,
    a_shops_seo_columns_land_in_the_imports_locale
);
