//! Markdown as people write it, HTML as browsers may show it: rendered with pulldown-cmark and
//! sanitised with ammonia, so no script, event handler or `javascript:` link survives.

use pulldown_cmark::{Options, Parser, html};

pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut rendered = String::new();
    html::push_html(&mut rendered, Parser::new_ext(markdown, options));
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&rendered).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markdown_renders() {
        let html = to_safe_html("# Norms\n\n- be **candid**\n- be on time\n\n[guide](https://example.com/guide)");
        assert!(html.contains("<h1>Norms</h1>"));
        assert!(html.contains("<strong>candid</strong>"));
        assert!(html.contains(r#"<a href="https://example.com/guide" rel="noopener noreferrer nofollow">guide</a>"#));
    }

    #[test]
    fn nothing_executable_survives() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg onload=alert(1)>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ];
        for attack in attacks {
            let html = to_safe_html(attack).to_lowercase();
            for bad in ["<script", "onerror", "onload", "javascript:", "<iframe", "style="] {
                assert!(!html.contains(bad), "{attack:?} left {bad:?} in {html:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_yields_a_script(text in any::<String>()) {
            let html = to_safe_html(&text).to_lowercase();
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("javascript:"));
        }
    }
}
