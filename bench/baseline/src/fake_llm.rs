//! An instant OpenAI-compatible model for the chat benchmark: every answer is
//! streamed in one write, `n` words long where the model is named `instant-<n>`.
//! Prints its base URL, then serves until killed.

use portal_fake_llm::{FakeLlm, Protocol};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let fake = FakeLlm::instant(Protocol::OpenAi, 1).await?;
    println!("{}", fake.base_url());
    std::future::pending::<()>().await;
    Ok(())
}
