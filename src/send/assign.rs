//! Telling a vendor who a conversation is assigned to, where its API allows: Partoo's
//! `PATCH /v2/conversations/{id}` (`assigned_user_id`, or `unassigned`). myKaarma has no assignment
//! call: it gives a thread to whoever replies in it as themselves. HighLevel assigns contacts, not
//! conversations, and Switchboard does not change contacts. Each case comes back as one sentence that
//! says which happened.

use super::http::{Attempt, Http, base_url, join};
use crate::config::Config;
use crate::model::Provider;
use crate::sanitize;
use crate::team::Advisor;

/// What the vendor was told, in words, and whether it took it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AtVendor {
    pub told: bool,
    pub words: String,
}

fn not_told(words: String) -> AtVendor {
    AtVendor { told: false, words }
}

/// Tell the conversation's vendor that `assignee` (nobody when `None`) has it now.
pub fn tell_vendor(
    config: &Config,
    conversation_key: &str,
    provider: &Provider,
    assignee: Option<&Advisor>,
) -> AtVendor {
    let who = assignee.map_or("nobody".to_string(), |a| a.name.clone());
    match provider {
        Provider::Partoo => partoo(config, conversation_key, assignee, &who),
        Provider::MyKaarma => not_told(match assignee.and_then(|a| a.ids.mykaarma.as_ref()) {
            Some(_) => format!(
                "assigned here; myKaarma gives the thread to {who} when {who} replies in it (myKaarma has no assignment call)"
            ),
            None => "assigned here only: myKaarma has no assignment call (it gives a thread to whoever replies as themselves)"
                .to_string(),
        }),
        Provider::HighLevel => {
            not_told("assigned here only: HighLevel assigns contacts, and Switchboard does not change them".to_string())
        }
        Provider::Unknown(_) => not_told("assigned here only".to_string()),
    }
}

fn partoo(config: &Config, conversation_key: &str, assignee: Option<&Advisor>, who: &str) -> AtVendor {
    let Some(api_key) = &config.partoo.api_key else {
        return not_told(
            "assigned here only: Partoo was not told (no API key: set SWITCHBOARD_PARTOO_API_KEY)".to_string(),
        );
    };
    let user = match assignee {
        None => "unassigned".to_string(),
        Some(a) => match &a.ids.partoo {
            Some(id) => id.clone(),
            None => {
                return not_told(format!(
                    "assigned here only: Partoo was not told ({who} has no Partoo user id under [team] or [me])"
                ));
            }
        },
    };
    let Some(id) = conversation_key
        .strip_prefix("partoo:")
        .filter(|id| id.parse::<i64>().is_ok())
    else {
        return not_told("assigned here only: this conversation's Partoo id is not one Partoo's API takes".to_string());
    };
    let attempt = base_url(&config.partoo.base_url, "partoo.base_url")
        .and_then(|base| {
            let http = Http::new("Partoo", config.partoo.connect_timeout_secs, config.partoo.timeout_secs)?;
            Ok(http.send(
                http.request(reqwest::Method::PATCH, join(&base, &["v2", "conversations", id]))
                    .header("x-APIKey", api_key.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(serde_json::json!({ "assigned_user_id": user }).to_string()),
            ))
        })
        .unwrap_or_else(|e| Attempt::NeverLeft(format!("{e:#}")));
    match attempt {
        Attempt::Answered(a) if (200..300).contains(&a.http_status) => AtVendor {
            told: true,
            words: format!("assigned to {who} here and at Partoo"),
        },
        Attempt::Answered(a) => {
            let said = super::partoo::error_lines(&a.body).join("; ");
            not_told(
                sanitize::line(&format!(
                    "assigned here only: Partoo refused (HTTP {}{})",
                    a.http_status,
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                ))
                .into_owned(),
            )
        }
        Attempt::NeverLeft(why) | Attempt::Lost(why) => {
            not_told(sanitize::line(&format!("assigned here only: Partoo could not be told ({why})")).into_owned())
        }
    }
}
