//! Which products are probably the same: brand and title compared word by word, for products a GTIN cannot tell
//! apart (one of the two has none).

use std::collections::HashMap;

/// Units that stick to the number before them: "8 GB" and "8GB" are one word, `8gb`.
const UNITS: &[&str] = &[
    "gb", "tb", "mb", "kb", "mah", "wh", "w", "kw", "v", "a", "mm", "cm", "m", "km", "in", "g", "kg", "mg", "ml", "cl",
    "l", "oz", "lb", "x", "pcs", "pc", "pack", "hz", "mhz", "ghz",
];

/// Words that say nothing about which product it is.
const FILLERS: &[&str] = &[
    "the", "and", "for", "with", "of", "a", "an", "de", "du", "des", "la", "le", "les", "et", "pour", "avec", "en",
    "und", "der", "die", "das", "mit", "fur", "el", "y", "con", "para", "di", "e", "il", "per",
];

/// A word shared by more products than this does not make two products candidates on its own (it still counts in
/// their score): "black" or "cable" would pair most of a catalog.
pub(crate) const COMMON_WORD: usize = 200;

/// The words of a title that say which product it is: accents folded, lower case, letters and digits, a unit
/// joined to its number, fillers left out, each once, sorted.
pub(crate) fn words(text: &str) -> Vec<String> {
    let folded = deunicode::deunicode(text).to_lowercase();
    let raw: Vec<&str> = folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut words = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let word = raw[i];
        if word.bytes().all(|b| b.is_ascii_digit()) && raw.get(i + 1).is_some_and(|next| UNITS.contains(next)) {
            words.push(format!("{word}{}", raw[i + 1]));
            i += 2;
            continue;
        }
        if !FILLERS.contains(&word) {
            words.push(word.to_string());
        }
        i += 1;
    }
    words.sort();
    words.dedup();
    words
}

/// How much a word weighs: one with a digit (a size, a capacity, a model number) tells products apart more than a
/// plain word.
fn weight(word: &str) -> f64 {
    if word.bytes().any(|b| b.is_ascii_digit()) { 2.0 } else { 1.0 }
}

/// One product as the comparison sees it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub has_gtin: bool,
    /// The brand's words (empty: no brand).
    pub brand: Vec<String>,
    /// The title's words without the brand's.
    pub title: Vec<String>,
}

impl Candidate {
    pub(crate) fn new(title: &str, brand: Option<&str>, has_gtin: bool) -> Self {
        let brand = brand.map(words).unwrap_or_default();
        let title = words(title).into_iter().filter(|w| !brand.contains(w)).collect();
        Candidate { has_gtin, brand, title }
    }
}

/// How alike two products are, 0 to 1: the weighted share of title words they have in common (a word with a digit
/// counts twice), with the brand's words taken out of both titles. `None` when they cannot be one product: both
/// have a GTIN (different ones, or they would be one product already), or both name a brand and the brands differ.
pub(crate) fn score(a: &Candidate, b: &Candidate) -> Option<f64> {
    if a.has_gtin && b.has_gtin {
        return None;
    }
    if !a.brand.is_empty() && !b.brand.is_empty() && a.brand != b.brand {
        return None;
    }
    // A brand named by one side only may be written in the other's title: leave it out of both.
    let brand: &[String] = if a.brand.is_empty() { &b.brand } else { &a.brand };
    let (mut common, mut all) = (0.0, 0.0);
    let (mut i, mut j) = (0, 0);
    let (x, y) = (&a.title, &b.title);
    while i < x.len() || j < y.len() {
        let next = match (x.get(i), y.get(j)) {
            (Some(p), Some(q)) if p == q => {
                i += 1;
                j += 1;
                Some((p, true))
            }
            (Some(p), Some(q)) if p < q => {
                i += 1;
                Some((p, false))
            }
            (Some(_), Some(q)) => {
                j += 1;
                Some((q, false))
            }
            (Some(p), None) => {
                i += 1;
                Some((p, false))
            }
            (None, Some(q)) => {
                j += 1;
                Some((q, false))
            }
            (None, None) => None,
        };
        let Some((word, shared)) = next else { break };
        if brand.contains(word) {
            continue;
        }
        all += weight(word);
        if shared {
            common += weight(word);
        }
    }
    (all > 0.0).then(|| common / all)
}

/// Pairs of candidates (indexes, the smaller first) that share at least one word used by at most [`COMMON_WORD`]
/// products, scoring at least `min_score`, best first.
pub(crate) fn similar_pairs(candidates: &[Candidate], min_score: f64) -> Vec<(usize, usize, f64)> {
    let mut by_word: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, candidate) in candidates.iter().enumerate() {
        for word in &candidate.title {
            by_word.entry(word.as_str()).or_default().push(index);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    for holders in by_word.values().filter(|h| h.len() > 1 && h.len() <= COMMON_WORD) {
        for (n, &a) in holders.iter().enumerate() {
            for &b in &holders[n + 1..] {
                if !seen.insert((a, b)) {
                    continue;
                }
                if let Some(score) = score(&candidates[a], &candidates[b]).filter(|s| *s >= min_score) {
                    pairs.push((a, b, score));
                }
            }
        }
    }
    pairs.sort_by(|p, q| q.2.total_cmp(&p.2).then((p.0, p.1).cmp(&(q.0, q.1))));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_accents_join_units_and_drop_fillers() {
        assert_eq!(words("Cafetière à piston 8 tasses, 1 L"), ["1l", "8", "cafetiere", "piston", "tasses"]);
        assert_eq!(words("iPod 8 GB"), words("ipod 8GB"));
        assert_eq!(words("The Drill for wood"), ["drill", "wood"]);
    }

    #[test]
    fn the_same_product_written_twice_scores_high_and_another_model_low() {
        let a = Candidate::new("Apple iPod 8 GB silver", Some("Apple"), true);
        let b = Candidate::new("iPod silver 8GB", None, false);
        assert_eq!(score(&a, &b), Some(1.0));
        let c = Candidate::new("iPod silver 32GB", None, false);
        let other_model = score(&a, &c).unwrap();
        assert!(other_model < 0.5, "{other_model}");
        // Two GTINs are two products; two brands are two products.
        assert_eq!(score(&a, &Candidate::new("Apple iPod 8 GB silver", Some("Apple"), true)), None);
        assert_eq!(score(&a, &Candidate::new("iPod silver 8GB", Some("Sony"), false)), None);
    }

    #[test]
    fn pairs_come_best_first_and_common_words_alone_pair_nothing() {
        let mut candidates = vec![
            Candidate::new("Makita drill DHP482", Some("Makita"), false),
            Candidate::new("Drill DHP482 Makita", None, false),
            Candidate::new("Makita drill DHP482 kit", Some("Makita"), true),
        ];
        // Many products with the one word "cable": never paired by it alone.
        candidates.extend((0..COMMON_WORD + 1).map(|_| Candidate::new("cable", None, false)));
        let pairs = similar_pairs(&candidates, 0.6);
        assert_eq!(pairs[0], (0, 1, 1.0));
        assert_eq!(pairs[1].0, 0);
        assert_eq!(pairs[1].1, 2);
        assert!(pairs[1].2 < 1.0 && pairs[1].2 >= 0.6);
        assert_eq!(pairs.len(), 3, "{pairs:?}");
    }
}
