//! `authentication`: what a consumed API requires, or what callers of a surface must present.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use crate::spec::value::{bad_tag, tag_of, variant};

/// Outbound (consumes) or inbound (exposes) authentication.
#[derive(Debug)]
pub enum Authentication {
    /// `type: basic`: HTTP basic authentication.
    Basic(AuthBasic),
    /// `type: apikey`: a key in a header or query parameter.
    ApiKey(AuthApiKey),
    /// `type: bearer`: `Authorization: Bearer <token>`.
    Bearer(AuthBearer),
    /// `type: digest`: HTTP digest authentication (consumed APIs only).
    Digest(AuthBasic),
    /// `type: oauth2`: an OAuth 2.1 resource server (parsed, not supported).
    OAuth2(AuthOAuth2),
}

impl<'de> Deserialize<'de> for Authentication {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match tag_of(&value) {
            Some("basic") => variant(value).map(Authentication::Basic),
            Some("digest") => variant(value).map(Authentication::Digest),
            Some("apikey") => variant(value).map(Authentication::ApiKey),
            Some("bearer") => variant(value).map(Authentication::Bearer),
            Some("oauth2") => variant(value).map(Authentication::OAuth2),
            _ => Err(bad_tag(
                &value,
                "authentication",
                &["bearer", "apikey", "basic", "digest", "oauth2"],
            )),
        }
    }
}

/// `basic` or `digest` credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBasic {
    /// The `type:` tag (`basic` or `digest`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user name (a constant or a `{{template}}`).
    pub username: Option<String>,
    /// The password (a constant or a `{{template}}`).
    pub password: Option<String>,
}

/// Where an API key goes (`placement:`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// A request header (the default of inbound keys).
    #[default]
    Header,
    /// A query parameter.
    Query,
}

/// `apikey` credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthApiKey {
    /// The `type:` tag (`apikey`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The header or query parameter that carries the key.
    pub key: Option<String>,
    /// The key (a constant or a `{{template}}`).
    pub value: Option<String>,
    /// Where it goes (`header` or `query`).
    pub placement: Option<Placement>,
}

/// `bearer` credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBearer {
    /// The `type:` tag (`bearer`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The token (a constant or a `{{template}}`).
    pub token: Option<String>,
}

/// `oauth2`: tokens issued by an external authorization server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthOAuth2 {
    /// The `type:` tag (`oauth2`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The authorization server's issuer URI.
    pub authorization_server_uri: String,
    /// This server's canonical URI (RFC 8707), the default audience.
    pub resource: String,
    /// The scopes it recognizes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The expected `aud` claim (default: `resource`).
    pub audience: Option<String>,
    /// The authorization server's token endpoint.
    pub token_endpoint: Option<String>,
    /// `jwks` (the default) or `introspection`.
    pub token_validation: Option<String>,
}
