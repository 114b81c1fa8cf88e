//! `exposes` of type `skill`: a catalogue of agent skills, whose tools point at actions of
//! sibling REST or MCP surfaces, or at instruction files.

use super::Checker;
use super::exposes::Surfaces;
use crate::ir::{Skill, SkillServer, SkillTool, SkillToolKind};
use crate::names::{closest, snake_ident};
use crate::spec::model::ExposesSkill;
use crate::spec::source_map::YamlPath;

impl Checker<'_> {
    pub(super) fn skill(
        &mut self,
        s: &ExposesSkill,
        namespace: Option<&str>,
        path: &YamlPath,
        siblings: &Surfaces,
    ) -> Option<SkillServer> {
        let namespace = namespace.unwrap_or(&s.namespace).to_owned();
        let auth = self.inbound_auth(&s.authentication, path);
        let address = self.address(&s.address, path);
        let mut skills = Vec::new();
        for k in s.skills.iter() {
            let kpath = path.key("skills").seg(&k.seg);
            let (Some(name), Some(skill)) = (
                self.name_of(&kpath, &k.name, "a skill"),
                self.item(&kpath, &k.item),
            ) else {
                continue;
            };
            if skills.iter().any(|x: &Skill| x.name == name) {
                self.error_key(&kpath, format!("duplicate skill `{name}`"));
                continue;
            }
            if let Some(loc) = &skill.location
                && !loc.starts_with("file:///")
            {
                self.error_value(
                    &kpath.key("location"),
                    format!("skill location `{loc}` must be a `file:///` URI of a folder"),
                );
            }
            let mut tools = Vec::new();
            for t in skill.tools.iter() {
                let tpath = kpath.key("tools").seg(&t.seg);
                let (Some(tname), Some(tool)) = (
                    self.name_of(&tpath, &t.name, "a skill tool"),
                    self.item(&tpath, &t.item),
                ) else {
                    continue;
                };
                let kind = match (&tool.from, &tool.instruction) {
                    (Some(from), None) => {
                        let Some(mode) = self.skill_target(
                            &from.source_namespace,
                            &from.action,
                            &tpath,
                            siblings,
                        ) else {
                            continue;
                        };
                        SkillToolKind::Derived {
                            namespace: from.source_namespace.clone(),
                            action: from.action.clone(),
                            mode,
                        }
                    }
                    (None, Some(file)) => {
                        if skill.location.is_none() {
                            self.error_key(&tpath, format!("instruction tool `{tname}` needs a `location` on skill `{name}` (the folder of `{file}`)"));
                            continue;
                        }
                        if !safe_relative(file) {
                            self.error_value(&tpath.key("instruction"), format!("instruction file `{file}` must be a relative path inside the skill's location"));
                            continue;
                        }
                        SkillToolKind::Instruction(file.clone())
                    }
                    _ => {
                        self.error_key(&tpath, "a skill tool needs exactly one of `from` (an action of a REST or MCP surface) and `instruction` (a file)");
                        continue;
                    }
                };
                tools.push(SkillTool {
                    name: tname,
                    description: tool.description.clone().unwrap_or_default(),
                    kind,
                });
            }
            skills.push(Skill {
                name,
                description: skill.description.clone().unwrap_or_default(),
                license: skill.license.clone(),
                compatibility: skill.compatibility.clone(),
                argument_hint: skill.argument_hint.clone(),
                allowed_tools: skill.allowed_tools.clone(),
                user_invocable: skill.user_invocable,
                disable_model_invocation: skill.disable_model_invocation,
                metadata: skill
                    .metadata
                    .as_ref()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                location: skill.location.clone(),
                tools,
            });
        }
        Some(SkillServer {
            module: snake_ident(&namespace),
            namespace,
            description: s.description.clone(),
            address,
            port: s.port,
            auth,
            skills,
        })
    }

    /// The mode (`rest` or `mcp`) of the sibling surface `namespace`, whose action must exist.
    fn skill_target(
        &mut self,
        namespace: &str,
        action: &str,
        tpath: &YamlPath,
        siblings: &Surfaces,
    ) -> Option<&'static str> {
        if let Some(m) = siblings.mcp.iter().find(|m| m.namespace == namespace) {
            if m.tools.iter().any(|t| t.name == action) {
                return Some("mcp");
            }
            let hint = closest(action, m.tools.iter().map(|t| t.name.as_str()));
            let d = self.error_value(
                &tpath.key("from").key("action"),
                format!("MCP server `{namespace}` has no tool `{action}`"),
            );
            d.help = hint.map(|h| format!("did you mean `{h}`?"));
            return None;
        }
        if let Some(r) = siblings.rest.iter().find(|r| r.namespace == namespace) {
            if r.routes.iter().any(|x| x.name == action) {
                return Some("rest");
            }
            let hint = closest(action, r.routes.iter().map(|x| x.name.as_str()));
            let d = self.error_value(
                &tpath.key("from").key("action"),
                format!("REST adapter `{namespace}` has no operation `{action}`"),
            );
            d.help = hint.map(|h| format!("did you mean `{h}`?"));
            return None;
        }
        let names: Vec<&str> = siblings
            .mcp
            .iter()
            .map(|m| m.namespace.as_str())
            .chain(siblings.rest.iter().map(|r| r.namespace.as_str()))
            .collect();
        let hint = closest(namespace, names.iter().copied());
        let d = self.error_value(
            &tpath.key("from").key("sourceNamespace"),
            format!("`{namespace}` is not a REST or MCP surface of this capability"),
        );
        d.help = Some(match hint {
            Some(h) => format!("did you mean `{h}`?"),
            None => "a skill tool points at an action of a sibling `rest` or `mcp` surface".into(),
        });
        None
    }
}

/// A relative path whose segments are plain names (no `..`, no absolute root).
pub(super) fn safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}
