//! `authentication`: what a consumed API requires, or what callers of a surface must present.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use crate::spec::value::{bad_tag, tag_of, variant};

/// Outbound (consumes) or inbound (exposes) authentication.
#[derive(Debug)]
pub enum Authentication {
    Basic(AuthBasic),
    ApiKey(AuthApiKey),
    Bearer(AuthBearer),
    Digest(AuthBasic),
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBasic {
    #[serde(rename = "type")]
    pub kind: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    #[default]
    Header,
    Query,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthApiKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub key: Option<String>,
    pub value: Option<String>,
    pub placement: Option<Placement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBearer {
    #[serde(rename = "type")]
    pub kind: String,
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthOAuth2 {
    #[serde(rename = "type")]
    pub kind: String,
    pub authorization_server_uri: String,
    pub resource: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub token_endpoint: Option<String>,
    pub token_validation: Option<String>,
}
