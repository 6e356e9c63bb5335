//! How surely an Amazon item is the product of a code: an exact GTIN-14 match is strong evidence on its own (0.9);
//! what the catalog knows about the product (brand, title) confirms (+0.05 each) or contradicts it (−0.35 for
//! another brand, −0.15 for an unrelated title); several ASINs for one code make each less sure (−0.05 when the
//! evidence sets one apart, −0.15 when nothing does); a sales rank (a live listing) adds 0.02 and breaks ties.

use super::sp_api::CatalogItem;

/// What the catalog knows of the product with the code, if there is one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogSide {
    pub brand: Option<String>,
    pub title: Option<String>,
}

/// Confidence of each candidate (same order), from 0 to 1, and the index of the best one.
///
/// ```
/// use productsmanager_core::code2asin::{CatalogSide, score};
/// use productsmanager_core::code2asin::sp_api::CatalogItem;
///
/// let item = CatalogItem {
///     asin: "B000000001".into(),
///     gtin14s: vec!["04006381333931".into()],
///     brand: Some("Stabilo".into()),
///     title: Some("STABILO Boss Original highlighter yellow".into()),
///     sales_rank: Some(120),
///     image_url: None,
/// };
/// let catalog = CatalogSide { brand: Some("STABILO".into()), title: Some("Stabilo Boss Original, yellow".into()) };
/// let (scores, best) = score("04006381333931", &[item], &catalog);
/// assert_eq!(best, Some(0));
/// assert!(scores[0] >= 0.85);
/// ```
pub fn score(gtin14: &str, candidates: &[CatalogItem], catalog: &CatalogSide) -> (Vec<f64>, Option<usize>) {
    let evidence: Vec<f64> = candidates.iter().map(|item| evidence(gtin14, item, catalog)).collect();
    // Several ASINs: when the catalog's evidence sets one clearly apart, it loses a little; when nothing does,
    // every one drops below the default threshold, for a person to choose.
    let ambiguity = if candidates.len() > 1 {
        let mut sorted = evidence.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        if sorted[0] - sorted[1] >= 0.1 { 0.05 } else { 0.15 }
    } else {
        0.0
    };
    let scores: Vec<f64> = candidates
        .iter()
        .zip(&evidence)
        .map(|(item, e)| {
            let ranked = if item.sales_rank.is_some() { 0.02 } else { 0.0 };
            ((e - ambiguity + ranked).clamp(0.0, 1.0) * 1000.0).round() / 1000.0
        })
        .collect();
    // Ties: the better sales rank (a smaller number), then the smaller ASIN (stable).
    let best = (0..candidates.len()).max_by(|&a, &b| {
        scores[a]
            .total_cmp(&scores[b])
            .then_with(|| rank(&candidates[b]).cmp(&rank(&candidates[a])))
            .then_with(|| candidates[b].asin.cmp(&candidates[a].asin))
    });
    (scores, best)
}

/// The identifier match, confirmed or contradicted by the brand and the title the catalog knows.
fn evidence(gtin14: &str, item: &CatalogItem, catalog: &CatalogSide) -> f64 {
    let mut s: f64 = if item.gtin14s.iter().any(|g| g == gtin14) { 0.9 } else { 0.4 };
    if let (Some(ours), Some(theirs)) = (norm(catalog.brand.as_deref()), norm(item.brand.as_deref())) {
        s += if ours == theirs || ours.contains(&theirs) || theirs.contains(&ours) { 0.05 } else { -0.35 };
    }
    if let (Some(ours), Some(theirs)) = (norm(catalog.title.as_deref()), norm(item.title.as_deref())) {
        let similarity = strsim::sorensen_dice(&ours, &theirs);
        if similarity >= 0.5 {
            s += 0.05;
        } else if similarity < 0.2 {
            s -= 0.15;
        }
    }
    s
}

fn rank(item: &CatalogItem) -> u64 {
    item.sales_rank.map_or(u64::MAX, u64::from)
}

/// Lowercase letters and digits, words separated by one space; `None` when nothing is left.
fn norm(text: Option<&str>) -> Option<String> {
    let words: Vec<String> =
        text?.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(asin: &str, gtin: &str, brand: &str, title: &str, rank: Option<u32>) -> CatalogItem {
        CatalogItem {
            asin: asin.into(),
            gtin14s: vec![gtin.into()],
            brand: Some(brand.into()),
            title: Some(title.into()),
            sales_rank: rank,
            image_url: None,
        }
    }

    const GTIN: &str = "04006381333931";

    #[test]
    fn an_exact_match_alone_passes_the_default_threshold() {
        let (scores, best) = score(GTIN, &[item("B0000000A1", GTIN, "Acme", "Thing", None)], &CatalogSide::default());
        assert_eq!((scores, best), (vec![0.9], Some(0)));
    }

    #[test]
    fn a_brand_that_disagrees_holds_it_for_review() {
        let catalog = CatalogSide { brand: Some("Stabilo".into()), title: None };
        let (scores, _) = score(GTIN, &[item("B0000000A1", GTIN, "Faber-Castell", "Pen", None)], &catalog);
        assert!(scores[0] < 0.85, "{scores:?}");
    }

    #[test]
    fn of_several_asins_the_one_agreeing_with_the_catalog_wins() {
        let catalog = CatalogSide { brand: Some("Stabilo".into()), title: Some("Boss Original yellow".into()) };
        let candidates = [
            item("B0000000A1", GTIN, "Generic", "Pack of 10 markers", Some(5)),
            item("B0000000A2", GTIN, "STABILO", "STABILO BOSS ORIGINAL - yellow", Some(900)),
        ];
        let (scores, best) = score(GTIN, &candidates, &catalog);
        assert_eq!(best, Some(1), "{scores:?}");
        assert!(scores[1] >= 0.85 && scores[0] < 0.5, "{scores:?}");
    }

    #[test]
    fn without_catalog_evidence_two_asins_wait_for_review_and_the_ranked_one_is_best() {
        let candidates = [item("B0000000A1", GTIN, "X", "a", None), item("B0000000A2", GTIN, "X", "b", Some(40))];
        let (scores, best) = score(GTIN, &candidates, &CatalogSide::default());
        assert_eq!(best, Some(1));
        assert!(scores.iter().all(|s| *s < 0.85), "{scores:?}");
    }
}
