//! Stored chat text as HTML: markdown parsed by pulldown-cmark (tables,
//! strikethrough), raw HTML in it shown as the text it is, and the result
//! cleaned by ammonia, so markup a model or a user wrote, `javascript:` links,
//! event handlers and inline styles never reach the page. Streamed text gets
//! the same treatment in the browser (marked with raw HTML as text, then
//! DOMPurify).

use std::sync::OnceLock;

use pulldown_cmark::{html, Event, Options, Parser};

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(["http", "https", "mailto"].into())
            .link_rel(Some("noopener noreferrer nofollow"));
        b
    })
}

/// `text` (markdown) as safe HTML.
pub fn render(text: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let events = Parser::new_ext(text, opts).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        e => e,
    });
    html::push_html(&mut out, events);
    cleaner().clean(&out).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html = render("## Instances\n\n**2** are *running*:\n\n- web-01\n- `db-01`\n\n| name | state |\n|---|:--|\n| web-01 | RUNNING |\n");
        for needle in [
            "<h2>Instances</h2>",
            "<strong>2</strong>",
            "<em>running</em>",
            "<li>web-01</li>",
            "<code>db-01</code>",
            "<table>",
            "<td>RUNNING</td>",
        ] {
            assert!(html.contains(needle), "{needle} in {html}");
        }
        // Column alignment would be an inline style, which the CSP forbids.
        assert!(!html.contains("style="), "{html}");
    }

    #[test]
    fn scripts_handlers_and_bad_links_are_removed() {
        let html = render(
            "hi <script>alert(1)</script><img src=x onerror=alert(2)> [a](javascript:alert(3)) [b](https://example.com) <a href=\"https://x\" onclick=\"x()\">c</a>\n\n<iframe src=\"https://evil\"></iframe>\n",
        );
        for bad in [
            "<script",
            "<img",
            "href=\"javascript",
            "<a href=\"https://x",
            "<iframe",
        ] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        // Raw HTML is shown as the text it is.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }
}
