//! Amazon marketplaces by the country code users know them by (`FR`), with what each API needs: the SP-API
//! marketplace id and region host, and the store domain the Creators API takes in `x-marketplace`.

use serde::{Deserialize, Serialize};

/// An SP-API region (each has its own host and token endpoint is shared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// North America: `sellingpartnerapi-na.amazon.com`.
    Na,
    /// Europe, Middle East, India: `sellingpartnerapi-eu.amazon.com`.
    Eu,
    /// Far East: `sellingpartnerapi-fe.amazon.com`.
    Fe,
}

impl Region {
    /// The production SP-API host of the region.
    pub fn sp_api_host(self) -> &'static str {
        match self {
            Region::Na => "https://sellingpartnerapi-na.amazon.com",
            Region::Eu => "https://sellingpartnerapi-eu.amazon.com",
            Region::Fe => "https://sellingpartnerapi-fe.amazon.com",
        }
    }
}

/// One Amazon marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marketplace {
    /// ISO country code as users write it (`UK` for the United Kingdom, as Amazon does).
    pub code: &'static str,
    /// SP-API `marketplaceIds` value.
    pub id: &'static str,
    pub region: Region,
    /// Store domain (`www.amazon.fr`): the Creators API's `x-marketplace`.
    pub domain: &'static str,
}

/// The marketplaces ProductsManager knows (SP-API "Marketplace IDs" table; the ids of US, CA, UK, DE, FR, IT, ES
/// and JP are checked in our research notes, the others are from the same table of the SP-API documentation).
pub const MARKETPLACES: [Marketplace; 20] = [
    Marketplace { code: "US", id: "ATVPDKIKX0DER", region: Region::Na, domain: "www.amazon.com" },
    Marketplace { code: "CA", id: "A2EUQ1WTGCTBG2", region: Region::Na, domain: "www.amazon.ca" },
    Marketplace { code: "MX", id: "A1AM78C64UM0Y8", region: Region::Na, domain: "www.amazon.com.mx" },
    Marketplace { code: "BR", id: "A2Q3Y263D00KWC", region: Region::Na, domain: "www.amazon.com.br" },
    Marketplace { code: "UK", id: "A1F83G8C2ARO7P", region: Region::Eu, domain: "www.amazon.co.uk" },
    Marketplace { code: "DE", id: "A1PA6795UKMFR9", region: Region::Eu, domain: "www.amazon.de" },
    Marketplace { code: "FR", id: "A13V1IB3VIYZZH", region: Region::Eu, domain: "www.amazon.fr" },
    Marketplace { code: "IT", id: "APJ6JRA9NG5V4", region: Region::Eu, domain: "www.amazon.it" },
    Marketplace { code: "ES", id: "A1RKKUPIHCS9HS", region: Region::Eu, domain: "www.amazon.es" },
    Marketplace { code: "NL", id: "A1805IZSGTT6HS", region: Region::Eu, domain: "www.amazon.nl" },
    Marketplace { code: "BE", id: "AMEN7PMS3EDWL", region: Region::Eu, domain: "www.amazon.com.be" },
    Marketplace { code: "PL", id: "A1C3SOZRARQ6R3", region: Region::Eu, domain: "www.amazon.pl" },
    Marketplace { code: "SE", id: "A2NODRKZP88ZB9", region: Region::Eu, domain: "www.amazon.se" },
    Marketplace { code: "TR", id: "A33AVAJ2PDY3EV", region: Region::Eu, domain: "www.amazon.com.tr" },
    Marketplace { code: "AE", id: "A2VIGQ35RCS4UG", region: Region::Eu, domain: "www.amazon.ae" },
    Marketplace { code: "SA", id: "A17E79C6D8DWNP", region: Region::Eu, domain: "www.amazon.sa" },
    Marketplace { code: "IN", id: "A21TJRUUN4KGV", region: Region::Eu, domain: "www.amazon.in" },
    Marketplace { code: "JP", id: "A1VC38T7YXB528", region: Region::Fe, domain: "www.amazon.co.jp" },
    Marketplace { code: "AU", id: "A39IBJ37TRP1C6", region: Region::Fe, domain: "www.amazon.com.au" },
    Marketplace { code: "SG", id: "A19VAU5U5O7RUS", region: Region::Fe, domain: "www.amazon.sg" },
];

impl Marketplace {
    /// The marketplace of a country code (`fr`, `FR`; `GB` is taken for `UK`) or of an SP-API marketplace id.
    ///
    /// ```
    /// use productsmanager_core::code2asin::Marketplace;
    ///
    /// assert_eq!(Marketplace::find("fr").unwrap().id, "A13V1IB3VIYZZH");
    /// assert_eq!(Marketplace::find("GB").unwrap().code, "UK");
    /// assert!(Marketplace::find("XX").is_none());
    /// ```
    pub fn find(code_or_id: &str) -> Option<Marketplace> {
        let wanted = code_or_id.trim().to_ascii_uppercase();
        let wanted = if wanted == "GB" { "UK".to_string() } else { wanted };
        MARKETPLACES.iter().copied().find(|m| m.code == wanted || m.id == wanted)
    }

    /// Every known country code, for error messages.
    pub fn codes() -> String {
        MARKETPLACES.iter().map(|m| m.code).collect::<Vec<_>>().join(", ")
    }
}
