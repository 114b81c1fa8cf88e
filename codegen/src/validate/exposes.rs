//! Checks `exposes:`: every surface, its namespace and port, its inbound authentication.

use std::collections::HashMap;

use super::Checker;
use super::imports::Section;
use crate::ir::{Client, Control, InboundAuth, McpServer, RestServer, SkillServer};
use crate::spec::model::{Authentication, ExposesEntry};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

/// The surfaces of a capability, by kind.
#[derive(Default)]
pub(super) struct Surfaces {
    pub rest: Vec<RestServer>,
    pub mcp: Vec<McpServer>,
    pub skills: Vec<SkillServer>,
    pub control: Option<Control>,
}

impl<'a> Checker<'a> {
    pub(super) fn exposes(
        &mut self,
        entries: &'a [Lenient<ExposesEntry>],
        path: &YamlPath,
        clients: &[Client],
    ) -> Surfaces {
        let section = Section {
            key: "exposes",
            split: |e: &ExposesEntry| match e {
                ExposesEntry::Import(i) => Err(i),
                other => Ok(other),
            },
            of: |d| &d.exposes,
            namespace: ExposesEntry::namespace,
        };
        let defs = self.definitions(entries, path, &section);
        let mut out = Surfaces::default();
        let mut namespaces: HashMap<String, YamlPath> = HashMap::new();
        for c in clients {
            namespaces.insert(c.namespace.clone(), path.clone());
        }
        let mut ports: Vec<(u16, String, YamlPath)> = Vec::new();
        // Skills point at sibling surfaces: check them once every surface is known.
        let mut skills = Vec::new();
        for def in &defs {
            let epath = &def.path;
            let (ns, port, address) = match def.def {
                ExposesEntry::Rest(r) => (Some(&r.namespace), Some(r.port), &r.address),
                ExposesEntry::Mcp(m) => (Some(&m.namespace), m.port, &m.address),
                ExposesEntry::Skill(s) => (Some(&s.namespace), Some(s.port), &s.address),
                ExposesEntry::Control(c) => (None, Some(c.port), &c.address),
                ExposesEntry::Import(_) => continue,
            };
            let ns = def.alias.as_ref().or(ns);
            if let Some(ns) = ns {
                if namespaces.contains_key(ns) {
                    self.error_value(
                        &epath.key("namespace"),
                        format!("duplicate namespace `{ns}`"),
                    );
                }
                namespaces.insert(ns.clone(), epath.clone());
            }
            // Port 0 means any free port: it cannot clash.
            if let Some(port) = port.filter(|p| *p != 0) {
                let addr = address.clone().unwrap_or_else(|| "127.0.0.1".into());
                if let Some((_, _, other)) = ports.iter().find(|(p, a, _)| {
                    *p == port && (a == &addr || a == "0.0.0.0" || addr == "0.0.0.0")
                }) {
                    let other = other.to_string();
                    self.error_value(
                        &epath.key("port"),
                        format!("port {port} is already used by `{other}`"),
                    );
                }
                ports.push((port, addr, epath.clone()));
            }
            match def.def {
                ExposesEntry::Rest(r) => {
                    if let Some(s) = self.rest(r, ns.map(String::as_str), epath, clients) {
                        out.rest.push(s);
                    }
                }
                ExposesEntry::Mcp(m) => {
                    if let Some(s) = self.mcp(m, ns.map(String::as_str), epath, clients) {
                        out.mcp.push(s);
                    }
                }
                ExposesEntry::Skill(s) => skills.push((&**s, ns.cloned(), epath.clone())),
                ExposesEntry::Control(c) => {
                    if out.control.is_some() {
                        self.error_key(
                            &epath.key("type"),
                            "a capability has one control port; this is a second `control` entry",
                        );
                    } else {
                        out.control = self.control(c, epath);
                    }
                }
                ExposesEntry::Import(_) => {}
            }
        }
        for (s, ns, epath) in skills {
            if let Some(s) = self.skill(s, ns.as_deref(), &epath, &out) {
                out.skills.push(s);
            }
        }
        out
    }

    /// Checks the sections of a shared document (without `capability`) on their own.
    pub(super) fn shared_sections(&mut self, clients: &[Client]) {
        let root = self.project.root();
        let doc = &root.doc;
        let base = YamlPath::root();
        // Shared `aggregates` and `exposes` call namespaces of the capability that imports
        // them: without consumes of their own, only their structure can be checked here.
        if clients.is_empty() {
            for (i, e) in doc.aggregates.iter().enumerate() {
                self.item(&base.key("aggregates").index(i), e);
            }
        } else {
            self.aggregates(&doc.aggregates, &base.key("aggregates"), clients);
        }
        for (i, e) in doc.exposes.iter().enumerate() {
            self.item(&base.key("exposes").index(i), e);
        }
    }

    pub(super) fn inbound_auth(
        &mut self,
        auth: &Option<Authentication>,
        path: &YamlPath,
    ) -> Option<InboundAuth> {
        let path = path.key("authentication");
        let need = |c: &mut Self, v: &Option<String>, key: &str| c.auth_field(v, &path, key);
        match auth.as_ref()? {
            Authentication::Bearer(b) => need(self, &b.token, "token").map(InboundAuth::Bearer),
            Authentication::ApiKey(k) => {
                let value = need(self, &k.value, "value")?;
                let name = k.key.clone().unwrap_or_else(|| "X-API-Key".into());
                Some(InboundAuth::ApiKey {
                    name,
                    value,
                    placement: k.placement.unwrap_or_default(),
                })
            }
            Authentication::Basic(b) => Some(InboundAuth::Basic {
                username: need(self, &b.username, "username")?,
                password: need(self, &b.password, "password")?,
            }),
            Authentication::Digest(_) | Authentication::OAuth2(_) => {
                self.unsupported(
                    &path.key("type"),
                    "this inbound authentication type (bearer, apikey and basic are)",
                );
                None
            }
        }
    }

    pub(super) fn address(&mut self, address: &Option<String>, path: &YamlPath) -> Option<String> {
        let a = address.as_ref()?;
        let ok = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            self.error_value(
                &path.key("address"),
                format!("`{a}` is not a host name or IP address"),
            );
        }
        Some(a.clone())
    }
}
