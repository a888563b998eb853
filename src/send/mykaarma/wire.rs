//! myKaarma's send-message API on the wire (`vendor-docs/mykaarma-send-text-or-email.txt`): the
//! request body, and the response shape that callbacks share. Both the sender and the sandbox use
//! these, so they cannot drift apart.

use crate::model::Channel;
use crate::outbox::{Problem, SendOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub message_attributes: Option<MessageAttributes>,
    #[serde(default)]
    pub message_sending_attributes: Option<SendingAttributes>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MessageAttributes {
    pub body: Option<String>,
    pub is_manual: Option<bool>,
    pub protocol: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Email subject: in myKaarma's request model though not in the page's table (providers.md §1.7).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendingAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication_value_of_customer: Option<String>,
    pub send_synchronously: Option<bool>,
    #[serde(rename = "callbackURL", skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(rename = "callbackMetaData", skip_serializing_if = "Option::is_none")]
    pub callback_meta_data: Option<BTreeMap<String, String>>,
    #[serde(rename = "addTCPAFooter")]
    pub add_tcpa_footer: Option<bool>,
    pub add_signature: Option<bool>,
    pub add_footer: Option<bool>,
    #[serde(rename = "sendVCard")]
    pub send_vcard: Option<bool>,
    pub queue_if_opted_out: Option<bool>,
}

impl SendRequest {
    pub fn new(
        channel: &Channel,
        subject: Option<&str>,
        body: &str,
        recipient: Option<&str>,
        options: &SendOptions,
        callback_url: Option<String>,
        meta: BTreeMap<String, String>,
    ) -> SendRequest {
        let text = *channel != Channel::Email;
        SendRequest {
            message_attributes: Some(MessageAttributes {
                body: Some(body.to_string()),
                is_manual: Some(true),
                protocol: Some(if text { "TEXT" } else { "EMAIL" }.into()),
                kind: Some("OUTGOING".into()),
                subject: subject.filter(|_| !text).map(str::to_string),
            }),
            message_sending_attributes: Some(SendingAttributes {
                communication_value_of_customer: recipient.map(str::to_string),
                send_synchronously: Some(options.synchronous),
                callback_url,
                callback_meta_data: Some(meta),
                add_tcpa_footer: Some(options.tcpa_footer && text),
                add_signature: Some(options.signature),
                add_footer: Some(options.footer),
                send_vcard: Some(options.vcard && text),
                queue_if_opted_out: Some(options.queue_if_opted_out),
            }),
        }
    }
}

/// The response to a send, and the body of every callback ("identical to the SendMessageResponse").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    #[serde(rename = "customerUUID", default, skip_serializing_if = "Option::is_none")]
    pub customer_uuid: Option<String>,
    #[serde(rename = "messageUUID", default, skip_serializing_if = "Option::is_none")]
    pub message_uuid: Option<String>,
    #[serde(rename = "requestUUID", default, skip_serializing_if = "Option::is_none")]
    pub request_uuid: Option<String>,
    /// `SUCCESS` or `FAILURE`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub errors: Option<Vec<WireError>>,
    #[serde(default)]
    pub warnings: Option<Vec<WireWarning>>,
    #[serde(rename = "metaData", default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    pub error_code: Option<String>,
    pub error_description: Option<String>,
    #[serde(rename = "errorUID", default, skip_serializing_if = "Option::is_none")]
    pub error_uid: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WireWarning {
    pub warning_code: Option<String>,
    pub warning_description: Option<String>,
}

impl SendResponse {
    pub fn succeeded(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("SUCCESS"))
    }

    pub fn failed(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("FAILURE"))
    }

    pub fn problems(&self) -> Vec<Problem> {
        self.errors
            .iter()
            .flatten()
            .map(|e| {
                problem(
                    e.error_code.as_deref().unwrap_or("UNSPECIFIED_ERROR"),
                    e.error_description.clone(),
                )
            })
            .collect()
    }

    pub fn warning_problems(&self) -> Vec<Problem> {
        self.warnings
            .iter()
            .flatten()
            .map(|w| {
                problem(
                    w.warning_code.as_deref().unwrap_or("UNSPECIFIED_WARNING"),
                    w.warning_description.clone(),
                )
            })
            .collect()
    }

    /// Our outbox id, echoed back from `callbackMetaData`.
    pub fn outbox_id(&self) -> Option<i64> {
        match self.meta_data.as_ref()?.get("switchboardOutboxId")? {
            serde_json::Value::String(s) => s.parse().ok(),
            serde_json::Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
}

/// A myKaarma code with our words for it.
fn problem(code: &str, description: Option<String>) -> Problem {
    Problem::vendor(code, description, super::codes::advice(code))
}

/// The `callbackMetaData` key carrying our outbox id.
pub const OUTBOX_ID_KEY: &str = "switchboardOutboxId";
