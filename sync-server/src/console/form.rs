//! `application/x-www-form-urlencoded` bodies and query strings as ordered key–value pairs.
//! Hand-written because the console's forms repeat keys (checkbox lists), which serde's
//! urlencoded deserialiser cannot express, and the format is a few lines.

/// The decoded pairs of a form body or query string, in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(Vec<(String, String)>);

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one component (`+` is a space); invalid UTF-8 is replaced, never fatal.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a component for a URL query.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl FormData {
    pub fn parse(text: &str) -> Self {
        Self(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(pair), String::new()),
                })
                .collect(),
        )
    }

    pub fn parse_bytes(body: &[u8]) -> Self {
        Self::parse(&String::from_utf8_lossy(body))
    }

    /// The first value of `key`, trimmed; `None` when absent or blank.
    /// The fields whose name starts with `prefix`, the prefix cut off, in form order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `key` as given (not trimmed), or "".
    pub fn raw(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every non-blank value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The pairs as a query string (for links that keep the current filters), without `skip`.
    pub fn query_without(&self, skip: &[&str]) -> String {
        self.0
            .iter()
            .filter(|(k, v)| !skip.contains(&k.as_str()) && !v.is_empty())
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_escapes_are_kept() {
        let f = FormData::parse("a=1&roster=u-wang&roster=u-li&c=%E7%8E%84%E6%AD%A6+x&d=%zz&e");
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.all("roster"), ["u-wang", "u-li"]);
        assert_eq!(f.get("c"), Some("玄武 x"));
        assert_eq!(f.get("d"), Some("%zz"));
        assert_eq!(f.get("e"), None);
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode(&encode("玄武 & <b>")), "玄武 & <b>");
    }
}
