//! Chat guardrails, applied to every turn.
//!
//! - [`input::check`] refuses a user message that is empty, longer than the limit, or a
//!   prompt-injection attempt, with an explanation for the user and a [`input::Category`]
//!   to count in metrics and record in the audit log.
//! - [`fence::tool_output`] wraps tool output returned to the model as delimited data that
//!   the model is told never to obey. It never refuses: hostile text in a resource name or
//!   a log line is data, not a reason to block the turn.
//! - [`redact::redact`] and [`redact::StreamRedactor`] replace secrets and personal data with
//!   `[REDACTED:<kind>]` before text is streamed, stored or logged, including a secret split
//!   across stream chunks.
//!
//! The output token limit is enforced by the agent loop through the provider's `max_tokens`.
//!
//! # What is redacted
//!
//! Personal data:
//! - payment card numbers: 13 to 19 digits, contiguous or grouped (first group of 4, then
//!   groups of 3 to 6) with spaces or dashes, first digit 2 to 6, Luhn-valid (`card`);
//! - national identity numbers:
//!   - US Social Security number, `ddd-dd-dddd` or with spaces, area not 000, 666 or
//!     900-999, group not 00, serial not 0000 (`ssn`);
//!   - UK National Insurance number, `AB123456C` or spaced, capitals, valid prefix letters
//!     (not D, F, I, Q, U, V first; not D, F, I, O, Q, U, V second; not BG, GB, KN, NK, NT, TN,
//!     ZZ), suffix A to D (`nino`);
//!   - Canadian Social Insurance Number, `ddd-ddd-ddd` or with spaces, Luhn-valid, not
//!     starting with 8 (`sin`);
//!   - Indian Aadhaar number, `dddd dddd dddd` or with dashes, first digit 2 to 9,
//!     Verhoeff-valid (`aadhaar`).
//!
//!   Ungrouped 9- and 12-digit strings are not taken for SSNs, SINs or Aadhaar numbers:
//!   without the grouping they are indistinguishable from ordinary ids and counts.
//!
//! Credentials:
//! - PEM private-key blocks of any type (`private_key`);
//! - portal API keys, `portal_` and 64 hex digits (`portal_api_key`);
//! - Anthropic (`sk-ant-…`, `anthropic_key`) and OpenAI (`sk-…` with mixed case and digits,
//!   `openai_key`) API keys;
//! - GitHub tokens `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_` (`github_token`);
//! - Slack tokens `xox[abposre]-…` (`slack_token`);
//! - AWS access key ids `AKIA…`/`ASIA…` (`aws_access_key`), and AWS secret access keys after
//!   a `secret_access_key` name (`aws_secret_key`);
//! - JSON Web Tokens (`jwt`);
//! - the token after `Bearer` (`bearer_token`) and the credentials of an `Authorization:`
//!   header (`auth_header`);
//! - values after a key name: auth tokens, as OCI issues for the registry and SMTP
//!   (`auth_token`), customer secret keys (`secret_key`), passwords and passphrases
//!   (`password`), and client secrets, API keys and access, refresh, id or session tokens
//!   (`secret`).
//!
//! Deliberately not redacted, because the portal shows them on purpose and they grant
//! nothing by themselves: OCIDs, IP addresses and CIDRs, resource names, timestamps, cost
//! figures, OCI API key fingerprints, public keys and certificates, and email addresses
//! (users, notification subscriptions and approvers are listed by the portal to those
//! allowed to see them).

mod normalize;

pub mod fence;
pub mod input;
pub mod redact;
