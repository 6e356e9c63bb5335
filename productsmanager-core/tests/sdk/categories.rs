//! Category trees, taxonomies and product links — on both backends.

use productsmanager_core::catalog::{
    CategoryNode, CategoryPatch, NewCategory, NewProduct, NewTaxonomy, ProductQuery, TaxonomyKind,
};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};
use uuid::Uuid;

fn child(name: &str, parent: Uuid) -> NewCategory {
    NewCategory { name: name.into(), parent_id: Some(parent), ..Default::default() }
}

fn names(nodes: &[CategoryNode]) -> Vec<String> {
    nodes.iter().map(|n| format!("{}{:?}", n.category.name, names(&n.children))).collect()
}

async fn category_trees(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "category_trees").await else { return };
    let sdk = env.sdk().await;
    let categories = sdk.categories();

    let tools = categories.create(NewCategory { name: "Tools".into(), ..Default::default() }).await.unwrap();
    let garden = categories
        .create(NewCategory { name: "Garden".into(), position: Some(1), ..Default::default() })
        .await
        .unwrap();
    let power = categories.create(child("Power tools", tools.id)).await.unwrap();
    let drills = categories.create(child("Drills", power.id)).await.unwrap();
    assert_eq!((drills.depth, drills.slug.as_str()), (2, "drills"));
    assert_eq!(drills.path, format!("/{}/{}/{}/", tools.id, power.id, drills.id));
    let tree = categories.tree(None).await.unwrap();
    assert_eq!(names(&tree), ["Tools[\"Power tools[\\\"Drills[]\\\"]\"]", "Garden[]"]);
    let crumbs: Vec<String> = categories.breadcrumbs(drills.id).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(crumbs, ["Tools", "Power tools", "Drills"]);

    // Slugs are unique among siblings only.
    let error = categories.create(child("Drills", power.id)).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("slug")));
    categories.create(child("Drills", garden.id)).await.unwrap();

    // A product in Drills is found under every ancestor.
    let product = sdk
        .products()
        .create(NewProduct { sku: Some("D1".parse().unwrap()), title: "Drill".into(), ..Default::default() })
        .await
        .unwrap();
    categories.link(product.id, drills.id, true).await.unwrap();
    let in_category = |id: Uuid| {
        let products = sdk.products();
        async move {
            let page = products.list(&ProductQuery { category_id: Some(id), ..Default::default() }).await.unwrap();
            page.items.into_iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(in_category(tools.id).await, vec![product.id]);
    assert!(in_category(garden.id).await.is_empty());

    // Moving a subtree re-roots its paths; the cached tree follows; cycles are refused.
    let moved = categories
        .update(power.id, CategoryPatch { parent_id: Some(Some(garden.id)), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((moved.depth, moved.path.clone()), (1, format!("/{}/{}/", garden.id, power.id)));
    let drills_now = categories.get(drills.id).await.unwrap();
    assert_eq!((drills_now.depth, drills_now.path), (2, format!("/{}/{}/{}/", garden.id, power.id, drills.id)));
    assert_eq!(in_category(garden.id).await, vec![product.id]);
    assert!(in_category(tools.id).await.is_empty());
    assert_eq!(names(&categories.tree(None).await.unwrap())[0], "Tools[]");
    let error = categories
        .update(garden.id, CategoryPatch { parent_id: Some(Some(drills.id)), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("parent_id")));
    assert!(error.to_string().contains("cycle"), "{error}");
    let renamed =
        categories.update(power.id, CategoryPatch { name: Some("Power".into()), ..Default::default() }).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.slug.as_str()), ("Power", "power-tools"));
    let root_again =
        categories.update(power.id, CategoryPatch { parent_id: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!((root_again.depth, categories.get(drills.id).await.unwrap().depth), (0, 1));

    // Only empty categories go.
    assert_eq!(categories.delete(power.id).await.unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(categories.delete(drills.id).await.unwrap_err().kind(), ErrorKind::Conflict);
    categories.unlink(product.id, drills.id).await.unwrap();
    categories.delete(drills.id).await.unwrap();
    categories.delete(power.id).await.unwrap();

    // Other taxonomies keep their own trees; a parent from another taxonomy is refused.
    let google = categories
        .create_taxonomy(NewTaxonomy {
            code: "google".into(),
            name: "Google".into(),
            kind: TaxonomyKind::Google,
            locale: Some("en-US".into()),
        })
        .await
        .unwrap();
    let hardware = categories
        .create(NewCategory {
            name: "Hardware".into(),
            taxonomy: Some("google".into()),
            external_id: Some("632".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hardware.taxonomy_id, google.id);
    assert_eq!(names(&categories.tree(Some("google")).await.unwrap()), ["Hardware[]"]);
    let error = categories
        .create(NewCategory {
            name: "X".into(),
            taxonomy: Some("google".into()),
            parent_id: Some(tools.id),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("parent_id"));
    categories.link(product.id, hardware.id, false).await.unwrap();
    categories.link(product.id, tools.id, true).await.unwrap();
    assert_eq!(categories.of_product(product.id).await.unwrap().len(), 2);
    assert_eq!(categories.taxonomies().await.unwrap().len(), 2);
    assert_eq!(categories.tree(Some("nope")).await.unwrap_err().kind(), ErrorKind::NotFound);
    sdk.close().await;
}

both_backends!(category_trees);
