//! Rust identifiers from spec names.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// A snake_case Rust identifier for `name` (`status[]` -> `status`, `type` -> `r#type`).
pub fn snake_ident(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut s = cleaned.to_snake_case();
    if s.is_empty() {
        s = "param".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape_keyword(s)
}

/// An UpperCamelCase Rust type name for `name`.
pub fn camel_ident(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut s = cleaned.to_upper_camel_case();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'X');
    }
    s
}

/// An identifier that is not a keyword: raw (`r#type`) where allowed, else suffixed.
fn escape_keyword(s: String) -> String {
    const STRICT: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
        "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
        "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
        "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    match s.as_str() {
        // These cannot be raw identifiers.
        "self" | "super" | "crate" | "Self" | "_" => format!("{s}_"),
        k if STRICT.contains(&k) => format!("r#{s}"),
        _ => s,
    }
}

/// The bare name of a possibly raw identifier (`r#type` -> `type`).
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// Whether `name` is a valid MCP tool name: 1 to 128 of `[A-Za-z0-9_.-]`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Title Case words from a kebab or snake name (`lago-list-customers` -> `Lago List Customers`).
pub fn title_case(name: &str) -> String {
    name.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The closest of `candidates` to `name`, for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(snake_ident("status[]"), "status");
        assert_eq!(snake_ident("external-customer-id"), "external_customer_id");
        assert_eq!(snake_ident("type"), "r#type");
        assert_eq!(snake_ident("self"), "self_");
        assert_eq!(snake_ident("X-API-Key"), "x_api_key");
        assert_eq!(snake_ident("2fa"), "_2fa");
        assert_eq!(camel_ident("findallcustomers"), "Findallcustomers");
        assert_eq!(camel_ident("get-ship"), "GetShip");
        assert!(valid_tool_name("lago-create-customer"));
        assert!(!valid_tool_name("bad name"));
        assert_eq!(
            title_case("lago-list-all-customers"),
            "Lago List All Customers"
        );
        assert_eq!(
            closest("createcustomr", ["createcustomer", "findcustomer"]),
            Some("createcustomer")
        );
    }
}
