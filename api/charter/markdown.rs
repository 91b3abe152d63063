//! Markdown as people write it, HTML as browsers may show it: rendered with pulldown-cmark and
//! sanitised with ammonia, so no script, event handler or `javascript:` link survives. Images
//! are never shown: a remote image is a tracking pixel that tells its host who read what and
//! when, so a Markdown image becomes a link to it (its text the image's alt text) and an HTML
//! `<img>` is dropped.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut rendered = String::new();
    html::push_html(&mut rendered, events);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
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

    #[test]
    fn images_become_links_and_html_images_go() {
        let html = to_safe_html("![the board](http://tracker.example/pixel.gif)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(
                r#"<a href="http://tracker.example/pixel.gif" rel="noopener noreferrer nofollow">the board</a>"#
            ),
            "{html}"
        );
        let html = to_safe_html("before <img src=\"http://tracker.example/p.gif\"> after");
        assert!(!html.contains("<img") && !html.contains("tracker"), "{html}");
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_yields_a_script(text in any::<String>()) {
            let html = to_safe_html(&text).to_lowercase();
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("javascript:"));
            prop_assert!(!html.contains("<img"));
        }
    }
}
