//! The advisor pages: the home widget and "run now", the findings list, a
//! finding's evidence and fix plan with the "fix with the agent" link into
//! the chat, dismissing from the page; strict CSP on every page (the
//! testkit's `page` checks it).

use std::time::Duration;

use portal_testkit::web::csrf_of;
use portal_testkit::TestApp;

#[tokio::test]
async fn run_from_the_home_page_then_read_and_dismiss_a_finding() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .spawn()
        .await;
    let admin = app.admin().await;
    let (status, home) = admin.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("advisor-widget") && home.contains("has not run yet"));
    let csrf = csrf_of(&home);
    let res = admin.post_form("/advisor/run", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    // A forged post (no token) is refused.
    let res = admin.post_form("/advisor/run", &[]).await;
    assert_eq!(res.status(), 403);

    let mut list = String::new();
    for _ in 0..200 {
        list = admin.page("/advisor").await.1;
        if list.contains("completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(list.contains("completed"), "{list}");
    assert!(list.contains("network.ssh-open-to-internet"));
    assert!(list.contains("$2.55"), "the volume's savings are listed");
    let at = list.find("/advisor/findings/fnd_").unwrap();
    let href: String = list[at..].chars().take_while(|c| *c != '"').collect();

    let (status, detail) = admin.page(&href).await;
    assert_eq!(status, 200);
    assert!(detail.contains("evidence-tool") && detail.contains("evidence-path"));
    assert!(detail.contains("id=\"fix-with-agent\""));
    assert!(detail.contains("/chat?prompt=The%20advisor%20found"));
    // The chat opens with the plan in its composer.
    let link_at = detail.find("/chat?prompt=").unwrap();
    let link: String = detail[link_at..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let (status, chat) = admin.page(&link.replace("&amp;", "&")).await;
    assert_eq!(status, 200);
    assert!(chat.contains("The advisor found"), "{chat:.3000}");

    let csrf = csrf_of(&detail);
    let res = admin
        .post_form(
            &format!("{href}/dismiss"),
            &[("csrf", &csrf), ("note", "accepted for now"), ("days", "7")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, detail) = admin.page(&href).await;
    assert!(detail.contains("accepted for now") && detail.contains("Dismissed until"));
    let (status, _) = admin.page("/advisor?status=bogus").await;
    assert_eq!(status, 400);
    let (status, _) = admin.page("/advisor/findings/nope").await;
    assert_eq!(status, 404);
}
