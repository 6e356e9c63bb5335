//! A supplier's vocabulary: the codes its files use and what they stand for, learned from its structure files
//! (Akeneo's family variants, attribute options and categories) and from its product models, and read by its next
//! product files (a variant's axes, an option's label, a category's path of labels).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One code a supplier's files use, and what it stands for. Codes are kept in lowercase: Akeneo's codes ignore case.
/// Its JSON form (tagged by `kind`) is what the imports database stores: a field added later must have a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum VocabularyEntry {
    /// An Akeneo family variant: the attributes that tell variants apart, level by level (one or two levels).
    #[non_exhaustive]
    FamilyVariant { code: String, axes: Vec<Vec<String>> },
    /// An Akeneo product model: its family variant, and its parent model when it is a sub-model.
    #[non_exhaustive]
    ProductModel { code: String, family_variant: String, parent: Option<String> },
    /// An attribute: its label (a variant axis is named by it, as the shops name their options).
    #[non_exhaustive]
    Attribute { code: String, label: String },
    /// A value of a simple or multi-select attribute: its label.
    #[non_exhaustive]
    AttributeOption { attribute: String, code: String, label: String },
    /// A category: its label and its parent's code (none for a tree's root).
    #[non_exhaustive]
    Category { code: String, label: String, parent: Option<String> },
}

impl VocabularyEntry {
    /// The kind, as stored.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            VocabularyEntry::FamilyVariant { .. } => "family_variant",
            VocabularyEntry::ProductModel { .. } => "product_model",
            VocabularyEntry::Attribute { .. } => "attribute",
            VocabularyEntry::AttributeOption { .. } => "attribute_option",
            VocabularyEntry::Category { .. } => "category",
        }
    }

    /// The kind in words, plural, as a summary counts them.
    pub(crate) fn counted_as(&self) -> &'static str {
        match self {
            VocabularyEntry::FamilyVariant { .. } => "family variants",
            VocabularyEntry::ProductModel { .. } => "product models",
            VocabularyEntry::Attribute { .. } => "attributes",
            VocabularyEntry::AttributeOption { .. } => "attribute options",
            VocabularyEntry::Category { .. } => "categories",
        }
    }

    /// The code, unique within its kind (an option's is `attribute/code`: Akeneo's codes hold no `/`).
    pub(crate) fn code(&self) -> String {
        match self {
            VocabularyEntry::FamilyVariant { code, .. }
            | VocabularyEntry::ProductModel { code, .. }
            | VocabularyEntry::Attribute { code, .. }
            | VocabularyEntry::Category { code, .. } => code.clone(),
            VocabularyEntry::AttributeOption { attribute, code, .. } => format!("{attribute}/{code}"),
        }
    }
}

/// What a supplier's earlier files taught: looked up by the Akeneo preset while it shapes rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary {
    /// Family variant → its axes, level by level.
    pub family_variants: HashMap<String, Vec<Vec<String>>>,
    /// Product model → (family variant, parent model).
    pub product_models: HashMap<String, (String, Option<String>)>,
    /// Attribute → label.
    pub attributes: HashMap<String, String>,
    /// (attribute, option code) → label.
    pub attribute_options: HashMap<(String, String), String>,
    /// Category → (label, parent category).
    pub categories: HashMap<String, (String, Option<String>)>,
}

impl Vocabulary {
    pub(crate) fn learn(&mut self, entry: VocabularyEntry) {
        match entry {
            VocabularyEntry::FamilyVariant { code, axes } => {
                self.family_variants.insert(code, axes);
            }
            VocabularyEntry::ProductModel { code, family_variant, parent } => {
                self.product_models.insert(code, (family_variant, parent));
            }
            VocabularyEntry::Attribute { code, label } => {
                self.attributes.insert(code, label);
            }
            VocabularyEntry::AttributeOption { attribute, code, label } => {
                self.attribute_options.insert((attribute, code), label);
            }
            VocabularyEntry::Category { code, label, parent } => {
                self.categories.insert(code, (label, parent));
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.family_variants.is_empty()
            && self.product_models.is_empty()
            && self.attributes.is_empty()
            && self.attribute_options.is_empty()
            && self.categories.is_empty()
    }

    /// What it holds, for the format line of an Akeneo product file (`models_file`: its product models file, which
    /// teaches the models itself): without family variants and models, variants have no axes.
    pub(crate) fn describe(&self, models_file: bool) -> String {
        if self.is_empty() {
            return "no Akeneo structure imported for this supplier yet (variants without axes, categories and options \
                    by code: import its attributes.csv, family_variants.csv, attribute_options.csv and categories.csv \
                    first, then product_models.csv)"
                .to_string();
        }
        let missing = self.family_variants.is_empty() || (self.product_models.is_empty() && !models_file);
        format!(
            "the supplier's Akeneo vocabulary: {} family variants, {} product models, {} attributes, {} attribute \
             options, {} categories{}",
            self.family_variants.len(),
            self.product_models.len(),
            self.attributes.len(),
            self.attribute_options.len(),
            self.categories.len(),
            match missing {
                true =>
                    " (variants without axes until its family_variants.csv, then its product_models.csv, are imported)",
                false => "",
            }
        )
    }

    /// The model a product whose parent is `model` is a variant of, and its variant axes; none when the model or
    /// its family variant is not known. A product of a two-level family variant has a sub-model for its parent:
    /// its variant belongs to the root, with every level's axes (the first level's first) — unless the root is not
    /// known (the sub-model then stayed a product of its own, and has the last level's axes).
    pub(crate) fn variant_axes(&self, model: &str) -> Option<(&str, Vec<&str>)> {
        let (model, (family_variant, parent)) = self.product_models.get_key_value(model)?;
        let levels = self.family_variants.get(family_variant)?;
        match parent {
            Some(parent) if levels.len() > 1 => match self.product_models.get_key_value(parent) {
                Some((root, _)) => Some((root.as_str(), levels.iter().flatten().map(String::as_str).collect())),
                None => Some((model.as_str(), levels.last()?.iter().map(String::as_str).collect())),
            },
            _ => Some((model.as_str(), levels.iter().flatten().map(String::as_str).collect())),
        }
    }

    /// Whether a model of `family_variant` with this `parent` is a sub-model of a known two-level family variant
    /// whose root is known (`root_known`): its products are then the root model's variants, and it is not a
    /// product of its own.
    pub(crate) fn is_sub_model(&self, family_variant: &str, parent: Option<&str>, root_known: bool) -> bool {
        parent.is_some()
            && root_known
            && self.family_variants.get(family_variant).is_some_and(|levels| levels.len() > 1)
    }

    /// The label of an attribute (a variant axis's name), else its code as it was.
    pub(crate) fn attribute_label<'a>(&'a self, code: &'a str) -> &'a str {
        self.attributes.get(&code.trim().to_lowercase()).map(String::as_str).unwrap_or(code)
    }

    /// The label of an option of `attribute`, else the code as it was.
    pub(crate) fn option_label<'a>(&'a self, attribute: &str, code: &'a str) -> &'a str {
        self.attribute_options
            .get(&(attribute.to_lowercase(), code.trim().to_lowercase()))
            .map(String::as_str)
            .unwrap_or(code)
    }

    /// A category's labels from its tree's root down to it; none when the category is not known. A parent missing
    /// from the vocabulary ends the path (at most 32 levels: a loop in the file ends there too).
    pub(crate) fn category_path(&self, code: &str) -> Option<Vec<&str>> {
        let mut path = Vec::new();
        let mut at = self.categories.get_key_value(&code.trim().to_lowercase());
        while let Some((_, (label, parent))) = at {
            path.push(label.as_str());
            if path.len() >= 32 {
                break;
            }
            at = parent.as_ref().and_then(|parent| self.categories.get_key_value(parent));
        }
        if path.is_empty() {
            return None;
        }
        path.reverse();
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::{Vocabulary, VocabularyEntry};

    fn vocabulary() -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        let axes = |levels: &[&[&str]]| levels.iter().map(|l| l.iter().map(|a| a.to_string()).collect()).collect();
        vocabulary.learn(VocabularyEntry::FamilyVariant {
            code: "by_color_size".into(),
            axes: axes(&[&["color"], &["size"]]),
        });
        vocabulary.learn(VocabularyEntry::FamilyVariant { code: "by_size".into(), axes: axes(&[&["size"]]) });
        let model = |code: &str, family_variant: &str, parent: Option<&str>| VocabularyEntry::ProductModel {
            code: code.into(),
            family_variant: family_variant.into(),
            parent: parent.map(String::from),
        };
        vocabulary.learn(model("amor", "by_color_size", None));
        vocabulary.learn(model("amor_blue", "by_color_size", Some("amor")));
        vocabulary.learn(model("shoe", "by_size", None));
        let category = |code: &str, label: &str, parent: Option<&str>| VocabularyEntry::Category {
            code: code.into(),
            label: label.into(),
            parent: parent.map(String::from),
        };
        vocabulary.learn(category("master", "Master catalog", None));
        vocabulary.learn(category("men", "Men", Some("master")));
        vocabulary.learn(category("loop_a", "A", Some("loop_b")));
        vocabulary.learn(category("loop_b", "B", Some("loop_a")));
        vocabulary.learn(VocabularyEntry::AttributeOption {
            attribute: "color".into(),
            code: "navy_blue".into(),
            label: "Navy blue".into(),
        });
        vocabulary
    }

    #[test]
    fn a_variant_of_a_sub_model_belongs_to_the_root_with_every_levels_axes() {
        let vocabulary = vocabulary();
        assert_eq!(vocabulary.variant_axes("amor_blue"), Some(("amor", vec!["color", "size"])));
        assert_eq!(vocabulary.variant_axes("shoe"), Some(("shoe", vec!["size"])));
        assert_eq!(vocabulary.variant_axes("unknown"), None);
        assert!(vocabulary.is_sub_model("by_color_size", Some("amor"), true));
        assert!(!vocabulary.is_sub_model("by_color_size", Some("amor"), false), "an unknown root: a product");
        assert!(
            !vocabulary.is_sub_model("by_size", Some("shoe"), true),
            "a one-level family variant has no sub-models"
        );
        assert!(!vocabulary.is_sub_model("by_color_size", None, true));
        let mut orphan = vocabulary.clone();
        orphan.product_models.remove("amor");
        assert_eq!(
            orphan.variant_axes("amor_blue"),
            Some(("amor_blue", vec!["size"])),
            "its root unknown: the last level"
        );
    }

    #[test]
    fn labels_and_paths_come_from_the_codes() {
        let mut vocabulary = vocabulary();
        assert_eq!(vocabulary.option_label("Color", "NAVY_BLUE"), "Navy blue");
        assert_eq!(vocabulary.option_label("color", "red"), "red", "an unknown code stays");
        vocabulary.learn(VocabularyEntry::Attribute { code: "eu_shoes_size".into(), label: "EU Shoes Size".into() });
        assert_eq!(vocabulary.attribute_label("EU_shoes_size"), "EU Shoes Size");
        assert_eq!(vocabulary.attribute_label("color"), "color");
        assert_eq!(vocabulary.category_path("men"), Some(vec!["Master catalog", "Men"]));
        assert_eq!(vocabulary.category_path("women"), None);
        assert_eq!(vocabulary.category_path("loop_a").map(|p| p.len()), Some(32), "a loop ends");
        assert_eq!(
            VocabularyEntry::AttributeOption { attribute: "a".into(), code: "b".into(), label: "B".into() }.code(),
            "a/b"
        );
    }
}
