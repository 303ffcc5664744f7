//! How Exotel's requests are authenticated: Exotel signs nothing, so every URL we give it
//! carries the number's secret (`key=`), compared in constant time.

use subtle::ConstantTimeEq;

use crate::db::phone_numbers::NumberRow;

/// The URL secret, read from the query string alone (so a bad body is still a 400 for a
/// caller who knows the key, and a 401 for one who does not).
pub fn key_of(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).find(|(k, _)| k == "key").map(|(_, v)| v.into_owned())
}

/// Whether `key` is number's URL secret.
pub fn key_matches(number: &NumberRow, key: Option<&str>) -> bool {
    bool::from(key.unwrap_or_default().as_bytes().ct_eq(number.url_secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_read_from_the_query() {
        assert_eq!(key_of(Some("a=1&key=s3cret&sample-rate=8000")).as_deref(), Some("s3cret"));
        assert_eq!(key_of(Some("a=1")), None);
        assert_eq!(key_of(None), None);
    }
}
