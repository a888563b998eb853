//! Webhook signature checks, one per vendor, over the raw body bytes exactly as received.
//!
//! - myKaarma: `mykaarma-signature-token: sha256=<hex HMAC-SHA256(body)>`, plus the static
//!   `x-authorization-token` when one is configured.
//! - HighLevel: `x-ghl-signature` (Ed25519, base64). Only when it is absent, the legacy
//!   `x-wh-signature` (RSA-SHA256 PKCS#1 v1.5, base64), and only if an RSA key is configured.
//! - Partoo: `X-Partoo-Signature-v1` (Ed25519, base64) against each configured key.
//!
//! Every comparison is constant-time and checks lengths first (a bare `v1,` or an empty signature
//! must never pass). Nothing is re-serialised: a body whose bytes differ from what was signed fails.

use crate::config::{HighLevelKeys, MyKaarmaKeys, PartooKeys, ReceiverConfig};
use crate::model::Provider;
use anyhow::{Context, Result, bail};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The keys of every vendor, parsed once at start-up.
pub struct Verifiers {
    mykaarma: Option<MyKaarma>,
    highlevel: Option<HighLevel>,
    partoo: Option<Vec<VerifyingKey>>,
    /// Accept vendors with no key configured (loopback only; announced loudly).
    pub insecure_accept_unsigned: bool,
}

struct MyKaarma {
    secret: Vec<u8>,
    authorization_token: Option<Vec<u8>>,
}

struct HighLevel {
    ed25519: Option<VerifyingKey>,
    rsa: Option<rsa::pkcs1v15::VerifyingKey<Sha256>>,
    pub max_age_secs: u64,
}

/// Why a request was refused; the text goes to the audit log and the 401 body, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Verifiers {
    pub fn from_config(cfg: &ReceiverConfig, insecure_accept_unsigned: bool) -> Result<Verifiers> {
        Ok(Verifiers {
            mykaarma: cfg.mykaarma.as_ref().map(mykaarma_keys).transpose()?,
            highlevel: cfg.highlevel.as_ref().map(highlevel_keys).transpose()?,
            partoo: cfg.partoo.as_ref().map(partoo_keys).transpose()?,
            insecure_accept_unsigned,
        })
    }

    /// Which vendors have keys.
    pub fn configured(&self) -> Vec<&'static str> {
        let mut v = vec![];
        if self.mykaarma.is_some() {
            v.push("mykaarma");
        }
        if self.highlevel.is_some() {
            v.push("highlevel");
        }
        if self.partoo.is_some() {
            v.push("partoo");
        }
        v
    }

    /// How old a HighLevel delivery's signed `timestamp` may be when its event is new to us.
    pub fn highlevel_max_age_secs(&self) -> Option<u64> {
        self.highlevel.as_ref().map(|h| h.max_age_secs)
    }

    /// A delivery for a vendor with no key: accepted only when unsigned ones are allowed.
    fn unsigned(&self, provider: &Provider) -> Result<(), Refusal> {
        if self.insecure_accept_unsigned {
            Ok(())
        } else {
            Err(Refusal(format!(
                "no key is configured for {provider}: its deliveries are refused"
            )))
        }
    }

    /// What can be refused from the headers alone, before the body is read: a missing signature
    /// header, a signature kind with no key, a wrong myKaarma static token, an unsigned vendor.
    pub fn precheck(&self, provider: &Provider, headers: &HeaderMap) -> Result<(), Refusal> {
        let unsigned = || self.unsigned(provider);
        match provider {
            Provider::MyKaarma => match &self.mykaarma {
                Some(k) => {
                    if header(headers, "mykaarma-signature-token").is_none() {
                        return refuse("missing mykaarma-signature-token header");
                    }
                    k.check_token(headers)
                }
                None => unsigned(),
            },
            Provider::HighLevel => match &self.highlevel {
                Some(k) => match (header(headers, "x-ghl-signature"), header(headers, "x-wh-signature")) {
                    (Some(_), _) if k.ed25519.is_none() => {
                        refuse("x-ghl-signature received but no HighLevel Ed25519 key is configured")
                    }
                    (Some(_), _) => Ok(()),
                    (None, Some(_)) if k.rsa.is_none() => {
                        refuse("only the legacy x-wh-signature was sent, and no HighLevel RSA key is configured")
                    }
                    (None, Some(_)) => Ok(()),
                    (None, None) => refuse("missing x-ghl-signature header"),
                },
                None => unsigned(),
            },
            Provider::Partoo => match &self.partoo {
                Some(_) if header(headers, "x-partoo-signature-v1").is_none() => {
                    refuse("missing X-Partoo-Signature-v1 header")
                }
                Some(_) => Ok(()),
                None => unsigned(),
            },
            Provider::Unknown(_) => Err(Refusal("unknown vendor".into())),
        }
    }

    pub fn verify(&self, provider: &Provider, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let unsigned = || self.unsigned(provider);
        match provider {
            Provider::MyKaarma => match &self.mykaarma {
                Some(k) => k.verify(headers, body),
                None => unsigned(),
            },
            Provider::HighLevel => match &self.highlevel {
                Some(k) => k.verify(headers, body),
                None => unsigned(),
            },
            Provider::Partoo => match &self.partoo {
                Some(keys) => verify_partoo(keys, headers, body),
                None => unsigned(),
            },
            Provider::Unknown(_) => Err(Refusal("unknown vendor".into())),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

fn refuse(why: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal(why.into()))
}

impl MyKaarma {
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let Some(value) = header(headers, "mykaarma-signature-token") else {
            return refuse("missing mykaarma-signature-token header");
        };
        let value = value.trim();
        let hex_part = match value.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &value[7..],
            _ => return refuse("mykaarma-signature-token is not `sha256=<hex>`"),
        };
        let Ok(signature) = hex::decode(hex_part) else {
            return refuse("mykaarma-signature-token is not hexadecimal");
        };
        if signature.len() != 32 {
            return refuse("mykaarma-signature-token has the wrong length");
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(body);
        if mac.verify_slice(&signature).is_err() {
            return refuse("mykaarma-signature-token does not match the body");
        }
        self.check_token(headers)
    }

    /// The static `x-authorization-token`, when one is configured.
    fn check_token(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if let Some(expected) = &self.authorization_token {
            let given = header(headers, "x-authorization-token").unwrap_or("").as_bytes();
            if given.len() != expected.len() || !bool::from(given.ct_eq(expected)) {
                return refuse("x-authorization-token is missing or wrong");
            }
        }
        Ok(())
    }
}

impl HighLevel {
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        // HighLevel's own rule: when the new header is present, it alone decides.
        if let Some(value) = header(headers, "x-ghl-signature") {
            let Some(key) = &self.ed25519 else {
                return refuse("x-ghl-signature received but no HighLevel Ed25519 key is configured");
            };
            return verify_ed25519(&[*key], value, body, "x-ghl-signature");
        }
        let Some(value) = header(headers, "x-wh-signature") else {
            return refuse("missing x-ghl-signature header");
        };
        let Some(key) = &self.rsa else {
            return refuse("only the legacy x-wh-signature was sent, and no HighLevel RSA key is configured");
        };
        let Ok(bytes) = STANDARD.decode(value.trim()) else {
            return refuse("x-wh-signature is not base64");
        };
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(bytes.as_slice()) else {
            return refuse("x-wh-signature is malformed");
        };
        use rsa::signature::Verifier;
        key.verify(body, &signature)
            .or_else(|_| refuse("x-wh-signature does not match the body"))
    }
}

fn verify_partoo(keys: &[VerifyingKey], headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    let Some(value) = header(headers, "x-partoo-signature-v1") else {
        return refuse("missing X-Partoo-Signature-v1 header");
    };
    verify_ed25519(keys, value, body, "X-Partoo-Signature-v1")
}

fn verify_ed25519(keys: &[VerifyingKey], value: &str, body: &[u8], name: &str) -> Result<(), Refusal> {
    let Ok(bytes) = STANDARD.decode(value.trim()) else {
        return refuse(format!("{name} is not base64"));
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return refuse(format!("{name} has the wrong length"));
    };
    if keys.iter().any(|k| k.verify_strict(body, &signature).is_ok()) {
        Ok(())
    } else {
        refuse(format!("{name} does not match the body"))
    }
}

fn mykaarma_keys(k: &MyKaarmaKeys) -> Result<MyKaarma> {
    if k.signature_secret.expose().is_empty() {
        bail!("receiver.mykaarma.signature_secret is empty");
    }
    Ok(MyKaarma {
        secret: k.signature_secret.expose().as_bytes().to_vec(),
        authorization_token: k.authorization_token.as_ref().map(|t| t.expose().as_bytes().to_vec()),
    })
}

fn highlevel_keys(k: &HighLevelKeys) -> Result<HighLevel> {
    let ed25519 = k
        .ed25519_public_key
        .as_deref()
        .map(|s| ed25519_key(s).context("receiver.highlevel.ed25519_public_key"))
        .transpose()?;
    let rsa = k
        .rsa_public_key
        .as_deref()
        .map(|s| rsa_key(s).context("receiver.highlevel.rsa_public_key"))
        .transpose()?;
    if ed25519.is_none() && rsa.is_none() {
        bail!("receiver.highlevel needs ed25519_public_key (or rsa_public_key for legacy signatures)");
    }
    Ok(HighLevel {
        ed25519,
        rsa,
        max_age_secs: k.max_age_secs.unwrap_or(2 * 3600),
    })
}

fn partoo_keys(k: &PartooKeys) -> Result<Vec<VerifyingKey>> {
    if k.public_keys.is_empty() {
        bail!("receiver.partoo.public_keys is empty");
    }
    k.public_keys
        .iter()
        .enumerate()
        .map(|(i, s)| ed25519_key(s).with_context(|| format!("receiver.partoo.public_keys[{i}]")))
        .collect()
}

/// An Ed25519 public key as PEM, base64 SPKI DER (`MCowBQYDK2VwAyEA…`), or the raw 32 bytes in base64.
pub fn ed25519_key(text: &str) -> Result<VerifyingKey> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text).map_err(|e| anyhow::anyhow!("not an Ed25519 public key: {e}"));
    }
    let bytes = STANDARD.decode(text).context("not base64")?;
    match bytes.len() {
        32 => VerifyingKey::from_bytes(bytes.as_slice().try_into().expect("32 bytes"))
            .map_err(|e| anyhow::anyhow!("not an Ed25519 public key: {e}")),
        _ => VerifyingKey::from_public_key_der(&bytes).map_err(|e| anyhow::anyhow!("not an Ed25519 public key: {e}")),
    }
}

/// An RSA public key as PEM (SPKI or PKCS#1) or the base64 body of an SPKI PEM.
pub fn rsa_key(text: &str) -> Result<rsa::pkcs1v15::VerifyingKey<Sha256>> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey as _;
    let text = text.trim();
    let key = if text.starts_with("-----BEGIN RSA PUBLIC KEY") {
        rsa::RsaPublicKey::from_pkcs1_pem(text).map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))?
    } else if text.starts_with("-----BEGIN") {
        rsa::RsaPublicKey::from_public_key_pem(text).map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))?
    } else {
        let der = STANDARD
            .decode(text.split_whitespace().collect::<String>())
            .context("not base64")?;
        rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))?
    };
    Ok(rsa::pkcs1v15::VerifyingKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn github_hmac_vector_and_length_checks() {
        // GitHub's published vector: same algorithm and encoding as myKaarma's header.
        let v = Verifiers::from_config(
            &ReceiverConfig {
                mykaarma: Some(MyKaarmaKeys {
                    signature_secret: Secret::new("It's a Secret to Everybody"),
                    authorization_token: None,
                }),
                ..Default::default()
            },
            false,
        )
        .unwrap();
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let mk = Provider::MyKaarma;
        assert!(
            v.verify(&mk, &headers(&[("mykaarma-signature-token", good)]), b"Hello, World!")
                .is_ok()
        );
        assert!(
            v.verify(
                &mk,
                &headers(&[("mykaarma-signature-token", &good.to_uppercase())]),
                b"Hello, World!"
            )
            .is_ok()
        );
        for bad in [
            "",
            "sha256=",
            "sha256=7571",
            "v1,",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            let r = v.verify(&mk, &headers(&[("mykaarma-signature-token", bad)]), b"Hello, World!");
            assert!(r.is_err(), "{bad:?} passed");
        }
        assert!(
            v.verify(&mk, &headers(&[("mykaarma-signature-token", good)]), b"Hello, World?")
                .is_err()
        );
        assert!(v.verify(&mk, &headers(&[]), b"Hello, World!").is_err());
    }

    #[test]
    fn unconfigured_vendors_are_refused_unless_insecure() {
        let strict = Verifiers::from_config(&ReceiverConfig::default(), false).unwrap();
        assert!(strict.verify(&Provider::Partoo, &HeaderMap::new(), b"{}").is_err());
        let open = Verifiers::from_config(&ReceiverConfig::default(), true).unwrap();
        assert!(open.verify(&Provider::Partoo, &HeaderMap::new(), b"{}").is_ok());
    }

    #[test]
    fn partoo_published_keys_parse() {
        // Partoo's production and sandbox keys as its docs publish them (SPKI, base64).
        for k in [
            "MCowBQYDK2VwAyEA0G9ciHL6XZQXuWq6W4dFLvwNEPWgcdtQgEVlBIwZWBQ=",
            "MCowBQYDK2VwAyEALsyvX2yVnG3ZKRIFfEvYk2nkzanoNgAqBSqdeNub4sM=",
        ] {
            ed25519_key(k).unwrap();
        }
        assert!(ed25519_key("bm90IGEga2V5").is_err());
    }
}
