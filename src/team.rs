//! Who is reading, and the team they work in.
//!
//! An advisor is known by name (their read marks, local assignments and notes use it) and by their
//! user id at each vendor (the vendors report assignees and authors by those ids). A conversation's
//! assignee is stored as a token: `name:<advisor>` when assigned here, `<vendor>:<user id>` when a
//! vendor reported it; `Team` turns either back into a name.

use crate::model::Provider;
use serde::Deserialize;
use std::collections::BTreeMap;

/// An advisor's user id at each vendor (`[me]`, or one entry of `[team]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VendorIds {
    /// myKaarma's user (dealer associate) UUID.
    pub mykaarma: Option<String>,
    /// HighLevel's user id.
    pub highlevel: Option<String>,
    /// Partoo's user id.
    pub partoo: Option<String>,
}

impl VendorIds {
    pub fn at(&self, vendor: &Provider) -> Option<&str> {
        match vendor {
            Provider::MyKaarma => self.mykaarma.as_deref(),
            Provider::HighLevel => self.highlevel.as_deref(),
            Provider::Partoo => self.partoo.as_deref(),
            Provider::Unknown(_) => None,
        }
        .filter(|id| !id.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advisor {
    pub name: String,
    pub ids: VendorIds,
}

impl Advisor {
    /// The assignee tokens that mean this advisor.
    pub fn tokens(&self) -> Vec<String> {
        let mut tokens = vec![format!("name:{}", self.name)];
        for vendor in [Provider::MyKaarma, Provider::HighLevel, Provider::Partoo] {
            if let Some(id) = self.ids.at(&vendor) {
                tokens.push(format!("{vendor}:{id}"));
            }
        }
        tokens
    }
}

/// The reader and their colleagues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Team {
    pub me: Advisor,
    /// Everyone else, by name (`[team]`); `[inbox.people]` adds names for bare vendor ids.
    pub others: Vec<Advisor>,
    pub people: BTreeMap<String, String>,
}

impl Team {
    /// Everyone, me first.
    pub fn everyone(&self) -> impl Iterator<Item = &Advisor> {
        std::iter::once(&self.me).chain(&self.others)
    }

    /// The name an assignee token (or a bare vendor user id) stands for, if anyone on the team.
    pub fn name_of<'a>(&'a self, token: &'a str) -> Option<&'a str> {
        if let Some(name) = token.strip_prefix("name:") {
            return Some(name);
        }
        let (vendor, id) = match token.split_once(':') {
            Some((v, id)) if Provider::KNOWN.contains(&v) => (Some(Provider::parse(v)), id),
            _ => (None, token),
        };
        self.everyone()
            .find(|a| match &vendor {
                Some(v) => a.ids.at(v) == Some(id),
                None => [Provider::MyKaarma, Provider::HighLevel, Provider::Partoo]
                    .iter()
                    .any(|v| a.ids.at(v) == Some(id)),
            })
            .map(|a| a.name.as_str())
            .or_else(|| self.people.get(id).map(String::as_str))
    }

    /// An assignee as the list shows it: a name, or the vendor and the id's last characters.
    pub fn label(&self, token: &str) -> String {
        match self.name_of(token) {
            Some(name) => name.to_string(),
            None => {
                let (vendor, id) = token.split_once(':').unwrap_or(("", token));
                let tail: String = id.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
                format!("{vendor} …{tail}")
            }
        }
    }

    pub fn is_me(&self, token: &str) -> bool {
        self.me.tokens().iter().any(|t| t == token)
    }

    /// The advisor a typed name means: exact, else an unambiguous case-insensitive prefix.
    pub fn find(&self, typed: &str) -> Result<&Advisor, String> {
        let typed = typed.trim();
        if let Some(a) = self.everyone().find(|a| a.name == typed) {
            return Ok(a);
        }
        let lower = typed.to_lowercase();
        let matches: Vec<&Advisor> = self
            .everyone()
            .filter(|a| a.name.to_lowercase().starts_with(&lower))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(format!(
                "nobody called `{typed}` on the team (the team is {}; add people under [team] in the config)",
                self.everyone().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
            many => Err(format!(
                "`{typed}` could be {}: type more of the name",
                many.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(" or ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team() -> Team {
        Team {
            me: Advisor {
                name: "Dana Reyes".into(),
                ids: VendorIds {
                    partoo: Some("62d8".into()),
                    ..Default::default()
                },
            },
            others: vec![Advisor {
                name: "Nina Patel".into(),
                ids: VendorIds {
                    mykaarma: Some("4f8b2d6a".into()),
                    ..Default::default()
                },
            }],
            people: [("zz99".to_string(), "Old Timer".to_string())].into(),
        }
    }

    #[test]
    fn tokens_name_people_whichever_way_they_were_assigned() {
        let t = team();
        assert_eq!(t.name_of("name:Dana Reyes"), Some("Dana Reyes"));
        assert_eq!(t.name_of("partoo:62d8"), Some("Dana Reyes"));
        assert_eq!(t.name_of("mykaarma:4f8b2d6a"), Some("Nina Patel"));
        assert_eq!(
            t.name_of("highlevel:4f8b2d6a"),
            None,
            "an id counts only at its own vendor"
        );
        assert_eq!(t.name_of("highlevel:zz99"), Some("Old Timer"));
        assert_eq!(t.label("highlevel:abcdef12"), "highlevel …ef12");
        assert!(t.is_me("partoo:62d8") && !t.is_me("mykaarma:4f8b2d6a"));
    }

    #[test]
    fn a_typed_name_finds_one_advisor_or_says_why_not() {
        let t = team();
        assert_eq!(t.find("nina").unwrap().name, "Nina Patel");
        assert!(t.find("x").unwrap_err().contains("Dana Reyes, Nina Patel"));
    }
}
