//! The storage contract for AI providers, checked identically on every
//! backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ai_providers::{AiProvider, ProviderType, TestStatus};
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_ai_providers,
    ],
    db: [
    ],
}

fn provider(id: &str, name: &str, at: i64) -> AiProvider {
    AiProvider {
        id: id.into(),
        name: name.into(),
        kind: ProviderType::AzureOpenAi,
        base_url: "https://acme.openai.azure.com/openai/v1".into(),
        api_key_sealed: Some("v1:sealed".into()),
        models: vec!["m-b".into(), "m-c".into()],
        default_model: "m-a".into(),
        enabled: true,
        test_status: TestStatus::Untested,
        test_error: None,
        tested_at: None,
        created_at: at,
        updated_at: at,
    }
}

async fn check_ai_providers(s: &dyn Store) {
    assert!(s.list_ai_providers().await.unwrap().is_empty());
    let a = provider("p-a", "A", 200);
    let b = AiProvider {
        kind: ProviderType::Oci,
        api_key_sealed: None,
        models: vec![],
        ..provider("p-b", "B", 100)
    };
    s.create_ai_provider(&a, Journal::NONE).await.unwrap();
    s.create_ai_provider(&b, Journal::NONE).await.unwrap();
    assert_eq!(s.get_ai_provider("p-a").await.unwrap(), Some(a.clone()));
    assert_eq!(s.get_ai_provider("nope").await.unwrap(), None);
    // Oldest first; names are unique.
    assert_eq!(
        s.list_ai_providers().await.unwrap(),
        vec![b.clone(), a.clone()]
    );
    assert_conflict(
        s.create_ai_provider(&provider("p-c", "A", 300), Journal::NONE)
            .await,
    );

    let changed = AiProvider {
        name: "A2".into(),
        kind: ProviderType::OpenAiCompatible,
        base_url: String::new(),
        api_key_sealed: None,
        models: vec!["x".into()],
        enabled: false,
        test_status: TestStatus::Failed,
        test_error: Some("connection refused".into()),
        tested_at: Some(400),
        updated_at: 400,
        ..a.clone()
    };
    assert!(s.update_ai_provider(&changed, Journal::NONE).await.unwrap());
    assert_eq!(
        s.get_ai_provider("p-a").await.unwrap(),
        Some(changed.clone())
    );
    let renamed_to_taken = AiProvider {
        name: "B".into(),
        ..changed.clone()
    };
    assert_conflict(s.update_ai_provider(&renamed_to_taken, Journal::NONE).await);
    assert!(!s
        .update_ai_provider(&provider("ghost", "G", 1), Journal::NONE)
        .await
        .unwrap());

    assert!(s.delete_ai_provider("p-a", Journal::NONE).await.unwrap());
    assert!(!s.delete_ai_provider("p-a", Journal::NONE).await.unwrap());
    assert_eq!(s.list_ai_providers().await.unwrap(), vec![b]);
}
