//! Reply templates: a TOML file of named texts with variables, expanded for one conversation.
//!
//! ```toml
//! [[template]]
//! name = "Car ready"
//! body = "Hi {first_name}, your {vehicle} is ready for pickup. — {me}, {dealership}"
//! ```
//!
//! Variables: `{first_name}` (the contact's), `{me}` (`[me] name`), `{dealership}` (`[inbox]
//! dealership`), `{vehicle}` where known. One that is not known here stays in the text as written,
//! so it is seen and edited before sending; `{{` and `}}` are literal braces.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    template: Vec<Template>,
}

/// What variables stand for in one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub first_name: Option<String>,
    pub me: Option<String>,
    pub dealership: Option<String>,
    pub vehicle: Option<String>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "first_name" => self.first_name.as_deref(),
            "me" => self.me.as_deref(),
            "dealership" => self.dealership.as_deref(),
            "vehicle" => self.vehicle.as_deref(),
            _ => None,
        }
        .filter(|v| !v.trim().is_empty())
    }

    /// A contact's first name: the first word of a name that is not a phone number or address.
    pub fn first_name_of(contact_name: Option<&str>) -> Option<String> {
        let name = contact_name?.trim();
        let first = name.split_whitespace().next()?;
        let looks_like_a_name = first.chars().any(char::is_alphabetic) && !first.contains('@');
        looks_like_a_name.then(|| first.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
    }
}

/// A template's text for one conversation, and the variables it could not fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    pub unknown: Vec<String>,
}

pub const VARIABLES: &[&str] = &["first_name", "me", "dealership", "vehicle"];

pub fn expand(body: &str, vars: &Vars) -> Expanded {
    let mut text = String::with_capacity(body.len());
    let mut unknown: Vec<String> = vec![];
    let mut rest = body;
    while let Some(i) = rest.find(['{', '}']) {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            text.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let name_end = tail[1..].find('}').map(|e| e + 1);
        match name_end.map(|e| &tail[1..e]) {
            Some(name) if tail.starts_with('{') && VARIABLES.contains(&name) => {
                match vars.get(name) {
                    Some(value) => text.push_str(value),
                    None => {
                        text.push_str(&tail[..name.len() + 2]);
                        if !unknown.iter().any(|u| u == name) {
                            unknown.push(name.to_string());
                        }
                    }
                }
                rest = &tail[name.len() + 2..];
            }
            _ => {
                text.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    text.push_str(rest);
    Expanded { text, unknown }
}

/// The templates in `path`; none when the file does not exist. A variable the file names that no
/// template can fill (a typo, say) is an error with the template's name.
pub fn load(path: &Path) -> Result<Vec<Template>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e).with_context(|| format!("cannot read templates {}", path.display())),
    };
    let file: File =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("templates {}: {}", path.display(), e.message().trim()))?;
    for t in &file.template {
        let mut rest = t.body.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            if let Some(stripped) = after.strip_prefix('{') {
                rest = stripped;
                continue;
            }
            let Some(close) = after.find('}') else { break };
            let name = &after[..close];
            if !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !VARIABLES.contains(&name)
            {
                bail!(
                    "templates {}: template \"{}\" uses {{{name}}}, which is not a variable (use {})",
                    path.display(),
                    t.name,
                    VARIABLES
                        .iter()
                        .map(|v| format!("{{{v}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            rest = &after[close + 1..];
        }
    }
    Ok(file.template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            first_name: Vars::first_name_of(Some("María González")),
            me: Some("Dana Reyes".into()),
            dealership: Some("Sunset Motors".into()),
            vehicle: None,
        }
    }

    #[test]
    fn variables_fill_in_and_unknown_ones_stay_visible() {
        let e = expand(
            "Hi {first_name}, your {vehicle} is ready. — {me}, {dealership} {{ok}} {other}",
            &vars(),
        );
        assert_eq!(
            e.text,
            "Hi María, your {vehicle} is ready. — Dana Reyes, Sunset Motors {ok} {other}"
        );
        assert_eq!(e.unknown, ["vehicle"]);
        assert_eq!(Vars::first_name_of(Some("+1 310 555 0100")), None);
        assert_eq!(Vars::first_name_of(Some("Mateo (@mateo.drives)")), Some("Mateo".into()));
        assert_eq!(expand("unclosed {first_name", &vars()).text, "unclosed {first_name");
    }

    #[test]
    fn a_file_loads_or_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("templates.toml");
        assert!(load(&path).unwrap().is_empty(), "no file: no templates");
        std::fs::write(&path, "[[template]]\nname = \"Ready\"\nbody = \"Hi {first_name}\"\n").unwrap();
        assert_eq!(load(&path).unwrap()[0].name, "Ready");
        std::fs::write(&path, "[[template]]\nname = \"Typo\"\nbody = \"Hi {firstname}\"\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("\"Typo\" uses {firstname}") && err.contains("{first_name}"),
            "{err}"
        );
    }
}
