//! `categories create|get|list|update|delete|tree|link|unlink`.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{Category, CategoryNode, CategoryPatch, NewCategory};
use productsmanager_core::input::parse_json;

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum CategoryCommand {
    /// Create a category from JSON (`{"name", "slug"?, "parent_id"?, "taxonomy"?, "external_id"?, "position"?}`).
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Show one category with its breadcrumbs. A category is named by id, by its path (`"Tools > Drills"`,
    /// `tools/drills`) or by a slug or name found once.
    Get {
        #[arg(value_name = "CATEGORY")]
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Every category of a taxonomy, flat, by depth.
    List {
        /// Taxonomy id or code (default: `default`).
        #[arg(long)]
        taxonomy: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The tree of a taxonomy, indented.
    Tree {
        #[arg(long)]
        taxonomy: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rename, re-slug, reorder or move (`{"parent_id": …}`; `null` makes it a root) from JSON.
    Update {
        #[arg(value_name = "CATEGORY")]
        id: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Delete an empty category.
    Delete {
        #[arg(value_name = "CATEGORY")]
        id: String,
    },
    /// Put a product (id, GTIN, SKU or ASIN) in a category.
    Link {
        product: String,
        category: String,
        #[arg(long)]
        primary: bool,
    },
    /// Take a product out of a category.
    Unlink { product: String, category: String },
}

pub(crate) async fn run(sdk: &Sdk, command: CategoryCommand) -> Result<(), Failure> {
    let categories = sdk.categories();
    match command {
        CategoryCommand::Create { json } => output::json(&categories.create(parse_json::<NewCategory>(&json)?).await?),
        CategoryCommand::Get { id, json } => {
            let category = categories.find(&id).await?;
            let id = category.id;
            if json {
                output::json(&category);
            } else {
                let crumbs: Vec<String> = categories.breadcrumbs(id).await?.into_iter().map(|c| c.name).collect();
                table(std::slice::from_ref(&category));
                println!("\n{}", crumbs.join(" > "));
            }
        }
        CategoryCommand::List { taxonomy, json } => {
            let mut flat = Vec::new();
            flatten(&categories.tree(taxonomy.as_deref()).await?, &mut flat);
            if json { output::json(&flat) } else { table(&flat) }
        }
        CategoryCommand::Tree { taxonomy, json } => {
            let tree = categories.tree(taxonomy.as_deref()).await?;
            if json {
                output::json(tree.as_ref());
            } else {
                print_tree(&tree, 0);
            }
        }
        CategoryCommand::Update { id, json } => {
            let found = categories.find(&id).await?;
            output::json(&categories.update(found.id, parse_json::<CategoryPatch>(&json)?).await?);
        }
        CategoryCommand::Delete { id } => {
            let id = categories.find(&id).await?.id;
            categories.delete(id).await?;
            println!("deleted category {id}");
        }
        CategoryCommand::Link { product, category, primary } => {
            let product = sdk.products().find(&product).await?;
            categories.link(product.id, categories.find(&category).await?.id, primary).await?;
            println!("product {} linked", product.id);
        }
        CategoryCommand::Unlink { product, category } => {
            let product = sdk.products().find(&product).await?;
            categories.unlink(product.id, categories.find(&category).await?.id).await?;
            println!("product {} unlinked", product.id);
        }
    }
    Ok(())
}

fn flatten(nodes: &[CategoryNode], into: &mut Vec<Category>) {
    for node in nodes {
        into.push(node.category.clone());
        flatten(&node.children, into);
    }
}

fn print_tree(nodes: &[CategoryNode], depth: usize) {
    for node in nodes {
        println!("{}{}  ({}, {})", "  ".repeat(depth), node.category.name, node.category.slug, node.category.id);
        print_tree(&node.children, depth + 1);
    }
}

fn table(categories: &[Category]) {
    output::table(
        ["id", "slug", "name", "depth", "parent"],
        categories.iter().map(|c| {
            [
                c.id.to_string(),
                c.slug.clone(),
                c.name.clone(),
                c.depth.to_string(),
                output::or_dash(c.parent_id.map(|p| p.to_string()).as_deref()),
            ]
        }),
    );
}
