//! Internal notes written in Switchboard. A note is an event in the log like any vendor's (source
//! `note`), so it is kept byte-exact, survives `rebuild`, folds into its thread as a message on
//! the `note` channel (the way myKaarma's `N` messages and HighLevel's internal comments do), and
//! is found by search. It is never sent.

use crate::model::{Channel, Direction, Provider, Status};
use crate::providers::{Change, ConversationPart, MessagePart, Outcome, Parsed, StatusReport};
use serde::{Deserialize, Serialize};

/// The `source` of note events in the log.
pub const SOURCE: &str = "note";

/// A note as the log stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub id: String,
    pub conversation_key: String,
    pub author: String,
    /// Unix ms.
    pub at: i64,
    pub body: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    switchboard_note: Note,
}

impl Note {
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope {
            switchboard_note: self.clone(),
        })
        .expect("a note always serialises")
    }
}

/// What a stored note event means, for the fold (the conversation's vendor is the event's).
pub fn parse(body: &[u8], provider: Provider) -> Parsed {
    let (dedupe_key, event_at, outcome) = match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { switchboard_note: n }) => (
            format!("note:{}", n.id),
            Some(n.at),
            Outcome::Ok(vec![Change::Message(Box::new(MessagePart {
                conversation: ConversationPart {
                    key: n.conversation_key.clone(),
                    provider: Some(provider.clone()),
                    ..Default::default()
                },
                key: format!("note:{}", n.id),
                provider_message_id: n.id.clone(),
                at: Some(n.at),
                channel: Some(Channel::Note),
                direction: Some(Direction::Internal),
                sender: Some(n.author),
                body: Some(n.body),
                draft: Some(0),
                status: Some(StatusReport::explicit(Status::Received, None)),
                ..Default::default()
            }))]),
        ),
        Err(e) => (
            crate::providers::body_hash_key(body),
            None,
            Outcome::Rejected(format!("not a Switchboard note: {e}")),
        ),
    };
    Parsed {
        provider,
        event_type: Some("note".into()),
        dedupe_key,
        event_at,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_back_as_an_internal_message_in_its_conversation() {
        let note = Note {
            id: "n1".into(),
            conversation_key: "partoo:40977".into(),
            author: "Dana Reyes".into(),
            at: 1_700_000_000_000,
            body: "Called, left a voicemail".into(),
        };
        let parsed = parse(&note.to_body(), Provider::Partoo);
        assert_eq!(parsed.dedupe_key, "note:n1");
        let Outcome::Ok(changes) = parsed.outcome else { panic!() };
        let Change::Message(m) = &changes[0] else { panic!() };
        assert_eq!(m.conversation.key, "partoo:40977");
        assert_eq!(m.channel, Some(Channel::Note));
        assert_eq!(m.direction, Some(Direction::Internal));
        assert_eq!(m.sender.as_deref(), Some("Dana Reyes"));
        assert!(matches!(parse(b"{}", Provider::Partoo).outcome, Outcome::Rejected(_)));
    }
}
