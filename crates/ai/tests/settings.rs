//! Building providers from configuration.

mod common;

use std::time::Duration;

use portal_ai::provider::oci::{OciConfig, OciProvider};
use portal_ai::provider::{from_settings, models, ModelInfo, SetupError, Source, ENVIRONMENT_NAME};
use portal_core::config::{AiProviderKind, AiSettings, ChatSettings};
use portal_core::Secret;

fn settings(provider: AiProviderKind) -> AiSettings {
    AiSettings {
        provider,
        base_url: None,
        api_key: Some(Secret::new("sk-test-key".to_string())),
        model: Some("model-a".into()),
        extra_models: vec!["model-b".into(), "model-a".into(), " ".into()],
        oci_compartment: None,
        timeout: Duration::from_secs(30),
        chat: ChatSettings {
            max_rounds: 8,
            turn_budget: Duration::from_secs(300),
            max_input_chars: 8000,
            max_output_tokens: 2048,
            history_messages: 40,
        },
    }
}

#[test]
fn no_provider_means_no_model() {
    let s = settings(AiProviderKind::None);
    assert!(from_settings(&s, None).unwrap().is_none());
    assert!(models(&s).is_empty());
}

#[test]
fn models_list_default_first_without_duplicates() {
    let s = settings(AiProviderKind::Anthropic);
    assert_eq!(
        models(&s),
        vec![
            ModelInfo {
                id: "model-a".into(),
                provider: "anthropic".into(),
                default: true,
                source: Source::Environment,
                provider_id: None,
                provider_name: ENVIRONMENT_NAME.into(),
            },
            ModelInfo {
                id: "model-b".into(),
                provider: "anthropic".into(),
                default: false,
                source: Source::Environment,
                provider_id: None,
                provider_name: ENVIRONMENT_NAME.into(),
            },
        ]
    );
}

#[test]
fn each_kind_builds_its_provider() {
    for (kind, name) in [
        (AiProviderKind::OpenAi, "openai"),
        (AiProviderKind::Anthropic, "anthropic"),
        (AiProviderKind::Oci, "oci"),
    ] {
        let client = common::oci_client();
        let p = from_settings(&settings(kind), Some(&client))
            .unwrap()
            .unwrap();
        assert_eq!(p.kind(), name);
    }
}

#[test]
fn oci_needs_a_client_and_anthropic_a_key() {
    let err = from_settings(&settings(AiProviderKind::Oci), None).err();
    assert!(
        matches!(err, Some(SetupError::OciClientRequired)),
        "{err:?}"
    );
    let mut s = settings(AiProviderKind::Anthropic);
    s.api_key = None;
    let err = from_settings(&s, None).err();
    assert!(
        matches!(err, Some(SetupError::ApiKeyRequired(_))),
        "{err:?}"
    );
    // An OpenAI-compatible server may need no key at all.
    s.provider = AiProviderKind::OpenAi;
    assert!(from_settings(&s, None).unwrap().is_some());
}

#[test]
fn oci_endpoint_comes_from_the_region_or_the_override() {
    let config = |base_url: Option<&str>| OciConfig {
        client: common::oci_client(),
        base_url: base_url.map(String::from),
        compartment_id: None,
        http: Default::default(),
    };
    let p = OciProvider::new(config(None)).unwrap();
    assert_eq!(
        p.url(),
        "https://inference.generativeai.us-ashburn-1.oci.oraclecloud.com/20231130/actions/chat"
    );
    assert_eq!(
        p.compartment_id(),
        common::key_id().split('/').next().unwrap()
    );
    for base in ["http://127.0.0.1:9/", "http://127.0.0.1:9/20231130"] {
        let p = OciProvider::new(config(Some(base))).unwrap();
        assert_eq!(
            p.url(),
            "http://127.0.0.1:9/20231130/actions/chat",
            "{base}"
        );
    }
}

#[test]
fn openai_and_anthropic_endpoints() {
    use portal_ai::provider::anthropic::{AnthropicConfig, AnthropicProvider};
    use portal_ai::provider::openai::{OpenAiConfig, OpenAiProvider};
    let openai = |base: Option<&str>| {
        OpenAiProvider::new(OpenAiConfig {
            base_url: base.map(String::from),
            api_key: None,
            http: Default::default(),
        })
        .unwrap()
    };
    assert_eq!(
        openai(None).url(),
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(
        openai(Some("http://localhost:11434/v1/")).url(),
        "http://localhost:11434/v1/chat/completions"
    );
    let request = common::request("hi");
    // OpenAI itself wants the newer cap field; compatible servers the classic one.
    let body = openai(None).request_body(&request);
    assert_eq!(body["max_completion_tokens"], 512);
    assert!(body.get("max_tokens").is_none());
    let anthropic = |base: Option<&str>| {
        AnthropicProvider::new(AnthropicConfig {
            base_url: base.map(String::from),
            api_key: Secret::new("k".into()),
            http: Default::default(),
        })
        .unwrap()
    };
    assert_eq!(
        anthropic(None).url(),
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(
        anthropic(Some("http://127.0.0.1:9/v1")).url(),
        "http://127.0.0.1:9/v1/messages"
    );
}

#[test]
fn provider_debug_output_hides_keys() {
    let s = settings(AiProviderKind::OpenAi);
    let p = portal_ai::provider::openai::OpenAiProvider::new(
        portal_ai::provider::openai::OpenAiConfig {
            base_url: None,
            api_key: s.api_key.clone(),
            http: Default::default(),
        },
    )
    .unwrap();
    assert!(!format!("{p:?}").contains("sk-test-key"));
}
