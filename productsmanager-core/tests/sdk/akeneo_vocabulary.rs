//! Akeneo's structure through imports (issue 26): its family variants, attribute options and categories files are
//! read into the supplier's vocabulary; its product models file teaches each model's family variant; its products
//! then become the root model's variants with every level's axes, options by label and categories as paths of
//! labels. A dry run learns nothing; a supplier whose structure was never imported keeps codes, and is told.

use std::path::Path;

use uuid::Uuid;

use productsmanager_core::catalog::ProductRecord;
use productsmanager_core::db::Backend;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, ImportOutcome, ImportSummary, NewImport};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};

use super::dataset_products::supplier_records;
use super::imports::supplier;

const FAMILY_VARIANTS: &str = "code;family;label-en_US;variant-axes_1;variant-axes_2;variant-attributes_1;variant-attributes_2\n\
    clothing_color_size;clothing;Clothing by color and size;color;size;variation_name,color;sku,size\n\
    Shoes_Size;shoes;Shoes by size;eu_shoes_size;;sku,eu_shoes_size;\n\
    broken;shoes;No axis;;;;\n";

const ATTRIBUTES: &str = "code;label-de_DE;label-en_US;label-fr_FR;group;localizable;type\n\
    color;Farbe;Color;Couleur;product;0;pim_catalog_simpleselect\n\
    size;Größe;Size;Taille;product;0;pim_catalog_simpleselect\n";

const OPTIONS: &str = "code;label-de_DE;label-en_US;label-fr_FR;attribute;sort_order\n\
    blue;Blau;Blue;Bleu;color;1\n\
    white;Weiß;White;Blanc;color;2\n\
    m;M;M;M;size;1\n\
    l;L;L;L;size;2\n\
    42;42 EU;;42 EU;eu_shoes_size;1\n\
    cotton;Baumwolle;Cotton;Coton;material;1\n\
    wool;Wolle;Wool;Laine;material;2\n\
    acme;;ACME Tools;;brand;1\n";

const CATEGORIES: &str = "code;parent;label-en_US;label-fr_FR\n\
    master;;Master catalog;Catalogue principal\n\
    master_men;master;Men;Hommes\n\
    master_men_blazers;master_men;Blazers;Vestes\n\
    bad\u{1};master;Bad;Mauvais\n";

const MODELS: &str = "code;family_variant;parent;categories;name;variation_name-en_US;color;description-en_US-ecommerce\n\
    amor;clothing_color_size;;master_men_blazers;Amor;;;Tweed jacket\n\
    amor_blue;clothing_color_size;amor;master_men_blazers;Amor;Amor blue;blue;\n\
    runner;shoes_size;;master_men;Runner;;;Running shoes\n";

const PRODUCTS: &str = "sku;categories;enabled;family;parent;color;size;eu_shoes_size;material;name;variation_name-en_US;brand\n\
    amor-blue-m;master_men_blazers;1;clothing;amor_blue;blue;m;;cotton,wool;Amor;Amor blue;acme\n\
    amor-blue-l;master_men_blazers;1;clothing;amor_blue;blue;l;;cotton,wool;Amor;Amor blue;\n\
    runner-42;master_men;1;shoes;runner;;;42;;Runner;;\n\
    solo;master_men,unknown_code;1;clothing;;white;;;;Solo;;\n";

/// Imports `content` as `name` for `supplier` with the Akeneo preset (a dry run first, unless `dry_only`).
async fn import(
    sdk: &Sdk,
    folder: &Path,
    supplier: Uuid,
    (name, content): (&str, &str),
    dry_only: bool,
) -> ImportSummary {
    let path = folder.join(format!("{supplier}-{name}"));
    std::fs::write(&path, content).unwrap();
    let input = NewImport {
        supplier_id: supplier,
        name: name.into(),
        path,
        template: None,
        preset: Some(Preset::Akeneo),
        dry_run: true,
        force: true,
        options: ImportOptions::default(),
        requested_by: None,
    };
    let dry = sdk.imports().import_file(input.clone(), |_| {}).await.unwrap();
    if dry_only {
        return dry;
    }
    let real = sdk.imports().import_file(NewImport { dry_run: false, ..input }, |_| {}).await.unwrap();
    let counts = |s: &ImportSummary| {
        (s.rows, s.created, s.invalid, s.skipped_by.clone(), s.variants_created, s.outcome, s.codes_learned.clone())
    };
    assert_eq!(counts(&dry), counts(&real), "dry run {dry:?}\nreal run {real:?}");
    real
}

fn record<'a>(records: &'a [ProductRecord], title: &str) -> &'a ProductRecord {
    records.iter().find(|r| r.product.title == title).unwrap_or_else(|| panic!("no {title} among {records:#?}"))
}

fn learned(summary: &ImportSummary) -> Vec<(&str, u64)> {
    summary.codes_learned.iter().map(|(what, n)| (what.as_str(), *n)).collect()
}

async fn akeneo_structure_gives_variants_axes_labels_and_category_paths(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "akeneo_vocabulary").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let pim = supplier(&sdk, "PIM").await;

    let family_variants = import(&sdk, folder, pim, ("family_variants.csv", FAMILY_VARIANTS), false).await;
    assert_eq!(learned(&family_variants), [("family variants", 2)], "{family_variants:?}");
    assert_eq!((family_variants.rows, family_variants.invalid), (3, 1), "{family_variants:?}");
    assert_eq!(family_variants.outcome, ImportOutcome::CompletedWithErrors);
    assert!(family_variants.format.contains("Akeneo's family variants file"), "{}", family_variants.format);
    assert_eq!(
        family_variants.columns_not_imported,
        ["family", "label-en_US", "variant-attributes_1", "variant-attributes_2"]
    );
    let errors = String::from_utf8(sdk.imports().errors_csv(family_variants.job_id).await.unwrap().to_vec()).unwrap();
    assert!(errors.lines().nth(1).unwrap().starts_with("4,4,variant-axes_1,"), "{errors}");
    let attributes = import(&sdk, folder, pim, ("attributes.csv", ATTRIBUTES), false).await;
    assert_eq!(learned(&attributes), [("attributes", 2)], "{attributes:?}");
    let options = import(&sdk, folder, pim, ("attribute_options.csv", OPTIONS), false).await;
    assert_eq!(learned(&options), [("attribute options", 8)], "{options:?}");
    let categories = import(&sdk, folder, pim, ("categories.csv", CATEGORIES), false).await;
    assert_eq!(learned(&categories), [("categories", 3)], "{categories:?}");
    assert_eq!((categories.rows, categories.invalid), (4, 1), "a control character is refused: {categories:?}");
    let errors = String::from_utf8(sdk.imports().errors_csv(categories.job_id).await.unwrap().to_vec()).unwrap();
    assert!(errors.lines().nth(1).unwrap().starts_with("5,1,code,"), "{errors}");
    assert!(errors.contains("control_character"), "{errors}");

    // The sub-model is set aside: its products are the root model's variants.
    let models = import(&sdk, folder, pim, ("product_models.csv", MODELS), false).await;
    assert_eq!((models.rows, models.created, models.skipped), (2, 2, 1), "{models:?}");
    assert_eq!(models.skipped_by.get("sub_model"), Some(&1), "{models:?}");
    assert_eq!(learned(&models), [("product models", 3)], "every model is learned, the sub-model too");
    assert!(
        models.format.ends_with("2 family variants, 0 product models, 2 attributes, 8 attribute options, 3 categories"),
        "{}",
        models.format
    );

    let products = import(&sdk, folder, pim, ("products.csv", PRODUCTS), false).await;
    assert_eq!((products.created, products.invalid, products.variants_created), (4, 0, 3), "{products:?}");
    assert!(products.codes_learned.is_empty(), "{products:?}");
    let all = supplier_records(&sdk, pim).await;
    let amor = record(&all, "Amor");
    let axes: Vec<(&str, Vec<&str>)> =
        amor.variant_axes.iter().map(|a| (a.name.as_str(), a.values.iter().map(String::as_str).collect())).collect();
    assert_eq!(axes, [("Color", vec!["Blue"]), ("Size", vec!["M", "L"])], "every level's axes, by label");
    assert_eq!(amor.category_paths, [vec!["Master catalog", "Men", "Blazers"]]);
    let variants: Vec<&ProductRecord> =
        all.iter().filter(|r| r.variant_of.as_ref().is_some_and(|v| v.parent_id == amor.product.id)).collect();
    assert_eq!(variants.len(), 2, "{variants:#?}");
    let medium = variants.iter().find(|r| r.product.sku.as_ref().is_some_and(|s| s.as_str() == "amor-blue-m")).unwrap();
    let options: Vec<(&str, &str)> =
        medium.variant_of.as_ref().unwrap().options.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
    assert_eq!(options, [("Color", "Blue"), ("Size", "M")], "axes named by their attributes' labels");
    let attributes: Vec<(&str, String)> =
        medium.product.attributes.iter().map(|a| (a.name.as_str(), a.value.shown())).collect();
    assert!(attributes.contains(&("material", "Cotton,Wool".to_string())), "{attributes:?}");
    assert!(
        !attributes.iter().any(|(name, _)| *name == "color" || *name == "size"),
        "axes are options: {attributes:?}"
    );
    assert_eq!(medium.brand.as_deref(), Some("ACME Tools"), "a brand is an option: its label");
    let runner = record(&all, "Runner");
    assert_eq!(runner.variant_axes.len(), 1);
    assert_eq!(
        (runner.variant_axes[0].name.as_str(), runner.variant_axes[0].values.as_slice()),
        ("eu_shoes_size", &["42 EU".to_string()][..])
    );
    let solo = all.iter().find(|r| r.product.sku.as_ref().is_some_and(|s| s.as_str() == "solo")).unwrap();
    assert_eq!(
        solo.category_paths,
        [vec!["Master catalog".to_string(), "Men".to_string()], vec!["unknown_code".to_string()]],
        "an unknown code stays a code"
    );
    assert!(
        supplier_records(&sdk, pim).await.iter().all(|r| r.product.title != "Amor blue" || r.variant_of.is_some()),
        "no sub-model product"
    );

    // A structure file again, marking missing offers unavailable: it names no offers, none is missing.
    let path = folder.join("categories-again.csv");
    std::fs::write(&path, CATEGORIES).unwrap();
    let options = ImportOptions { mark_missing_unavailable: true, ..Default::default() };
    let input = NewImport {
        supplier_id: pim,
        name: "categories.csv".into(),
        path,
        template: None,
        preset: Some(Preset::Akeneo),
        dry_run: false,
        force: true,
        options,
        requested_by: None,
    };
    let again = sdk.imports().import_file(input, |_| {}).await.unwrap();
    assert_eq!(again.marked_unavailable, 0, "{again:?}");
    let offers = sdk.offers().for_product(medium.product.id).await.unwrap();
    assert!(offers.iter().all(|o| o.is_available), "{offers:?}");

    // Another supplier whose structure was only tried (a dry run): its products keep codes, and it is told.
    let other = supplier(&sdk, "OTHER").await;
    let tried = import(&sdk, folder, other, ("family_variants.csv", FAMILY_VARIANTS), true).await;
    assert_eq!(learned(&tried), [("family variants", 2)], "a dry run counts what it would learn");
    let models = import(&sdk, folder, other, ("product_models.csv", MODELS), false).await;
    assert_eq!(
        (models.created, models.skipped),
        (3, 0),
        "the family variants unknown, a sub-model is a product: {models:?}"
    );
    assert!(models.format.contains("no Akeneo structure imported for this supplier yet"), "{}", models.format);
    let theirs = PRODUCTS
        .replace("\namor-", "\nother-amor-")
        .replace("\nrunner-", "\nother-runner-")
        .replace("\nsolo", "\nother-solo");
    let products = import(&sdk, folder, other, ("products.csv", &theirs), false).await;
    assert!(products.format.contains("variants without axes until its family_variants.csv"), "{}", products.format);
    let all = supplier_records(&sdk, other).await;
    let medium = all
        .iter()
        .find(|r| r.product.sku.as_ref().is_some_and(|s| s.as_str() == "other-amor-blue-m"))
        .unwrap_or_else(|| {
            let skus: Vec<_> = all.iter().map(|r| (r.product.sku.clone(), r.product.title.clone())).collect();
            panic!("{skus:?} {products:?}")
        });
    assert!(medium.variant_of.as_ref().unwrap().options.is_empty(), "{medium:?}");
    let parent = sdk.products().get(medium.variant_of.as_ref().unwrap().parent_id).await.unwrap();
    assert_eq!(parent.title, "Amor blue", "the variant of its sub-model, as before");
    assert_eq!(medium.category_paths, [vec!["master_men_blazers".to_string()]]);
}

both_backends!(akeneo_structure_gives_variants_axes_labels_and_category_paths);
